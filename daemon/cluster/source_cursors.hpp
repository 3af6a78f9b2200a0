#pragma once
// Where each pull source's resume point lives in cluster mode (issue 15): one entry per source in
// the key-value bucket `crisisd_source_cursors` (R3, history 1, no expiry), so a source that
// moves to another replica resumes where its last holder stopped rather than from the new
// holder's own SQLite records. What a value holds is sources/'s (sources/source_cursor.hpp);
// this stores bytes.
//
// Every write is a compare-and-set on the entry's revision, as partition_store's: a new holder
// reads the entry and at once writes it back under its own name (the claim), so a late write of
// the previous holder, which still names the revision it last saw, is refused from then on.
//
// Thread-safety: as nats_connection (calls block up to the request timeout; not on the event loop).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cluster/nats_connection.hpp"

namespace crisisd::cluster {

namespace detail {
class kv_bucket;
}

class source_cursors {
public:
    static constexpr const char* default_bucket = "crisisd_source_cursors";
    static std::unique_ptr<source_cursors> open(nats_connection& conn, int replicas, std::string& error,
                                                const std::string& bucket = default_bucket);
    ~source_cursors();
    source_cursors(const source_cursors&) = delete;
    source_cursors& operator=(const source_cursors&) = delete;

    // The entry's key for a source name: letters, digits, '-' and '_' as they are, any other
    // byte as "=XX" (a source name may hold characters a key may not, and '=' is one it may).
    static std::string key(std::string_view source);

    struct loaded {
        bool ok = false;          // false: NATS did not answer (try again)
        std::string value;        // empty when the source has no entry yet
        std::uint64_t revision = 0;
        std::string error;
    };
    loaded load(std::string_view source);

    enum class outcome { ok, conflict, unavailable };
    struct written {
        outcome result = outcome::unavailable;
        std::uint64_t revision = 0;   // the new revision when ok
        std::string error;
    };
    // Writes `value` if the entry's revision is still `expected` (0: no entry yet).
    written write(std::string_view source, std::string_view value, std::uint64_t expected);

private:
    explicit source_cursors(std::unique_ptr<detail::kv_bucket> kv);
    std::unique_ptr<detail::kv_bucket> kv_;
};

}  // namespace crisisd::cluster
