// X API v2 filtered stream (GET /2/tweets/search/stream), one JSON object per line:
// {"data":{"id","text","author_id","created_at","lang",…},"includes":{"users":[{"id","username",…}]},
//  "matching_rules":[{"id","tag"}]}. The author's handle is not in `data`: it comes from the
// `includes.users` expansion (expansions=author_id, user.fields=username), matched by id.
// A line with `errors` and no `data` is the stream reporting a problem in-band (operational-
// disconnect, a rule-set error): no post, rejected as stream_error. A post may carry `errors`
// beside its `data` (an expansion X could not resolve); the post still counts.
// An edit is a new post with a new id (edit_history_tweet_ids names the chain), so the id alone
// is the de-duplication key: a backfilled or replayed copy of a post is a duplicate, an edit not.
#include <string>

#include "parse/detail/json.hpp"

namespace crisisd::parse::detail {
namespace {

class x_parser final : public json_frame_parser {
public:
    using json_frame_parser::json_frame_parser;

    frame_result parse(std::string_view frame, core::mention& out) override {
        // The ~20 s keep-alive is a bare newline; a source drops it before parsing, but a line
        // of nothing but whitespace is housekeeping wherever it comes from.
        if (frame.find_first_not_of(" \t\r\n") == std::string_view::npos) {
            out.clear();
            key_.clear();
            return frame_result::make(frame_kind::ignored);
        }
        simdjson::dom::object line;
        if (auto r = begin_object(frame, out, line)) return frame_result::reject(*r);

        simdjson::dom::object post;
        if (line["data"].get(post) != simdjson::SUCCESS) {
            if (line["errors"].error() == simdjson::SUCCESS) return frame_result::reject(reject_reason::stream_error);
            return frame_result::reject(reject_reason::bad_field);
        }
        std::string_view id = string_or_empty(post, "id");
        if (id.empty()) return frame_result::reject(reject_reason::missing_id);
        out.id.assign(id);
        key_.assign(id);

        // Posts over 280 characters carry their full text in note_tweet (tweet.fields=note_tweet);
        // `text` then holds a truncated copy.
        std::string_view text;
        simdjson::dom::object note;
        if (post["note_tweet"].get(note) == simdjson::SUCCESS) text = string_or_empty(note, "text");
        if (text.empty()) {
            simdjson::dom::element t;
            if (post["text"].get(t) != simdjson::SUCCESS) return frame_result::reject(reject_reason::missing_text);
            if (t.get(text) != simdjson::SUCCESS) return frame_result::reject(reject_reason::bad_field);
        }
        out.text.assign(text);
        primary_language(string_or_empty(post, "lang"), out.lang);
        if (out.lang == "und" || out.lang == "qme" || out.lang == "zxx") out.lang.clear();  // X: undetermined, media, none

        std::string_view author_id = string_or_empty(post, "author_id");
        std::string_view username;
        if (!author_id.empty()) {
            simdjson::dom::array users;
            if (line.at_pointer("/includes/users").get(users) == simdjson::SUCCESS) {
                for (auto user : users) {
                    simdjson::dom::object u;
                    if (user.get(u) != simdjson::SUCCESS || string_or_empty(u, "id") != author_id) continue;
                    username = string_or_empty(u, "username");
                    break;
                }
            }
        }
        // X names the account: vouched for. Without the expansion the stable numeric id still
        // tells authors apart (a handle can be renamed; the id cannot).
        if (!username.empty()) {
            out.author.append("@").append(username);
            out.url.append("https://x.com/").append(username).append("/status/").append(id);
        } else if (!author_id.empty()) {
            out.author.append("x:").append(author_id);
            out.url.append("https://x.com/i/web/status/").append(id);
        }
        out.author_vouched = !out.author.empty();
        if (auto created = string_or_empty(post, "created_at"); !created.empty()) {
            out.created_at = core::parse_rfc3339(created);
            if (!out.created_at) return frame_result::reject(reject_reason::bad_field);
        }
        return frame_result::make(frame_kind::mention);
    }
};

}  // namespace

std::unique_ptr<frame_parser> make_x(const parser_settings& settings) {
    return std::make_unique<x_parser>(settings.max_bytes);
}

}  // namespace crisisd::parse::detail
