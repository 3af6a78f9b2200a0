#include "cluster/directory.hpp"

#include <algorithm>
#include <charconv>

#include "cluster/detail/kv.hpp"

namespace crisisd::cluster {

std::string member_value(const member& m) { return std::to_string(m.started) + " " + m.admin_url; }

std::optional<member> parse_member(std::string_view name, std::string_view value) {
    auto space = value.find(' ');
    if (name.empty() || space == std::string_view::npos || space + 1 == value.size()) return std::nullopt;
    member m;
    m.name = std::string(name);
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + space, m.started);
    if (ec != std::errc{} || ptr != value.data() + space) return std::nullopt;
    m.admin_url = std::string(value.substr(space + 1));
    if (!m.admin_url.starts_with("http://") && !m.admin_url.starts_with("https://")) return std::nullopt;
    return m;
}

std::string lease_holder(std::string_view value) { return std::string(value.substr(0, value.find(' '))); }

directory::directory(member self, int partitions) : self_(std::move(self)), partitions_(partitions) {}
directory::~directory() = default;

std::unique_ptr<directory> directory::open(nats_connection& conn, member self, const directory_settings& settings,
                                           const lease_settings& leases, std::string& error) {
    std::unique_ptr<directory> d(new directory(std::move(self), leases.partitions));
    d->members_bucket_ =
        detail::kv_bucket::open(conn, settings.bucket, settings.ttl, settings.replicas, "crisisd replicas' admin APIs", error);
    if (!d->members_bucket_) return nullptr;
    d->lease_bucket_ = detail::kv_bucket::open(conn, leases, error);
    if (!d->lease_bucket_) return nullptr;
    return d;
}

bool directory::refresh(std::string& error) {
    auto w = members_bucket_->put(self_.name, member_value(self_));
    if (w.outcome != detail::kv_outcome::ok) error = w.error;
    std::vector<detail::kv_entry> entries;
    std::vector<member> found;
    if (!members_bucket_->snapshot(entries, error)) return false;
    for (const auto& e : entries) {
        if (e.deleted) continue;
        if (auto m = parse_member(e.key, e.value)) found.push_back(std::move(*m));
    }
    std::sort(found.begin(), found.end(), [](const member& a, const member& b) { return a.name < b.name; });
    if (!lease_bucket_->snapshot(entries, error)) return false;
    std::vector<std::string> owners(static_cast<std::size_t>(partitions_));
    for (const auto& e : entries) {
        if (e.deleted || !e.key.starts_with("p.")) continue;
        int p = -1;
        auto [ptr, ec] = std::from_chars(e.key.data() + 2, e.key.data() + e.key.size(), p);
        if (ec != std::errc{} || ptr != e.key.data() + e.key.size() || p < 0 || p >= partitions_) continue;
        owners[static_cast<std::size_t>(p)] = lease_holder(e.value);
    }
    std::lock_guard lock(m_);
    members_ = std::move(found);
    owners_ = std::move(owners);
    fresh_ = true;
    return w.outcome == detail::kv_outcome::ok;
}

void directory::leave() { members_bucket_->put(self_.name, ""); }

std::vector<member> directory::members() const {
    std::lock_guard lock(m_);
    return members_;
}

std::optional<std::string> directory::owner(int partition) const {
    std::lock_guard lock(m_);
    if (partition < 0 || static_cast<std::size_t>(partition) >= owners_.size() ||
        owners_[static_cast<std::size_t>(partition)].empty())
        return std::nullopt;
    return owners_[static_cast<std::size_t>(partition)];
}

std::optional<member> directory::find(std::string_view name) const {
    std::lock_guard lock(m_);
    for (const auto& m : members_)
        if (m.name == name) return m;
    return std::nullopt;
}

bool directory::fresh() const {
    std::lock_guard lock(m_);
    return fresh_;
}

}  // namespace crisisd::cluster
