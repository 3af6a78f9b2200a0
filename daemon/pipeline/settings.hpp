#pragma once
// One rule as the pipeline sees it: what it matches, how it detects, and what it triggers.
#include <string>

#include "detect/settings.hpp"
#include "match/settings.hpp"

namespace crisisd::pipeline {

struct rule_settings {
    std::string name;
    match::match_settings match;
    detect::detector_settings detect;
    std::string severity = "warning";
    std::string playbook;  // empty: incidents are only recorded
};

}  // namespace crisisd::pipeline
