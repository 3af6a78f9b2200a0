#pragma once
// The JSON body every channel receives for an action (incident fields, never mention text
// beyond the engine's summary), built once when the step is written; run, demo and replay alike.
// Pure.
#include <string>
#include <string_view>

#include "incident/engine.hpp"

namespace crisisd::runtime {

std::string action_payload(const incident::action& a, const incident::incident* inc, std::string_view console_url);

}  // namespace crisisd::runtime
