#pragma once
// What a `feed` source does with each document its poller fetched: reads the RSS or Atom items
// (parse/feed.hpp), keeps only those it has not seen (state::feed_item_store, so a restart
// re-emits nothing), and hands each new one on as a canonical "item" frame. The items a feed
// holds the first time it is ever polled are history, not news: they are remembered and counted
// (crisisd_source_frames_total{kind="history"}), never fed to detection, so adding a feed
// cannot open an incident by itself. Items seen before count as kind="duplicate".
//
// Ids are written before the items are handed on: a crash in between loses those items rather
// than counting them twice after the restart (a doubled complaint would feed a spike).
//
// In cluster mode a feed moves between replicas, each with its own database: the ids of its
// latest documents are kept here too, for the holder to share (source_cursor.hpp), and the next
// holder imports them before its first poll (import()), so that poll is not history.
//
// Not thread-safe: the daemon's event loop only.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"

namespace crisisd::state {
class database;
}

namespace crisisd::sources {

class feed_intake {
public:
    struct hooks {
        std::function<void(std::string_view frame)> deliver;           // a new item, as a frame
        std::function<void(std::string_view kind)> counted;            // "history", "duplicate"
        std::function<void(std::string_view reason)> rejected;         // the document or an item refused
    };

    feed_intake(std::string source, std::size_t max_document_bytes, state::database& store, const core::clock& clock,
                hooks h);

    void on_document(std::string_view xml);

    // The ids of the latest documents read here, oldest first (at most shared_item_limit), or
    // null before this object has read one.
    const std::vector<std::string>* recent() const { return read_one_ ? &recent_ : nullptr; }
    // A moved feed's shared ids remembered as seen and the feed marked polled, in `store`, so
    // the first poll after it hands on only what is new. False when the database refused it.
    static bool import(state::database& store, std::string_view source, const std::vector<std::string>& ids,
                       core::timestamp now);

private:
    void note_recent(const std::vector<std::string_view>& ids);

    std::string source_;
    std::size_t max_document_bytes_;
    state::database& store_;
    const core::clock& clock_;
    hooks hooks_;
    std::vector<std::string> recent_;
    bool read_one_ = false;
};

}  // namespace crisisd::sources
