#pragma once
// One interface for every wire format a source can speak (generic, jetstream, mastodon, x): a
// frame goes in, and out comes a mention, or the news that the frame was housekeeping
// (ignored), a deletion, or unusable (rejected, with a reason that is a metric label).
//
// A parser owns its simdjson parser and buffers, reused across frames, so steady-state parsing
// allocates only when a mention outgrows the capacity of the target mention's strings.
// Not thread-safe: one parser per source (and thread).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/mention.hpp"
#include "parse/reject.hpp"

namespace crisisd::parse {

enum class frame_kind {
    mention,   // `out` holds a post to process
    ignored,   // valid but not a post: identity/account events, filters_changed, other collections
    deleted,   // a post was deleted; `out.id` holds its id (as a mention of it would carry)
    rejected,  // unusable; see `reason`
};

constexpr std::string_view to_string(frame_kind k) {
    switch (k) {
        case frame_kind::mention: return "mention";
        case frame_kind::ignored: return "ignored";
        case frame_kind::deleted: return "deleted";
        case frame_kind::rejected: return "rejected";
    }
    return "rejected";
}

struct frame_result {
    frame_kind kind = frame_kind::rejected;
    reject_reason reason = reject_reason::malformed_json;  // meaningful when kind == rejected
    bool edit = false;  // the mention is a new version of an earlier post (Jetstream update, status.update)
    // The stream position of this frame, when the format has one (Jetstream `time_us`, µs since
    // the epoch); 0 otherwise. Set for every well-formed frame, ignored ones included, so a
    // resume cursor advances over housekeeping too.
    std::int64_t position = 0;

    static frame_result make(frame_kind k) { return {k, reject_reason::malformed_json, false, 0}; }
    static frame_result reject(reject_reason r) { return {frame_kind::rejected, r, false, 0}; }
};

class frame_parser {
public:
    virtual ~frame_parser() = default;
    // Parses one frame into `out` (cleared first). `out` is meaningful for mention and deleted.
    virtual frame_result parse(std::string_view frame, core::mention& out) = 0;
    // The key under which the last mention or deletion is deduplicated after a reconnect
    // replays part of the stream (Jetstream: did, collection, rkey, operation, rev; Mastodon:
    // id and edit time; generic: id). Valid until the next parse().
    virtual std::string_view dedup_key() const = 0;
};

// Which wire format and its options. Plain data, filled from a source's config.
struct parser_settings {
    // generic | jetstream | mastodon | x | item. `item` is the canonical generic object written by
    // crisisd itself from a platform document (feed items, Facebook changes): never configured,
    // its authors are vouched for by the platform that named them.
    std::string format = "generic";
    std::size_t max_bytes = 1 << 20;  // larger frames are rejected as oversized before parsing
    // generic only: where each mention field is found, as RFC 6901 JSON Pointers, e.g.
    // {"text", "/data/body"}. Fields not listed are read from their canonical top-level key.
    // Keys: id text created_at source author lang url. `source` fills mention::network: what the
    // sender calls its origin, for display; the mention's source is the configured one.
    std::vector<std::pair<std::string, std::string>> field_map;
    // generic only: frames are processed only when every pointer holds the given string (e.g.
    // {"/0", "EVENT"} for Nostr relay messages); other frames are ignored, not rejected.
    std::vector<std::pair<std::string, std::string>> only_when;
};

// Whether a format's authors are vouched for by the platform (jetstream DIDs, mastodon accounts;
// its parser sets mention::author_vouched) rather than claimed by the sender (generic).
bool format_vouches_for_authors(std::string_view format);

// The formats make_parser knows, for config validation.
const std::vector<std::string_view>& known_formats();
// The field names a generic field_map may use.
const std::vector<std::string_view>& mappable_fields();

// Builds the parser for settings.format; nullptr for an unknown format. Pointers in field_map
// and only_when must start with '/' (or be empty, meaning the whole document).
std::unique_ptr<frame_parser> make_parser(const parser_settings& settings);

}  // namespace crisisd::parse
