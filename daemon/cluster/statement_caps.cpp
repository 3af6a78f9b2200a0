#include "cluster/statement_caps.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "cluster/detail/kv.hpp"

namespace crisisd::cluster {

namespace {
constexpr std::int64_t hour = 3600;
constexpr int max_attempts = 8;   // compare-and-set races lost in a row before the statement waits
}  // namespace

std::vector<std::int64_t> parse_send_times(std::string_view value) {
    std::vector<std::int64_t> out;
    while (!value.empty()) {
        auto space = value.find(' ');
        auto part = value.substr(0, space);
        std::int64_t t = 0;
        auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), t);
        if (!part.empty() && ec == std::errc{} && ptr == part.data() + part.size()) out.push_back(t);
        if (space == std::string_view::npos) break;
        value.remove_prefix(space + 1);
    }
    return out;
}

std::string send_times_value(const std::vector<std::int64_t>& times) {
    std::string out;
    for (auto t : times) {
        if (!out.empty()) out += ' ';
        out += std::to_string(t);
    }
    return out;
}

bool take_slot(std::vector<std::int64_t>& times, std::int64_t now, int cap) {
    // The single-node cap counts sends after now - 1 h (count_sent_since): the same boundary.
    std::erase_if(times, [&](std::int64_t t) { return t <= now - hour; });
    if (cap <= 0 || times.size() >= static_cast<std::size_t>(cap)) return false;
    times.push_back(now);
    return true;
}

std::string cap_key(std::string_view channel) {
    std::string key = "c.";
    for (char c : channel) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        key += ok ? c : '_';
    }
    return key;
}

statement_caps::statement_caps(std::unique_ptr<detail::kv_bucket> b) : bucket_(std::move(b)) {}
statement_caps::~statement_caps() = default;

std::unique_ptr<statement_caps> statement_caps::open(nats_connection& conn, int replicas, std::string& error) {
    auto b = detail::kv_bucket::open(conn, "crisisd_statement_caps", std::chrono::hours(2), replicas,
                                     "crisisd statements per channel in the last hour", error);
    if (!b) return nullptr;
    return std::unique_ptr<statement_caps>(new statement_caps(std::move(b)));
}

cap_outcome statement_caps::reserve(std::string_view channel, int cap, std::int64_t now, std::string& error) {
    const auto key = cap_key(channel);
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        detail::kv_entry e;
        if (!bucket_->get(key, e, error)) return cap_outcome::unavailable;
        auto times = e.deleted ? std::vector<std::int64_t>{} : parse_send_times(e.value);
        if (!take_slot(times, now, cap)) return cap_outcome::over_cap;
        auto w = bucket_->write(key, send_times_value(times), e.revision);
        if (w.outcome == detail::kv_outcome::ok) return cap_outcome::reserved;
        error = w.error;
        if (w.outcome == detail::kv_outcome::unavailable) return cap_outcome::unavailable;
        // A conflict: another replica took a slot since we read; read again.
    }
    return cap_outcome::unavailable;
}

}  // namespace crisisd::cluster
