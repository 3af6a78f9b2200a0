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

std::vector<cap_slot> parse_send_times(std::string_view value) {
    std::vector<cap_slot> out;
    while (!value.empty()) {
        auto space = value.find(' ');
        auto part = value.substr(0, space);
        auto colon = part.find(':');
        auto time = part.substr(0, colon);
        cap_slot slot;
        auto [ptr, ec] = std::from_chars(time.data(), time.data() + time.size(), slot.at);
        if (!time.empty() && ec == std::errc{} && ptr == time.data() + time.size()) {
            if (colon != std::string_view::npos) slot.statement = std::string(part.substr(colon + 1));
            out.push_back(std::move(slot));
        }
        if (space == std::string_view::npos) break;
        value.remove_prefix(space + 1);
    }
    return out;
}

std::string send_times_value(const std::vector<cap_slot>& slots) {
    std::string out;
    for (const auto& s : slots) {
        if (!out.empty()) out += ' ';
        out += std::to_string(s.at) + ":" + s.statement;
    }
    return out;
}

std::string slot_id(std::string_view idempotency_key) {
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : idempotency_key) {
        h ^= c;
        h *= 1099511628211ull;
    }
    static const char* hex = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = hex[h & 15];
    return out;
}

bool take_slot(std::vector<cap_slot>& slots, std::int64_t now, int cap, const std::string& statement) {
    // The single-node cap counts sends after now - 1 h (count_sent_since): the same boundary.
    std::erase_if(slots, [&](const cap_slot& s) { return s.at <= now - hour; });
    if (std::any_of(slots.begin(), slots.end(), [&](const cap_slot& s) { return s.statement == statement; })) return true;
    if (cap <= 0 || slots.size() >= static_cast<std::size_t>(cap)) return false;
    slots.push_back({now, statement});
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

std::unique_ptr<statement_caps> statement_caps::open(nats_connection& conn, const std::string& bucket, int replicas,
                                                     std::string& error) {
    auto b = detail::kv_bucket::open(conn, bucket, std::chrono::hours(2), replicas,
                                     "crisisd statements per channel in the last hour", error);
    if (!b) return nullptr;
    return std::unique_ptr<statement_caps>(new statement_caps(std::move(b)));
}

cap_outcome statement_caps::reserve(std::string_view channel, int cap, std::int64_t now, std::string_view idempotency_key,
                                    std::string& error) {
    const auto key = cap_key(channel);
    const auto statement = slot_id(idempotency_key);
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        detail::kv_entry e;
        if (!bucket_->get(key, e, error)) return cap_outcome::unavailable;
        auto slots = e.deleted ? std::vector<cap_slot>{} : parse_send_times(e.value);
        const bool had = std::any_of(slots.begin(), slots.end(),
                                     [&](const cap_slot& s) { return s.statement == statement && s.at > now - hour; });
        if (!take_slot(slots, now, cap, statement)) return cap_outcome::over_cap;
        if (had) return cap_outcome::reserved;   // its own slot, taken by an earlier attempt: nothing to write
        auto w = bucket_->write(key, send_times_value(slots), e.revision);
        if (w.outcome == detail::kv_outcome::ok) return cap_outcome::reserved;
        error = w.error;
        if (w.outcome == detail::kv_outcome::unavailable) return cap_outcome::unavailable;
        // A conflict: another replica took a slot since we read; read again.
    }
    return cap_outcome::unavailable;
}

}  // namespace crisisd::cluster
