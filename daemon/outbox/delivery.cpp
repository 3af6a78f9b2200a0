#include "outbox/delivery.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "core/log.hpp"
#include "incident/codec.hpp"

namespace crisisd::outbox {

namespace asio = boost::asio;

namespace {
// The outbox stores an action's kind by its name (incident/names.hpp).
bool is_statement(const record& rec) {
    return incident::action_kind_from_string(rec.kind) == incident::action_kind::statement;
}
}  // namespace

struct delivery_loop::impl : std::enable_shared_from_this<impl> {
    asio::any_io_executor ex;
    state::database& db;
    std::map<std::string, notify::channel*> channels;
    const core::clock& clock;
    delivery_events events;
    asio::steady_timer timer;
    std::set<std::string> busy;  // channels with a delivery in flight
    bool running = false;
    // When the state database refuses a write (disk full, I/O error), what was done must not be
    // done again: an outcome that could not be recorded is kept here and written again each
    // round, and its record is not sent meanwhile (it still reads "pending" in the database).
    std::map<std::int64_t, std::function<bool()>> unrecorded;
    // A statement is posted only after its attempt is durably marked as started; when that mark
    // cannot be written it waits (its channel's later records wait behind it, as they must).
    std::map<std::int64_t, core::timestamp> held_until;
    static constexpr auto write_retry = std::chrono::seconds(1);

    // Pages the database could not record, sent from memory (see deliver_unrecorded), by key;
    // `order` keeps them in the order they came, which is each channel's order too.
    struct memory_page {
        record rec;
        core::timestamp next_attempt{};
        bool in_flight = false;
        std::optional<core::timestamp> sent_at;
        bool recorded = false;  // its row exists now; an attempt in flight still ends here
        bool gave_up = false;   // left to its row, once written
    };
    std::map<std::string, memory_page> memory;
    std::vector<std::string> order;
    std::mt19937_64 rng{std::random_device{}()};

    impl(asio::any_io_executor e, state::database& s, std::map<std::string, notify::channel*> c, const core::clock& clk,
         delivery_events ev)
        : ex(e), db(s), channels(std::move(c)), clock(clk), events(std::move(ev)), timer(e) {}

    // Awaits an answer given through a callback once, from any thread (the fence and the shared
    // cap answer from the cluster's threads); the coroutine resumes on the loop's executor.
    template <class T, class Start>
    asio::awaitable<T> ask(Start start) {
        co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(T)>(
            [this, &start](auto handler) {
                auto h = std::make_shared<decltype(handler)>(std::move(handler));
                start(std::function<void(T)>([e = ex, h](T v) { asio::post(e, [h, v] { std::move(*h)(v); }); }));
            },
            asio::use_awaitable);
    }

    core::duration backoff(const retry_policy& policy, int attempts, std::optional<core::duration> retry_after) {
        // Full jitter over [delay/2, delay]: spreads retries of many actions without ever
        // retrying sooner than half the nominal delay.
        auto delay = policy.initial;
        for (int i = 1; i < attempts && delay < policy.max; ++i) delay *= 2;
        delay = std::min(delay, policy.max);
        std::uniform_int_distribution<std::int64_t> jitter(delay.count() / 2, delay.count());
        core::duration d{jitter(rng)};
        if (retry_after && *retry_after > d) d = *retry_after;
        return d;
    }

    asio::awaitable<void> run() {
        auto self = shared_from_this();
        while (running) {
            auto now = clock.now();
            std::erase_if(unrecorded, [](auto& u) { return u.second(); });
            std::erase_if(held_until, [&](const auto& h) { return h.second <= now; });
            std::optional<core::timestamp> memory_next = start_memory_pages(now);
            for (auto& rec : db.actions().due(now)) {
                if (busy.count(rec.channel) || unrecorded.count(rec.seq) || held_until.count(rec.seq)) continue;
                auto it = channels.find(rec.channel);
                if (it == channels.end()) {
                    db.actions().mark_dead(rec.seq, now, "no such channel");
                    if (events.on_dead) events.on_dead(rec, "no such channel");
                    continue;
                }
                if (refused_unapproved(rec, now) || over_statement_cap(rec, *it->second, now)) continue;
                busy.insert(rec.channel);
                asio::co_spawn(ex, deliver(std::move(rec), it->second), [](std::exception_ptr e) {
                    if (e) {
                        try {
                            std::rethrow_exception(e);
                        } catch (const std::exception& x) {
                            core::log_error(std::string("outbox: delivery task failed: ") + x.what());
                        }
                    }
                });
            }
            auto next = db.actions().next_attempt();
            if (memory_next && (!next || *memory_next < *next)) next = memory_next;
            if (!unrecorded.empty() || !held_until.empty()) {
                // Writes to try again, or a held statement: come back soon, whatever else is due.
                timer.expires_after(clock.wall_delay(write_retry));
            } else if (next && *next > now) {
                timer.expires_after(clock.wall_delay(*next - now));
            } else if (next && busy.empty()) {
                timer.expires_after(std::chrono::milliseconds(1));
            } else {
                timer.expires_after(std::chrono::hours(1));
            }
            boost::system::error_code ec;
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
    }

    // Starts the first due page from memory on each idle channel; returns when the next one
    // not yet due is (nullopt when none waits).
    std::optional<core::timestamp> start_memory_pages(core::timestamp now) {
        std::optional<core::timestamp> next;
        std::set<std::string> seen;  // channels whose first waiting page was looked at
        for (const auto& key : order) {
            auto it = memory.find(key);
            if (it == memory.end()) continue;
            auto& page = it->second;
            if (page.sent_at || page.in_flight || page.gave_up || !seen.insert(page.rec.channel).second) continue;
            if (busy.count(page.rec.channel)) continue;
            if (page.next_attempt > now) {
                if (!next || page.next_attempt < *next) next = page.next_attempt;
                continue;
            }
            auto ch = channels.find(page.rec.channel);
            if (ch == channels.end()) continue;  // recorded later, then dead-lettered as any other
            page.in_flight = true;
            busy.insert(page.rec.channel);
            asio::co_spawn(ex, deliver_from_memory(key, ch->second), [](std::exception_ptr e) {
                if (e) {
                    try {
                        std::rethrow_exception(e);
                    } catch (const std::exception& x) {
                        core::log_error(std::string("outbox: delivery from memory failed: ") + x.what());
                    }
                }
            });
        }
        return next;
    }

    std::string instance() const { return events.instance.empty() ? db.instance_id() : events.instance; }

    asio::awaitable<void> deliver_from_memory(std::string key, notify::channel* ch) {
        auto self = shared_from_this();
        auto rec = memory.at(key).rec;
        notify::delivery d{rec.key, rec.kind, rec.payload, rec.attempts + 1, instance()};
        auto result = co_await ch->deliver(d);
        auto now = clock.now();
        if (events.on_attempt) events.on_attempt(rec, result);
        busy.erase(rec.channel);
        timer.cancel();
        auto it = memory.find(key);
        if (it == memory.end()) co_return;
        auto& page = it->second;
        page.in_flight = false;
        ++page.rec.attempts;
        if (result.result == notify::outcome::sent) {
            page.sent_at = now;
            page.rec.state = record_state::sent;
            page.rec.done_at = now;
            if (events.on_sent) events.on_sent(page.rec);
            if (page.recorded) {
                // Its row was written (pending) while this attempt was out: mark it sent there.
                if (auto row = db.actions().find(key)) {
                    record_outcome(*row, [this, seq = row->seq, now] { return db.actions().mark_sent(seq, now); });
                }
                forget(key);
            }
            co_return;
        }
        const auto& policy = ch->settings().retry;
        if (page.recorded || result.result == notify::outcome::failed || page.rec.attempts >= policy.max_attempts) {
            // Its row (written now, or once the disk takes writes) is delivered, retried and
            // dead-lettered the usual way; memory only saves the wait for the disk.
            if (!page.recorded)
                core::log_warning("outbox: page " + key + " on " + rec.channel + " not delivered from memory (" +
                                  result.detail + "); it goes out once it is recorded");
            page.gave_up = true;
            if (page.recorded) forget(key);
            co_return;
        }
        page.next_attempt = now + backoff(policy, page.rec.attempts, result.retry_after);
    }

    void forget(const std::string& key) {
        memory.erase(key);
        std::erase(order, key);
    }

    // Defence in depth: the engine posts a `required` statement only on a person's approval and
    // says who it was; a statement that claims `required` without an approver (a bug, a forged
    // or damaged row) is never posted. Statements written before approval travelled with them
    // carry no approval field and are let through.
    bool refused_unapproved(const record& rec, core::timestamp now) {
        if (!is_statement(rec)) return false;
        std::string why;
        auto payload = incident::action_from_json(rec.payload);
        if (!payload) {
            why = "refused: statement payload is not a JSON object";
        } else if (!payload->has_approval) {
            return false;
        } else if (!payload->approval_mode) {
            why = "refused: unknown approval mode";
        } else if (*payload->approval_mode == incident::approval::required && payload->approved_by.empty()) {
            why = "refused: approval required and no approver recorded";
        } else {
            return false;
        }
        core::log_error("outbox: statement " + rec.key + " on " + rec.channel + " not posted: " + why);
        ++refused;
        db.actions().mark_dead(rec.seq, now, why);
        if (events.on_refused) events.on_refused(rec, why);
        return true;
    }
    std::uint64_t refused = 0;

    // A public statement beyond the channel's hourly cap is not posted at all: a flood of
    // incidents (or an attacker provoking them) must not make the brand spam its timeline.
    bool over_statement_cap(const record& rec, const notify::channel& ch, core::timestamp now) {
        int cap = ch.settings().statements_per_hour;
        if (cap <= 0 || !is_statement(rec)) return false;
        auto posted = db.actions().count_sent_since(rec.channel, rec.kind, now - std::chrono::hours(1));
        if (posted < static_cast<std::size_t>(cap)) return false;
        auto why = "skipped: statement cap of " + std::to_string(cap) + " per hour reached on channel " + rec.channel;
        db.actions().mark_dead(rec.seq, now, why);
        if (events.on_dead) events.on_dead(rec, why);
        return true;
    }

    // Writes an attempt's outcome, or keeps the write to try again (see `unrecorded`).
    void record_outcome(const record& rec, std::function<bool()> write) {
        if (write()) return;
        core::log_error("outbox: cannot record the outcome of " + rec.key + " (" + db.last_error() +
                        "); it is not sent again meanwhile, and the write is retried every second");
        unrecorded[rec.seq] = std::move(write);
    }

    asio::awaitable<void> deliver(record rec, notify::channel* ch) {
        auto self = shared_from_this();
        notify::delivery d{rec.key, rec.kind, rec.payload, std::max(rec.attempts, rec.started) + 1, instance()};
        // Only statements pay for this extra durable write: a duplicate page is harmless, a
        // duplicate public post is not, and the channel needs to know to check first.
        if (is_statement(rec) && !db.actions().mark_started(rec.seq)) {
            core::log_error("outbox: statement " + rec.key + " not posted yet: cannot record the attempt (" +
                            db.last_error() + "); trying again in 1 s");
            held_until[rec.seq] = clock.now() + write_retry;
            busy.erase(rec.channel);
            timer.cancel();
            co_return;
        }
        if (events.fence && !co_await ask<bool>([&](auto done) { events.fence(rec, std::move(done)); })) {
            held_until[rec.seq] = clock.now() + write_retry;
            busy.erase(rec.channel);
            timer.cancel();
            co_return;
        }
        if (const int cap = ch->settings().statements_per_hour; events.shared_cap && cap > 0 && is_statement(rec)) {
            const auto verdict = co_await ask<delivery_events::cap_verdict>(
                [&](auto done) { events.shared_cap(rec, cap, std::move(done)); });
            if (verdict != delivery_events::cap_verdict::send) {
                if (verdict == delivery_events::cap_verdict::skip) {
                    auto why = "skipped: statement cap of " + std::to_string(cap) + " per hour reached on channel " +
                               rec.channel + " across the cluster";
                    db.actions().mark_dead(rec.seq, clock.now(), why);
                    if (events.on_dead) events.on_dead(rec, why);
                } else {
                    held_until[rec.seq] = clock.now() + write_retry;
                }
                busy.erase(rec.channel);
                timer.cancel();
                co_return;
            }
        }
        auto result = co_await ch->deliver(d);
        const auto& policy = ch->settings().retry;
        auto now = clock.now();
        if (events.on_attempt) events.on_attempt(rec, result);
        ++rec.attempts;
        switch (result.result) {
            case notify::outcome::sent:
                record_outcome(rec, [this, seq = rec.seq, now] { return db.actions().mark_sent(seq, now); });
                rec.state = record_state::sent;
                rec.done_at = now;
                if (events.on_sent) events.on_sent(rec);
                break;
            case notify::outcome::retry:
                if (rec.attempts >= policy.max_attempts) {
                    auto why = "gave up after " + std::to_string(rec.attempts) + " attempts: " + result.detail;
                    record_outcome(rec, [this, seq = rec.seq, now, why] { return db.actions().mark_dead(seq, now, why); });
                    if (events.on_dead) events.on_dead(rec, why);
                } else {
                    record_outcome(rec, [this, seq = rec.seq, at = now + backoff(policy, rec.attempts, result.retry_after),
                                 why = result.detail] { return db.actions().mark_retry(seq, at, why); });
                }
                break;
            case notify::outcome::failed:
                record_outcome(rec, [this, seq = rec.seq, now, why = result.detail] { return db.actions().mark_dead(seq, now, why); });
                if (events.on_dead) events.on_dead(rec, result.detail);
                break;
        }
        busy.erase(rec.channel);
        timer.cancel();
    }
};

delivery_loop::delivery_loop(asio::any_io_executor ex, state::database& s, std::map<std::string, notify::channel*> channels,
                             const core::clock& clock, delivery_events events)
    : impl_(std::make_shared<impl>(ex, s, std::move(channels), clock, std::move(events))) {}

delivery_loop::~delivery_loop() { stop(); }

void delivery_loop::start() {
    if (impl_->running) return;
    impl_->running = true;
    asio::co_spawn(impl_->ex, impl_->run(), [](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                core::log_error(std::string("outbox: delivery loop stopped: ") + x.what());
            }
        }
    });
}

void delivery_loop::wake() { impl_->timer.cancel(); }

void delivery_loop::stop() {
    impl_->running = false;
    impl_->timer.cancel();
}

bool delivery_loop::idle() const {
    if (!impl_->busy.empty()) return false;
    auto next = impl_->db.actions().next_attempt();
    return !next || *next > impl_->clock.now();
}

std::size_t delivery_loop::in_flight() const { return impl_->busy.size(); }

std::uint64_t delivery_loop::refused() const { return impl_->refused; }

void delivery_loop::deliver_unrecorded(record rec) {
    if (is_statement(rec)) return;  // never sent before it is recorded
    auto& m = *impl_;
    const auto key = rec.key;
    if (m.memory.count(key)) return;
    rec.seq = 0;
    m.memory.emplace(key, impl::memory_page{std::move(rec), {}, false, std::nullopt, false, false});
    m.order.push_back(key);
    wake();
}

std::optional<core::timestamp> delivery_loop::unrecorded_sent_at(const std::string& key) const {
    auto it = impl_->memory.find(key);
    return it == impl_->memory.end() ? std::nullopt : it->second.sent_at;
}

void delivery_loop::recorded(const std::string& key) {
    auto& m = *impl_;
    auto it = m.memory.find(key);
    if (it == m.memory.end()) return;
    if (it->second.in_flight) {
        it->second.recorded = true;
        return;
    }
    m.forget(key);
}

std::size_t delivery_loop::unrecorded_pages() const { return impl_->memory.size(); }

}  // namespace crisisd::outbox
