// Mastodon's streaming API over websocket: {"stream":[…],"event":"update","payload":"<Status as
// a JSON string>"}. The payload of update, status.update and notification is JSON encoded into
// a string, so it is parsed twice: the outer frame, then the unescaped payload from a padded
// copy. delete carries a bare status id; filters_changed has no payload at all.
#include <string>

#include "parse/detail/json.hpp"

namespace crisisd::parse::detail {
namespace {

class mastodon_parser final : public json_frame_parser {
public:
    using json_frame_parser::json_frame_parser;

    frame_result parse(std::string_view frame, core::mention& out) override {
        simdjson::dom::object outer;
        if (auto r = begin_object(frame, out, outer)) return frame_result::reject(*r);

        // A subscription the server refused: {"error":"Unknown stream type","status":400}.
        if (outer["error"].error() == simdjson::SUCCESS) return frame_result::reject(reject_reason::stream_error);
        std::string_view event;
        if (outer["event"].get(event) != simdjson::SUCCESS) return frame_result::reject(reject_reason::bad_field);

        enum class what { status, edit, notification, deletion } kind;
        if (event == "update") kind = what::status;
        else if (event == "status.update") kind = what::edit;
        else if (event == "notification") kind = what::notification;
        else if (event == "delete") kind = what::deletion;
        else return frame_result::make(frame_kind::ignored);  // filters_changed, announcement, conversation, …

        std::string_view payload;
        if (outer["payload"].get(payload) != simdjson::SUCCESS) return frame_result::reject(reject_reason::bad_field);
        if (kind == what::deletion) {
            if (payload.empty()) return frame_result::reject(reject_reason::missing_id);
            out.id.assign(payload);
            key_.append(payload).append(" delete");
            return frame_result::make(frame_kind::deleted);
        }

        // simdjson needs padding after the input, which a string inside the outer document
        // lacks: the payload goes through its own padded parser (a copy, then a parse).
        simdjson::dom::element inner;
        if (auto e = payload_json_.parse(payload, inner)) return frame_result::reject(classify(e));
        simdjson::dom::object status;
        if (inner.get_object().get(status) != simdjson::SUCCESS) return frame_result::reject(reject_reason::malformed_json);
        if (kind == what::notification) {
            // Only a mention of the account carries a post written to it; follows, favourites
            // and boosts of its own posts are not what people say.
            if (string_or_empty(status, "type") != "mention") return frame_result::make(frame_kind::ignored);
            if (status["status"].get(status) != simdjson::SUCCESS) return frame_result::reject(reject_reason::bad_field);
        }
        frame_result result = read_status(status, out);
        if (result.kind == frame_kind::mention) result.edit = kind == what::edit;
        return result;
    }

private:
    frame_result read_status(simdjson::dom::object status, core::mention& out) {
        std::string_view id = string_or_empty(status, "id");
        if (id.empty()) return frame_result::reject(reject_reason::missing_id);
        out.id.assign(id);
        // An edit re-arrives under the same id with a new edited_at: a new version to score,
        // while a replayed copy of the same version is a duplicate.
        key_.append(id).append(" ").append(string_or_empty(status, "edited_at"));

        simdjson::dom::object account;
        if (status["account"].get(account) == simdjson::SUCCESS) {
            if (auto acct = string_or_empty(account, "acct"); !acct.empty()) {
                // The server the stream comes from names the account: vouched for, not claimed.
                out.author.append("@").append(acct);
                out.author_vouched = true;
            }
        }
        // A boost has empty content of its own: what is said is in the boosted status, while
        // the booster, who chose to amplify it, stays the author.
        simdjson::dom::object post = status;
        simdjson::dom::object reblog;
        if (status["reblog"].get(reblog) == simdjson::SUCCESS) post = reblog;

        simdjson::dom::element content;
        if (post["content"].get(content) != simdjson::SUCCESS) return frame_result::reject(reject_reason::missing_text);
        std::string_view html;
        if (content.get(html) != simdjson::SUCCESS) return frame_result::reject(reject_reason::bad_field);
        // The content warning is part of what was said and is matched too.
        if (auto spoiler = string_or_empty(post, "spoiler_text"); !spoiler.empty()) {
            out.text.append("<p>");
            append_escaped(spoiler, out.text);
            out.text.append("</p>");
        }
        out.text.append(html);
        out.html = true;
        primary_language(string_or_empty(post, "language"), out.lang);  // null → ""
        std::string_view url = string_or_empty(post, "url");
        out.url.assign(url.empty() ? string_or_empty(post, "uri") : url);
        if (auto created = string_or_empty(status, "created_at"); !created.empty()) {
            out.created_at = core::parse_rfc3339(created);
            if (!out.created_at) return frame_result::reject(reject_reason::bad_field);
        }
        return frame_result::make(frame_kind::mention);
    }

    // spoiler_text is plain text placed into HTML, so its markup characters are escaped.
    static void append_escaped(std::string_view text, std::string& out) {
        for (char c : text) {
            switch (c) {
                case '<': out.append("&lt;"); break;
                case '>': out.append("&gt;"); break;
                case '&': out.append("&amp;"); break;
                default: out.push_back(c);
            }
        }
    }

    padded_parser payload_json_;
};

}  // namespace

std::unique_ptr<frame_parser> make_mastodon(const parser_settings& settings) {
    return std::make_unique<mastodon_parser>(settings.max_bytes);
}

}  // namespace crisisd::parse::detail
