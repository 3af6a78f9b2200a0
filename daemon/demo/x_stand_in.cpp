// The demo's X: the filtered stream's rules endpoints and the stream itself, one chunked
// HTTP/1.1 response per connection with a post per line ("\r\n"-terminated) and a bare "\r\n"
// keep-alive every 20 s, as X API v2 documents them. Beast reads the requests; the stream's
// chunks are written by hand, since the response never ends.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <deque>
#include <functional>
#include <list>

#include "core/json_writer.hpp"
#include "demo/stand_in.hpp"
#include "demo/wire.hpp"

namespace crisisd::demo {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr auto keep_alive_every = std::chrono::seconds(20);  // X's documented interval

struct rule {
    std::string id, value, tag;
};

std::string chunk(std::string_view data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return std::string(size).append(data).append("\r\n");
}

class x_api final : public x_stand_in {
public:
    x_api(asio::any_io_executor ex, std::string token) : ex_(ex), acceptor_(ex), token_(std::move(token)) {
        rules_.push_back({"1862749000000000001", "liwest gewinnspiel", "promo"});
    }

    boost::system::error_code start() {
        boost::system::error_code ec;
        tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
        acceptor_.open(at.protocol(), ec);
        if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) acceptor_.bind(at, ec);
        if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) return ec;
        asio::co_spawn(ex_, accept_loop(), asio::detached);
        return {};
    }

    std::string url() const override {
        boost::system::error_code ec;
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint(ec).port());
    }
    std::string_view source() const override { return "x"; }
    bool ready() const override { return !streams_.empty(); }

    void publish(const post& p) override {
        // The post matches the rule crisisd asked for (the first one it added), as X would say.
        const rule matched = rules_.empty() ? rule{"0", "", ""} : rules_.front();
        const auto line = chunk(x_stream_line(p, matched.id, matched.tag) + "\r\n");
        for (auto& s : streams_) {
            s->out.push_back(line);
            s->wake.cancel();
        }
        delivered(p);
    }
    bool caught_up() const override {
        for (const auto& s : streams_)
            if (!s->out.empty() || s->writing) return false;
        return true;
    }
    void stop() override {
        stopped_ = true;
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        for (auto& s : streams_) s->close();
    }

private:
    struct stream {
        explicit stream(tcp::socket s) : socket(std::move(s)), wake(socket.get_executor()) {}
        tcp::socket socket;
        asio::steady_timer wake;
        std::deque<std::string> out;
        bool writing = false;
        bool closed = false;
        void close() {
            closed = true;
            boost::system::error_code ignored;
            socket.shutdown(tcp::socket::shutdown_both, ignored);
            socket.close(ignored);
            wake.cancel();
        }
    };

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(nothrow);
            if (ec || stopped_) co_return;
            asio::co_spawn(ex_, serve(std::move(socket)), asio::detached);
        }
    }

    static http::response<http::string_body> answer(int status, std::string body, bool keep_alive) {
        http::response<http::string_body> res{static_cast<http::status>(status), 11};
        res.set(http::field::content_type, status < 300 ? "application/json; charset=utf-8" : "application/problem+json");
        res.keep_alive(keep_alive);
        res.body() = std::move(body);
        res.prepare_payload();
        return res;
    }

    asio::awaitable<void> serve(tcp::socket socket) {
        beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> req;
            auto [ec, n] = co_await http::async_read(socket, buffer, req, nothrow);
            (void)n;
            if (ec || stopped_) co_return;
            const std::string target(req.target());
            const std::string path = target.substr(0, target.find('?'));
            http::response<http::string_body> res;
            if (req[http::field::authorization] != "Bearer " + token_) {
                res = answer(401, R"({"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"})", false);
            } else if (path == "/2/tweets/search/stream" && req.method() == http::verb::get) {
                co_await serve_stream(std::move(socket));
                co_return;
            } else if (path == "/2/tweets/search/stream/rules" && req.method() == http::verb::get) {
                res = answer(200, rules_document(), req.keep_alive());
            } else if (path == "/2/tweets/search/stream/rules" && req.method() == http::verb::post) {
                res = change_rules(req.body(), req.keep_alive());
            } else {
                res = answer(404, R"({"title":"Not Found Error","type":"about:blank","status":404,"detail":"Not Found"})",
                             req.keep_alive());
            }
            auto [wec, wn] = co_await http::async_write(socket, res, nothrow);
            (void)wn;
            if (wec || !res.keep_alive()) co_return;
        }
    }

    std::string rules_document() const {
        std::string out;
        core::json_writer w(out);
        w.begin_object();
        if (!rules_.empty()) {
            w.key("data").begin_array();
            for (const auto& r : rules_) w.begin_object().member("id", r.id).member("value", r.value).member("tag", r.tag).end_object();
            w.end_array();
        }
        w.key("meta").begin_object().member("result_count", static_cast<std::uint64_t>(rules_.size())).end_object();
        w.end_object();
        return out;
    }

    // {"add":[{"value","tag"}]} or {"delete":{"ids":[…]}}. A plain scan for the keys is enough
    // for the bodies crisisd sends (it is not a general JSON reader, and need not be).
    http::response<http::string_body> change_rules(const std::string& body, bool keep_alive) {
        std::uint64_t added = 0, deleted = 0;
        if (body.find("\"delete\"") != std::string::npos) {
            for (auto it = rules_.begin(); it != rules_.end();) {
                if (body.find("\"" + it->id + "\"") != std::string::npos) {
                    it = rules_.erase(it);
                    ++deleted;
                } else {
                    ++it;
                }
            }
            note("x: crisisd deleted " + std::to_string(deleted) + " stale stream rule(s)");
            std::string out;
            core::json_writer w(out);
            w.begin_object().key("meta").begin_object().key("summary").begin_object();
            w.member("deleted", deleted).member("not_deleted", std::uint64_t{0}).end_object().end_object().end_object();
            return answer(200, out, keep_alive);
        }
        std::string out;
        core::json_writer w(out);
        w.begin_object().key("data").begin_array();
        for (std::size_t at = body.find("\"value\""); at != std::string::npos; at = body.find("\"value\"", at + 1)) {
            rule r;
            r.value = string_after(body, at + 7);
            if (auto t = body.find("\"tag\"", at); t != std::string::npos && t < body.find("\"value\"", at + 1))
                r.tag = string_after(body, t + 5);
            r.id = std::to_string(1862749000000000100ULL + next_id_++);
            rules_.push_back(r);
            ++added;
            w.begin_object().member("id", r.id).member("value", r.value).member("tag", r.tag).end_object();
            note("x: crisisd added the stream rule \"" + r.value + "\"");
        }
        w.end_array().key("meta").begin_object().key("summary").begin_object();
        w.member("created", added).member("not_created", std::uint64_t{0}).member("valid", added).member("invalid", std::uint64_t{0});
        w.end_object().end_object().end_object();
        return answer(201, out, keep_alive);
    }

    // The JSON string that starts after `from` (past the colon), unescaped enough for rule values.
    static std::string string_after(const std::string& body, std::size_t from) {
        auto open = body.find('"', from);
        std::string out;
        if (open == std::string::npos) return out;
        for (auto i = open + 1; i < body.size() && body[i] != '"'; ++i) {
            if (body[i] == '\\' && i + 1 < body.size()) ++i;
            out += body[i];
        }
        return out;
    }

    asio::awaitable<void> serve_stream(tcp::socket socket) {
        auto s = std::make_shared<stream>(std::move(socket));
        streams_.push_back(s);
        const std::string head =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ntransfer-encoding: chunked\r\n"
            "x-rate-limit-limit: 50\r\nx-rate-limit-remaining: 49\r\n\r\n";
        auto [hec, hn] = co_await asio::async_write(s->socket, asio::buffer(head), nothrow);
        (void)hn;
        if (!hec) asio::co_spawn(ex_, watch_peer(s), asio::detached);
        while (!hec && !s->closed) {
            if (s->out.empty()) {
                s->wake.expires_after(keep_alive_every);
                auto [tec] = co_await s->wake.async_wait(nothrow);
                if (s->closed) break;
                if (!tec && s->out.empty()) s->out.push_back(chunk("\r\n"));  // the keep-alive
                continue;
            }
            std::string data;
            while (!s->out.empty()) {
                data += s->out.front();
                s->out.pop_front();
            }
            s->writing = true;
            auto [wec, wn] = co_await asio::async_write(s->socket, asio::buffer(data), nothrow);
            (void)wn;
            s->writing = false;
            if (wec) break;
        }
        s->close();
        streams_.remove(s);
    }

    // The client closing its end shows as a read that ends (it sends nothing on a stream).
    asio::awaitable<void> watch_peer(std::shared_ptr<stream> s) {
        char sink[512];
        for (;;) {
            auto [ec, n] = co_await s->socket.async_read_some(asio::buffer(sink), nothrow);
            (void)n;
            if (ec) break;
        }
        s->close();
    }

    asio::any_io_executor ex_;
    tcp::acceptor acceptor_;
    std::string token_;
    std::vector<rule> rules_;
    std::uint64_t next_id_ = 0;
    std::list<std::shared_ptr<stream>> streams_;
    bool stopped_ = false;
};

}  // namespace

std::unique_ptr<x_stand_in> make_x(asio::any_io_executor ex, std::string bearer_token, std::string& error) {
    auto x = std::make_unique<x_api>(std::move(ex), std::move(bearer_token));
    if (auto ec = x->start()) {
        error = "cannot start the X stand-in: " + ec.message();
        return nullptr;
    }
    return x;
}

}  // namespace crisisd::demo
