#include "net/websocket_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <algorithm>
#include <atomic>
#include <deque>
#include <type_traits>

#include "core/log.hpp"
#include "net/detail/async.hpp"
#include "net/detail/headers.hpp"
#include "net/detail/listener.hpp"
#include "net/detail/tls.hpp"
#include "net/url.hpp"

namespace crisisd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using detail::nothrow;

namespace detail {

// What the server needs from a connected client, whatever its stream type.
struct websocket_peer {
    virtual ~websocket_peer() = default;
    virtual void deliver(std::shared_ptr<const std::string> message, bool binary) = 0;
    virtual void drop() = 0;
    virtual std::size_t queued() const = 0;
};

struct websocket_server_state : std::enable_shared_from_this<websocket_server_state> {
    asio::any_io_executor ex;
    asio::strand<asio::any_io_executor> strand;
    tcp::acceptor acceptor;
    websocket_server_options options;
    std::shared_ptr<asio::ssl::context> ssl_ctx;
    std::function<void(const websocket_upgrade_info&)> connect_callback;
    std::function<void(std::string_view)> message_callback;
    std::atomic<std::uint16_t> bound_port{0};
    std::atomic<std::uint64_t> upgrades{0};
    std::atomic<std::uint64_t> slow_dropped{0};
    connection_set<std::shared_ptr<websocket_peer>> peers;

    websocket_server_state(asio::any_io_executor e, websocket_server_options o)
        : ex(std::move(e)), strand(asio::make_strand(ex)), acceptor(strand), options(std::move(o)) {}

    template <class Stream>
    void begin_session(Stream stream);
};

}  // namespace detail

namespace {

constexpr auto upgrade_timeout = std::chrono::seconds(10);

template <class Stream>
class ws_session final : public detail::websocket_peer,
                         public std::enable_shared_from_this<ws_session<Stream>> {
public:
    ws_session(Stream stream, std::shared_ptr<detail::websocket_server_state> server)
        : ws_(std::move(stream)), server_(std::move(server)) {}

    void deliver(std::shared_ptr<const std::string> message, bool binary) override {
        asio::post(ws_.get_executor(), [self = this->shared_from_this(), message = std::move(message),
                                        binary]() mutable { self->enqueue(std::move(message), binary); });
    }

    void drop() override {
        asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
            self->closed_ = true;
            beast::get_lowest_layer(self->ws_).close();
        });
    }

    std::size_t queued() const override { return queued_.load(std::memory_order_relaxed); }

    static asio::awaitable<void> run(std::shared_ptr<ws_session> self) { co_await self->serve(); }

private:
    static constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;

    beast::tcp_stream& tcp() { return beast::get_lowest_layer(ws_); }

    void enqueue(std::shared_ptr<const std::string> message, bool binary) {
        if (closed_) return;
        if (queue_.size() >= server_->options.max_queue) {
            // A client that cannot keep up is cut off: the alternative is unbounded memory.
            server_->slow_dropped.fetch_add(1, std::memory_order_relaxed);
            core::log_warning("websocket server: dropping a client whose queue is full");
            closed_ = true;
            tcp().close();
            return;
        }
        queue_.emplace_back(std::move(message), binary);
        queued_.store(queue_.size(), std::memory_order_relaxed);
        if (writing_) return;
        writing_ = true;
        asio::co_spawn(ws_.get_executor(), write_loop(this->shared_from_this()),
                       detail::log_completion{"websocket server writer"});
    }

    static asio::awaitable<void> write_loop(std::shared_ptr<ws_session> self) {
        while (!self->queue_.empty() && !self->closed_) {
            auto& [message, binary] = self->queue_.front();
            self->ws_.binary(binary);
            auto [ec, n] = co_await self->ws_.async_write(asio::buffer(*message), nothrow);
            (void)n;
            if (ec) {
                self->closed_ = true;
                break;
            }
            self->queue_.pop_front();
            self->queued_.store(self->queue_.size(), std::memory_order_relaxed);
        }
        self->writing_ = false;
    }

    asio::awaitable<void> refuse(http::status status, unsigned version, std::string body) {
        http::response<http::string_body> res{status, version};
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        if (status == http::status::unauthorized) res.set(http::field::www_authenticate, "Bearer");
        res.body() = std::move(body);
        res.keep_alive(false);
        res.prepare_payload();
        tcp().expires_after(upgrade_timeout);
        co_await http::async_write(ws_.next_layer(), res, nothrow);
    }

    asio::awaitable<void> serve() {
        auto& server = *server_;
        if constexpr (tls) {
            tcp().expires_after(upgrade_timeout);
            auto [ec] = co_await ws_.next_layer().async_handshake(asio::ssl::stream_base::server, nothrow);
            if (ec) {
                tcp().close();
                co_return;
            }
        }
        beast::flat_buffer buffer;
        http::request<http::string_body> request;
        tcp().expires_after(upgrade_timeout);
        auto [read_ec, read_n] = co_await http::async_read(ws_.next_layer(), buffer, request, nothrow);
        (void)read_n;
        if (read_ec) {
            tcp().close();
            co_return;
        }
        if (!websocket::is_upgrade(request)) {
            co_await refuse(http::status::bad_request, request.version(), "websocket only\n");
            tcp().close();
            co_return;
        }
        if (!server.options.required_token.empty() &&
            request[http::field::authorization] != "Bearer " + server.options.required_token) {
            co_await refuse(http::status::unauthorized, request.version(), "bad token\n");
            tcp().close();
            co_return;
        }
        tcp().expires_never();
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "crisisd-test"); }));
        auto [accept_ec] = co_await ws_.async_accept(request, nothrow);
        if (accept_ec) {
            tcp().close();
            co_return;
        }
        if (server.connect_callback) {
            websocket_upgrade_info info;
            info.target = std::string(request.target());
            for (const auto& field : request)
                info.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
            try {
                server.connect_callback(info);
            } catch (const std::exception& e) {
                core::log_error(std::string("websocket server on_connect: ") + e.what());
            }
        }
        const auto id = server.peers.add(this->shared_from_this());
        if (id == 0) {
            tcp().close();
            co_return;
        }
        server.upgrades.fetch_add(1, std::memory_order_relaxed);
        beast::flat_buffer incoming;
        for (;;) {
            auto [ec, n] = co_await ws_.async_read(incoming, nothrow);
            (void)n;
            if (ec) break;
            if (server.message_callback) {
                try {
                    server.message_callback(beast::buffers_to_string(incoming.data()));
                } catch (const std::exception& e) {
                    core::log_error(std::string("websocket server on_message: ") + e.what());
                }
            }
            incoming.consume(incoming.size());
        }
        closed_ = true;
        server.peers.remove(id);
        tcp().close();
    }

    websocket::stream<Stream> ws_;
    std::shared_ptr<detail::websocket_server_state> server_;
    std::deque<std::pair<std::shared_ptr<const std::string>, bool>> queue_;  // strand only
    std::atomic<std::size_t> queued_{0};
    bool writing_ = false;
    bool closed_ = false;
};

}  // namespace

template <class Stream>
void detail::websocket_server_state::begin_session(Stream stream) {
    auto& lowest = beast::get_lowest_layer(stream);
    boost::system::error_code ignored;
    lowest.socket().set_option(tcp::no_delay(true), ignored);
    auto executor = lowest.get_executor();
    auto session = std::make_shared<ws_session<Stream>>(std::move(stream), shared_from_this());
    asio::co_spawn(executor, ws_session<Stream>::run(session), detail::log_completion{"websocket session"});
}

std::string websocket_upgrade_info::header(std::string_view name) const {
    return detail::find_header(headers, name);
}

websocket_server::websocket_server(asio::any_io_executor ex, websocket_server_options options)
    : impl_(std::make_shared<detail::websocket_server_state>(std::move(ex), std::move(options))) {}

websocket_server::~websocket_server() { stop(); }

void websocket_server::on_connect(std::function<void(const websocket_upgrade_info&)> callback) {
    impl_->connect_callback = std::move(callback);
}

void websocket_server::on_message(std::function<void(std::string_view)> callback) {
    impl_->message_callback = std::move(callback);
}

boost::system::error_code websocket_server::start() {
    boost::system::error_code ec;
    auto& s = *impl_;
    auto where = parse_host_port(s.options.listen);
    if (!where) return asio::error::invalid_argument;
    if (!s.options.cert_file.empty() || !s.options.key_file.empty()) {
        s.ssl_ctx = detail::make_server_context(s.options.cert_file, s.options.key_file, ec);
        if (ec) return ec;
    }
    auto address = asio::ip::make_address(where->host, ec);
    if (ec) return ec;
    s.bound_port = detail::listen_on(s.acceptor, tcp::endpoint(address, where->port), ec);
    if (ec) return ec;
    asio::co_spawn(s.strand,
                   detail::accept_connections(s.acceptor, s.ex, s.ssl_ctx, "websocket server",
                                              [self = impl_](auto stream) { self->begin_session(std::move(stream)); }),
                   detail::log_completion{"websocket accept loop"});
    return {};
}

std::uint16_t websocket_server::port() const { return impl_->bound_port.load(); }

void websocket_server::broadcast(std::string text) {
    auto message = std::make_shared<const std::string>(std::move(text));
    for (auto& peer : impl_->peers.snapshot()) peer->deliver(message, false);
}

void websocket_server::broadcast_binary(std::string data) {
    auto message = std::make_shared<const std::string>(std::move(data));
    for (auto& peer : impl_->peers.snapshot()) peer->deliver(message, true);
}

std::size_t websocket_server::connection_count() const { return impl_->peers.size(); }

std::uint64_t websocket_server::connections_accepted() const { return impl_->upgrades.load(); }

std::size_t websocket_server::backlog() const {
    std::size_t longest = 0;
    for (auto& peer : impl_->peers.snapshot()) longest = std::max(longest, peer->queued());
    return longest;
}

std::uint64_t websocket_server::slow_clients_dropped() const { return impl_->slow_dropped.load(); }

void websocket_server::close_all() {
    for (auto& peer : impl_->peers.snapshot()) peer->drop();
}

void websocket_server::stop() {
    auto peers = impl_->peers.close_and_forget();
    if (!peers) return;
    asio::post(impl_->strand, [self = impl_] {
        boost::system::error_code ignored;
        self->acceptor.close(ignored);
    });
    for (auto& peer : *peers) peer->drop();
}

}  // namespace crisisd::net
