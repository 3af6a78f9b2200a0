#pragma once
// Why an inbound message was not turned into a mention. The names are metric label values
// (crisisd_mentions_rejected_total{reason}), so they are stable and snake_case.
#include <string_view>

namespace crisisd::parse {

enum class reject_reason {
    malformed_json,  // not JSON, or not an object
    invalid_utf8,
    oversized,       // larger than the configured limit
    missing_id,
    missing_text,
    bad_field,  // a known field with the wrong type (e.g. "text": 3)
    stream_error,  // the server reported an error in-band (Mastodon {"error":…,"status":…})
};

constexpr std::string_view to_string(reject_reason r) {
    switch (r) {
        case reject_reason::malformed_json: return "malformed_json";
        case reject_reason::invalid_utf8: return "invalid_utf8";
        case reject_reason::oversized: return "oversized";
        case reject_reason::missing_id: return "missing_id";
        case reject_reason::missing_text: return "missing_text";
        case reject_reason::bad_field: return "bad_field";
        case reject_reason::stream_error: return "stream_error";
    }
    return "unknown";
}

}  // namespace crisisd::parse
