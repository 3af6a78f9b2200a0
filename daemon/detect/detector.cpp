#include "detect/detector.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <type_traits>

namespace crisisd::detect {

namespace {

// The window is cut into this many time buckets. 60 keeps the sliding edge within 1/60 of the
// window (5 s for a 5-minute window) while one key's ring stays under 1 KiB.
constexpr std::int64_t bucket_slots = 60;

// Compound scores are summed as fixed-point thousandths so adding and later subtracting a
// bucket from the running total is exact (a double total would drift over days of traffic).
constexpr double compound_scale = 1000.0;

// A storm key can see tens of thousands of authors per window; past this many tracked authors
// further new authors are counted as if anonymous (each mention a new author, no per-author
// limit). At that size every realistic unique_authors threshold is long met.
constexpr std::size_t max_tracked_authors = std::size_t{1} << 16;

struct bucket {
    std::uint32_t count = 0;     // mentions counted (after the per-author limit)
    std::uint32_t negative = 0;  // of those, negative
    std::uint32_t authors = 0;   // authors whose latest mention in the window falls in this bucket
    std::int32_t compound = 0;   // sum of counted compounds, in thousandths
};

struct window_totals {
    std::int64_t count = 0;
    std::int64_t negative = 0;
    std::int64_t authors = 0;
    std::int64_t compound = 0;
};

// Exponentially weighted mean and variance of the per-minute rate of single buckets.
struct baseline_state {
    double mean = 0;
    double var = 0;
};

// The authors of one key's window: an open-addressing set of author hashes (0 marks an empty
// slot: hash 0 means "unknown author" and is never stored). A slot is 32-bit words
// [hash low, hash high, last, counted × max_per_author] so everything observe() needs about an
// author sits in one cache line. `last` is the author's newest bucket and `counted` the buckets
// of their mentions that counted under the per-author limit, all relative to the key's seq_base;
// entries older than the window are free. Stale authors are dropped whenever the table is
// rebuilt, so its size follows the authors of the current window.
class author_table {
public:
    std::size_t capacity() const { return cap_; }
    std::size_t used() const { return used_; }
    std::size_t bytes() const { return words_.capacity() * sizeof(std::uint32_t); }

    std::uint64_t hash(std::size_t i) const {
        return static_cast<std::uint64_t>(words_[i * stride_]) | static_cast<std::uint64_t>(words_[i * stride_ + 1]) << 32;
    }
    std::uint32_t last(std::size_t i) const { return words_[i * stride_ + 2]; }
    void set_last(std::size_t i, std::uint32_t v) { words_[i * stride_ + 2] = v; }
    std::uint32_t* counted(std::size_t i) { return words_.data() + i * stride_ + 3; }
    const std::uint32_t* counted(std::size_t i) const { return words_.data() + i * stride_ + 3; }

    // Slot of the author, inserting a fresh one (last 0, nothing counted) when missing; nullopt
    // when max_tracked_authors live authors are tracked already.
    std::optional<std::size_t> find_or_insert(std::uint64_t h, std::uint32_t oldest_live, std::size_t limit) {
        if (cap_ > 0) {
            for (std::size_t j = probe_start(h); ; j = (j + 1) & (cap_ - 1)) {
                const std::uint64_t x = hash(j);
                if (x == h) return j;
                if (x == 0) break;
            }
        }
        if (4 * (used_ + 1) > 3 * cap_) {  // at most 3/4 full: probes stay short, keys stay small
            rebuild(oldest_live, limit, 1);
            if (used_ >= max_tracked_authors) return std::nullopt;
        }
        std::size_t j = probe_start(h);
        while (hash(j) != 0) j = (j + 1) & (cap_ - 1);
        write_hash(j, h);
        ++used_;
        return j;
    }

private:
    std::size_t probe_start(std::uint64_t h) const {
        // Author hashes may be weak (tests, small ids); mix before masking.
        h *= 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
        return static_cast<std::size_t>(h) & (cap_ - 1);
    }

    void write_hash(std::size_t i, std::uint64_t h) {
        words_[i * stride_] = static_cast<std::uint32_t>(h);
        words_[i * stride_ + 1] = static_cast<std::uint32_t>(h >> 32);
    }

    void rebuild(std::uint32_t oldest_live, std::size_t limit, std::size_t want) {
        std::size_t live = 0;
        for (std::size_t i = 0; i < cap_; ++i) live += hash(i) != 0 && last(i) >= oldest_live;
        std::size_t cap = 8;
        while (3 * cap < 4 * (live + want)) cap *= 2;
        author_table next;
        next.cap_ = cap;
        next.stride_ = 3 + limit;
        next.words_.assign(cap * next.stride_, 0u);
        const std::size_t keep = std::min(stride_, next.stride_);
        for (std::size_t i = 0; i < cap_; ++i) {
            const std::uint64_t h = hash(i);
            if (h == 0 || last(i) < oldest_live) continue;
            std::size_t j = next.probe_start(h);
            while (next.hash(j) != 0) j = (j + 1) & (cap - 1);
            std::copy_n(words_.begin() + static_cast<std::ptrdiff_t>(i * stride_), keep,
                        next.words_.begin() + static_cast<std::ptrdiff_t>(j * next.stride_));
            ++next.used_;
        }
        *this = std::move(next);
    }

    std::vector<std::uint32_t> words_;
    std::size_t cap_ = 0;
    std::size_t stride_ = 3;
    std::size_t used_ = 0;
};

struct key_state {
    std::string name;
    std::uint64_t hash = 0;              // of name, as stored in the rule's key index
    key_state* newer = nullptr;          // least-recently-seen list, newest at the rule's head
    key_state* older = nullptr;
    // The same order over plain keys only (see detector::impl::plain): eviction takes the
    // oldest of these in O(1), however many valuable keys are older.
    bool plain = false;
    key_state* plain_newer = nullptr;
    key_state* plain_older = nullptr;

    std::int64_t seq_base = 0;   // stored author seqs are relative to this
    std::int64_t first_seq = 0;  // oldest bucket ever written: older buckets are not history
    std::int64_t head_seq = 0;   // newest bucket of the window
    core::timestamp now{};       // the key's own clock: the newest time it has seen

    baseline_state baseline;
    window_totals totals;

    bool firing = false;
    bool fire_holding = false;
    bool clear_holding = false;
    core::timestamp fire_since{};
    core::timestamp clear_since{};
    core::timestamp cooldown_until{};

    author_table authors;
    std::array<bucket, bucket_slots> ring{};
};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

std::size_t ring_index(std::int64_t seq) {
    return static_cast<std::size_t>(((seq % bucket_slots) + bucket_slots) % bucket_slots);
}

std::uint64_t hash_key(std::string_view s) noexcept { return std::hash<std::string_view>{}(s); }

// Rule's live keys: an open-addressing table of (hash, owner) with linear probing. One probe
// usually lands on the right entry without touching any other key's memory, which matters once
// thousands of keys no longer fit in cache (std::unordered_map walked neighbouring nodes).
class key_index {
public:
    key_state* find(std::string_view name, std::uint64_t hash) const {
        if (slots_.empty()) return nullptr;
        for (std::size_t i = hash & mask(); slots_[i].key; i = (i + 1) & mask())
            if (slots_[i].hash == hash && slots_[i].key->name == name) return slots_[i].key.get();
        return nullptr;
    }

    key_state& insert(std::unique_ptr<key_state> k) {
        if (2 * (size_ + 1) > slots_.size()) grow();
        key_state& ref = *k;
        place(std::move(k));
        ++size_;
        return ref;
    }

    void erase(const key_state& k) {
        std::size_t i = k.hash & mask();
        while (slots_[i].key.get() != &k) i = (i + 1) & mask();
        slots_[i] = slot{};
        --size_;
        // Backward-shift deletion keeps every probe chain unbroken without tombstones.
        for (std::size_t j = (i + 1) & mask(); slots_[j].key; j = (j + 1) & mask()) {
            const std::size_t ideal = slots_[j].hash & mask();
            if (((j - ideal) & mask()) >= ((j - i) & mask())) {
                slots_[i] = std::move(slots_[j]);
                i = j;
            }
        }
    }

    std::size_t size() const { return size_; }
    std::size_t capacity() const { return slots_.size(); }

    template <typename F>
    void for_each(F&& f) const {
        for (const slot& e : slots_)
            if (e.key) f(*e.key);
    }

private:
    struct slot {
        std::uint64_t hash = 0;
        std::unique_ptr<key_state> key;
    };

    std::size_t mask() const { return slots_.size() - 1; }

    void place(std::unique_ptr<key_state> k) {
        std::size_t i = k->hash & mask();
        while (slots_[i].key) i = (i + 1) & mask();
        slots_[i].hash = k->hash;
        slots_[i].key = std::move(k);
    }

    void grow() {
        std::vector<slot> old(std::max<std::size_t>(16, slots_.size() * 2));
        old.swap(slots_);
        for (slot& e : old)
            if (e.key) place(std::move(e.key));
    }

    std::vector<slot> slots_;
    std::size_t size_ = 0;
};

bool compare(double value, comparison op, double threshold) {
    switch (op) {
        case comparison::lt: return value < threshold;
        case comparison::le: return value <= threshold;
        case comparison::gt: return value > threshold;
        case comparison::ge: return value >= threshold;
        // Metrics are ratios and means, so equality allows for rounding.
        case comparison::eq: return std::fabs(value - threshold) <= 1e-9 * std::max(1.0, std::fabs(threshold));
        case comparison::ne: return std::fabs(value - threshold) > 1e-9 * std::max(1.0, std::fabs(threshold));
    }
    return false;
}

// An empty group never holds: a rule without conditions must not fire on every mention.
bool holds(const condition_group& g, const metrics_snapshot& m) {
    if (g.conditions.empty()) return false;
    for (const condition& c : g.conditions) {
        const bool h = compare(m.get(c.what), c.op, c.threshold);
        if (g.all && !h) return false;
        if (!g.all && h) return true;
    }
    return g.all;
}

}  // namespace

double metrics_snapshot::get(metric m) const {
    switch (m) {
        case metric::count: return count;
        case metric::negative_count: return negative_count;
        case metric::negative_ratio: return negative_ratio;
        case metric::mean_compound: return mean_compound;
        case metric::unique_authors: return unique_authors;
        case metric::rate: return rate;
        case metric::volume_ratio: return volume_ratio;
        case metric::zscore: return zscore;
    }
    return 0;
}

namespace {
constexpr std::array<std::pair<metric, std::string_view>, 8> metric_names{{
    {metric::count, "count"},
    {metric::negative_count, "negative_count"},
    {metric::negative_ratio, "negative_ratio"},
    {metric::mean_compound, "mean_compound"},
    {metric::unique_authors, "unique_authors"},
    {metric::rate, "rate"},
    {metric::volume_ratio, "volume_ratio"},
    {metric::zscore, "zscore"},
}};
}  // namespace

std::optional<metric> metric_from_name(std::string_view name) {
    for (const auto& [m, n] : metric_names)
        if (n == name) return m;
    return std::nullopt;
}

std::string_view metric_name(metric m) {
    for (const auto& [mm, n] : metric_names)
        if (mm == m) return n;
    return "unknown";
}

struct detector::impl {
    struct rule_state {
        detector_settings settings;
        std::int64_t bucket_us = 1;
        double bucket_minutes = 0;
        double window_minutes = 0;
        double alpha = 1;  // baseline weight of one bucket sample
        key_index keys;
        key_state* newest = nullptr;
        key_state* oldest = nullptr;
        key_state* plain_newest = nullptr;
        key_state* plain_oldest = nullptr;
    };

    std::vector<rule_state> rules;
    std::uint64_t evicted = 0;
    std::uint64_t ignored = 0;

    explicit impl(std::vector<detector_settings> settings) {
        rules.resize(settings.size());
        for (std::size_t i = 0; i < settings.size(); ++i) {
            rule_state& r = rules[i];
            r.settings = std::move(settings[i]);
            r.bucket_us = std::max<std::int64_t>(1, r.settings.window.count() / bucket_slots);
            r.bucket_minutes = static_cast<double>(r.bucket_us) / 60e6;
            r.window_minutes = r.bucket_minutes * bucket_slots;
            const double half_life_us = static_cast<double>(r.settings.baseline.count());
            r.alpha = half_life_us > 0 ? 1.0 - std::exp2(-static_cast<double>(r.bucket_us) / half_life_us) : 1.0;
        }
    }

    std::int64_t seq_of(const rule_state& r, core::timestamp t) const {
        return floor_div(t.time_since_epoch().count(), r.bucket_us);
    }

    // ---- baseline -------------------------------------------------------------------------

    static void fold(baseline_state& b, double sample, double alpha) {
        const double d = sample - b.mean;
        b.mean += alpha * d;
        b.var = (1 - alpha) * (b.var + alpha * d * d);
    }

    // k zero samples in closed form: with q = (1-a)^k, mean' = q*mean and
    // var' = q*(var + mean^2*(1-q)); a silent night costs O(1), not one step per bucket.
    static void fold_zeros(baseline_state& b, std::int64_t k, double alpha) {
        if (k <= 0) return;
        const double q = std::pow(1 - alpha, static_cast<double>(k));
        b.var = q * (b.var + b.mean * b.mean * (1 - q));
        b.mean *= q;
    }

    // Moves a key's window so that `seq` is its newest bucket. Buckets leaving the window feed
    // the baseline only now, so a spike raises "normal" only after it has left the window.
    // With `ring` null this only computes the resulting baseline and totals (for const views).
    static void roll(const rule_state& r, const key_state& k, std::int64_t seq, baseline_state& b,
                     window_totals& w, std::array<bucket, bucket_slots>* ring) {
        if (seq <= k.head_seq) return;
        const std::int64_t expire_to = seq - bucket_slots;  // buckets <= this leave the window
        const std::int64_t last_filled = std::min(k.head_seq, expire_to);
        for (std::int64_t q = k.head_seq - bucket_slots + 1; q <= last_filled; ++q) {
            const std::size_t i = ring_index(q);
            const bucket& old = k.ring[i];
            if (q >= k.first_seq) fold(b, old.count / r.bucket_minutes, r.alpha);
            w.count -= old.count;
            w.negative -= old.negative;
            w.authors -= old.authors;
            w.compound -= old.compound;
            if (ring != nullptr) (*ring)[i] = bucket{};
        }
        fold_zeros(b, expire_to - k.head_seq, r.alpha);
    }

    void advance(const rule_state& r, key_state& k, std::int64_t seq) {
        if (seq <= k.head_seq) return;
        // Every slot the new buckets reuse held a bucket that roll() has just expired and zeroed.
        roll(r, k, seq, k.baseline, k.totals, &k.ring);
        k.head_seq = seq;
    }

    // ---- metrics --------------------------------------------------------------------------

    static metrics_snapshot snapshot(const rule_state& r, const window_totals& w, const baseline_state& b) {
        metrics_snapshot m;
        const detector_settings& s = r.settings;
        m.count = static_cast<double>(w.count);
        m.negative_count = static_cast<double>(w.negative);
        m.negative_ratio = w.count > 0 ? m.negative_count / m.count : 0.0;
        m.mean_compound = w.count > 0 ? static_cast<double>(w.compound) / compound_scale / m.count : 0.0;
        m.unique_authors = static_cast<double>(w.authors);
        m.rate = m.count / r.window_minutes;
        m.baseline_rate = b.mean;
        m.volume_ratio = m.rate / std::max(b.mean, s.min_baseline_rate > 0 ? s.min_baseline_rate : 1e-9);
        // The baseline variance is that of single-bucket rates; the window rate averages
        // bucket_slots of them. Poisson noise of the (floored) baseline, and at least one mention
        // per window, bound the deviation from below so a flat history cannot yield infinity.
        const double window_var = b.var / bucket_slots;
        const double lambda = std::max({b.mean, s.min_baseline_rate, 1.0 / r.window_minutes});
        const double poisson_var = lambda / r.window_minutes;
        m.zscore = (m.rate - b.mean) / std::sqrt(std::max(window_var, poisson_var));
        return m;
    }

    // ---- keys -----------------------------------------------------------------------------

    static void unlink(rule_state& r, key_state& k) {
        (k.newer != nullptr ? k.newer->older : r.newest) = k.older;
        (k.older != nullptr ? k.older->newer : r.oldest) = k.newer;
        k.newer = k.older = nullptr;
    }

    static void push_newest(rule_state& r, key_state& k) {
        k.older = r.newest;
        k.newer = nullptr;
        if (r.newest != nullptr) r.newest->newer = &k;
        r.newest = &k;
        if (r.oldest == nullptr) r.oldest = &k;
    }

    // A plain key holds nothing a fresh key would not relearn: not firing, no fire pending, not
    // cooling down, and no baseline learned above the floor. Everything else is valuable — an
    // open incident's key, "normal" learned over hours — and must not be pushed out by a stream
    // of new keys (group_by on wire values lets a sender invent keys at will).
    static bool plain(const rule_state& r, const key_state& k) {
        return !k.firing && !k.fire_holding && k.now >= k.cooldown_until &&
               k.baseline.mean <= std::max(r.settings.min_baseline_rate, 1e-3);
    }

    static void unlink_plain(rule_state& r, key_state& k) {
        if (!k.plain) return;
        (k.plain_newer != nullptr ? k.plain_newer->plain_older : r.plain_newest) = k.plain_older;
        (k.plain_older != nullptr ? k.plain_older->plain_newer : r.plain_oldest) = k.plain_newer;
        k.plain_newer = k.plain_older = nullptr;
        k.plain = false;
    }

    static void push_plain_newest(rule_state& r, key_state& k) {
        k.plain = true;
        k.plain_older = r.plain_newest;
        k.plain_newer = nullptr;
        if (r.plain_newest != nullptr) r.plain_newest->plain_newer = &k;
        r.plain_newest = &k;
        if (r.plain_oldest == nullptr) r.plain_oldest = &k;
    }

    // Puts the key on the plain list or off it as its current state says, at the newest end
    // when it was just seen. A key that turns plain without being seen (its cooldown ended, its
    // baseline decayed) also goes to the newest end: among plain keys it is then evicted a
    // little later than its last sighting alone would say, which errs on keeping state.
    static void sort_in(rule_state& r, key_state& k, bool seen) {
        const bool now_plain = plain(r, k);
        if (k.plain && (!now_plain || seen)) unlink_plain(r, k);
        if (now_plain && !k.plain) push_plain_newest(r, k);
    }

    void erase(rule_state& r, key_state& k) {
        unlink_plain(r, k);
        unlink(r, k);
        r.keys.erase(k);
    }

    // Drops the least valuable key: the least recently seen plain key; only when there is none,
    // the least recently seen key that is not firing; only when every key fires, the least
    // recently seen one. No clear signal is sent for an evicted firing key: a "resolved" post
    // while the storm may still rage is worse than an incident a person has to resolve.
    void evict_one(rule_state& r) {
        key_state* victim = r.plain_oldest;
        if (victim == nullptr) {
            victim = r.oldest;
            for (key_state* k = r.oldest; k != nullptr; k = k->newer) {
                if (!k->firing) {
                    victim = k;
                    break;
                }
            }
        }
        if (victim == nullptr) return;
        erase(r, *victim);
        ++evicted;
    }

    key_state& key_for(rule_state& r, std::string_view name, core::timestamp t) {
        const std::uint64_t hash = hash_key(name);
        if (key_state* found = r.keys.find(name, hash)) {
            if (r.newest != found) {
                unlink(r, *found);
                push_newest(r, *found);
            }
            sort_in(r, *found, true);
            return *found;
        }
        if (r.settings.max_keys > 0 && r.keys.size() >= r.settings.max_keys) evict_one(r);
        auto fresh = std::make_unique<key_state>();
        fresh->name = std::string(name);
        fresh->hash = hash;
        key_state& k = r.keys.insert(std::move(fresh));
        const std::int64_t seq = seq_of(r, t);
        k.seq_base = seq - 2 * bucket_slots;
        k.first_seq = seq;
        k.head_seq = seq;
        k.now = t;
        k.baseline.mean = r.settings.min_baseline_rate;
        k.baseline.var = 0;
        push_newest(r, k);
        sort_in(r, k, true);
        return k;
    }

    // ---- decisions ------------------------------------------------------------------------

    // Fire/clear with hysteresis. `for:` is measured between evaluations: a group "holds since"
    // the first evaluation that found it true and stops holding at the first that found it
    // false. While cooling down the fire group may accumulate its `for:`, so a storm that is
    // still raging when the cooldown ends fires at once. Without clear conditions the key
    // clears once the fire group has not held for clear_when's `for:`.
    void evaluate(std::size_t rule_index, rule_state& r, key_state& k, std::vector<signal>& out) {
        const metrics_snapshot m = snapshot(r, k.totals, k.baseline);
        const detector_settings& s = r.settings;
        const core::timestamp t = k.now;
        if (!k.firing) {
            if (!holds(s.fire_when, m)) {
                k.fire_holding = false;
                return;
            }
            if (!k.fire_holding) {
                k.fire_holding = true;
                k.fire_since = t;
            }
            if (t - k.fire_since >= s.fire_when.hold && t >= k.cooldown_until) {
                k.firing = true;
                k.clear_holding = false;
                out.push_back(signal{rule_index, k.name, signal_kind::fire, t, m});
            }
            return;
        }
        const bool clearing =
            s.clear_when.conditions.empty() ? !holds(s.fire_when, m) : holds(s.clear_when, m);
        if (!clearing) {
            k.clear_holding = false;
            return;
        }
        if (!k.clear_holding) {
            k.clear_holding = true;
            k.clear_since = t;
        }
        if (t - k.clear_since >= s.clear_when.hold) {
            k.firing = false;
            k.fire_holding = false;
            k.clear_holding = false;
            k.cooldown_until = t + s.cooldown;
            out.push_back(signal{rule_index, k.name, signal_kind::clear, t, m});
        }
    }

    void observe(std::size_t rule_index, std::string_view name, const observation& o, core::timestamp t,
                 std::vector<signal>& out) {
        assert(rule_index < rules.size());
        if (rule_index >= rules.size()) return;
        rule_state& r = rules[rule_index];
        key_state& k = key_for(r, name, t);
        const std::int64_t seq = seq_of(r, t);
        if (seq > k.head_seq) {
            advance(r, k, seq);
        } else if (seq <= k.head_seq - bucket_slots) {
            ++ignored;
            return;
        }
        k.now = std::max(k.now, t);
        k.first_seq = std::min(k.first_seq, seq);
        bucket& b = k.ring[ring_index(seq)];
        const auto rel = static_cast<std::uint32_t>(seq - k.seq_base);
        const auto oldest_live = static_cast<std::uint32_t>(k.head_seq - bucket_slots + 1 - k.seq_base);
        const std::size_t limit = r.settings.max_per_author;

        bool counted = true;
        std::optional<std::size_t> slot;
        if (o.author_hash != 0) slot = k.authors.find_or_insert(o.author_hash, oldest_live, limit);
        if (!slot) {
            ++b.authors;
            ++k.totals.authors;
        } else {
            const std::uint32_t last = k.authors.last(*slot);
            if (last < oldest_live) {
                k.authors.set_last(*slot, rel);
                ++b.authors;
                ++k.totals.authors;
            } else if (last < rel) {
                --k.ring[ring_index(k.seq_base + last)].authors;
                ++b.authors;
                k.authors.set_last(*slot, rel);
            }
            if (limit > 0) {
                // The author's counted mentions, as bucket seqs; expired entries are free.
                std::uint32_t* seqs = k.authors.counted(*slot);
                std::size_t live = 0;
                std::uint32_t* free_entry = nullptr;
                for (std::size_t i = 0; i < limit; ++i) {
                    if (seqs[i] >= oldest_live)
                        ++live;
                    else if (free_entry == nullptr)
                        free_entry = &seqs[i];
                }
                if (live >= limit || free_entry == nullptr)
                    counted = false;
                else
                    *free_entry = rel;
            }
        }
        if (counted) {
            const double c = std::clamp(o.compound, -1.0, 1.0);
            const auto milli = static_cast<std::int32_t>(std::lround(c * compound_scale));
            ++b.count;
            ++k.totals.count;
            b.compound += milli;
            k.totals.compound += milli;
            if (o.compound <= r.settings.negative_threshold) {
                ++b.negative;
                ++k.totals.negative;
            }
        }
        evaluate(rule_index, r, k, out);
        sort_in(r, k, false);
    }

    // A key with nothing in its window, no decision pending and a baseline at the floor carries
    // no information a fresh key would not have, so it is retired to keep memory proportional to
    // active keys.
    static bool idle(const rule_state& r, const key_state& k) {
        return k.totals.count == 0 && k.totals.authors == 0 && !k.firing && !k.fire_holding &&
               k.now >= k.cooldown_until && k.baseline.mean <= std::max(r.settings.min_baseline_rate, 1e-3);
    }

    void shift(core::duration delta) {
        for (rule_state& r : rules) {
            const std::int64_t buckets = delta.count() / r.bucket_us;
            for (key_state* k = r.newest; k != nullptr; k = k->older) shift_key(*k, delta, buckets);
        }
    }

    static void shift_key(key_state& k, core::duration delta, std::int64_t buckets) {
        // Author entries are relative to seq_base, so they move with it; the ring is indexed by
        // seq modulo its size, so its contents turn by the same number of places.
        k.seq_base += buckets;
        k.first_seq += buckets;
        k.head_seq += buckets;
        const auto slots = static_cast<std::int64_t>(bucket_slots);
        const auto turn = static_cast<std::size_t>(((buckets % slots) + slots) % slots);
        std::rotate(k.ring.begin(), k.ring.begin() + static_cast<std::ptrdiff_t>((bucket_slots - turn) % bucket_slots),
                    k.ring.end());
        k.now += delta;
        k.fire_since += delta;
        k.clear_since += delta;
        k.cooldown_until += delta;
    }

    void tick(core::timestamp t, std::vector<signal>& out) {
        for (std::size_t ri = 0; ri < rules.size(); ++ri) {
            rule_state& r = rules[ri];
            const std::int64_t seq = seq_of(r, t);
            // Oldest first: signals come out in a stable order that replay can reproduce.
            for (key_state* k = r.oldest; k != nullptr;) {
                key_state* next = k->newer;
                if (t > k->now) {
                    advance(r, *k, seq);
                    k->now = t;
                }
                evaluate(ri, r, *k, out);
                if (idle(r, *k)) erase(r, *k);
                else sort_in(r, *k, false);
                k = next;
            }
        }
    }

    // ---- persistence ----------------------------------------------------------------------

    // Format (native byte order; a snapshot is read back by the same build on the same host):
    // magic, version, bucket_us, max_per_author, key count, then per key its name, clock,
    // decision state, baseline, ring and authors with absolute bucket seqs.
    static constexpr std::uint32_t snapshot_magic = 0x53444343;  // "CCDS"
    static constexpr std::uint32_t snapshot_version = 1;

    template <typename T>
    static void put(std::string& out, const T& v) {
        static_assert(std::is_trivially_copyable_v<T>);
        out.append(reinterpret_cast<const char*>(&v), sizeof v);
    }

    struct reader {
        std::string_view in;
        bool ok = true;
        template <typename T>
        T get() {
            T v{};
            if (in.size() < sizeof v) {
                ok = false;
                return v;
            }
            std::memcpy(&v, in.data(), sizeof v);
            in.remove_prefix(sizeof v);
            return v;
        }
        std::string_view bytes(std::size_t n) {
            if (in.size() < n) {
                ok = false;
                return {};
            }
            std::string_view v = in.substr(0, n);
            in.remove_prefix(n);
            return v;
        }
    };

    std::string save(std::size_t rule_index, const key_filter& keep = {}) const {
        std::string out;
        if (rule_index >= rules.size()) return out;
        const rule_state& r = rules[rule_index];
        const std::size_t stride = r.settings.max_per_author;
        put(out, snapshot_magic);
        put(out, snapshot_version);
        put(out, r.bucket_us);
        put(out, static_cast<std::uint64_t>(stride));
        std::uint64_t n = 0;
        for (const key_state* k = r.oldest; k != nullptr; k = k->newer) n += !keep || keep(k->name);
        put(out, n);
        // Oldest first, so loading rebuilds the same least-recently-seen order.
        for (const key_state* k = r.oldest; k != nullptr; k = k->newer) {
            if (keep && !keep(k->name)) continue;
            put(out, static_cast<std::uint64_t>(k->name.size()));
            out.append(k->name);
            put(out, k->now.time_since_epoch().count());
            put(out, k->head_seq);
            put(out, k->first_seq);
            put(out, static_cast<std::uint8_t>((k->firing ? 1 : 0) | (k->fire_holding ? 2 : 0) | (k->clear_holding ? 4 : 0)));
            put(out, k->fire_since.time_since_epoch().count());
            put(out, k->clear_since.time_since_epoch().count());
            put(out, k->cooldown_until.time_since_epoch().count());
            put(out, k->baseline.mean);
            put(out, k->baseline.var);
            for (std::int64_t q = k->head_seq - bucket_slots + 1; q <= k->head_seq; ++q) put(out, k->ring[ring_index(q)]);
            const auto oldest_live = static_cast<std::uint32_t>(k->head_seq - bucket_slots + 1 - k->seq_base);
            std::uint64_t live = 0;
            const author_table& at = k->authors;
            for (std::size_t i = 0; i < at.capacity(); ++i) live += at.hash(i) != 0 && at.last(i) >= oldest_live;
            put(out, live);
            for (std::size_t i = 0; i < at.capacity(); ++i) {
                if (at.hash(i) == 0 || at.last(i) < oldest_live) continue;
                put(out, at.hash(i));
                put(out, k->seq_base + at.last(i));
                for (std::size_t j = 0; j < stride; ++j) {
                    const std::uint32_t c = at.counted(i)[j];
                    put(out, c >= oldest_live ? k->seq_base + c : std::int64_t{-1});
                }
            }
        }
        return out;
    }

    bool load(std::size_t rule_index, std::string_view bytes) {
        if (rule_index >= rules.size()) return false;
        rule_state& r = rules[rule_index];
        reader in{bytes};
        if (in.get<std::uint32_t>() != snapshot_magic || in.get<std::uint32_t>() != snapshot_version) return false;
        const auto bucket_us = in.get<std::int64_t>();
        const auto stride = in.get<std::uint64_t>();
        const auto n_keys = in.get<std::uint64_t>();
        if (!in.ok || bucket_us <= 0) return false;
        const bool same_window = bucket_us == r.bucket_us;
        const bool same_limit = stride == r.settings.max_per_author;

        // Parse everything first so a truncated snapshot changes nothing.
        std::vector<std::unique_ptr<key_state>> loaded;
        for (std::uint64_t n = 0; n < n_keys && in.ok; ++n) {
            auto k = std::make_unique<key_state>();
            const auto name_len = in.get<std::uint64_t>();
            if (!in.ok || name_len > in.in.size()) return false;
            k->name = std::string(in.bytes(name_len));
            k->hash = hash_key(k->name);
            k->now = core::timestamp{core::duration{in.get<std::int64_t>()}};
            const auto head = in.get<std::int64_t>();
            const auto first = in.get<std::int64_t>();
            const auto flags = in.get<std::uint8_t>();
            k->fire_since = core::timestamp{core::duration{in.get<std::int64_t>()}};
            k->clear_since = core::timestamp{core::duration{in.get<std::int64_t>()}};
            k->cooldown_until = core::timestamp{core::duration{in.get<std::int64_t>()}};
            k->baseline.mean = in.get<double>();
            k->baseline.var = in.get<double>();
            k->firing = (flags & 1) != 0;
            k->fire_holding = (flags & 2) != 0;
            k->clear_holding = (flags & 4) != 0;
            std::array<bucket, bucket_slots> ring{};
            for (std::int64_t q = head - bucket_slots + 1; q <= head; ++q) ring[ring_index(q)] = in.get<bucket>();
            const auto n_authors = in.get<std::uint64_t>();
            if (!in.ok || n_authors > in.in.size() / 16) return false;
            struct saved_author {
                std::uint64_t hash;
                std::int64_t last;
                std::vector<std::int64_t> counted;
            };
            std::vector<saved_author> authors(n_authors);
            for (saved_author& a : authors) {
                a.hash = in.get<std::uint64_t>();
                a.last = in.get<std::int64_t>();
                a.counted.resize(stride);
                for (auto& c : a.counted) c = in.get<std::int64_t>();
            }
            if (!in.ok) return false;
            if (!same_window) {
                // A different bucket size: the window cannot be mapped, "normal" can. The
                // variance is of single-bucket rates, which scales inversely with bucket length.
                k->baseline.var *= static_cast<double>(bucket_us) / static_cast<double>(r.bucket_us);
                const std::int64_t seq = seq_of(r, k->now);
                k->seq_base = seq - 2 * bucket_slots;
                k->first_seq = k->head_seq = seq;
                loaded.push_back(std::move(k));
                continue;
            }
            k->head_seq = head;
            k->first_seq = first;
            k->seq_base = head - 2 * bucket_slots;
            k->ring = ring;
            const std::size_t new_stride = r.settings.max_per_author;
            const auto oldest_live = static_cast<std::uint32_t>(bucket_slots + 1);  // head-59 relative to seq_base
            for (std::int64_t q = head - bucket_slots + 1; q <= head; ++q) {
                const bucket& b = ring[ring_index(q)];
                k->totals.count += b.count;
                k->totals.negative += b.negative;
                k->totals.authors += b.authors;
                k->totals.compound += b.compound;
            }
            for (const saved_author& a : authors) {
                if (a.hash == 0 || a.last <= head - bucket_slots || a.last > head) continue;
                const auto slot = k->authors.find_or_insert(a.hash, oldest_live, new_stride);
                if (!slot) break;
                k->authors.set_last(*slot, static_cast<std::uint32_t>(a.last - k->seq_base));
                if (!same_limit) continue;
                for (std::size_t j = 0; j < new_stride; ++j) {
                    const std::int64_t c = a.counted[j];
                    k->authors.counted(*slot)[j] =
                        c > head - bucket_slots && c <= head ? static_cast<std::uint32_t>(c - k->seq_base) : 0u;
                }
            }
            loaded.push_back(std::move(k));
        }
        if (!in.ok) return false;
        for (auto& k : loaded) {
            if (r.keys.find(k->name, k->hash) != nullptr) continue;
            if (r.settings.max_keys > 0 && r.keys.size() >= r.settings.max_keys) break;
            key_state& placed = r.keys.insert(std::move(k));
            push_newest(r, placed);
            sort_in(r, placed, true);
        }
        return true;
    }

    const key_state* find(std::size_t rule_index, std::string_view name) const {
        if (rule_index >= rules.size()) return nullptr;
        return rules[rule_index].keys.find(name, hash_key(name));
    }
};

detector::detector(std::vector<detector_settings> rules) : impl_(std::make_unique<impl>(std::move(rules))) {}
detector::~detector() = default;
detector::detector(detector&&) noexcept = default;
detector& detector::operator=(detector&&) noexcept = default;

void detector::observe(std::size_t rule, std::string_view key, const observation& o, core::timestamp t,
                       std::vector<signal>& out) {
    impl_->observe(rule, key, o, t, out);
}

void detector::tick(core::timestamp t, std::vector<signal>& out) { impl_->tick(t, out); }
void detector::shift(core::duration delta) { impl_->shift(delta); }

std::optional<metrics_snapshot> detector::metrics(std::size_t rule, std::string_view key, core::timestamp t) const {
    const key_state* k = impl_->find(rule, key);
    if (k == nullptr) return std::nullopt;
    const auto& r = impl_->rules[rule];
    baseline_state b = k->baseline;
    window_totals w = k->totals;
    if (t > k->now) impl::roll(r, *k, impl_->seq_of(r, t), b, w, nullptr);
    return impl::snapshot(r, w, b);
}

bool detector::tracks(std::size_t rule, std::string_view key) const { return impl_->find(rule, key) != nullptr; }

bool detector::firing(std::size_t rule, std::string_view key) const {
    const key_state* k = impl_->find(rule, key);
    return k != nullptr && k->firing;
}

std::vector<std::string> detector::keys(std::size_t rule) const {
    std::vector<std::string> out;
    if (rule >= impl_->rules.size()) return out;
    const auto& r = impl_->rules[rule];
    out.reserve(r.keys.size());
    for (const key_state* k = r.oldest; k != nullptr; k = k->newer) out.push_back(k->name);
    return out;
}

std::size_t detector::live_keys() const {
    std::size_t n = 0;
    for (const auto& r : impl_->rules) n += r.keys.size();
    return n;
}

std::uint64_t detector::evicted_keys() const { return impl_->evicted; }

std::string detector::save_rule(std::size_t rule) const { return impl_->save(rule); }

std::string detector::save_keys(std::size_t rule, const key_filter& keep) const { return impl_->save(rule, keep); }

std::size_t detector::forget_keys(std::size_t rule, const key_filter& drop) {
    if (rule >= impl_->rules.size()) return 0;
    auto& r = impl_->rules[rule];
    std::size_t n = 0;
    for (key_state* k = r.oldest; k != nullptr;) {
        key_state* next = k->newer;
        if (drop(k->name)) {
            impl_->erase(r, *k);
            ++n;
        }
        k = next;
    }
    return n;
}

bool detector::load_rule(std::size_t rule, std::string_view bytes) { return impl_->load(rule, bytes); }

std::uint64_t detector::ignored_observations() const { return impl_->ignored; }

std::size_t detector::memory_bytes() const {
    // Index slots are a hash and a pointer; each key is one allocation plus its vectors.
    std::size_t n = sizeof(impl);
    for (const auto& r : impl_->rules) {
        n += sizeof(r) + r.keys.capacity() * (sizeof(std::uint64_t) + sizeof(void*));
        r.keys.for_each([&n](const key_state& k) {
            n += sizeof(key_state);
            if (k.name.capacity() > 15) n += k.name.capacity() + 1;
            n += k.authors.bytes();
        });
    }
    return n;
}

}  // namespace crisisd::detect
