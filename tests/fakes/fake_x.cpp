#include "fakes/fake_x.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <set>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "core/base64.hpp"
#include "core/time.hpp"

namespace crisisd::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

std::string query_param(std::string_view target, std::string_view name) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return {};
    auto rest = target.substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        auto part = rest.substr(0, amp);
        auto eq = part.find('=');
        if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return {};
}

std::string problem(int status, std::string_view title, std::string_view detail) {
    return json::serialize(json::object{{"title", title}, {"detail", detail}, {"type", "about:blank"}, {"status", status}});
}

std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

// application/x-www-form-urlencoded → name=value pairs, %XX and '+' decoded.
std::map<std::string, std::string> form_fields(std::string_view body) {
    auto decode = [](std::string_view v) {
        std::string out;
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (v[i] == '+') {
                out += ' ';
            } else if (v[i] == '%' && i + 2 < v.size()) {
                out += static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16));
                i += 2;
            } else {
                out += v[i];
            }
        }
        return out;
    };
    std::map<std::string, std::string> out;
    while (!body.empty()) {
        auto amp = body.find('&');
        auto part = body.substr(0, amp);
        auto eq = part.find('=');
        if (eq != std::string_view::npos) out[decode(part.substr(0, eq))] = decode(part.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        body.remove_prefix(amp + 1);
    }
    return out;
}

// RFC 6749 §5.2's error document, as X sends it.
std::string oauth_error(std::string_view error, std::string_view description) {
    return json::serialize(json::object{{"error", error}, {"error_description", description}});
}

struct reply {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool lose = false;  // close the connection instead of answering
    bool hold = false;  // answer only after release()
};

}  // namespace

struct fake_x::state {
    std::string app_token;
    std::string client_id, client_secret;
    asio::io_context io;
    std::optional<tcp::acceptor> acceptor;
    std::thread thread;

    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    std::vector<rule> live_rules;
    std::uint64_t next_rule_id = 1862749000000000100ULL;
    std::vector<rules_request> rule_requests;
    std::deque<int> stream_statuses;
    std::vector<stream_connect> connects;
    struct session {
        std::deque<std::string> out;
        bool drop = false;
        bool dead = false;
    };
    std::vector<std::shared_ptr<session>> sessions;
    struct kept {
        std::string line;
        std::chrono::steady_clock::time_point at;
    };
    std::vector<kept> history;
    std::size_t keep_alives = 0;
    std::deque<int> post_statuses;
    bool lose_next = false;
    bool hold_next = false;
    bool released = false;
    int lose_status = 0;
    std::vector<post> timeline;
    std::vector<std::chrono::system_clock::time_point> posted_at;
    std::uint64_t next_post_id = 1862760000000000001ULL;
    int post_calls = 0, timeline_calls = 0;
    std::set<std::string> live_refresh;
    std::map<std::string, std::chrono::steady_clock::time_point> access_tokens;  // token → lapses at
    int next_token = 1;
    bool lose_next_token = false;
    std::vector<token_request> token_requests;

    bool user_ok(const std::string& auth) const {
        if (auth.rfind("Bearer ", 0) != 0) return false;
        auto it = access_tokens.find(auth.substr(7));
        return it != access_tokens.end() && std::chrono::steady_clock::now() < it->second;
    }

    // POST /2/oauth2/token, grant_type=refresh_token (X's OAuth 2.0 page; RFC 6749 §6).
    reply token(const std::string& auth, const std::string& body) {
        auto form = form_fields(body);
        token_request tr{form["refresh_token"], 0, {}};
        auto refuse = [&](int status, const std::string& error, const std::string& description) {
            tr.status = status;
            tr.error = error;
            token_requests.push_back(tr);
            return reply{status, oauth_error(error, description), {}, false};
        };
        // A confidential client authenticates with Basic credentials; X answers their absence so.
        if (auth != "Basic " + core::to_base64(client_id + ":" + client_secret))
            return refuse(401, "unauthorized_client", "Missing valid authorization header");
        if (form["grant_type"] != "refresh_token")
            return refuse(400, "unsupported_grant_type", "Only refresh_token is granted here");
        if (!live_refresh.contains(tr.refresh_token))
            return refuse(400, "invalid_request", "Value passed for the token was invalid.");
        // Single-use: the token presented is spent, its successor comes with the access token.
        live_refresh.erase(tr.refresh_token);
        const int n = next_token++;
        std::string refresh = "x-refresh-" + std::to_string(n), access = "x-access-" + std::to_string(n);
        live_refresh.insert(refresh);
        access_tokens[access] = std::chrono::steady_clock::now() + std::chrono::hours(2);
        tr.status = 200;
        token_requests.push_back(tr);
        reply r{200, json::serialize(json::object{{"token_type", "bearer"}, {"expires_in", 7200}, {"access_token", access},
                                                  {"scope", "tweet.write users.read tweet.read offline.access"},
                                                  {"refresh_token", refresh}}), {}, false};
        if (lose_next_token) {
            lose_next_token = false;
            r.lose = true;
        }
        return r;
    }

    std::size_t open_streams() const {
        std::size_t n = 0;
        for (const auto& s : sessions) n += s->dead ? 0 : 1;
        return n;
    }

    void send_to_all(const std::string& data) {
        for (auto& s : sessions)
            if (!s->dead) s->out.push_back(data);
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor->async_accept(nothrow);
            if (ec) co_return;
            asio::co_spawn(io, serve(std::move(socket)), asio::detached);
        }
    }

    // The coroutines hold no reference to the state: one suspended on a client's open connection
    // when the fake stops would keep the state, its io_context and so itself alive (a leak under
    // LeakSanitizer). The state outlives the io thread (fake_x and the thread each hold it), and
    // destroying it destroys the io_context and with it every suspended coroutine.
    asio::awaitable<void> serve(tcp::socket socket) {
        beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> req;
            auto [ec, n] = co_await http::async_read(socket, buffer, req, nothrow);
            (void)n;
            if (ec) co_return;
            std::string target(req.target());
            std::string path = target.substr(0, target.find('?'));
            std::string auth(req[http::field::authorization]);
            if (path == "/2/tweets/search/stream" && req.method() == http::verb::get) {
                co_await stream(socket, target, auth);
                co_return;
            }
            reply r;
            {
                std::lock_guard lock(mutex);
                r = handle(req.method(), path, target, auth, req.body());
            }
            changed.notify_all();
            if (r.hold) {
                asio::steady_timer timer(io);
                for (;;) {
                    {
                        std::lock_guard lock(mutex);
                        if (released) break;
                    }
                    timer.expires_after(std::chrono::milliseconds(2));
                    auto [tec] = co_await timer.async_wait(nothrow);
                    if (tec) co_return;
                }
            }
            if (r.lose) {
                boost::system::error_code ignored;
                socket.shutdown(tcp::socket::shutdown_both, ignored);
                socket.close(ignored);
                co_return;
            }
            http::response<http::string_body> res{static_cast<http::status>(r.status), 11};
            res.set(http::field::content_type, "application/json; charset=utf-8");
            for (const auto& [k, v] : r.headers) res.set(k, v);
            res.keep_alive(req.keep_alive());
            res.body() = std::move(r.body);
            res.prepare_payload();
            auto [wec, w] = co_await http::async_write(socket, res, nothrow);
            (void)w;
            if (wec || !req.keep_alive()) co_return;
        }
    }

    static std::string chunk(std::string_view data) {
        char size[32];
        std::snprintf(size, sizeof size, "%zx\r\n", data.size());
        std::string out(size);
        out.append(data).append("\r\n");
        return out;
    }

    asio::awaitable<void> stream(tcp::socket& socket, const std::string& target, const std::string& auth) {
        int status = 200;
        auto s = std::make_shared<session>();
        {
            std::lock_guard lock(mutex);
            if (auth != "Bearer " + app_token) {
                status = 401;
            } else if (!stream_statuses.empty()) {
                status = stream_statuses.front();
                stream_statuses.pop_front();
            }
            connects.push_back({target, std::chrono::steady_clock::now(), status});
            if (status == 200) {
                // backfill_minutes: the posts of the last N minutes again, before live ones.
                if (auto minutes = query_param(target, "backfill_minutes"); !minutes.empty()) {
                    auto since = std::chrono::steady_clock::now() - std::chrono::minutes(std::stoi(minutes));
                    for (const auto& k : history)
                        if (k.at >= since) s->out.push_back(k.line + "\r\n");
                }
                sessions.push_back(s);
            }
        }
        changed.notify_all();
        if (status != 200) {
            http::response<http::string_body> res{static_cast<http::status>(status), 11};
            res.set(http::field::content_type, "application/problem+json");
            if (status == 429) {
                auto reset = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch()) + std::chrono::seconds(1);
                res.set("x-rate-limit-reset", std::to_string(reset.count()));
                res.body() = json::serialize(json::object{
                    {"title", "ConnectionException"},
                    {"detail", "This stream is currently at the maximum allowed connection limit."},
                    {"connection_issue", "TooManyConnections"},
                    {"type", "https://api.x.com/2/problems/streaming-connection"}});
            } else {
                res.body() = problem(status, status == 401 ? "Unauthorized" : "Service Unavailable",
                                     status == 401 ? "Unauthorized" : "Service Unavailable");
            }
            res.keep_alive(false);
            res.prepare_payload();
            co_await http::async_write(socket, res, nothrow);
            co_return;
        }
        std::string head =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ntransfer-encoding: chunked\r\n"
            "x-rate-limit-limit: 50\r\nx-rate-limit-remaining: 49\r\n\r\n";
        auto [hec, hn] = co_await asio::async_write(socket, asio::buffer(head), nothrow);
        (void)hn;
        // The client closing its end is noticed by a read that ends (nothing else is sent).
        asio::co_spawn(io, watch_peer(socket, s), asio::detached);
        asio::steady_timer timer(io);
        bool alive = !hec;
        while (alive) {
            std::string data;
            bool drop = false;
            {
                std::lock_guard lock(mutex);
                while (!s->out.empty()) {
                    data += chunk(s->out.front());
                    s->out.pop_front();
                }
                drop = s->drop;
            }
            if (!data.empty()) {
                auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(data), nothrow);
                (void)wn;
                if (wec) break;
            }
            if (drop) break;
            timer.expires_after(std::chrono::milliseconds(2));
            auto [tec] = co_await timer.async_wait(nothrow);
            if (tec) break;
        }
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        {
            std::lock_guard lock(mutex);
            s->dead = true;
        }
        changed.notify_all();
    }

    asio::awaitable<void> watch_peer(tcp::socket& socket, std::shared_ptr<session> s) {
        char sink[512];
        for (;;) {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), nothrow);
            (void)n;
            if (ec) break;
        }
        std::lock_guard lock(mutex);
        s->drop = true;
    }

    reply handle(http::verb method, const std::string& path, const std::string& target, const std::string& auth,
                 const std::string& body) {
        reply r;
        if (path == "/2/tweets/search/stream/rules") {
            if (auth != "Bearer " + app_token) return {401, problem(401, "Unauthorized", "Unauthorized"), {}, false};
            rule_requests.push_back({method == http::verb::get ? "GET" : "POST", body});
            if (method == http::verb::get) {
                json::array data;
                for (const auto& x : live_rules) {
                    json::object o{{"id", x.id}, {"value", x.value}};
                    if (!x.tag.empty()) o["tag"] = x.tag;
                    data.push_back(std::move(o));
                }
                json::object doc{{"meta", {{"sent", "2026-11-30T08:00:00.000Z"}, {"result_count", data.size()}}}};
                if (!data.empty()) doc["data"] = std::move(data);
                r.body = json::serialize(doc);
                return r;
            }
            return post_rules(body);
        }
        if (path == "/2/oauth2/token" && method == http::verb::post) return token(auth, body);
        if (path == "/2/tweets" && method == http::verb::post) return post_tweet(auth, body);
        if (path == "/2/users/me" && method == http::verb::get) {
            if (!user_ok(auth)) return {401, problem(401, "Unauthorized", "Unauthorized"), {}, false};
            r.body = R"({"data":{"id":"1700000000000000001","name":"LIWEST","username":"liwest"}})";
            return r;
        }
        if (path.rfind("/2/users/", 0) == 0 && path.size() > 16 && path.substr(path.size() - 7) == "/tweets") {
            if (!user_ok(auth)) return {401, problem(401, "Unauthorized", "Unauthorized"), {}, false};
            ++timeline_calls;
            if (path != "/2/users/1700000000000000001/tweets")
                return {404, problem(404, "Not Found Error", "Could not find user"), {}, false};
            std::optional<core::timestamp> since;
            if (auto st = query_param(target, "start_time"); !st.empty()) since = core::parse_rfc3339(st);
            json::array data;
            for (std::size_t i = timeline.size(); i-- > 0;) {  // newest first
                auto at = core::timestamp(std::chrono::duration_cast<core::duration>(posted_at[i].time_since_epoch()));
                if (since && at < *since) continue;
                data.push_back(json::object{{"id", timeline[i].id},
                                            {"text", timeline[i].text},
                                            {"created_at", core::format_rfc3339(std::chrono::time_point_cast<std::chrono::seconds>(at))}});
            }
            json::object doc{{"meta", {{"result_count", data.size()}}}};
            if (!data.empty()) doc["data"] = std::move(data);
            r.body = json::serialize(doc);
            return r;
        }
        return {404, problem(404, "Not Found", "Sorry, that page does not exist"), {}, false};
    }

    reply post_rules(const std::string& body) {
        boost::system::error_code ec;
        auto v = json::parse(body, ec);
        if (ec || !v.is_object()) return {400, problem(400, "Invalid Request", "body is not JSON"), {}, false};
        const auto& o = v.get_object();
        json::object summary;
        json::array data, errors;
        if (auto* del = o.if_contains("delete")) {
            int deleted = 0, not_deleted = 0;
            for (const auto& id : del->at("ids").as_array()) {
                auto it = std::find_if(live_rules.begin(), live_rules.end(),
                                       [&](const rule& x) { return x.id == id.as_string(); });
                if (it == live_rules.end()) {
                    ++not_deleted;
                    continue;
                }
                live_rules.erase(it);
                ++deleted;
            }
            summary = {{"deleted", deleted}, {"not_deleted", not_deleted}};
        }
        if (auto* add = o.if_contains("add")) {
            int created = 0, not_created = 0;
            for (const auto& a : add->as_array()) {
                rule x;
                x.value = std::string(a.at("value").as_string());
                if (auto* t = a.as_object().if_contains("tag")) x.tag = std::string(t->as_string());
                bool dup = std::any_of(live_rules.begin(), live_rules.end(), [&](const rule& y) { return y.value == x.value; });
                if (dup) {
                    ++not_created;
                    errors.push_back(json::object{{"value", x.value}, {"id", ""}, {"title", "DuplicateRule"},
                                                  {"type", "https://api.x.com/2/problems/duplicate-rules"}});
                    continue;
                }
                x.id = std::to_string(next_rule_id++);
                live_rules.push_back(x);
                ++created;
                json::object d{{"value", x.value}, {"id", x.id}};
                if (!x.tag.empty()) d["tag"] = x.tag;
                data.push_back(std::move(d));
            }
            summary = {{"created", created}, {"not_created", not_created}, {"valid", created}, {"invalid", not_created}};
        }
        json::object doc{{"meta", {{"sent", "2026-11-30T08:00:01.000Z"}, {"summary", summary}}}};
        if (!data.empty()) doc["data"] = std::move(data);
        if (!errors.empty()) doc["errors"] = std::move(errors);
        return {o.contains("add") ? 201 : 200, json::serialize(doc), {}, false};
    }

    reply post_tweet(const std::string& auth, const std::string& body) {
        ++post_calls;
        if (!user_ok(auth)) return {401, problem(401, "Unauthorized", "Unauthorized"), {}, false};
        if (!post_statuses.empty()) {
            int status = post_statuses.front();
            post_statuses.pop_front();
            reply r{status, problem(status, status == 429 ? "Too Many Requests" : "Service Unavailable", "scripted"), {}, false};
            if (status == 429) {
                auto reset = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch()) + std::chrono::seconds(1);
                r.headers = {{"x-rate-limit-limit", "100"}, {"x-rate-limit-remaining", "0"},
                             {"x-rate-limit-reset", std::to_string(reset.count())}};
            }
            return r;
        }
        boost::system::error_code ec;
        auto v = json::parse(body, ec);
        const json::string* text = nullptr;
        if (!ec && v.is_object())
            if (auto* t = v.get_object().if_contains("text"); t && t->is_string()) text = &t->get_string();
        if (!text) return {400, problem(400, "Invalid Request", "One or more parameters to your request was invalid."), {}, false};
        if (code_points(*text) > 280)
            return {400, problem(400, "Invalid Request", "Your Tweet text is too long."), {}, false};
        for (const auto& p : timeline)
            if (p.text == *text)
                return {403, problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."), {}, false};
        post p{std::to_string(next_post_id++), std::string(*text)};
        timeline.push_back(p);
        posted_at.push_back(std::chrono::system_clock::now());
        reply r{201, json::serialize(json::object{{"data", {{"id", p.id}, {"text", p.text}, {"edit_history_tweet_ids", json::array{json::string(p.id)}}}}}), {}, false};
        if (hold_next) {
            hold_next = false;
            r.hold = true;
        }
        if (lose_next) {
            lose_next = false;
            if (lose_status == 0) r.lose = true;
            else r = {lose_status, problem(lose_status, "Service Unavailable", "upstream timed out"), {}, false};
        }
        return r;
    }
};

fake_x::fake_x(std::string app_token) : state_(std::make_shared<state>()) {
    state_->app_token = std::move(app_token);
    state_->client_id = client_id();
    state_->client_secret = client_secret();
    state_->live_refresh.insert(first_refresh_token());
}

fake_x::~fake_x() { stop(); }

std::uint16_t fake_x::start() {
    auto& s = *state_;
    s.acceptor.emplace(s.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    asio::co_spawn(s.io, s.accept_loop(), asio::detached);
    s.thread = std::thread([st = state_] {
        auto guard = asio::make_work_guard(st->io);
        st->io.run();
    });
    return s.acceptor->local_endpoint().port();
}

void fake_x::stop() {
    auto& s = *state_;
    if (!s.thread.joinable()) return;
    s.io.stop();
    s.thread.join();
}

std::string fake_x::base_url() const {
    return "http://127.0.0.1:" + std::to_string(state_->acceptor->local_endpoint().port());
}

void fake_x::set_rules(std::vector<rule> rules) {
    std::lock_guard lock(state_->mutex);
    state_->live_rules = std::move(rules);
}
std::vector<fake_x::rule> fake_x::rules() const {
    std::lock_guard lock(state_->mutex);
    return state_->live_rules;
}
std::vector<fake_x::rules_request> fake_x::rules_requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->rule_requests;
}
void fake_x::script_stream_statuses(std::vector<int> statuses) {
    std::lock_guard lock(state_->mutex);
    state_->stream_statuses.assign(statuses.begin(), statuses.end());
}
std::vector<fake_x::stream_connect> fake_x::stream_connects() const {
    std::lock_guard lock(state_->mutex);
    return state_->connects;
}
std::size_t fake_x::open_streams() const {
    std::lock_guard lock(state_->mutex);
    return state_->open_streams();
}
void fake_x::push_post(const std::string& id, const std::string& username, const std::string& text) {
    const std::string author_id = std::to_string(std::hash<std::string>{}(username) % 1000000000ULL);
    json::object doc{
        {"data", {{"id", id}, {"text", text}, {"author_id", author_id}, {"created_at", "2026-11-30T08:14:03.000Z"},
                  {"lang", "en"}, {"edit_history_tweet_ids", json::array{json::string(id)}}}},
        {"includes", {{"users", json::array{json::object{{"id", author_id}, {"name", username}, {"username", username}}}}}},
        {"matching_rules", json::array{json::object{{"id", "1862749000000000001"}, {"tag", "isp"}}}}};
    auto line = json::serialize(doc);
    std::lock_guard lock(state_->mutex);
    state_->history.push_back({line, std::chrono::steady_clock::now()});
    state_->send_to_all(line + "\r\n");
}
void fake_x::push_line(const std::string& line) {
    std::lock_guard lock(state_->mutex);
    state_->send_to_all(line + "\r\n");
}
void fake_x::keep_alive() {
    std::lock_guard lock(state_->mutex);
    state_->send_to_all("\r\n");
    ++state_->keep_alives;
}
std::size_t fake_x::keep_alives_sent() const {
    std::lock_guard lock(state_->mutex);
    return state_->keep_alives;
}
void fake_x::drop_streams() {
    std::lock_guard lock(state_->mutex);
    for (auto& s : state_->sessions) s->drop = true;
}
bool fake_x::wait_for_streams(std::size_t open, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, timeout, [&] { return state_->open_streams() == open; });
}
void fake_x::script_post_statuses(std::vector<int> statuses) {
    std::lock_guard lock(state_->mutex);
    state_->post_statuses.assign(statuses.begin(), statuses.end());
}
void fake_x::lose_next_answer(int status) {
    std::lock_guard lock(state_->mutex);
    state_->lose_next = true;
    state_->lose_status = status;
}
void fake_x::hold_next_answer() {
    std::lock_guard lock(state_->mutex);
    state_->hold_next = true;
    state_->released = false;
}
void fake_x::release() {
    std::lock_guard lock(state_->mutex);
    state_->released = true;
}
bool fake_x::wait_for_post_calls(int n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, timeout, [&] { return state_->post_calls >= n; });
}
std::vector<fake_x::post> fake_x::posts() const {
    std::lock_guard lock(state_->mutex);
    return state_->timeline;
}
int fake_x::post_calls() const {
    std::lock_guard lock(state_->mutex);
    return state_->post_calls;
}
int fake_x::timeline_calls() const {
    std::lock_guard lock(state_->mutex);
    return state_->timeline_calls;
}

void fake_x::grant(const std::string& refresh_token) {
    std::lock_guard lock(state_->mutex);
    state_->live_refresh.insert(refresh_token);
}
void fake_x::revoke() {
    std::lock_guard lock(state_->mutex);
    state_->live_refresh.clear();
    state_->access_tokens.clear();
}
void fake_x::expire_access_tokens() {
    std::lock_guard lock(state_->mutex);
    for (auto& [token, until] : state_->access_tokens) until = std::chrono::steady_clock::now();
}
void fake_x::lose_next_token_answer() {
    std::lock_guard lock(state_->mutex);
    state_->lose_next_token = true;
}
std::vector<fake_x::token_request> fake_x::token_requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->token_requests;
}

}  // namespace crisisd::testing
