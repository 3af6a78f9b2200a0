// Bluesky Jetstream `/subscribe` (v1 JSON, also served wire-frozen by v2). One frame per event:
// {"did":…,"time_us":…,"kind":"commit"|"identity"|"account","commit":{…}}. Only commits on
// app.bsky.feed.post carry posts; identity and account events arrive whatever the collection
// filter says, and are housekeeping here.
#include <string>

#include "parse/detail/json.hpp"

namespace crisisd::parse::detail {
namespace {

constexpr std::string_view post_collection = "app.bsky.feed.post";

class jetstream_parser final : public json_frame_parser {
public:
    using json_frame_parser::json_frame_parser;

    frame_result parse(std::string_view frame, core::mention& out) override {
        simdjson::dom::object event;
        if (auto r = begin_object(frame, out, event)) return frame_result::reject(*r);

        std::int64_t time_us = 0;
        std::string_view did, kind;
        if (event["time_us"].get(time_us) != simdjson::SUCCESS || time_us <= 0)
            return frame_result::reject(reject_reason::bad_field);
        if (event["kind"].get(kind) != simdjson::SUCCESS) return frame_result::reject(reject_reason::bad_field);
        if (event["did"].get(did) != simdjson::SUCCESS || did.empty())
            return frame_result::reject(reject_reason::bad_field);

        frame_result result = frame_result::make(frame_kind::ignored);
        result.position = time_us;
        if (kind != "commit") return result;  // identity, account, and kinds yet to come

        simdjson::dom::object commit;
        if (event["commit"].get(commit) != simdjson::SUCCESS) return frame_result::reject(reject_reason::bad_field);
        std::string_view collection, operation, rkey, rev;
        if (commit["collection"].get(collection) != simdjson::SUCCESS ||
            commit["operation"].get(operation) != simdjson::SUCCESS || commit["rkey"].get(rkey) != simdjson::SUCCESS)
            return frame_result::reject(reject_reason::bad_field);
        if (collection != post_collection) return result;
        rev = string_or_empty(commit, "rev");

        // at:// URIs name a post for good; the same (did, rkey) survives edits and is what a
        // delete refers to.
        out.id.append("at://").append(did).append("/").append(collection).append("/").append(rkey);
        key_.append(did).append(" ").append(collection).append(" ").append(rkey).append(" ");
        key_.append(operation).append(" ").append(rev);

        if (operation == "delete") {
            result.kind = frame_kind::deleted;
            return result;
        }
        if (operation != "create" && operation != "update") return frame_result::reject(reject_reason::bad_field);

        simdjson::dom::object record;
        if (commit["record"].get(record) != simdjson::SUCCESS) return frame_result::reject(reject_reason::bad_field);
        // A post with an embed may have "" as its text: it still counts as volume.
        simdjson::dom::element text;
        if (record["text"].get(text) != simdjson::SUCCESS) return frame_result::reject(reject_reason::missing_text);
        std::string_view text_view;
        if (text.get(text_view) != simdjson::SUCCESS) return frame_result::reject(reject_reason::bad_field);
        out.text.assign(text_view);

        simdjson::dom::array langs;
        if (record["langs"].get(langs) == simdjson::SUCCESS) {
            for (auto tag : langs) {
                std::string_view t;
                if (tag.get(t) == simdjson::SUCCESS && !t.empty()) {
                    primary_language(t, out.lang);
                    break;
                }
            }
        }
        // The DID is the repository the commit was signed into: the network vouches for it.
        out.author.assign(did);
        out.author_vouched = true;
        out.url.append("https://bsky.app/profile/").append(did).append("/post/").append(rkey);
        // createdAt is what the author's client claims (it may use +00:00 rather than Z, or be
        // wrong altogether); time_us is when Jetstream saw the event, the fallback.
        if (auto created = string_or_empty(record, "createdAt"); !created.empty())
            out.created_at = core::parse_rfc3339(created);
        if (!out.created_at) out.created_at = core::timestamp(std::chrono::microseconds(time_us));
        result.kind = frame_kind::mention;
        result.edit = operation == "update";
        return result;
    }
};

}  // namespace

std::unique_ptr<frame_parser> make_jetstream(const parser_settings& settings) {
    return std::make_unique<jetstream_parser>(settings.max_bytes);
}

}  // namespace crisisd::parse::detail
