#pragma once
// What a `type: x` source needs beyond every source's settings: its filtered-stream rules and
// how it treats the stream's silence and failures. Plain data, filled by config/. The defaults
// are X's documented ones (tests/data/x/README.md).
#include <string>
#include <vector>

#include "core/time.hpp"

namespace crisisd::ingest {

// One filtered-stream rule: what X matches (`value`, X's rule syntax) and the label it reports
// with each post that matched (`tag`, may be empty).
struct x_rule {
    std::string value;
    std::string tag;
    bool operator==(const x_rule&) const = default;
};

struct x_stream_settings {
    // The rule set the stream should have; at start the source reads the live set and adds and
    // deletes exactly the difference.
    std::vector<x_rule> rules;
    // X sends a keep-alive newline every ~20 s: this long with no byte at all means the
    // connection is dead though no one said so, and it is dropped and made anew.
    core::duration stall_timeout = std::chrono::seconds(30);
    // On a reconnect, ask X to send again the posts of the last N minutes (1-5; 0: do not ask,
    // the default, since only some access levels have it). Posts already seen are dropped as
    // duplicates by id, so none counts twice.
    int backfill_minutes = 0;
    // X's documented back-off besides reconnect.initial/max (HTTP errors: exponential from 5 s
    // to 320 s): network errors linearly by `network_step` up to `network_max`; HTTP 429
    // exponentially from `rate_limited`.
    core::duration network_step = std::chrono::milliseconds(250);
    core::duration network_max = std::chrono::seconds(16);
    core::duration rate_limited = std::chrono::minutes(1);

    bool operator==(const x_stream_settings&) const = default;
};

}  // namespace crisisd::ingest
