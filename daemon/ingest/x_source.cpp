#include "ingest/x_source.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <algorithm>
#include <atomic>
#include <charconv>

#include "core/log.hpp"
#include "net/detail/async.hpp"
#include "net/http_client.hpp"
#include "net/http_stream.hpp"

namespace crisisd::ingest {

namespace asio = boost::asio;
namespace json = boost::json;
using net::detail::nothrow;
using steady = std::chrono::steady_clock;

namespace {

// A connection that lasted this long, or delivered a post, was healthy: reconnect at once.
constexpr auto healthy_uptime = std::chrono::seconds(30);

// What the stream asks X to send with each post: the author's handle comes from the author_id
// expansion (includes.users), the rest from tweet.fields.
constexpr std::string_view stream_query =
    "expansions=author_id&user.fields=username&tweet.fields=created_at,lang,author_id,note_tweet";

// X's three reconnect schedules. Deterministic, as X documents them: the point is to slow down
// against X, and X, not a herd of clients, is the one server here.
class schedule {
public:
    enum class shape { linear, exponential };
    schedule(shape s, core::duration first, core::duration max) : shape_(s), first_(first), max_(std::max(first, max)) {}
    core::duration next() {
        core::duration d = first_;
        if (shape_ == shape::linear) {
            d = first_ * (n_ + 1);
        } else {
            for (unsigned i = 0; i < n_ && d < max_; ++i) d *= 2;
        }
        if (d < max_) ++n_;
        return std::min(d, max_);
    }
    void reset() { n_ = 0; }

private:
    shape shape_;
    core::duration first_;
    core::duration max_;
    unsigned n_ = 0;
};

std::string json_string(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// "Unauthorized (401): …" from an X problem document, or the raw start of the body.
std::string describe_problem(int status, const std::string& body) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    std::string what;
    if (!ec && v.is_object()) {
        const auto& o = v.get_object();
        what = json_string(o, "title");
        if (auto detail = json_string(o, "detail"); !detail.empty() && detail != what)
            what += what.empty() ? detail : ": " + detail;
        if (auto* errors = o.if_contains("errors"); what.empty() && errors && errors->is_array() &&
                                                     !errors->get_array().empty() && errors->get_array()[0].is_object()) {
            const auto& first = errors->get_array()[0].get_object();
            what = json_string(first, "title");
            if (auto m = json_string(first, "message"); !m.empty()) what += (what.empty() ? "" : ": ") + m;
        }
    }
    if (what.empty()) what = body.substr(0, 200);
    return "HTTP " + std::to_string(status) + (what.empty() ? "" : " (" + what + ")");
}

}  // namespace

struct x_source::impl : std::enable_shared_from_this<impl> {
    asio::strand<asio::any_io_executor> strand;
    source_settings settings;
    std::string base;  // settings.url without trailing slashes
    frame_handler on_frame;
    source_events& events;
    flow_control* flow = nullptr;
    std::atomic<bool> stopped{false};
    bool started = false;
    bool backfill_first = false;
    asio::steady_timer wait_timer;
    net::http_stream* current = nullptr;  // strand only
    schedule network, http_errors, rate_limited;

    impl(asio::any_io_executor ex, source_settings s, frame_handler f, source_events& e)
        : strand(asio::make_strand(ex)),
          settings(std::move(s)),
          on_frame(std::move(f)),
          events(e),
          wait_timer(strand),
          network(schedule::shape::linear, settings.x.network_step, settings.x.network_max),
          http_errors(schedule::shape::exponential, settings.reconnect_initial, settings.reconnect_max),
          rate_limited(schedule::shape::exponential, settings.x.rate_limited,
                       std::max(settings.reconnect_max, settings.x.rate_limited)) {
        base = settings.url;
        while (!base.empty() && base.back() == '/') base.pop_back();
    }

    void log(core::log_level level, const std::string& text) const {
        core::log(level, "source " + settings.name + ": " + text);
    }

    std::vector<std::pair<std::string, std::string>> auth() const {
        return {{"Authorization", "Bearer " + settings.token}};
    }

    asio::awaitable<void> sleep(core::duration d) {
        if (d <= core::duration::zero() || stopped) co_return;
        wait_timer.expires_after(d);
        co_await wait_timer.async_wait(nothrow);
    }

    // The wait a 429 asks for: the longer of the schedule and X's x-rate-limit-reset (epoch
    // seconds), capped at an hour so a wrong clock cannot park the source for a day.
    core::duration rate_limit_wait(std::string_view reset_header) {
        auto wait = rate_limited.next();
        std::int64_t reset = 0;
        auto [end, ec] = std::from_chars(reset_header.data(), reset_header.data() + reset_header.size(), reset);
        if (ec == std::errc{} && end == reset_header.data() + reset_header.size() && !reset_header.empty()) {
            auto now = std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::system_clock::now().time_since_epoch());
            auto until = std::chrono::seconds(reset) - now;
            if (until > wait && until < std::chrono::hours(1)) wait = until;
        }
        return wait;
    }

    // A failed status that only a person can fix.
    static bool fatal_status(int status) { return status == 400 || status == 401 || status == 403 || status == 404; }

    enum class step { done, retry, fatal };

    // One attempt at making the live rule set the configured one. `wait` is set for retry.
    asio::awaitable<step> sync_rules(net::http_client& client, core::duration& wait) {
        const std::string url = base + "/2/tweets/search/stream/rules";
        auto judge = [&](const net::http_response& resp, std::string_view what) -> step {
            if (resp.status == 0) {
                log(core::log_level::warning, std::string(what) + ": " + resp.error);
                wait = network.next();
                return step::retry;
            }
            if (resp.status >= 200 && resp.status < 300) return step::done;
            auto message = std::string(what) + " refused with " + describe_problem(resp.status, resp.body);
            if (fatal_status(resp.status)) {
                message += ": check the source's bearer_token and url";
                log(core::log_level::error, message);
                events.on_fatal(message);
                return step::fatal;
            }
            log(core::log_level::warning, message);
            wait = resp.status == 429 ? rate_limit_wait(resp.header("x-rate-limit-reset")) : http_errors.next();
            return step::retry;
        };
        net::http_request get;
        get.method = "GET";
        get.url = url;
        get.headers = auth();
        auto live_resp = co_await client.send(get);
        if (auto s = judge(live_resp, "reading the stream rules"); s != step::done) co_return s;

        struct live_rule {
            std::string id;
            x_rule rule;
        };
        std::vector<live_rule> live;
        boost::system::error_code ec;
        auto doc = json::parse(live_resp.body, ec);
        if (ec || !doc.is_object()) {
            log(core::log_level::warning, "reading the stream rules: the answer is not a JSON object");
            wait = http_errors.next();
            co_return step::retry;
        }
        if (auto* data = doc.get_object().if_contains("data"); data && data->is_array()) {
            for (const auto& r : data->get_array()) {
                if (!r.is_object()) continue;
                live.push_back({json_string(r.get_object(), "id"),
                                {json_string(r.get_object(), "value"), json_string(r.get_object(), "tag")}});
            }
        }
        // Keep each live rule the config names (once); delete the rest; add what is missing.
        std::vector<bool> wanted_present(settings.x.rules.size(), false);
        json::array delete_ids;
        for (const auto& l : live) {
            bool keep = false;
            for (std::size_t i = 0; i < settings.x.rules.size(); ++i) {
                if (!wanted_present[i] && settings.x.rules[i] == l.rule) {
                    wanted_present[i] = keep = true;
                    break;
                }
            }
            if (!keep) delete_ids.emplace_back(l.id);
        }
        json::array add;
        for (std::size_t i = 0; i < settings.x.rules.size(); ++i) {
            if (wanted_present[i]) continue;
            json::object rule{{"value", settings.x.rules[i].value}};
            if (!settings.x.rules[i].tag.empty()) rule["tag"] = settings.x.rules[i].tag;
            add.push_back(std::move(rule));
        }
        // Deletions first: a rule whose tag changed has the same value, which X would refuse
        // as a duplicate while the old one stands.
        const std::size_t deleting = delete_ids.size(), adding = add.size();
        for (int pass = 0; pass < 2; ++pass) {
            json::object body;
            if (pass == 0) {
                if (delete_ids.empty()) continue;
                body["delete"] = json::object{{"ids", delete_ids}};
            } else {
                if (add.empty()) continue;
                body["add"] = add;
            }
            net::http_request post;
            post.method = "POST";
            post.url = url;
            post.headers = auth();
            post.headers.emplace_back("Content-Type", "application/json");
            post.body = json::serialize(body);
            auto resp = co_await client.send(post);
            if (auto s = judge(resp, pass == 0 ? "deleting stream rules" : "adding stream rules"); s != step::done)
                co_return s;
            if (pass == 0) delete_ids.clear();  // done; a retry of the add alone need not repeat it
            report_rule_errors(resp.body);
        }
        log(core::log_level::info, "stream rules in place (" + std::to_string(settings.x.rules.size()) + " configured, " +
                                       std::to_string(adding) + " added, " + std::to_string(deleting) + " deleted)");
        co_return step::done;
    }

    // X answers 200/201 with an `errors` array for rules it refused (invalid syntax, a
    // duplicate): the other rules stand, so the stream starts, and a person is told.
    void report_rule_errors(const std::string& body) {
        boost::system::error_code ec;
        auto doc = json::parse(body, ec);
        if (ec || !doc.is_object()) return;
        auto* errors = doc.get_object().if_contains("errors");
        if (!errors || !errors->is_array()) return;
        for (const auto& e : errors->get_array()) {
            if (!e.is_object()) continue;
            const auto& o = e.get_object();
            log(core::log_level::error, "X refused the stream rule \"" + json_string(o, "value") + "\": " +
                                            json_string(o, "title") +
                                            (json_string(o, "detail").empty() ? "" : " (" + json_string(o, "detail") + ")"));
        }
    }

    enum class line_kind { other, error, disconnect };

    // An object without `data` in the stream is X reporting a problem: counted and logged.
    // operational-disconnect (or any error naming a disconnect_type) ends the connection: X
    // closes it after saying so.
    line_kind stream_error(std::string_view line) {
        boost::system::error_code ec;
        auto doc = json::parse(line, ec);
        if (ec || !doc.is_object() || doc.get_object().contains("data")) return line_kind::other;
        const auto& o = doc.get_object();
        std::string title, detail, disconnect_type;
        if (auto* errors = o.if_contains("errors"); errors && errors->is_array() && !errors->get_array().empty() &&
                                                     errors->get_array()[0].is_object()) {
            const auto& first = errors->get_array()[0].get_object();
            title = json_string(first, "title");
            detail = json_string(first, "detail");
            disconnect_type = json_string(first, "disconnect_type");
        } else if (o.contains("title")) {
            title = json_string(o, "title");
            detail = json_string(o, "detail");
        } else {
            return line_kind::other;
        }
        events.on_frame_rejected("stream_error");
        log(core::log_level::warning, "X reported " + (title.empty() ? std::string("an error") : title) +
                                          (detail.empty() ? "" : ": " + detail));
        return title == "operational-disconnect" || !disconnect_type.empty() ? line_kind::disconnect : line_kind::error;
    }

    // Reads one open stream until it ends; the reason ("" when stopped).
    asio::awaitable<std::string> read_stream(net::http_stream& stream, bool& healthy) {
        const auto up_since = steady::now();
        std::uint64_t posts = 0;
        std::string pending, reason;
        bool skipping = false;  // inside a line over max_message_bytes: dropped up to its newline
        while (!stopped && reason.empty()) {
            const auto before = pending.size();
            reason = co_await stream.read_some(pending);
            if (stopped) break;
            if (!reason.empty()) break;
            std::size_t start = 0;
            for (std::size_t nl = pending.find('\n', before); nl != std::string::npos; nl = pending.find('\n', start)) {
                std::string_view line(pending.data() + start, nl - start);
                start = nl + 1;
                if (skipping) {
                    skipping = false;
                    continue;
                }
                if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
                if (line.empty()) continue;  // the keep-alive: the read itself reset the stall timer
                if (line.size() > settings.max_message_bytes) {
                    events.on_frame_rejected("oversized");
                    continue;
                }
                // Posts always carry "data"; only what lacks it needs a closer look. A line that
                // is neither a post nor an error object goes on to the parser, which rejects it.
                if (line.find("\"data\"") == std::string_view::npos) {
                    auto kind = stream_error(line);
                    if (kind == line_kind::disconnect) {
                        reason = "X ended the stream (operational-disconnect)";
                        break;
                    }
                    if (kind == line_kind::error) continue;
                }
                while (flow != nullptr && !stopped && !flow->has_room()) co_await flow->wait_for_room();
                if (stopped) break;
                ++posts;
                try {
                    on_frame(line);
                } catch (const std::exception& e) {
                    log(core::log_level::error, std::string("frame handler threw: ") + e.what());
                }
            }
            pending.erase(0, start);
            if (!skipping && pending.size() > settings.max_message_bytes) {
                events.on_frame_rejected("oversized");
                pending.clear();
                skipping = true;
            } else if (skipping) {
                pending.clear();
            }
        }
        healthy = posts > 0 || steady::now() - up_since >= healthy_uptime;
        co_return stopped ? std::string{} : reason;
    }

    asio::awaitable<void> run() {
        auto self = shared_from_this();
        net::http_client client(strand, net::tls_options{settings.ca_file});
        while (!stopped) {
            core::duration wait{};
            auto s = co_await sync_rules(client, wait);
            if (stopped || s == step::fatal) co_return;
            if (s == step::done) break;
            co_await sleep(wait);
        }
        network.reset();
        http_errors.reset();
        rate_limited.reset();
        bool first = true;
        while (!stopped) {
            if (!first) events.on_reconnect();
            std::string url = base + "/2/tweets/search/stream?" + std::string(stream_query);
            if ((!first || backfill_first) && settings.x.backfill_minutes > 0)
                url += "&backfill_minutes=" + std::to_string(settings.x.backfill_minutes);
            first = false;
            net::http_stream_options o;
            o.url = std::move(url);
            o.headers = auth();
            o.tls.ca_file = settings.ca_file;
            o.stall_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(settings.x.stall_timeout);
            net::http_stream stream(strand, std::move(o));
            current = &stream;
            auto error = co_await stream.open();
            if (stopped) break;
            core::duration wait{};
            if (!error.empty()) {
                log(core::log_level::warning, "cannot connect: " + error);
                wait = network.next();
            } else if (stream.status() == 200) {
                log(core::log_level::info, "connected to the filtered stream");
                events.on_connected(true);
                bool healthy = false;
                auto reason = co_await read_stream(stream, healthy);
                if (stopped) break;
                events.on_connected(false);
                log(core::log_level::warning, "disconnected: " + reason);
                if (healthy) {
                    // X: once an established connection drops, reconnect at once.
                    network.reset();
                    http_errors.reset();
                    rate_limited.reset();
                } else {
                    wait = network.next();
                }
            } else {
                const int status = stream.status();
                auto body = co_await stream.read_body();
                if (stopped) break;
                auto message = "the filtered stream refused the connection with " + describe_problem(status, body);
                if (fatal_status(status)) {
                    message += ": check the source's bearer_token and url";
                    log(core::log_level::error, message);
                    current = nullptr;
                    events.on_fatal(message);
                    co_return;
                }
                log(core::log_level::warning, message);
                wait = status == 429 ? rate_limit_wait(stream.header("x-rate-limit-reset")) : http_errors.next();
            }
            current = nullptr;
            if (wait > core::duration::zero())
                log(core::log_level::info, "reconnecting in " + core::format_duration(wait));
            co_await sleep(wait);
        }
        current = nullptr;
    }
};

x_source::x_source(asio::any_io_executor ex, source_settings settings, frame_handler on_frame, source_events& events)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(settings), std::move(on_frame), events)) {}

x_source::~x_source() { stop(); }

void x_source::set_flow_control(flow_control* flow) { impl_->flow = flow; }

void x_source::backfill_first_connection() { impl_->backfill_first = true; }

void x_source::start() {
    if (impl_->started) return;
    impl_->started = true;
    asio::co_spawn(impl_->strand, impl_->run(), net::detail::log_completion{"source " + impl_->settings.name});
}

void x_source::stop() {
    if (impl_->stopped.exchange(true)) return;
    asio::post(impl_->strand, [self = impl_] {
        self->wait_timer.cancel();
        if (self->current != nullptr) self->current->close();
    });
}

}  // namespace crisisd::ingest
