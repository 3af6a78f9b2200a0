// storm: issue 13's bad day, through the real crisisd binary on loopback, measured.
//
// Starts crisisd (`run`) and everything around it on free ports, runs them for --duration, and
// prints what crisisd did, each figure beside the issue's target. All of it ends by itself.
//
//   load      a background stream of generic mentions at --rate per second, POSTed as NDJSON
//             batches to an HTTP ingest source over keep-alive connections (a calm rule matches
//             them and never fires); storms of complaints on a websocket source (a trusted
//             stream served by net::websocket_server), one keyword per rule, that open --incidents
//             incidents over the run and resolve them by the rule's clear_when.
//   faults    --idle connections held open against the ingest and admin listeners, half of them
//             silent and half slowloris (a header byte every few seconds), re-opened when crisisd
//             closes them; --uploads clients sending 8 MiB bodies without a token, slowly;
//             --streams console event-stream clients (ticket flow) that never read; the playbook
//             pages a recording receiver and, beside it, a webhook that answers 500 and one that
//             hangs for a minute; SIGHUP with a rewritten config and a new ingest token (its
//             secret file rewritten; the senders switch) every --reload-every; the state
//             disk full for --disk-full (see below).
//   measures  pages received vs incidents opened (every incident paged at least once); page
//             latency, receive time minus the incident's opened_at; /healthz latency sampled every
//             100 ms on a fresh connection; crisisd's peak RSS (VmHWM); watchdog pings on a
//             NOTIFY_SOCKET the tool reads, with WATCHDOG_USEC set as the unit sets it (a miss is
//             a gap longer than WATCHDOG_USEC, after which systemd would kill crisisd); mentions
//             processed vs accepted ("nothing lost").
//
// The disk: run as root (CAP_SYS_ADMIN), the tool enters a private mount namespace (it and
// crisisd only; gone when they exit) and puts the state database on a small tmpfs, which it
// fills with a file for --disk-full. Without that, it fills the state directory's own
// filesystem only when it has less than --fill-limit free; otherwise it skips the phase. The
// output says which happened.
//
// A measurement, not a test: exit 0 whatever the figures, non-zero only when the harness failed
// (crisisd would not start, a port could not be bound, a bad option). The generators share the
// machine with crisisd, so the rate achieved is printed next to the rate asked for.
//
//   storm [--duration 10m] [--rate 100000] [--incidents 2000] [--idle 1000] [--uploads 20]
//         [--streams 5] [--reload-every 10s] [--disk-full 30s] [--watchdog 20s] [--keys 32]
//         [--senders 2] [--batch 500] [--binary PATH] [--dir DIR] [--fill-limit-mib 2048]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/loopback.hpp"
#include "bench/options.hpp"
#include "child_process.hpp"
#include "core/time.hpp"
#include "net/http_server.hpp"
#include "net/websocket_server.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using wall = std::chrono::system_clock;

namespace {

using namespace crisisd::bench;  // loopback HTTP and /proc readings, shared with soak

struct options {
    std::chrono::milliseconds duration = 10min;
    double rate = 100000;
    int incidents = 2000;
    int idle = 1000;
    int uploads = 20;
    int streams = 5;
    std::chrono::milliseconds reload_every = 10s;
    std::chrono::milliseconds disk_full = 30s;
    std::chrono::milliseconds watchdog = 20s;
    int keys = 32;
    int senders = 2;
    int batch = 500;
    std::string binary = CRISISD_BINARY;
    fs::path dir = fs::temp_directory_path();
    std::uint64_t fill_limit_mib = 2048;
};

double ms_since(steady::time_point t0) { return std::chrono::duration<double, std::milli>(steady::now() - t0).count(); }

// Percentile of a sorted copy; 0 for no samples.
double pct(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// ---------------------------------------------------------------------------------------------
// Receivers: the pager records each page with its arrival time; beside it a webhook that
// answers 500 and one that hangs for a minute before answering.

struct page {
    std::uint64_t incident = 0;
    wall::time_point received;
    std::optional<wall::time_point> opened_at;
};

class receivers {
public:
    receivers() : guard_(asio::make_work_guard(io_)) {
        pager_.emplace(io_.get_executor(), crisisd::net::http_server_options{},
                       [this](const crisisd::net::http_request_in& in) { return record(in); });
        failing_.emplace(io_.get_executor(), crisisd::net::http_server_options{},
                         [this](const crisisd::net::http_request_in&) { return fail(); });
        hanging_.emplace(io_.get_executor(), crisisd::net::http_server_options{},
                         [this](const crisisd::net::http_request_in&) { return hang(); });
        if (pager_->start() || failing_->start() || hanging_->start())
            throw std::runtime_error("receivers: cannot bind");
        thread_ = std::thread([this] { io_.run(); });
    }
    ~receivers() {
        pager_->stop();
        failing_->stop();
        hanging_->stop();
        guard_.reset();
        io_.stop();
        thread_.join();
    }
    std::string url(const std::optional<crisisd::net::http_server>& s) const {
        return "http://127.0.0.1:" + std::to_string(s->port()) + "/hook";
    }
    std::string pager_url() const { return url(pager_); }
    std::string failing_url() const { return url(failing_); }
    std::string hanging_url() const { return url(hanging_); }
    std::vector<page> pages() const {
        std::lock_guard lock(m_);
        return pages_;
    }
    std::uint64_t failing_requests() const { return failing_count_; }
    std::uint64_t hanging_requests() const { return hanging_count_; }

private:
    asio::awaitable<crisisd::net::http_response_out> record(const crisisd::net::http_request_in& in) {
        page p;
        p.received = wall::now();
        boost::system::error_code ec;
        auto v = boost::json::parse(in.body, ec);
        if (!ec && v.is_object()) {
            if (auto* inc = v.as_object().if_contains("incident"); inc && inc->is_object()) {
                if (auto* id = inc->as_object().if_contains("id"); id && id->is_number())
                    p.incident = id->to_number<std::uint64_t>();
                if (auto* at = inc->as_object().if_contains("opened_at"); at && at->is_string())
                    if (auto t = crisisd::core::parse_rfc3339(std::string_view(at->as_string())))
                        p.opened_at = wall::time_point(std::chrono::duration_cast<wall::duration>(t->time_since_epoch()));
            }
        }
        {
            std::lock_guard lock(m_);
            pages_.push_back(p);
        }
        crisisd::net::http_response_out out;
        out.content_type = "application/json";
        out.body = "{}";
        co_return out;
    }
    asio::awaitable<crisisd::net::http_response_out> fail() {
        ++failing_count_;
        crisisd::net::http_response_out out;
        out.status = 500;
        out.body = "storm: this receiver always fails\n";
        co_return out;
    }
    asio::awaitable<crisisd::net::http_response_out> hang() {
        ++hanging_count_;
        asio::steady_timer t(co_await asio::this_coro::executor);
        t.expires_after(60s);
        boost::system::error_code ec;
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        crisisd::net::http_response_out out;
        out.body = "{}";
        out.content_type = "application/json";
        co_return out;
    }

    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::optional<crisisd::net::http_server> pager_, failing_, hanging_;
    std::thread thread_;
    mutable std::mutex m_;
    std::vector<page> pages_;
    std::atomic<std::uint64_t> failing_count_{0}, hanging_count_{0};
};

// ---------------------------------------------------------------------------------------------
// The notify socket crisisd believes is systemd's: records WATCHDOG=1 pings and reloads.

class notify_socket {
public:
    explicit notify_socket(const fs::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        if (path.string().size() >= sizeof a.sun_path) throw std::runtime_error("notify socket path too long");
        std::strcpy(a.sun_path, path.c_str());
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("notify socket: " + std::string(std::strerror(errno)));
        set_timeouts(fd_, 200ms);
        thread_ = std::thread([this] { loop(); });
    }
    ~notify_socket() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    std::vector<steady::time_point> pings() const {
        std::lock_guard lock(m_);
        return pings_;
    }
    int ready() const { return ready_; }
    int reloading() const { return reloading_; }

private:
    void loop() {
        char buf[4096];
        while (!stop_) {
            auto n = ::recv(fd_, buf, sizeof buf - 1, 0);
            if (n <= 0) continue;
            std::string_view msg(buf, static_cast<std::size_t>(n));
            auto now = steady::now();
            if (msg.find("WATCHDOG=1") != std::string_view::npos) {
                std::lock_guard lock(m_);
                pings_.push_back(now);
            }
            if (msg.find("READY=1") != std::string_view::npos) ++ready_;
            if (msg.find("RELOADING=1") != std::string_view::npos) ++reloading_;
        }
    }
    fs::path path_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<int> ready_{0}, reloading_{0};
    mutable std::mutex m_;
    std::vector<steady::time_point> pings_;
    std::thread thread_;
};

// ---------------------------------------------------------------------------------------------

const char* const background_texts[] = {
    "acme internet is a bit slow tonight but it works, streaming is fine",
    "switched my plan with acme today, the shop was friendly and quick",
    "does anyone know if acme fibre reaches the new houses on the hill",
    "acme app update looks nice, the bill is easier to read now",
    "had to restart the acme router once this week, otherwise all good",
    "acme support chat answered in two minutes, question sorted",
};

// What the run saw of one incident (from /api/v1/incidents).
struct incident_seen {
    std::string rule;
    std::string state;
    std::optional<wall::time_point> opened_at;
};

std::string storm_keyword(int k) { return "zq" + std::to_string(k) + "x"; }

std::string config_text(const options& o, const fs::path& dir, const fs::path& state_db, std::uint16_t ingest_port,
                        std::uint16_t admin_port, std::uint16_t ws_port, const receivers& rx, int generation) {
    std::ostringstream c;
    c << "# storm benchmark config, generation " << generation << " (rewritten before each SIGHUP)\n"
      << "sources:\n"
      << "  - { name: ingest, type: http, listen: \"127.0.0.1:" << ingest_port << "\", token: \"${file:"
      << (dir / "ingest-token").string() << "}\" }\n"
      << "  - { name: storms, type: websocket, url: \"ws://127.0.0.1:" << ws_port << "/storms\", trusted: true }\n"
      << "channels:\n"
      << "  - { name: pager, type: webhook, url: \"" << rx.pager_url() << "\" }\n"
      << "  - { name: failing, type: webhook, url: \"" << rx.failing_url() << "\" }\n"
      << "  - { name: hanging, type: webhook, url: \"" << rx.hanging_url() << "\" }\n"
      << "playbooks:\n"
      << "  - { name: page, steps: [ { notify: [pager, failing, hanging] } ] }\n"
      << "admin: { listen: \"127.0.0.1:" << admin_port << "\", tokens_file: \""
      << (dir / "admin-tokens.yaml").string() << "\" }\n"
      << "storage: { path: \"" << state_db.string() << "\" }\n"
      << "rules:\n"
      // The background stream matches this rule, which never fires; each reload changes its
      // threshold, so every reload really changes the rules.
      << "  - { name: calm, match: { keywords: [\"acme\"], sources: [ingest] }, window: 1m, baseline: 1h, "
      << "fire_when: { all: [count >= " << (1000000000 + generation) << "] }, severity: info, playbook: page }\n";
    for (int k = 0; k < o.keys; ++k)
        c << "  - { name: storm-" << k << ", match: { keywords: [\"" << storm_keyword(k)
          << "\"], sources: [storms] }, window: 2s, baseline: 1h, fire_when: { all: [negative_count >= 3] }, "
          << "clear_when: { all: [count < 1], for: 1s }, max_incidents_per_hour: 0, severity: critical, "
             "playbook: page }\n";
    return c.str();
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    auto usage = [] {
        std::fprintf(stderr,
                     "usage: storm [--duration 10m] [--rate N] [--incidents N] [--idle N] [--uploads N] [--streams N]\n"
                     "             [--reload-every 10s] [--disk-full 30s] [--watchdog 20s] [--keys N] [--senders N]\n"
                     "             [--batch N] [--binary PATH] [--dir DIR] [--fill-limit-mib N]\n");
        return 64;
    };
    namespace bench = crisisd::bench;
    if (!bench::parse_options(
            argc, argv,
            {{"--duration", bench::duration_into(o.duration)},
             {"--rate", bench::number_into(o.rate)},
             {"--incidents", bench::int_into(o.incidents)},
             {"--idle", bench::int_into(o.idle)},
             {"--uploads", bench::int_into(o.uploads)},
             {"--streams", bench::int_into(o.streams)},
             {"--reload-every", bench::duration_into(o.reload_every)},
             {"--disk-full",
              [&](const std::string& v) {
                  if (v != "0") return bench::duration_into(o.disk_full)(v);
                  o.disk_full = 0ms;  // no full disk
                  return true;
              }},
             {"--watchdog", bench::duration_into(o.watchdog)},
             {"--keys", bench::int_into(o.keys, 1)},
             {"--senders", bench::int_into(o.senders, 1)},
             {"--batch", bench::int_into(o.batch, 1)},
             {"--binary", bench::text_into(o.binary)},
             {"--dir", bench::text_into(o.dir)},
             {"--fill-limit-mib",
              [&](const std::string& v) {
                  o.fill_limit_mib = std::strtoull(v.c_str(), nullptr, 10);
                  return true;
              }}}))
        return usage();
    const double run_s = std::chrono::duration<double>(o.duration).count();

    // The state disk. A private mount namespace first, while this process has one thread (unshare
    // refuses CLONE_NEWNS to a multithreaded process): the tmpfs is then seen by this tool and
    // crisisd only and disappears with them, even when the tool is killed.
    auto tmpl = (o.dir / "crisisd-storm-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
        std::perror("storm: mkdtemp");
        return 1;
    }
    const fs::path dir = tmpl;
    const fs::path state_dir = dir / "state";
    fs::create_directories(state_dir);
    std::string disk_mode;
    bool can_fill = false;
    if (o.disk_full.count() > 0) {
        if (::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
            ::mount("storm-state", state_dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=0700") == 0) {
            disk_mode = "state database on a private 64 MiB tmpfs, filled for the phase";
            can_fill = true;
        } else {
            const std::string why = std::strerror(errno);
            struct statvfs vfs{};
            ::statvfs(state_dir.c_str(), &vfs);
            const std::uint64_t free_mib = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize >> 20;
            if (free_mib <= o.fill_limit_mib) {
                disk_mode = "no private tmpfs (" + why + "); filling the state directory's filesystem (" +
                            std::to_string(free_mib) + " MiB free)";
                can_fill = true;
            } else {
                disk_mode = "SKIPPED: no private tmpfs (" + why + ", needs root) and the state directory's filesystem has " +
                            std::to_string(free_mib) + " MiB free (> --fill-limit-mib " + std::to_string(o.fill_limit_mib) +
                            "): filling it would hit everyone on it";
            }
        }
    } else {
        disk_mode = "not asked for (--disk-full 0)";
    }
    const fs::path state_db = state_dir / "state.db";

    int exit_code = 0;
    try {
        // The ingest token rotates with every reload: a new secret file, then SIGHUP; the senders
        // take the new token once crisisd says the reload is done (READY=1), and a request that
        // meets the other token meanwhile (401) is sent again with the newest one.
        auto token_for = [](int gen) { return "storm-ingest-token-" + std::to_string(gen) + "-0c5e2a7d91f4"; };
        std::mutex token_m;
        std::string ingest_token = token_for(0);
        auto current_token = [&] {
            std::lock_guard lock(token_m);
            return ingest_token;
        };
        auto write_token = [&](int gen) {
            auto tmp = dir / "ingest-token.new";
            std::ofstream(tmp) << token_for(gen);
            fs::rename(tmp, dir / "ingest-token");
        };
        write_token(0);
        std::atomic<std::uint64_t> token_retries{0}, token_retry_failures{0};
        crisisd::testing::write_admin_tokens(dir);
        const std::string& admin_token = crisisd::testing::test_admin_token;

        receivers rx;
        asio::io_context ws_io;
        auto ws_guard = asio::make_work_guard(ws_io);
        crisisd::net::websocket_server ws(ws_io.get_executor(), {});
        if (ws.start()) throw std::runtime_error("websocket server: cannot bind");
        std::thread ws_thread([&] { ws_io.run(); });
        struct ws_stop {
            crisisd::net::websocket_server& ws;
            asio::executor_work_guard<asio::io_context::executor_type>& guard;
            asio::io_context& io;
            std::thread& t;
            ~ws_stop() {
                ws.stop();
                guard.reset();
                io.stop();
                t.join();
            }
        } ws_stopper{ws, ws_guard, ws_io, ws_thread};

        const std::uint16_t ingest_port = free_port(), admin_port = free_port();
        int generation = 0;
        auto write_config = [&] {
            auto tmp = dir / "crisisd.yaml.new";
            std::ofstream(tmp) << config_text(o, dir, state_db, ingest_port, admin_port, ws.port(), rx, generation);
            fs::rename(tmp, dir / "crisisd.yaml");
        };
        write_config();

        notify_socket notify(dir / "notify.sock");
        ::setenv("NOTIFY_SOCKET", (dir / "notify.sock").c_str(), 1);
        ::setenv("WATCHDOG_USEC", std::to_string(std::chrono::microseconds(o.watchdog).count()).c_str(), 1);
        ::unsetenv("WATCHDOG_PID");
        crisisd::testing::child_process d({o.binary, "run", "--config", (dir / "crisisd.yaml").string()});
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        if (!d.wait_for_stderr(R"(console on http://127\.0\.0\.1:(\d+)/)", 60s) ||
            !crisisd::testing::wait_until([&] { return notify.ready() > 0 && ws.connection_count() > 0; }, 30s)) {
            throw std::runtime_error("crisisd did not start:\n" + d.stderr_text());
        }
        const pid_t pid = d.pid();
        std::uint64_t fd_limit = 0;
        {
            std::ifstream limits("/proc/" + std::to_string(pid) + "/limits");
            for (std::string line; std::getline(limits, line);)
                if (line.rfind("Max open files", 0) == 0) fd_limit = std::strtoull(line.c_str() + 26, nullptr, 10);
        }
        std::printf("storm: crisisd pid %d, ingest :%u, admin :%u, state in %s\n", pid, ingest_port, admin_port,
                    state_dir.c_str());
        std::printf("  disk: %s\n", disk_mode.c_str());
        std::fflush(stdout);

        std::atomic<bool> stop{false};      // generators and fault makers stop
        std::atomic<bool> finished{false};  // samplers stop
        const auto t0 = steady::now();
        const auto t_end = t0 + o.duration;
        std::vector<std::thread> threads;

        // --- background stream: NDJSON batches, paced to the rate, keep-alive connections.
        std::atomic<std::uint64_t> bg_sent{0}, bg_accepted{0}, bg_rejected{0}, bg_failed_lines{0}, bg_requests{0},
            bg_reconnects{0};
        std::mutex bg_m;
        std::map<int, std::uint64_t> bg_status;
        for (int s = 0; s < o.senders; ++s) {
            threads.emplace_back([&, s] {
                const double per_sender = o.rate / o.senders;
                std::uint64_t n = 0;
                int fd = -1;
                auto start = steady::now();
                std::string body, req;
                while (!stop) {
                    // Paced: batch i leaves no earlier than i*batch/rate after start.
                    auto due = start + std::chrono::duration_cast<steady::duration>(
                                           std::chrono::duration<double>(static_cast<double>(n) / per_sender));
                    if (due > steady::now()) std::this_thread::sleep_until(std::min(due, steady::now() + 200ms));
                    if (due > steady::now()) continue;
                    if (fd < 0) {
                        fd = connect_to(ingest_port, 30s);
                        if (fd < 0) {
                            ++bg_reconnects;
                            std::this_thread::sleep_for(100ms);
                            continue;
                        }
                    }
                    body.clear();
                    for (int i = 0; i < o.batch; ++i, ++n) {
                        body += R"({"id":"bg-)";
                        body += std::to_string(s);
                        body += '-';
                        body += std::to_string(n);
                        body += R"(","author":"@calm)";
                        body += std::to_string(n % 4099);
                        body += R"(","lang":"en","text":")";
                        body += background_texts[n % (sizeof background_texts / sizeof *background_texts)];
                        body += " #";
                        body += std::to_string(n % 89);
                        body += "\"}\n";
                    }
                    auto token = current_token();
                    req = request_text("POST", ingest_port, "/api/v1/mentions", token, body, "application/x-ndjson");
                    bg_sent += static_cast<std::uint64_t>(o.batch);
                    ++bg_requests;
                    raw_response r;
                    if (send_all(fd, req)) r = read_response(fd, steady::now() + 60s);
                    // Crossed a rotation: wait (up to 15 s) for the token the reload brought, then
                    // send the batch again (its ids are the same: a duplicate is dropped).
                    // Not cut short by the end of the run: a batch sent is seen through.
                    for (int again = 0; r.status == 401 && again < 3; ++again) {
                        ++token_retries;
                        for (int w = 0; w < 300 && current_token() == token; ++w)
                            std::this_thread::sleep_for(50ms);
                        token = current_token();
                        req = request_text("POST", ingest_port, "/api/v1/mentions", token, body, "application/x-ndjson");
                        if (fd < 0 || !r.keep_alive) {
                            if (fd >= 0) ::close(fd);
                            fd = connect_to(ingest_port, 30s);
                        }
                        r = {};
                        if (fd >= 0 && send_all(fd, req)) r = read_response(fd, steady::now() + 60s);
                        if (r.status == 401 && again == 2) ++token_retry_failures;
                    }
                    {
                        std::lock_guard lock(bg_m);
                        ++bg_status[r.status];
                    }
                    if (r.status == 202) {
                        boost::system::error_code ec;
                        auto v = boost::json::parse(r.body, ec);
                        if (!ec && v.is_object()) {
                            if (auto* x = v.as_object().if_contains("accepted")) bg_accepted += x->to_number<std::uint64_t>();
                            if (auto* x = v.as_object().if_contains("rejected")) bg_rejected += x->to_number<std::uint64_t>();
                        }
                    } else {
                        bg_failed_lines += static_cast<std::uint64_t>(o.batch);
                    }
                    if (r.status == 0 || !r.keep_alive) {
                        ::close(fd);
                        fd = -1;
                        ++bg_reconnects;
                    }
                }
                if (fd >= 0) ::close(fd);
            });
        }

        // --- incidents: what crisisd lists, polled; storms of complaints on free keys.
        std::mutex inc_m;
        std::map<std::uint64_t, incident_seen> seen;
        std::atomic<std::uint64_t> list_polls{0}, list_failures{0};
        std::vector<double> list_ms;
        auto poll_incidents = [&] {
            auto t = steady::now();
            auto r = one_request(admin_port, request_text("GET", admin_port, "/api/v1/incidents", admin_token, ""), 30s);
            ++list_polls;
            if (r.status != 200) {
                ++list_failures;
                return;
            }
            boost::system::error_code ec;
            auto v = boost::json::parse(r.body, ec);
            if (ec || !v.is_object() || !v.as_object().contains("incidents")) {
                ++list_failures;
                return;
            }
            std::lock_guard lock(inc_m);
            list_ms.push_back(ms_since(t));
            for (const auto& x : v.as_object().at("incidents").as_array()) {
                if (!x.is_object()) continue;
                const auto& obj = x.as_object();
                auto* id = obj.if_contains("id");
                if (!id || !id->is_number()) continue;
                auto& s = seen[id->to_number<std::uint64_t>()];
                if (auto* r2 = obj.if_contains("rule"); r2 && r2->is_string()) s.rule = r2->as_string().c_str();
                if (auto* st = obj.if_contains("state"); st && st->is_string()) s.state = st->as_string().c_str();
                if (auto* us = obj.if_contains("opened_at_us"); us && us->is_number())
                    s.opened_at = wall::time_point(std::chrono::microseconds(us->to_number<std::int64_t>()));
                else if (auto* at = obj.if_contains("opened_at"); at && at->is_string())
                    if (auto ts = crisisd::core::parse_rfc3339(std::string_view(at->as_string())))
                        s.opened_at = wall::time_point(std::chrono::duration_cast<wall::duration>(ts->time_since_epoch()));
            }
        };
        std::atomic<int> storms_started{0}, storms_delayed{0}, storms_stuck{0};
        threads.emplace_back([&] {
            // Storms start evenly over the first 85 % of the run, so the last can resolve.
            const double storm_span = run_s * 0.85;
            const double every = o.incidents > 0 ? storm_span / o.incidents : 1e9;
            struct key_state {
                bool busy = false;
                steady::time_point since;
                std::uint64_t known_before = 0;  // incidents of this rule seen before the storm
            };
            std::vector<key_state> keys(static_cast<std::size_t>(o.keys));
            int mention_n = 0;
            int delayed_index = -1;
            auto next_poll = steady::now();
            while (!stop) {
                auto now = steady::now();
                if (now >= next_poll) {
                    poll_incidents();
                    next_poll = steady::now() + 500ms;
                }
                // A key is free again once its rule has an incident more than before the storm,
                // and every incident of the rule is resolved.
                std::map<std::string, std::pair<std::uint64_t, bool>> per_rule;  // count, all resolved
                {
                    std::lock_guard lock(inc_m);
                    for (const auto& [id, s] : seen) {
                        auto& e = per_rule[s.rule];
                        ++e.first;
                        if (e.first == 1) e.second = true;
                        if (s.state != "resolved") e.second = false;
                    }
                }
                for (int k = 0; k < o.keys; ++k) {
                    auto& ks = keys[static_cast<std::size_t>(k)];
                    if (!ks.busy) continue;
                    auto it = per_rule.find("storm-" + std::to_string(k));
                    if (it != per_rule.end() && it->second.first > ks.known_before && it->second.second) ks.busy = false;
                    else if (now - ks.since > 90s) {
                        ++storms_stuck;
                        ks.busy = false;
                    }
                }
                const double elapsed = std::chrono::duration<double>(now - t0).count();
                if (storms_started < o.incidents && elapsed >= storms_started * every && elapsed < storm_span + 1) {
                    int k = -1;
                    for (int i = 0; i < o.keys; ++i)
                        if (!keys[static_cast<std::size_t>((storms_started + i) % o.keys)].busy) {
                            k = (storms_started + i) % o.keys;
                            break;
                        }
                    if (k < 0) {
                        if (delayed_index != storms_started) ++storms_delayed;
                        delayed_index = storms_started;
                    } else {
                        auto& ks = keys[static_cast<std::size_t>(k)];
                        auto it = per_rule.find("storm-" + std::to_string(k));
                        ks.known_before = it == per_rule.end() ? 0 : it->second.first;
                        ks.busy = true;
                        ks.since = now;
                        const char* complaints[] = {"is down again, terrible awful outage, furious",
                                                    "broken for hours, worst service ever, horrible",
                                                    "outage again, disgusting, I hate this, so angry",
                                                    "dead again, awful support, terrible disaster"};
                        for (int j = 0; j < 4; ++j) {
                            boost::json::object m;
                            m["id"] = "storm-" + std::to_string(++mention_n);
                            m["author"] = "@angry" + std::to_string(j) + "-" + std::to_string(storms_started.load());
                            m["lang"] = "en";
                            m["text"] = storm_keyword(k) + " " + complaints[j];
                            ws.broadcast(boost::json::serialize(m));
                        }
                        ++storms_started;
                    }
                }
                std::this_thread::sleep_for(20ms);
            }
        });

        // --- idle and slowloris connections against both listeners, re-opened when closed.
        std::atomic<std::uint64_t> idle_open{0}, idle_closed_by_server{0}, idle_connect_failures{0};
        std::atomic<std::uint64_t> idle_peak{0};
        if (o.idle > 0)
            threads.emplace_back([&] {
                struct conn {
                    int fd = -1;
                    std::uint16_t port;
                    bool slow;
                    steady::time_point next_byte;
                    std::size_t sent = 0;
                };
                std::vector<conn> conns;
                for (int i = 0; i < o.idle; ++i)
                    conns.push_back({-1, i % 2 ? admin_port : ingest_port, (i / 2) % 2 == 1, steady::now(), 0});
                const std::string slow_header = "POST /api/v1/mentions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Storm-Slowloris: ";
                auto next_fill = steady::now();
                while (!stop) {
                    auto now = steady::now();
                    // Open (or re-open) at most 200 a round, so a refusing listener is not hammered.
                    if (now >= next_fill) {
                        int opened = 0;
                        for (auto& c : conns) {
                            if (c.fd >= 0 || opened >= 200) continue;
                            c.fd = connect_to(c.port, 1s);
                            if (c.fd < 0) {
                                ++idle_connect_failures;
                                break;
                            }
                            ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
                            ++opened;
                            c.sent = 0;
                            c.next_byte = now;
                        }
                        next_fill = now + 500ms;
                    }
                    std::vector<pollfd> pfds;
                    std::vector<conn*> who;
                    std::uint64_t open = 0;
                    for (auto& c : conns) {
                        if (c.fd < 0) continue;
                        ++open;
                        pfds.push_back({c.fd, POLLIN | POLLRDHUP, 0});
                        who.push_back(&c);
                        if (c.slow && now >= c.next_byte) {
                            // One byte of a header that never ends, every 5 s.
                            char b = c.sent < slow_header.size() ? slow_header[c.sent] : 'a';
                            if (::send(c.fd, &b, 1, MSG_NOSIGNAL) == 1) ++c.sent;
                            c.next_byte = now + 5s;
                        }
                    }
                    idle_open = open;
                    idle_peak = std::max<std::uint64_t>(idle_peak, open);
                    ::poll(pfds.data(), pfds.size(), 100);
                    for (std::size_t i = 0; i < pfds.size(); ++i) {
                        if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLRDHUP | POLLERR))) continue;
                        char buf[4096];
                        auto n = ::recv(pfds[i].fd, buf, sizeof buf, 0);
                        if (n > 0) continue;  // an answer (408, 431): the close follows
                        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
                        ::close(who[i]->fd);
                        who[i]->fd = -1;
                        ++idle_closed_by_server;
                    }
                }
                for (auto& c : conns)
                    if (c.fd >= 0) ::close(c.fd);
            });

        // --- 8 MiB bodies without a token, sent slowly (~10 s each), to ingest and admin in turn.
        std::atomic<std::uint64_t> uploads_done{0};
        std::mutex up_m;
        std::map<std::string, std::uint64_t> upload_outcomes;
        for (int u = 0; u < o.uploads; ++u)
            threads.emplace_back([&, u] {
                const std::size_t total = 8u << 20;
                const std::string chunk(64 * 1024, 'x');
                for (int round = 0; !stop; ++round) {
                    const bool admin = (u + round) % 2 == 1;
                    const std::uint16_t port = admin ? admin_port : ingest_port;
                    int fd = connect_to(port, 2s);
                    std::string outcome;
                    if (fd < 0) {
                        outcome = std::string(admin ? "admin" : "ingest") + " connect failed";
                        std::this_thread::sleep_for(500ms);
                    } else {
                        std::string head = std::string("POST ") + (admin ? "/api/v1/silences" : "/api/v1/mentions") +
                                           " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                                           "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " +
                                           std::to_string(total) + "\r\n\r\n";
                        bool ok = send_all(fd, head);
                        std::size_t sent = 0;
                        while (ok && sent < total && !stop) {
                            ok = send_all(fd, std::string_view(chunk).substr(0, std::min(chunk.size(), total - sent)));
                            if (ok) sent += std::min(chunk.size(), total - sent);
                            std::this_thread::sleep_for(75ms);
                        }
                        if (stop && sent < total) {
                            ::close(fd);
                            break;  // the end of the run cut it off: not an outcome
                        }
                        auto r = read_response(fd, steady::now() + 10s);
                        ::close(fd);
                        outcome = std::string(admin ? "admin" : "ingest") + " " +
                                  (r.status ? std::to_string(r.status) : std::string("no answer")) +
                                  (sent < total ? " (cut off after " + std::to_string(sent >> 20) + " MiB)" : "");
                        ++uploads_done;
                    }
                    std::lock_guard lock(up_m);
                    ++upload_outcomes[outcome];
                }
            });

        // --- console event streams that never read (the ticket flow), held to the end.
        std::atomic<int> streams_open{0};
        std::vector<int> stream_fds;
        for (int i = 0; i < o.streams; ++i) {
            auto r = one_request(admin_port, request_text("POST", admin_port, "/api/v1/events/ticket", admin_token, ""), 10s);
            std::string ticket;
            boost::system::error_code ec;
            auto v = boost::json::parse(r.body, ec);
            if (!ec && v.is_object())
                if (auto* t = v.as_object().if_contains("ticket"); t && t->is_string()) ticket = t->as_string().c_str();
            if (ticket.empty()) {
                std::printf("  event stream %d: no ticket (HTTP %d %s)\n", i, r.status, r.body.substr(0, 120).c_str());
                continue;
            }
            int fd = connect_to(admin_port, 5s, 4096);
            if (fd < 0 || !send_all(fd, request_text("GET", admin_port, "/api/v1/events?ticket=" + ticket, "", ""))) {
                if (fd >= 0) ::close(fd);
                continue;
            }
            stream_fds.push_back(fd);
            ++streams_open;
        }

        // --- reloads: rewrite the config, SIGHUP.
        std::atomic<int> reloads_sent{0}, rotations{0};
        threads.emplace_back([&] {
            auto next = steady::now() + o.reload_every;
            while (!stop) {
                std::this_thread::sleep_for(50ms);
                if (steady::now() < next) continue;
                ++generation;
                write_token(generation);
                write_config();
                const int ready_before = notify.ready();
                d.signal(SIGHUP);
                ++reloads_sent;
                next += o.reload_every;
                // The senders switch once the reload is done (or refused: READY=1 either way).
                if (crisisd::testing::wait_until([&] { return notify.ready() > ready_before; }, 15s)) {
                    std::lock_guard lock(token_m);
                    ingest_token = token_for(generation);
                    ++rotations;
                }
            }
        });

        // --- the disk full for a while, from 30 % of the run on.
        std::atomic<std::uint64_t> filled_mib{0};
        std::atomic<double> full_from_s{-1}, full_to_s{-1};
        std::atomic<wall::time_point> full_from_wall{wall::time_point::max()}, full_to_wall{wall::time_point::max()};
        std::string fill_error;
        if (can_fill)
            threads.emplace_back([&] {
                auto at = t0 + std::chrono::duration_cast<steady::duration>(o.duration * 3 / 10);
                while (!stop && steady::now() < at) std::this_thread::sleep_for(50ms);
                if (stop) return;
                auto filler = state_dir / "storm-filler";
                int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0) {
                    fill_error = std::strerror(errno);
                    return;
                }
                full_from_s = std::chrono::duration<double>(steady::now() - t0).count();
                full_from_wall = wall::now();
                const std::string mib(1 << 20, '\0');
                std::uint64_t bytes = 0;
                for (;;) {
                    auto n = ::write(fd, mib.data(), mib.size());
                    if (n <= 0) break;
                    bytes += static_cast<std::uint64_t>(n);
                }
                filled_mib = bytes >> 20;
                auto until = steady::now() + o.disk_full;
                while (!stop && steady::now() < until) {
                    // Whatever crisisd frees meanwhile is taken too: the disk stays full.
                    auto n = ::write(fd, mib.data(), 4096);
                    if (n <= 0) std::this_thread::sleep_for(20ms);
                }
                ::close(fd);
                ::unlink(filler.c_str());
                full_to_s = std::chrono::duration<double>(steady::now() - t0).count();
                full_to_wall = wall::now();
            });

        // --- samplers: /healthz every 100 ms, RSS every second.
        std::vector<double> healthz_ms;
        std::map<int, std::uint64_t> healthz_status;
        std::vector<std::string> healthz_bodies;  // what the answers other than 200 said (a few)
        std::atomic<std::uint64_t> healthz_window_max_us{0};  // since the last progress line
        std::thread healthz([&] {
            const auto req = request_text("GET", admin_port, "/healthz", "", "");
            auto next = steady::now();
            while (!finished) {
                auto t = steady::now();
                auto r = one_request(admin_port, req, 30s);
                healthz_ms.push_back(ms_since(t));
                {
                    const auto us = static_cast<std::uint64_t>(healthz_ms.back() * 1000);
                    auto seen_max = healthz_window_max_us.load();
                    while (us > seen_max && !healthz_window_max_us.compare_exchange_weak(seen_max, us)) {
                    }
                }
                ++healthz_status[r.status];
                if (r.status != 200 && healthz_bodies.size() < 8) {
                    std::string first_line;  // numbers masked, so one kind of answer is shown once
                    for (char c : r.body.substr(0, r.body.find('\n')).substr(0, 200))
                        if (!std::isdigit(static_cast<unsigned char>(c))) first_line += c;
                        else if (first_line.empty() || first_line.back() != '#') first_line += '#';
                    if (std::find(healthz_bodies.begin(), healthz_bodies.end(), first_line) == healthz_bodies.end())
                        healthz_bodies.push_back(first_line);
                }
                next += 100ms;
                if (next < steady::now()) next = steady::now();
                std::this_thread::sleep_until(next);
            }
        });
        std::uint64_t rss_peak_sampled = 0, vmhwm = 0, fd_peak = 0;
        std::vector<std::pair<double, std::uint64_t>> rss_timeline;
        std::thread rss([&] {
            int n = 0;
            while (!finished) {
                auto kb = proc_status_kb(pid, "VmRSS:");
                if (kb == 0) break;  // exited
                rss_peak_sampled = std::max(rss_peak_sampled, kb);
                std::error_code fd_ec;
                std::uint64_t fds = 0;
                for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", fd_ec);
                     !fd_ec && it != fs::directory_iterator(); it.increment(fd_ec))
                    ++fds;
                fd_peak = std::max(fd_peak, fds);
                vmhwm = std::max(vmhwm, proc_status_kb(pid, "VmHWM:"));
                if (++n % 10 == 0) rss_timeline.emplace_back(std::chrono::duration<double>(steady::now() - t0).count(), kb);
                std::this_thread::sleep_for(1s);
            }
        });

        // Progress every 10 s, so a long run shows it is alive.
        std::optional<int> crisisd_exit;
        double crisisd_exit_at = -1;
        auto metrics_text = [&] {
            return one_request(admin_port, request_text("GET", admin_port, "/metrics", admin_token, ""), 30s).body;
        };
        while (steady::now() < t_end) {
            std::this_thread::sleep_until(std::min(t_end, steady::now() + 10s));
            if (auto e = d.wait_exit(1ms)) {
                crisisd_exit = e;
                crisisd_exit_at = std::chrono::duration<double>(steady::now() - t0).count();
                break;
            }
            // The machine's load average beside /healthz's slowest answer: the tool shares the
            // machine, and a loop that waits for a CPU answers late as surely as a blocked one.
            std::string load;
            std::getline(std::ifstream("/proc/loadavg"), load);
            std::printf("  t=%4.0fs  sent %llu (accepted %llu)  storms %d  pages %zu  idle open %llu  rss %llu MB  "
                        "/healthz max %.0f ms  loadavg %s\n",
                        std::chrono::duration<double>(steady::now() - t0).count(),
                        static_cast<unsigned long long>(bg_sent.load()), static_cast<unsigned long long>(bg_accepted.load()),
                        storms_started.load(), rx.pages().size(), static_cast<unsigned long long>(idle_open.load()),
                        static_cast<unsigned long long>(rss_peak_sampled / 1024),
                        static_cast<double>(healthz_window_max_us.exchange(0)) / 1000.0, load.substr(0, 14).c_str());
            std::fflush(stdout);
        }
        const double load_s = std::chrono::duration<double>(steady::now() - t0).count();
        stop = true;
        for (auto& t : threads) t.join();
        threads.clear();

        // Drain: every accepted mention processed, every opened incident paged, or 30 s.
        const double storm_mentions = 4.0 * storms_started;
        double processed = -1;
        if (!crisisd_exit) {
            crisisd::testing::wait_until(
                [&] {
                    processed = crisisd::testing::metric(metrics_text(), "crisisd_mentions_processed_total");
                    poll_incidents();
                    std::set<std::uint64_t> paged;
                    for (const auto& p : rx.pages()) paged.insert(p.incident);
                    std::lock_guard lock(inc_m);
                    bool all_paged = std::all_of(seen.begin(), seen.end(), [&](const auto& kv) { return paged.count(kv.first); });
                    return all_paged && processed >= static_cast<double>(bg_accepted) + storm_mentions;
                },
                30s);
        }
        const std::string metrics = crisisd_exit ? std::string() : metrics_text();
        finished = true;
        healthz.join();
        rss.join();
        double cpu_s = -1;
        if (!crisisd_exit) {
            vmhwm = std::max(vmhwm, proc_status_kb(pid, "VmHWM:"));
            cpu_s = proc_cpu_seconds(pid);
        }
        for (int fd : stream_fds) ::close(fd);
        const auto pings = notify.pings();
        if (!crisisd_exit) {
            d.signal(SIGTERM);
            crisisd_exit = d.wait_exit(20s);
            if (!crisisd_exit) std::printf("  crisisd did not exit within 20 s of SIGTERM (killed)\n");
        } else {
            std::printf("  CRISISD EXITED during the run: status %d at t=%.1fs\n", *crisisd_exit, crisisd_exit_at);
        }

        // ------------------------------------------------------------------ the report
        auto pages = rx.pages();
        std::map<std::uint64_t, wall::time_point> first_page;
        std::map<std::uint64_t, wall::time_point> opened;
        for (const auto& p : pages) {
            if (!first_page.count(p.incident) || p.received < first_page[p.incident]) first_page[p.incident] = p.received;
            if (p.opened_at) opened[p.incident] = *p.opened_at;
        }
        std::uint64_t opened_n = 0, resolved_n = 0, unpaged = 0;
        for (const auto& [id, s] : seen) {
            ++opened_n;
            if (s.state == "resolved") ++resolved_n;
            if (!first_page.count(id)) ++unpaged;
            if (s.opened_at && !opened.count(id)) opened[id] = *s.opened_at;
        }
        // Incidents opened while the disk was full are also shown apart, so the rest can be judged
        // on its own.
        std::vector<double> page_ms, page_ms_disk, page_ms_rest;
        for (const auto& [id, at] : first_page) {
            if (!opened.count(id)) continue;
            const double ms = std::chrono::duration<double, std::milli>(at - opened[id]).count();
            page_ms.push_back(ms);
            const bool near_full = opened[id] >= full_from_wall.load() && opened[id] <= full_to_wall.load();
            (near_full ? page_ms_disk : page_ms_rest).push_back(ms);
        }
        double max_gap_s = 0;
        int misses = 0;
        for (std::size_t i = 1; i < pings.size(); ++i) {
            double g = std::chrono::duration<double>(pings[i] - pings[i - 1]).count();
            max_gap_s = std::max(max_gap_s, g);
            if (g > std::chrono::duration<double>(o.watchdog).count()) ++misses;
        }
        auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
        auto verdict = [](bool ok) { return ok ? "meets" : "MISSES"; };

        std::printf("\nstorm: %.0f s of load (asked %.0f s), crisisd %s\n", load_s, run_s, o.binary.c_str());
        std::printf("load (crisisd CPU %.1f s over the run, %.0f %% of one core over the load phase)\n", cpu_s, 100.0 * cpu_s / load_s);
        std::printf("  background stream   %llu mentions sent in %llu POSTs = %.0f/s (asked %.0f/s); accepted %llu, "
                    "rejected %llu, in failed requests %llu; reconnects %llu\n",
                    u(bg_sent), u(bg_requests), static_cast<double>(bg_sent) / load_s, o.rate, u(bg_accepted),
                    u(bg_rejected), u(bg_failed_lines), u(bg_reconnects));
        {
            std::string st;
            for (const auto& [k, v] : bg_status) st += " " + (k ? std::to_string(k) : std::string("none")) + "×" + std::to_string(v);
            std::printf("  ingest answers     %s\n", st.c_str());
        }
        std::printf("  storms              %d started (asked %d), %d waited for a free key, %d keys never resolved "
                    "within 90 s; %d keys\n",
                    storms_started.load(), o.incidents, storms_delayed.load(), storms_stuck.load(), o.keys);
        std::printf("  idle + slowloris    %d asked, peak %llu open, %llu closed by crisisd, %llu connects failed\n", o.idle,
                    u(idle_peak), u(idle_closed_by_server), u(idle_connect_failures));
        {
            std::string st;
            for (const auto& [k, v] : upload_outcomes) st += "; " + k + " ×" + std::to_string(v);
            std::printf("  8 MiB uploads       %d clients, %llu finished%s\n", o.uploads, u(uploads_done), st.c_str());
        }
        std::printf("  event streams       %d of %d open, never read\n", streams_open.load(), o.streams);
        std::printf("  failing receivers   500: %llu requests; hanging 60 s: %llu requests\n", u(rx.failing_requests()),
                    u(rx.hanging_requests()));
        std::printf("  reloads             %d SIGHUPs, %d RELOADING=1 and %d READY=1 (incl. start) on the notify socket\n",
                    reloads_sent.load(), notify.reloading(), notify.ready());
        std::printf("  token rotations     %d (each reload writes a new ingest secret); %llu requests crossed one "
                    "(401) and were sent again with the new token, %llu of them still refused\n",
                    rotations.load(), u(token_retries), u(token_retry_failures));
        if (can_fill)
            std::printf("  disk full           %s; %llu MiB filler from t=%.1fs to t=%.1fs%s%s\n", disk_mode.c_str(),
                        u(filled_mib), full_from_s.load(), full_to_s.load(), fill_error.empty() ? "" : "; error: ",
                        fill_error.c_str());
        else
            std::printf("  disk full           %s\n", disk_mode.c_str());

        std::printf("figures                                                        target\n");
        std::printf("  incidents opened %llu, resolved %llu; paged at least once %llu, never paged %llu   every one paged: %s\n",
                    u(opened_n), u(resolved_n), u(opened_n - unpaged), u(unpaged), verdict(unpaged == 0 && opened_n > 0));
        std::printf("  pages received %zu (for %zu incidents)\n", pages.size(), first_page.size());
        std::printf("  page latency after opened_at: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%zu)     p99 <= 1000 ms: %s\n",
                    pct(page_ms, 0.5), pct(page_ms, 0.99), pct(page_ms, 1.0), page_ms.size(),
                    verdict(!page_ms.empty() && pct(page_ms, 0.99) <= 1000));
        if (!page_ms_disk.empty())
            std::printf("    opened while the disk was full: p50 %.0f ms, p99 %.0f ms (%zu); "
                        "the others: p50 %.0f ms, p99 %.0f ms (%zu)\n",
                        pct(page_ms_disk, 0.5), pct(page_ms_disk, 0.99), page_ms_disk.size(), pct(page_ms_rest, 0.5),
                        pct(page_ms_rest, 0.99), page_ms_rest.size());
        {
            std::string st;
            for (const auto& [k, v] : healthz_status) st += " " + (k ? std::to_string(k) : std::string("none")) + "×" + std::to_string(v);
            std::printf("  /healthz: p50 %.1f ms, p99 %.1f ms, max %.0f ms (%zu samples;%s)   <= 100 ms: %s\n",
                        pct(healthz_ms, 0.5), pct(healthz_ms, 0.99), pct(healthz_ms, 1.0), healthz_ms.size(), st.c_str(),
                        verdict(!healthz_ms.empty() && pct(healthz_ms, 1.0) <= 100 && !healthz_status.count(0)));
            for (const auto& b : healthz_bodies) std::printf("    an answer other than 200 said: %s\n", b.c_str());
        }
        std::printf("  peak RSS (VmHWM) %.1f MB                                      <= 128 MB: %s\n",
                    static_cast<double>(vmhwm) / 1024.0, verdict(vmhwm > 0 && vmhwm <= 128 * 1024));
        std::printf("  open descriptors of crisisd: peak %llu (sampled every second; its limit: %llu)\n", u(fd_peak),
                    u(fd_limit));
        std::printf("  watchdog: %zu pings, max gap %.1f s, %d gaps > WATCHDOG_USEC (%.0f s)   no miss: %s\n",
                    pings.size(), max_gap_s, misses, std::chrono::duration<double>(o.watchdog).count(),
                    verdict(misses == 0 && pings.size() > 1 && crisisd_exit_at < 0));
        const double expected = static_cast<double>(bg_accepted) + storm_mentions;
        std::printf("  mentions processed %.0f of %.0f accepted (background %llu + storm %.0f); %llu sent were not "
                    "accepted   nothing lost: %s\n",
                    processed, expected, u(bg_accepted), storm_mentions, u(bg_sent - bg_accepted),
                    verdict(processed >= expected && bg_sent == bg_accepted));
        std::printf("  incident list polls %llu (%llu failed), p50 %.0f ms, max %.0f ms\n", u(list_polls), u(list_failures),
                    pct(list_ms, 0.5), pct(list_ms, 1.0));
        std::printf("  RSS every 10 s (MB):");
        for (const auto& [t, kb] : rss_timeline) std::printf(" %.0f", static_cast<double>(kb) / 1024.0);
        std::printf("\n");
        // crisisd's own counters that tell where things went.
        std::printf("crisisd metrics\n");
        // Series labelled by rule are summed (one line per metric, not one per storm rule).
        std::istringstream lines(metrics);
        std::vector<std::string> shown;
        std::map<std::string, double> per_rule_sums;
        for (std::string line; std::getline(lines, line);) {
            if (line.empty() || line[0] == '#' || line.find("_bucket") != std::string::npos) continue;
            for (const char* p : {"crisisd_mentions_", "crisisd_deliver", "crisisd_actions", "crisisd_incidents",
                                  "crisisd_source_", "crisisd_dead", "crisisd_outbox", "crisisd_state", "crisisd_http",
                                  "crisisd_reload", "crisisd_events", "crisisd_admin", "crisisd_ingest"})
                if (line.rfind(p, 0) == 0) {
                    if (auto at = line.find("{rule=\""); at != std::string::npos && line.find('}', at) != std::string::npos) {
                        auto name = line.substr(0, at) + "{rule=*}";
                        if (!per_rule_sums.count(name)) shown.push_back(name);
                        per_rule_sums[name] += std::atof(line.c_str() + line.rfind(' ') + 1);
                    } else {
                        shown.push_back(line);
                    }
                    break;
                }
        }
        for (const auto& l : shown) {
            if (auto it = per_rule_sums.find(l); it != per_rule_sums.end())
                std::printf("  %s %.0f\n", l.c_str(), it->second);
            else
                std::printf("  %s\n", l.c_str());
        }
        // What crisisd complained about, grouped with numbers masked.
        std::map<std::string, std::uint64_t> complaints;
        std::istringstream err(d.stderr_text());
        for (std::string line; std::getline(err, line);) {
            if (line.find("error") == std::string::npos && line.find("warn") == std::string::npos) continue;
            std::string masked;
            for (std::size_t i = 0; i < line.size() && masked.size() < 150; ++i) {
                if (std::isdigit(static_cast<unsigned char>(line[i]))) {
                    masked += '#';
                    while (i + 1 < line.size() && std::isdigit(static_cast<unsigned char>(line[i + 1]))) ++i;
                } else {
                    masked += line[i];
                }
            }
            ++complaints[masked];
        }
        std::vector<std::pair<std::uint64_t, std::string>> top;
        for (const auto& [k, v] : complaints) top.emplace_back(v, k);
        std::sort(top.rbegin(), top.rend());
        std::printf("crisisd errors and warnings (%zu kinds, most frequent first)\n", top.size());
        for (std::size_t i = 0; i < top.size() && i < 12; ++i) std::printf("  %6llu × %s\n", u(top[i].first), top[i].second.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "storm: harness failed: %s\n", e.what());
        exit_code = 1;
    }
    std::error_code ec;
    ::umount2(state_dir.c_str(), MNT_DETACH);
    fs::remove_all(dir, ec);
    return exit_code;
}
