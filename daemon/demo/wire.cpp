#include "demo/wire.hpp"

#include <functional>

#include "core/json_writer.hpp"

namespace crisisd::demo {
namespace {

std::string without_at(const std::string& handle) { return handle.starts_with('@') ? handle.substr(1) : handle; }

std::int64_t unix_seconds(core::timestamp t) {
    return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

// "Clara Fuchs (7012…)" → name and id: crisisd names a commenter "name (id)", and so does the
// scenario.
std::pair<std::string, std::string> name_and_id(const std::string& author) {
    auto open = author.rfind(" (");
    if (open == std::string::npos || !author.ends_with(')')) return {author, ""};
    return {author.substr(0, open), author.substr(open + 2, author.size() - open - 3)};
}

constexpr std::string_view page_id = "104820508212345";
// The Page's post the comments are written under (the company's morning post).
constexpr std::string_view page_post = "104820508212345_901234567890123";

}  // namespace

std::string mastodon_update(const post& p) {
    // "@karin@mastodon.at" → acct "karin@mastodon.at" (crisisd's reader names the author "@" + acct).
    const std::string acct = without_at(p.author);
    const std::string username = acct.substr(0, acct.find('@'));
    std::string status;
    core::json_writer s(status);
    s.begin_object()
        .member("id", p.id)
        .member("created_at", core::format_rfc3339(p.at))
        .member("visibility", "public")
        .member("sensitive", false)
        .member("spoiler_text", "")
        .member("url", p.url)
        .member("uri", p.url);
    if (p.lang.empty()) s.key("language").null();
    else s.member("language", p.lang);
    s.member("content", "<p>" + xml_escaped(p.text) + "</p>");
    s.key("account")
        .begin_object()
        .member("id", std::to_string(std::hash<std::string>{}(acct) % 1000000000))
        .member("username", username)
        .member("acct", acct)
        .member("display_name", username)
        .end_object();
    s.key("tags").begin_array().begin_object().member("name", "liwest").end_object().end_array();
    s.end_object();

    std::string frame;
    core::json_writer w(frame);
    w.begin_object();
    w.key("stream").begin_array().value("hashtag").value("liwest").end_array();
    w.member("event", "update").member("payload", status).end_object();
    return frame;
}

std::string x_stream_line(const post& p, std::string_view rule_id, std::string_view rule_tag) {
    const std::string username = without_at(p.author);
    const auto author_id =
        std::to_string(1500000000000000000ULL + std::hash<std::string>{}(username) % 100000000000000000ULL);
    std::string out;
    core::json_writer w(out);
    w.begin_object().key("data").begin_object();
    w.member("id", p.id).member("text", p.text).member("author_id", author_id).member("created_at", core::format_rfc3339(p.at));
    if (!p.lang.empty()) w.member("lang", p.lang);
    w.key("edit_history_tweet_ids").begin_array().value(p.id).end_array();
    w.end_object();
    w.key("includes").begin_object().key("users").begin_array();
    w.begin_object().member("id", author_id).member("name", username).member("username", username).end_object();
    w.end_array().end_object();
    w.key("matching_rules").begin_array().begin_object().member("id", rule_id).member("tag", rule_tag).end_object().end_array();
    w.end_object();
    return out;
}

std::string facebook_delivery(const std::vector<post>& comments) {
    std::string out;
    core::json_writer w(out);
    w.begin_object().member("object", "page").key("entry").begin_array();
    w.begin_object().member("id", page_id).member("time", comments.empty() ? 0 : unix_seconds(comments.back().at));
    w.key("changes").begin_array();
    for (const auto& c : comments) {
        const auto [name, id] = name_and_id(c.author);
        w.begin_object().member("field", "feed").key("value").begin_object();
        w.key("from").begin_object().member("id", id).member("name", name).end_object();
        w.member("message", c.text)
            .member("post_id", page_post)
            .member("comment_id", c.id)
            .member("parent_id", page_post)
            .member("created_time", unix_seconds(c.at))
            .member("item", "comment")
            .member("verb", "add");
        w.end_object().end_object();
    }
    w.end_array().end_object().end_array().end_object();
    return out;
}

std::string atom_feed(std::string_view self_url, const std::vector<post>& posts) {
    std::string xml =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"de\">\n"
        "  <id>tag:forum.linz-online.example,2026:latest</id>\n  <title>Linz online – neueste Beiträge</title>\n"
        "  <link rel=\"self\" href=\"" + xml_escaped(self_url) + "\"/>\n";
    if (!posts.empty()) xml += "  <updated>" + core::format_rfc3339(posts.back().at) + "</updated>\n";
    for (auto it = posts.rbegin(); it != posts.rend(); ++it) {
        const auto at = core::format_rfc3339(it->at);
        xml += "  <entry>\n    <id>" + xml_escaped(it->id) + "</id>\n    <title type=\"text\">" + xml_escaped(it->text) +
               "</title>\n    <link rel=\"alternate\" type=\"text/html\" href=\"" + xml_escaped(it->url) +
               "\"/>\n    <author><name>" + xml_escaped(it->author) + "</name></author>\n    <published>" + at +
               "</published>\n    <updated>" + at + "</updated>\n  </entry>\n";
    }
    return xml + "</feed>\n";
}

}  // namespace crisisd::demo
