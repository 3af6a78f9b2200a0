#pragma once
#include <string>

namespace crisisd::admin {

struct admin_settings {
    std::string listen = "127.0.0.1:9464";  // host:port; port 0 picks a free one
    std::string tokens_file;                // bearer tokens for state-changing calls, one per line
};

}  // namespace crisisd::admin
