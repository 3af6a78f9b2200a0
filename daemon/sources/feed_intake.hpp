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
// Not thread-safe: the daemon's event loop only.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

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

private:
    std::string source_;
    std::size_t max_document_bytes_;
    state::database& store_;
    const core::clock& clock_;
    hooks hooks_;
};

}  // namespace crisisd::sources
