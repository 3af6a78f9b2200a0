#include "ingest/jetstream_resume.hpp"

namespace crisisd::ingest {

std::string url_encode(std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size());
    for (unsigned char c : value) {
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        // A trailing '*' is Jetstream's prefix wildcard (app.bsky.feed.*); ':' appears in every DID.
        if (unreserved || c == '*' || c == ':') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

jetstream_resume::jetstream_resume(std::string base_url, std::vector<std::string> collections,
                                   std::vector<std::string> dids, std::chrono::microseconds lookback)
    : base_(std::move(base_url)), lookback_us_(lookback.count()) {
    char sep = base_.find('?') == std::string::npos ? '?' : '&';
    for (const auto& c : collections) {
        base_.append(1, sep).append("wantedCollections=").append(url_encode(c));
        sep = '&';
    }
    for (const auto& d : dids) {
        base_.append(1, sep).append("wantedDids=").append(url_encode(d));
        sep = '&';
    }
}

std::string jetstream_resume::url() const {
    if (position_ <= 0) return base_;
    const std::int64_t cursor = position_ > lookback_us_ ? position_ - lookback_us_ : 1;
    return base_ + (base_.find('?') == std::string::npos ? "?" : "&") + "cursor=" + std::to_string(cursor);
}

void jetstream_resume::restore(std::int64_t time_us) {
    if (time_us > position_) position_ = time_us;
    saved_ = position_;
}

void jetstream_resume::advance(std::int64_t time_us) {
    if (time_us > position_) position_ = time_us;
}

bool jetstream_resume::should_persist() const { return position_ - saved_ >= 1'000'000; }

}  // namespace crisisd::ingest
