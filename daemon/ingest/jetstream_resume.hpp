#pragma once
// Where a Jetstream subscription picks up after a reconnect or a restart. Jetstream replays
// from `cursor=<time_us>`; the position is advanced by every processed frame, the reconnect
// asks for `lookback` earlier (events near the drop may not have been processed yet), and the
// overlap is dropped by the dedup window. Persisting is the owner's job: should_persist() says
// when a stream second has passed since the last save, so a busy stream costs one write a
// second, not one per frame.
//
// Pure: no clock, no I/O. Not thread-safe: used on the source's executor.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace crisisd::ingest {

class jetstream_resume {
public:
    // base_url: ws(s)://host/subscribe, maybe with a query of its own. collections and dids
    // become repeated wantedCollections / wantedDids parameters.
    jetstream_resume(std::string base_url, std::vector<std::string> collections, std::vector<std::string> dids,
                     std::chrono::microseconds lookback = std::chrono::seconds(5));

    // The URL for the next connection: with cursor = position - lookback once a position is
    // known (restored or seen), live tail before that.
    std::string url() const;

    // The newest stream position processed (µs since the epoch); 0 when none yet.
    std::int64_t position() const { return position_; }
    // A position read back from storage at start-up.
    void restore(std::int64_t time_us);
    // Records a processed frame's position (positions never move backwards).
    void advance(std::int64_t time_us);
    // True when the position moved a second or more past the last saved one.
    bool should_persist() const;
    void persisted() { saved_ = position_; }

private:
    std::string base_;
    std::int64_t lookback_us_;
    std::int64_t position_ = 0;
    std::int64_t saved_ = 0;
};

// Percent-encodes a query parameter value (RFC 3986 unreserved characters pass unchanged).
std::string url_encode(std::string_view value);

}  // namespace crisisd::ingest
