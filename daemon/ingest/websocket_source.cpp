#include "ingest/websocket_source.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <atomic>
#include <random>

#include "core/log.hpp"
#include "net/backoff.hpp"
#include "net/detail/async.hpp"
#include "net/websocket_client.hpp"

namespace crisisd::ingest {

namespace asio = boost::asio;
using net::detail::nothrow;
using steady = std::chrono::steady_clock;

namespace {
// A connection that lasted this long was healthy, whatever ended it: start backoff afresh.
constexpr auto healthy_uptime = std::chrono::seconds(30);
}  // namespace

struct websocket_source::impl : std::enable_shared_from_this<impl> {
    asio::strand<asio::any_io_executor> strand;
    source_settings settings;
    frame_handler on_frame;
    frames_handler on_frames;  // when set, used instead of on_frame
    source_events& events;
    std::function<std::string()> url_provider;
    std::vector<std::string> subscribe_messages;
    flow_control* flow = nullptr;
    std::atomic<bool> stopped{false};
    bool started = false;
    asio::steady_timer wait_timer;
    net::websocket_client* current = nullptr;  // strand only; the connection being used

    impl(asio::any_io_executor ex, source_settings s, frame_handler f, source_events& e)
        : strand(asio::make_strand(ex)),
          settings(std::move(s)),
          on_frame(std::move(f)),
          events(e),
          wait_timer(strand) {}

    void log(core::log_level level, const std::string& text) const {
        core::log(level, "source " + settings.name + ": " + text);
    }

    net::websocket_client_options client_options(std::string url) const {
        net::websocket_client_options o;
        o.url = std::move(url);
        if (!settings.token.empty()) o.headers.emplace_back("Authorization", "Bearer " + settings.token);
        o.tls.ca_file = settings.ca_file;
        o.max_message_bytes = settings.max_message_bytes;
        o.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(settings.idle_timeout);
        o.permessage_deflate = settings.permessage_deflate;
        return o;
    }

    // Takes what one socket read brought, as many messages as the queue has room for, in one
    // call of on_frames (or on_frame for each). Runs inside read_batch(), on the strand.
    struct frame_sink final : net::websocket_client::message_sink {
        impl& self;
        std::uint64_t delivered = 0;
        std::vector<std::string_view> frames;  // reused: no allocation per batch once warm
        explicit frame_sink(impl& s) : self(s) {}
        std::size_t room() override {
            if (self.stopped) return 0;
            return self.flow != nullptr ? self.flow->room() : static_cast<std::size_t>(-1);
        }
        void take(std::span<const net::websocket_client::message> batch) override {
            delivered += batch.size();
            if (self.stopped) return;
            if (self.on_frames) {
                frames.clear();
                for (const auto& m : batch) frames.push_back(m.payload);
                try {
                    self.on_frames(frames);
                } catch (const std::exception& e) {
                    self.log(core::log_level::error, std::string("frame handler threw: ") + e.what());
                }
                return;
            }
            for (const auto& m : batch) {
                try {
                    self.on_frame(m.payload);
                } catch (const std::exception& e) {
                    self.log(core::log_level::error, std::string("frame handler threw: ") + e.what());
                }
            }
        }
        bool oversized() override {
            self.events.on_frame_rejected("oversized");
            return true;
        }
    };

    // One connection: returns why it ended ("" when stopped).
    asio::awaitable<std::string> stream(net::websocket_client& client, bool& healthy) {
        events.on_connected(true);
        const auto up_since = steady::now();
        std::string reason;
        for (const auto& message : subscribe_messages) {
            reason = co_await client.write(message);
            if (!reason.empty()) break;
        }
        frame_sink sink(*this);
        while (reason.empty() && !stopped) {
            // The "block" overflow policy: while the pipeline is behind, the socket is not read
            // (what is buffered stays there), so TCP pushes back on the sender.
            while (flow != nullptr && !stopped && !flow->has_room()) co_await flow->wait_for_room();
            if (stopped) break;
            auto result = co_await client.read_batch(sink);
            if (stopped) break;
            if (result.status == net::websocket_client::read_status::closed)
                reason = result.error.empty() ? "connection closed" : result.error;
        }
        healthy = sink.delivered > 0 || steady::now() - up_since >= healthy_uptime;
        if (!stopped) events.on_connected(false);
        co_return stopped ? std::string{} : reason;
    }

    asio::awaitable<void> run() {
        auto self = shared_from_this();
        net::backoff delays(settings.reconnect_initial, settings.reconnect_max, std::random_device{}());
        bool first = true;
        while (!stopped) {
            if (!first) events.on_reconnect();
            first = false;
            net::websocket_client client(strand, client_options(url_provider ? url_provider() : settings.url));
            current = &client;
            auto error = co_await client.connect();
            if (stopped) break;
            if (error.empty()) {
                log(core::log_level::info, "connected");
                bool healthy = false;
                auto reason = co_await stream(client, healthy);
                if (stopped) break;
                if (healthy) delays.reset();
                log(core::log_level::warning, "disconnected: " + reason);
            } else {
                const int status = client.upgrade_status();
                if (status == 401 || status == 403) {
                    // Retrying with the same token cannot succeed; hammering the server with it
                    // could get the account blocked.
                    auto message = "the server refused the connection with HTTP " + std::to_string(status) +
                                   ": check the source's token";
                    log(core::log_level::error, message);
                    current = nullptr;
                    events.on_fatal(message);
                    co_return;
                }
                log(core::log_level::warning, "cannot connect: " + error);
            }
            current = nullptr;
            auto delay = delays.next();
            wait_timer.expires_after(delay);
            co_await wait_timer.async_wait(nothrow);
        }
        current = nullptr;
    }
};

websocket_source::websocket_source(asio::any_io_executor ex, source_settings settings, frame_handler on_frame,
                                   source_events& events)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(settings), std::move(on_frame), events)) {}

websocket_source::~websocket_source() { stop(); }

void websocket_source::set_url_provider(std::function<std::string()> provider) {
    impl_->url_provider = std::move(provider);
}

void websocket_source::set_subscribe_messages(std::vector<std::string> messages) {
    impl_->subscribe_messages = std::move(messages);
}

void websocket_source::set_flow_control(flow_control* flow) { impl_->flow = flow; }

void websocket_source::set_frames_handler(frames_handler on_frames) { impl_->on_frames = std::move(on_frames); }

void websocket_source::start() {
    if (impl_->started) return;
    impl_->started = true;
    asio::co_spawn(impl_->strand, impl_->run(),
                   net::detail::log_completion{"source " + impl_->settings.name});
}

void websocket_source::stop() {
    if (impl_->stopped.exchange(true)) return;
    asio::post(impl_->strand, [self = impl_] {
        self->wait_timer.cancel();
        if (self->current != nullptr) self->current->close();
    });
}

}  // namespace crisisd::ingest
