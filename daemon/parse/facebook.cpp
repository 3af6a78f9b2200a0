#include "parse/facebook.hpp"

#include <chrono>

#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "parse/detail/json.hpp"

namespace crisisd::parse {
namespace {

// What the Page feed's `item` says was changed: statuses, posts, photos and videos are posts
// (they carry the author's message); a comment is a comment. Everything else (reaction, like,
// share, event, rating, …) is ignored.
enum class kind { post, comment, other };

kind item_kind(std::string_view item) {
    if (item == "comment") return kind::comment;
    if (item == "status" || item == "post" || item == "photo" || item == "video") return kind::post;
    return kind::other;
}

// Meta has spelt the edit verb both "edited" and "edit".
bool counts(std::string_view verb) { return verb == "add" || verb == "edited" || verb == "edit"; }

std::string_view id_string(simdjson::dom::object o, std::string_view key, std::string& scratch) {
    simdjson::dom::element v;
    if (o[key].get(v) != simdjson::SUCCESS) return {};
    if (v.is_string()) return std::string_view(v);
    if (v.is_uint64()) return scratch = std::to_string(std::uint64_t(v));
    if (v.is_int64()) return scratch = std::to_string(std::int64_t(v));
    return {};
}

}  // namespace

webhook_changes read_facebook_webhook(std::string_view body, std::size_t max_bytes) {
    webhook_changes out;
    if (body.size() > max_bytes) {
        out.error = reject_reason::oversized;
        return out;
    }
    detail::padded_parser json;
    simdjson::dom::element root;
    if (auto e = json.parse(body, root)) {
        out.error = detail::classify(e);
        return out;
    }
    simdjson::dom::object doc;
    simdjson::dom::array entries;
    if (root.get_object().get(doc) != simdjson::SUCCESS || detail::string_or_empty(doc, "object") != "page" ||
        doc["entry"].get_array().get(entries) != simdjson::SUCCESS) {
        out.error = reject_reason::bad_field;
        return out;
    }
    std::string scratch_post, scratch_comment, scratch_from;
    for (auto entry_el : entries) {
        simdjson::dom::object entry;
        simdjson::dom::array changes;
        if (entry_el.get_object().get(entry) != simdjson::SUCCESS ||
            entry["changes"].get_array().get(changes) != simdjson::SUCCESS) {
            ++out.ignored;  // messaging entries and the like: not the feed
            continue;
        }
        for (auto change_el : changes) {
            simdjson::dom::object change, value;
            if (change_el.get_object().get(change) != simdjson::SUCCESS ||
                detail::string_or_empty(change, "field") != "feed" ||
                change["value"].get_object().get(value) != simdjson::SUCCESS) {
                ++out.ignored;
                continue;
            }
            const auto k = item_kind(detail::string_or_empty(value, "item"));
            if (k == kind::other || !counts(detail::string_or_empty(value, "verb"))) {
                ++out.ignored;
                continue;
            }
            const auto post_id = id_string(value, "post_id", scratch_post);
            const auto comment_id = id_string(value, "comment_id", scratch_comment);
            const auto id = k == kind::comment ? comment_id : post_id;
            if (id.empty()) {
                ++out.unusable;
                continue;
            }
            std::string author;
            simdjson::dom::object from;
            if (value["from"].get_object().get(from) == simdjson::SUCCESS) {
                // The id tells people apart (names are not unique); the name is what a person reads.
                const auto from_id = id_string(from, "id", scratch_from);
                const auto name = detail::string_or_empty(from, "name");
                author = name.empty() ? std::string(from_id)
                                      : from_id.empty() ? std::string(name) : std::string(name) + " (" + std::string(from_id) + ")";
            }
            // Webhook changes carry no permalink; these are the forms facebook.com resolves.
            std::string url;
            if (!post_id.empty()) {
                url = "https://www.facebook.com/" + std::string(post_id);
                if (k == kind::comment) {
                    auto local = comment_id.substr(comment_id.find('_') == std::string_view::npos ? 0 : comment_id.find('_') + 1);
                    url += "?comment_id=" + std::string(local);
                }
            }
            const auto message = detail::string_or_empty(value, "message");
            std::string frame;
            // One allocation for the line: the text, the other fields and their keys and quotes.
            frame.reserve(message.size() + id.size() + author.size() + url.size() + 96);
            core::json_writer w(frame);
            w.begin_object().member("id", id).member("text", message);
            if (!author.empty()) w.member("author", author);
            if (!url.empty()) w.member("url", url);
            // Unix seconds; outside years 1970..9999 it is not a time (and seconds that large
            // overflow the microsecond clock, which the fuzzer found): left out, the arrival counts.
            constexpr std::int64_t year_10000 = 253402300800;
            std::int64_t created = 0;
            if (value["created_time"].get(created) == simdjson::SUCCESS && created > 0 && created < year_10000)
                w.member("created_at", core::format_rfc3339(core::timestamp(std::chrono::seconds(created))));
            w.end_object();
            out.frames.push_back(std::move(frame));
        }
    }
    return out;
}

}  // namespace crisisd::parse
