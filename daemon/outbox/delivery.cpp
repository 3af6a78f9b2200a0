#include "outbox/delivery.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>
#include <set>

#include "core/log.hpp"

namespace crisisd::outbox {

namespace asio = boost::asio;

struct delivery_loop::impl : std::enable_shared_from_this<impl> {
    asio::any_io_executor ex;
    store& db;
    std::map<std::string, notify::channel*> channels;
    const core::clock& clock;
    delivery_events events;
    retry_policy policy;
    asio::steady_timer timer;
    std::set<std::string> busy;  // channels with a delivery in flight
    bool running = false;
    std::mt19937_64 rng{std::random_device{}()};

    impl(asio::any_io_executor e, store& s, std::map<std::string, notify::channel*> c, const core::clock& clk,
         delivery_events ev, retry_policy p)
        : ex(e), db(s), channels(std::move(c)), clock(clk), events(std::move(ev)), policy(p), timer(e) {}

    core::duration backoff(int attempts, std::optional<core::duration> retry_after) {
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
            for (auto& rec : db.due(now)) {
                if (busy.count(rec.channel)) continue;
                auto it = channels.find(rec.channel);
                if (it == channels.end()) {
                    db.mark_dead(rec.seq, now, "no such channel");
                    if (events.on_dead) events.on_dead(rec, "no such channel");
                    continue;
                }
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
            auto next = db.next_attempt();
            if (next && *next > now) timer.expires_after(clock.wall_delay(*next - now));
            else if (next && busy.empty()) timer.expires_after(std::chrono::milliseconds(1));
            else timer.expires_after(std::chrono::hours(1));
            boost::system::error_code ec;
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
    }

    asio::awaitable<void> deliver(record rec, notify::channel* ch) {
        auto self = shared_from_this();
        notify::delivery d{rec.key, rec.kind, rec.payload, rec.attempts + 1};
        auto result = co_await ch->deliver(d);
        auto now = clock.now();
        if (events.on_attempt) events.on_attempt(rec, result);
        ++rec.attempts;
        switch (result.result) {
            case notify::outcome::sent:
                db.mark_sent(rec.seq, now);
                rec.state = record_state::sent;
                rec.done_at = now;
                if (events.on_sent) events.on_sent(rec);
                break;
            case notify::outcome::retry:
                if (rec.attempts >= policy.max_attempts) {
                    auto why = "gave up after " + std::to_string(rec.attempts) + " attempts: " + result.detail;
                    db.mark_dead(rec.seq, now, why);
                    if (events.on_dead) events.on_dead(rec, why);
                } else {
                    db.mark_retry(rec.seq, now + backoff(rec.attempts, result.retry_after), result.detail);
                }
                break;
            case notify::outcome::failed:
                db.mark_dead(rec.seq, now, result.detail);
                if (events.on_dead) events.on_dead(rec, result.detail);
                break;
        }
        busy.erase(rec.channel);
        timer.cancel();
    }
};

delivery_loop::delivery_loop(asio::any_io_executor ex, store& s, std::map<std::string, notify::channel*> channels,
                             const core::clock& clock, delivery_events events, retry_policy policy)
    : impl_(std::make_shared<impl>(ex, s, std::move(channels), clock, std::move(events), policy)) {}

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
    auto next = impl_->db.next_attempt();
    return !next || *next > impl_->clock.now();
}

std::size_t delivery_loop::in_flight() const { return impl_->busy.size(); }

}  // namespace crisisd::outbox
