#pragma once
// The console's files (HTML, JS, CSS), embedded into the binary at build time: the daemon
// serves them itself and needs no CDN and no files on disk.
#include <string_view>
#include <vector>

namespace crisisd::web {

struct embedded_file {
    std::string_view name;  // path relative to daemon/web/console: "index.html"
    std::string_view data;
};

const std::vector<embedded_file>& embedded_files();
std::string_view embedded(std::string_view name);  // empty when absent

}  // namespace crisisd::web
