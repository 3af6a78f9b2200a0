#include "cluster/partition_leases.hpp"

#include <algorithm>
#include <charconv>
#include <random>

#include "cluster/detail/kv.hpp"
#include "cluster/fair_share.hpp"

namespace crisisd::cluster {
namespace {

std::string random_incarnation() {
    std::random_device rd;
    std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    static const char* hex = "0123456789abcdef";
    std::string s(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = hex[v & 15];
    return s;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

partition_leases::partition_leases(nats_connection& conn, std::string replica_name, lease_settings settings)
    : conn_(conn),
      name_(std::move(replica_name)),
      incarnation_(random_incarnation()),
      value_(name_ + " " + incarnation_),
      settings_(std::move(settings)),
      held_(static_cast<std::size_t>(settings_.partitions)) {}

partition_leases::~partition_leases() = default;

bool partition_leases::open(std::string& error) {
    bucket_ = detail::kv_bucket::open(conn_, settings_, error);
    return bucket_ != nullptr;
}

void partition_leases::drop(int p, std::vector<int>& into) {
    auto& h = held_[static_cast<std::size_t>(p)];
    if (!h) return;
    h.reset();
    into.push_back(p);
}

bool partition_leases::take(int p, std::uint64_t expected, lease_round& round) {
    auto sent = mono_clock::now();
    auto w = bucket_->write(partition_key(p), value_, expected);
    if (w.outcome != detail::kv_outcome::ok) {
        // A conflict is a lost race for a free partition: another member took it first.
        if (w.outcome == detail::kv_outcome::unavailable) round.error = w.error;
        return false;
    }
    {
        std::lock_guard lock(m_);
        held_[static_cast<std::size_t>(p)] =
            held_lease{w.revision, w.revision, sent, owner_deadline(sent, settings_.ttl, settings_.safety_margin)};
    }
    round.acquired.push_back(p);
    acquisitions_.fetch_add(1);
    return true;
}

lease_round partition_leases::tick() {
    lease_round round;
    // Membership is written by compare-and-set on our own last write: if it fails, someone else
    // wrote our member key since, which the snapshot below tells apart from mere expiry.
    const std::string member_key = "m." + name_;
    auto membership = member_revision_ == 0 ? bucket_->put(member_key, incarnation_)
                                            : bucket_->write(member_key, incarnation_, member_revision_);
    bool member_conflict = membership.outcome == detail::kv_outcome::conflict;
    if (membership.outcome == detail::kv_outcome::ok) member_revision_ = membership.revision;
    else if (!member_conflict) round.error = membership.error;

    // Renewals refused by compare-and-set while we were within our deadline. Within the deadline
    // the entry cannot have expired, so nobody else can have written it: the newer revision is a
    // renewal of ours whose answer we missed (a timeout under load). The snapshot below tells:
    // our value at a later revision is adopted and the lease kept, under the same epoch; anything
    // else loses it. Dropping at once, as before, made a loaded replica lose and take back its own
    // leases, and the take-back's new epoch fenced off the work planned under the old one.
    std::vector<int> conflicted;
    for (int p = 0; p < settings_.partitions; ++p) {
        std::optional<held_lease> cur;
        {
            std::lock_guard lock(m_);
            cur = held_[static_cast<std::size_t>(p)];
        }
        if (!cur) continue;
        auto sent = mono_clock::now();
        if (sent >= cur->deadline) {
            std::lock_guard lock(m_);
            drop(p, round.lost);
            continue;
        }
        auto w = bucket_->write(partition_key(p), value_, cur->revision);
        std::lock_guard lock(m_);
        auto& h = held_[static_cast<std::size_t>(p)];
        if (!h) continue;
        if (w.outcome == detail::kv_outcome::ok) {
            h->revision = w.revision;
            h->sent = sent;
            h->deadline = owner_deadline(sent, settings_.ttl, settings_.safety_margin);
        } else if (w.outcome == detail::kv_outcome::conflict) {
            conflicted.push_back(p);
        } else {
            ++round.renew_failures;
            round.error = w.error;
            if (mono_clock::now() >= h->deadline) drop(p, round.lost);
        }
    }

    std::vector<detail::kv_entry> entries;
    std::string error;
    if (!bucket_->snapshot(entries, error)) {
        // Without a view of the others, neither take nor give: renewals alone keep what we hold.
        round.error = error;
        if (member_conflict) member_revision_ = 0;
        std::lock_guard lock(m_);
        for (int p : conflicted) drop(p, round.lost);
        return round;
    }
    std::vector<std::string> members{name_};
    std::vector<std::string> owners(static_cast<std::size_t>(settings_.partitions));
    std::vector<std::uint64_t> revisions(owners.size(), 0);
    std::vector<bool> seen(owners.size(), false);
    {
        std::lock_guard lock(m_);
        for (const auto& e : entries) {
            if (starts_with(e.key, "m.")) {
                if (!e.deleted && !e.value.empty() && e.key.size() > 2) members.push_back(e.key.substr(2));
                if (member_conflict && e.key == member_key && !e.deleted && !e.value.empty() && e.value != incarnation_)
                    round.name_in_use = true;
                continue;
            }
            if (!starts_with(e.key, "p.")) continue;
            int p = -1;
            auto [ptr, ec] = std::from_chars(e.key.data() + 2, e.key.data() + e.key.size(), p);
            if (ec != std::errc{} || ptr != e.key.data() + e.key.size() || p < 0 || p >= settings_.partitions) continue;
            auto i = static_cast<std::size_t>(p);
            seen[i] = true;
            revisions[i] = e.revision;
            if (held_[i] && !e.deleted && e.value == value_ && e.revision > held_[i]->revision)
                held_[i]->revision = e.revision;   // a renewal of ours whose answer we missed
            bool ours_now = held_[i] && held_[i]->revision == e.revision && e.value == value_;
            if (held_[i] && !ours_now) {
                // What the bucket says wins over what we believe: someone wrote since our last
                // renewal, so the lease is not ours however much time we think is left.
                drop(p, round.lost);
            }
            if (ours_now) owners[i] = name_;
            else if (e.deleted || e.value.empty() || e.value == value_) owners[i].clear();   // free, or ours to take back
            else owners[i] = e.value;   // "<name> <incarnation>": never equal to a member name, so never planned
        }
        for (std::size_t i = 0; i < owners.size(); ++i)
            if (!seen[i] && held_[i]) drop(static_cast<int>(i), round.lost);   // expired under us
    }
    if (member_conflict) {
        // Taken by another process of our name, or lapsed while we were away: write ourselves again.
        auto again = bucket_->put(member_key, incarnation_);
        member_revision_ = again.outcome == detail::kv_outcome::ok ? again.revision : 0;
    }
    std::sort(members.begin(), members.end());
    members.erase(std::unique(members.begin(), members.end()), members.end());
    round.members = static_cast<int>(members.size());

    auto plan = plan_rebalance(owners, members, name_);
    for (int p : plan.release) {
        std::optional<held_lease> cur;
        {
            std::lock_guard lock(m_);
            cur = held_[static_cast<std::size_t>(p)];
            drop(p, round.released);   // silent before the bucket says it is free
        }
        if (cur) bucket_->write(partition_key(p), "", cur->revision);   // if this fails, it expires
    }
    for (int p : plan.acquire) take(p, revisions[static_cast<std::size_t>(p)], round);
    return round;
}

void partition_leases::release_all() {
    if (!bucket_) return;
    for (int p = 0; p < settings_.partitions; ++p) {
        std::optional<held_lease> cur;
        std::vector<int> ignored;
        {
            std::lock_guard lock(m_);
            cur = held_[static_cast<std::size_t>(p)];
            drop(p, ignored);
        }
        if (cur) bucket_->write(partition_key(p), "", cur->revision);
    }
    bucket_->put("m." + name_, "");
    member_revision_ = 0;
}

bool partition_leases::may_send(int partition, mono_time now, std::uint64_t epoch_) const {
    if (partition < 0 || partition >= settings_.partitions) return false;
    std::lock_guard lock(m_);
    const auto& h = held_[static_cast<std::size_t>(partition)];
    return h && may_act(*h, now, epoch_);
}

std::optional<std::uint64_t> partition_leases::epoch(int partition, mono_time now) const {
    if (partition < 0 || partition >= settings_.partitions) return std::nullopt;
    std::lock_guard lock(m_);
    const auto& h = held_[static_cast<std::size_t>(partition)];
    if (!h || !may_act(*h, now)) return std::nullopt;
    return h->epoch;
}

std::optional<mono_time> partition_leases::deadline(int partition) const {
    if (partition < 0 || partition >= settings_.partitions) return std::nullopt;
    std::lock_guard lock(m_);
    const auto& h = held_[static_cast<std::size_t>(partition)];
    if (!h) return std::nullopt;
    return h->deadline;
}

std::vector<int> partition_leases::owned(mono_time now) const {
    std::vector<int> out;
    std::lock_guard lock(m_);
    for (std::size_t i = 0; i < held_.size(); ++i)
        if (held_[i] && may_act(*held_[i], now)) out.push_back(static_cast<int>(i));
    return out;
}

bool partition_leases::confirm(int partition) {
    if (partition < 0 || partition >= settings_.partitions || !bucket_) return false;
    std::optional<held_lease> cur;
    {
        std::lock_guard lock(m_);
        cur = held_[static_cast<std::size_t>(partition)];
    }
    if (!cur || !may_act(*cur, mono_clock::now())) return false;
    std::uint64_t rev = 0;
    std::string error;
    return bucket_->revision(partition_key(partition), rev, error) && rev == cur->revision;
}

}  // namespace crisisd::cluster
