#pragma once
// Which items each feed source has already seen (schema version 3's feed_items and
// feed_sources tables), so a restart re-emits nothing, and whether a feed was ever polled, so
// the items of a feed's first poll count as history rather than news.
//
// A feed lists only its latest items; an id is kept until `keep` newer ones of the same source
// push it out (forget_oldest), which is far more than any feed shows at once.
// Owned by state::database; not thread-safe.
#include <cstddef>
#include <string_view>

#include "core/time.hpp"
#include "state/detail/sqlite.hpp"

namespace crisisd::state {

class feed_item_store {
public:
    explicit feed_item_store(detail::connection& c);

    // Whether the source has completed a poll before (mark_polled), in this database.
    bool polled(std::string_view source);
    bool mark_polled(std::string_view source, core::timestamp now);
    // Whether the id was new (and is now remembered) or seen before; `failed` when the database
    // refused the write (disk full), so the caller cannot tell and should not drop the item.
    enum class remembered { new_id, seen, failed };
    remembered remember(std::string_view source, std::string_view id, core::timestamp now);
    // Drops all but the `keep` most recently remembered ids of the source; how many went.
    std::size_t forget_oldest(std::string_view source, std::size_t keep);
    std::size_t count(std::string_view source);

private:
    detail::connection& c_;
    detail::statement polled_, mark_, insert_, forget_, count_;
};

}  // namespace crisisd::state
