#include "ingest/dedup_window.hpp"

#include <bit>
#include <functional>
#include <limits>

namespace crisisd::ingest {

namespace {
constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();
std::uint32_t hash_of(std::string_view key) { return static_cast<std::uint32_t>(std::hash<std::string_view>{}(key)); }
}  // namespace

dedup_window::dedup_window(std::size_t capacity)
    : keys_(capacity == 0 ? 1 : capacity), hashes_(keys_.size()) {
    // At most half full, so probe runs stay short. Cells are found from the hash's low 32 bits,
    // enough for any index below 2^32 cells (a window of a billion keys).
    index_.assign(std::bit_ceil(keys_.size() * 2), empty);
    mask_ = index_.size() - 1;
}

std::size_t dedup_window::find(std::string_view key, std::uint32_t hash) const {
    for (std::size_t cell = hash & mask_;; cell = (cell + 1) & mask_) {
        const std::uint64_t value = index_[cell];
        if (value == empty) return npos;
        if (static_cast<std::uint32_t>(value >> 32) == hash && keys_[static_cast<std::uint32_t>(value) - 1] == key) return cell;
    }
}

void dedup_window::erase_cell(std::size_t cell) {
    // Backward-shift deletion: pull later members of the probe run into the hole when their
    // home cell does not lie between the hole and themselves.
    std::size_t hole = cell;
    for (std::size_t next = (hole + 1) & mask_; index_[next] != empty; next = (next + 1) & mask_) {
        const std::size_t home = this->home(index_[next]);
        const bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
        if (stays) continue;
        index_[hole] = index_[next];
        hole = next;
    }
    index_[hole] = empty;
}

bool dedup_window::first_time(std::string_view key) {
    if (key.empty()) return true;
    const std::uint32_t hash = hash_of(key);
    if (find(key, hash) != npos) return false;
    if (size_ == keys_.size()) {
        // The slot about to be overwritten holds the oldest key: forget it first. Its cell is
        // the one in its probe run that names the slot, so no key is compared to find it.
        const std::uint64_t oldest = cell_value(hashes_[next_], next_);
        std::size_t cell = hashes_[next_] & mask_;
        while (index_[cell] != oldest) cell = (cell + 1) & mask_;
        erase_cell(cell);
        --size_;
    }
    keys_[next_].assign(key);  // reuses the slot's buffer
    hashes_[next_] = hash;
    std::size_t cell = hash & mask_;
    while (index_[cell] != empty) cell = (cell + 1) & mask_;
    index_[cell] = cell_value(hash, next_);
    next_ = next_ + 1 == keys_.size() ? 0 : next_ + 1;  // not %: a division per mention
    ++size_;
    return true;
}

}  // namespace crisisd::ingest
