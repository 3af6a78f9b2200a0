#pragma once
// Channels actions are delivered to.
#include <map>
#include <string>

#include "core/time.hpp"

namespace crisisd::notify {

struct channel_settings {
    std::string name;
    std::string type;  // webhook | file | log
    std::string url;   // webhook: http:// or https://
    std::map<std::string, std::string> headers;  // webhook: extra headers (values may be secrets)
    std::string ca_file;                          // https: extra trust anchor (PEM)
    std::string path;                             // file: JSONL file actions are appended to
    core::duration timeout = std::chrono::seconds(10);
};

}  // namespace crisisd::notify
