#include "score/detail/word_table.hpp"

namespace crisisd::score::detail {

word_table::word_table() : slots_(1024), mask_(1023), filter_(1024 / 16), filter_mask_(1024 / 16 - 1) {}

entry& word_table::upsert(std::string_view key) {
    if ((records_.size() + 1) * 2 > slots_.size()) grow();
    const std::uint64_t h = hash(key);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
        const std::uint64_t s = slots_[i];
        if (s == 0) {
            slots_[i] = (std::uint64_t{tag} << 32) | static_cast<std::uint32_t>(records_.size() + 1);
            add_to_filter(h);
            record& r = records_.emplace_back();
            r.key_offset = static_cast<std::uint32_t>(arena_.size());
            r.key_length = static_cast<std::uint32_t>(key.size());
            arena_.append(key);
            return r.e;
        }
        if (static_cast<std::uint32_t>(s >> 32) == tag) {
            record& r = records_[static_cast<std::uint32_t>(s) - 1];
            if (key_of(r) == key) return r.e;
        }
    }
}

void word_table::grow() {
    std::vector<std::uint64_t> old = std::move(slots_);
    slots_.assign(old.size() * 2, 0);
    mask_ = slots_.size() - 1;
    filter_.assign(slots_.size() / 16, 0);
    filter_mask_ = filter_.size() - 1;
    for (const std::uint64_t s : old) {
        if (s == 0) continue;
        const std::uint64_t h = hash(key_of(records_[static_cast<std::uint32_t>(s) - 1]));
        add_to_filter(h);
        std::size_t i = h & mask_;
        while (slots_[i] != 0) i = (i + 1) & mask_;
        slots_[i] = s;
    }
}

}  // namespace crisisd::score::detail
