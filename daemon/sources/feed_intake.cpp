#include "sources/feed_intake.hpp"

#include <algorithm>
#include <vector>

#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "parse/feed.hpp"
#include "sources/source_cursor.hpp"
#include "state/database.hpp"

namespace crisisd::sources {

namespace {

// A feed shows its latest items; this many ids per source are remembered, far more than any
// feed lists at once, so an item only comes back as new if it left the feed for a long time.
constexpr std::size_t remembered_ids = 10000;

void append_html_escaped(std::string& out, std::string_view s) {
    for (char c : s) {
        switch (c) {
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '&': out += "&amp;"; break;
            default: out += c;
        }
    }
}

std::string item_frame(const parse::feed_item& item) {
    // The title is what a forum topic or a news item says first; the body follows it.
    std::string text;
    if (item.body_html) {
        text += "<p>";
        append_html_escaped(text, item.title);
        text += "</p>";
        text += item.body;
    } else {
        text = item.title;
        if (!item.title.empty() && !item.body.empty()) text += "\n\n";
        text += item.body;
    }
    std::string out;
    core::json_writer w(out);
    w.begin_object().member("id", item.id).member("text", text);
    if (item.body_html) w.member("html", true);
    if (!item.author.empty()) w.member("author", item.author);
    if (!item.link.empty()) w.member("url", item.link);
    if (item.published) w.member("created_at", core::format_rfc3339(*item.published));
    w.end_object();
    return out;
}

}  // namespace

feed_intake::feed_intake(std::string source, std::size_t max_document_bytes, state::database& store,
                         const core::clock& clock, hooks h)
    : source_(std::move(source)), max_document_bytes_(max_document_bytes), store_(store), clock_(clock), hooks_(std::move(h)) {}

void feed_intake::on_document(std::string_view xml) {
    parse::feed_limits limits;
    limits.max_bytes = max_document_bytes_;
    auto doc = parse::read_feed(xml, limits);
    if (doc.error != parse::feed_error::none) {
        core::log_warning("source " + source_ + ": feed document refused (" + std::string(parse::to_string(doc.error)) +
                          "): " + doc.detail);
        hooks_.rejected(parse::to_string(doc.error));
        return;
    }
    const auto now = clock_.now();
    std::vector<std::string_view> ids;
    auto& seen = store_.feed_items();
    const bool first_poll = !seen.polled(source_);
    std::vector<std::string> frames;
    std::size_t history = 0, duplicates = 0;
    store_.begin();
    // Oldest first, as feeds list newest first: detection sees them in the order they were written.
    for (auto it = doc.items.rbegin(); it != doc.items.rend(); ++it) {
        if (it->id.empty()) {
            hooks_.rejected("missing_id");
            continue;
        }
        ids.push_back(it->id);
        // A write the database refused (disk full) is not taken for "seen": the item goes on, and
        // the daemon's duplicate window keeps a later poll from counting it twice.
        if (seen.remember(source_, it->id, now) == state::feed_item_store::remembered::seen) {
            ++duplicates;
            continue;
        }
        if (first_poll) ++history;
        else frames.push_back(item_frame(*it));
    }
    seen.mark_polled(source_, now);
    seen.forget_oldest(source_, std::max(remembered_ids, doc.items.size() * 2));
    if (!store_.commit())
        core::log_error("source " + source_ + ": cannot remember the feed's items (" + store_.last_error() +
                        "); the daemon's own duplicate window still keeps them from counting twice until it restarts");
    if (history > 0)
        core::log_info("source " + source_ + ": first poll; " + std::to_string(history) +
                       " item(s) already in the feed are history, not fed to detection");
    note_recent(ids);
    for (std::size_t i = 0; i < history; ++i) hooks_.counted("history");
    for (std::size_t i = 0; i < duplicates; ++i) hooks_.counted("duplicate");
    for (const auto& f : frames) hooks_.deliver(f);
}

void feed_intake::note_recent(const std::vector<std::string_view>& ids) {
    read_one_ = true;
    for (const auto id : ids) {
        auto at = std::find(recent_.begin(), recent_.end(), id);
        if (at != recent_.end()) recent_.erase(at);
        recent_.emplace_back(id);
    }
    if (recent_.size() > shared_item_limit)
        recent_.erase(recent_.begin(), recent_.begin() + static_cast<std::ptrdiff_t>(recent_.size() - shared_item_limit));
}

bool feed_intake::import(state::database& store, std::string_view source, const std::vector<std::string>& ids,
                         core::timestamp now) {
    auto& seen = store.feed_items();
    store.begin();
    for (const auto& id : ids) seen.remember(source, id, now);
    seen.mark_polled(source, now);
    seen.forget_oldest(source, std::max(remembered_ids, ids.size() * 2));
    return store.commit();
}

}  // namespace crisisd::sources
