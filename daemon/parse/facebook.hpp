#pragma once
// Meta Webhooks for Pages, the `feed` field: one signed POST body ({"object":"page","entry":[{
// "id","time","changes":[{"field":"feed","value":{…}}]}]}) → one canonical "item" frame per
// post or comment that was added or edited (see frame_parser.hpp, format "item"). Reactions,
// likes, shares without text, removals and hides are not what people say: they are counted as
// ignored. The signature is checked before this is called (ingest/facebook_source.hpp).
//
// A frame's id is the comment id for a comment and the post id for a post, and the dedup key is
// that id alone: Meta redelivers a change it thinks was lost, and an edit is the same utterance
// again, so neither counts twice.
//
// Pure; keeps no state between calls.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parse/reject.hpp"

namespace crisisd::parse {

struct webhook_changes {
    std::optional<reject_reason> error;  // the whole body is unusable (not JSON, not a page webhook)
    std::vector<std::string> frames;     // format "item", in delivery order
    std::size_t ignored = 0;             // changes that are not posts or comments added or edited
    std::size_t unusable = 0;            // post or comment changes without an id (counted as missing_id)
};

webhook_changes read_facebook_webhook(std::string_view body, std::size_t max_bytes = 8 << 20);

}  // namespace crisisd::parse
