#pragma once
// The demo's story: posts with the time each was written and the configured source (the
// network) it arrives on. Read from the bundled JSONL, which is also what `crisisd replay`
// reads to reproduce the demo: generic-format lines whose "source" names the demo config's
// source, with the author, id and url written as that network's source reports them, so live
// and replay count the same people. Plain data; no threads.
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace crisisd::demo {

struct post {
    std::string source;  // the demo config's source name: "mastodon", "page", "x", "forum"
    std::string id, author, lang, text, url;
    core::timestamp at{};
};

// The lines that parse and carry a time, in file order (the file is in time order).
std::vector<post> load_scenario(std::string_view jsonl);

// Text as it goes into XML character data or an HTML fragment.
std::string xml_escaped(std::string_view text);

}  // namespace crisisd::demo
