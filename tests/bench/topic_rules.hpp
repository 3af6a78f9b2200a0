#pragma once
// The config of the tools that hold many incidents at once (feed_render, incident_list): one
// websocket source, a log channel as the pager, and N rules each firing on one negative mention
// of its own topic ("topic<i>"), so mention i opens incident i+1. The state database is in
// memory: these tools measure the admin side, not the disk.
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>

#include "support.hpp"

namespace crisisd::bench {

inline std::string topic_rules_config(const std::filesystem::path& dir, std::uint16_t ws_port, int rules) {
    std::ostringstream c;
    c << "sources:\n  - { name: stream, type: websocket, url: \"ws://127.0.0.1:" << ws_port << "/s\" }\n"
      << "channels:\n  - { name: pager, type: log }\nrules:\n";
    for (int i = 0; i < rules; ++i)
        c << "  - name: outage-" << i << "\n    match: { keywords: [topic" << i << "] }\n"
          << "    window: 10s\n    baseline: 1h\n    min_baseline_rate: 1\n"
          << "    fire_when: { all: [negative_count >= 1] }\n    clear_when: { all: [count < 1], for: 1h }\n"
          << "    severity: critical\n    playbook: page\n";
    c << "playbooks:\n  - name: page\n    steps:\n      - notify: [pager]\n"
      << "admin: { listen: \"127.0.0.1:0\", tokens_file: \"" << crisisd::testing::write_admin_tokens(dir).string()
      << "\" }\nstorage: { path: \":memory:\" }\n";
    return c.str();
}

}  // namespace crisisd::bench
