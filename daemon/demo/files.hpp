#pragma once
// The demo's files (configuration, scenario, example rules and playbooks), embedded at build
// time so `crisisd demo` works from an installed binary with nothing else on disk.
#include <string_view>
#include <vector>

namespace crisisd::demo::files {

struct embedded_file {
    std::string_view name;  // path relative to the project root: "demo/outage-scenario.jsonl"
    std::string_view data;
};

const std::vector<embedded_file>& embedded_files();
std::string_view embedded(std::string_view name);

}  // namespace crisisd::demo::files
