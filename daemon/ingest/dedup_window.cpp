#include "ingest/dedup_window.hpp"

namespace crisisd::ingest {

dedup_window::dedup_window(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {
    seen_.reserve(capacity_ < 4096 ? capacity_ : 4096);
}

bool dedup_window::first_time(std::string_view key) {
    if (key.empty()) return true;
    if (seen_.find(key) != seen_.end()) return false;
    if (order_.size() >= capacity_) {
        seen_.erase(order_.front());
        order_.pop_front();
    }
    order_.emplace_back(key);
    seen_.emplace(key);
    return true;
}

}  // namespace crisisd::ingest
