// Issue 13, through the real binary: what a flood at the listeners can take from crisisd.
// - Idle connections beyond the caps (run under a low RLIMIT_NOFILE) leave /healthz and the
//   escalation page working: ingest refuses them before the descriptors run out.
// - Unauthenticated uploads are refused on their headers: 401, and the body never in memory.
// - A large ingest body is worked through in slices: the admin API answers in between.
// - A reload rotating the ingest token keeps the listener (same port, no refusal), and one
//   whose new address cannot be bound fails whole, keeping the running source.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "child_process.hpp"
#include "fakes/http_receiver.hpp"
#include "fakes/io_thread.hpp"
#include "net/http_client.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using crisisd::testing::admin_get;
using crisisd::testing::admin_request;
using crisisd::testing::child_process;
using crisisd::testing::metric;
using crisisd::testing::wait_until;

namespace {

const std::string token_a = "ingest-token-before-rotation-0c1d2e3f";
const std::string token_b = "ingest-token-after-rotation-9a8b7c6d";

// Ten people complaining about acme, as one NDJSON body; ids carry `prefix`.
std::string storm(const std::string& prefix) {
    std::string body;
    for (int i = 0; i < 10; ++i)
        body += R"({"id":")" + prefix + std::to_string(i) + R"(","author":"@person)" + std::to_string(i) +
                R"(","lang":"en","text":"acme is down again, this is terrible!"})" + "\n";
    return body;
}

// `n` mentions from one author that match the rule (so each is scored and counted) but can
// never open an incident; ids start with `prefix`.
std::string one_author_lines(const std::string& prefix, int n) {
    std::string body;
    for (int i = 0; i < n; ++i)
        body += R"({"id":")" + prefix + std::to_string(i) +
                R"(","author":"@someone","lang":"en","text":"acme again, what a terrible day )" + std::to_string(i) +
                "\"}\n";
    return body;
}

long rss_peak_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

// A TCP connection from `source` (a loopback address other than 127.0.0.1 is a peer of its own)
// that sends nothing; -1 when it could not be made.
int idle_connection(const std::string& source, std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

class listeners : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = crisisd::testing::make_temp_dir("crisisd-listeners");
        std::ofstream(dir_ / "ingest-token") << token_a;
    }
    void TearDown() override {
        for (int fd : idle_) ::close(fd);
        if (daemon_) {
            daemon_->signal(SIGTERM);
            daemon_->wait_exit(15s);
        }
        fs::remove_all(dir_);
    }

    void write_config(const std::string& source, const std::string& channel, const std::string& steps) {
        std::ofstream(dir_ / "crisisd.yaml") << "sources:\n  - name: ingest\n    type: http\n    trusted: true\n"
                                             << source << "channels:\n  - " << channel << R"(
rules:
  - name: outage
    match: { keywords: ["acme"] }
    window: 10m
    baseline: 1h
    fire_when: { all: [unique_authors >= 5] }
    clear_when: { all: [count < 1], for: 1h }
    severity: critical
    playbook: page
playbooks:
  - name: page
    steps:
)" << steps << R"(
admin: { listen: "127.0.0.1:0", tokens_file: ")"
                                             << crisisd::testing::write_admin_tokens(dir_).string() << R"(" }
storage: { path: ")" << (dir_ / "state.db").string() << R"(" }
)";
    }

    // Starts crisisd (under `prefix`, e.g. prlimit) and learns the ingest and admin ports.
    void start(std::vector<std::string> prefix = {}) {
        prefix.insert(prefix.end(), {CRISISD_BINARY, "run", "--config", (dir_ / "crisisd.yaml").string()});
        daemon_ = std::make_unique<child_process>(prefix);
        auto port = daemon_->wait_for_stderr(R"(source ingest: HTTP ingest on .* \(port (\d+)\))", 20s);
        ASSERT_TRUE(port) << daemon_->stderr_text();
        ingest_ = static_cast<std::uint16_t>(std::stoi(*port));
        auto admin = daemon_->wait_for_stderr(R"(console on http://127\.0\.0\.1:(\d+)/)", 20s);
        ASSERT_TRUE(admin) << daemon_->stderr_text();
        admin_ = static_cast<std::uint16_t>(std::stoi(*admin));
    }

    crisisd::net::http_response post(const std::string& body, const std::string& token) {
        boost::asio::io_context io;
        crisisd::net::http_client client(io.get_executor());
        crisisd::net::http_request req;
        req.method = "POST";
        req.url = "http://127.0.0.1:" + std::to_string(ingest_) + "/api/v1/mentions";
        req.headers.emplace_back("Content-Type", "application/x-ndjson");
        if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
        req.body = body;
        req.timeout = 60s;
        return crisisd::testing::run_sync(io, client.send(req));
    }

    std::string healthz() { return admin_request(admin_, "GET", "/healthz", {}, {}).body; }
    double gauge(const std::string& series) { return metric(admin_get(admin_, "/metrics"), series); }

    // Waits until `pattern` matches `n` lines of the log (the `n`th reload's outcome).
    bool reloaded(int n, const std::string& pattern) {
        const std::regex re(pattern);
        return wait_until(
            [&] {
                int seen = 0;
                std::istringstream log(daemon_->stderr_text());
                for (std::string line; std::getline(log, line);)
                    if (std::regex_search(line, re)) ++seen;
                return seen >= n;
            },
            20s);
    }

    fs::path dir_;
    std::unique_ptr<child_process> daemon_;
    std::uint16_t ingest_ = 0;
    std::uint16_t admin_ = 0;
    std::vector<int> idle_;
};

}  // namespace

// Finding "file descriptors run out": 400 idle ingest connections against RLIMIT_NOFILE 200
// used to take /healthz and the escalation page down with "Too many open files".
TEST_F(listeners, idle_connections_beyond_the_caps_leave_healthz_and_the_escalation_page_working) {
    // This process holds the idle ends: it needs more descriptors than crisisd gets.
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 600) GTEST_SKIP() << "the test needs 600 descriptors; the hard limit is " << rl.rlim_cur;
    if (!fs::exists("/usr/bin/prlimit")) GTEST_SKIP() << "needs /usr/bin/prlimit (util-linux)";

    crisisd::testing::http_receiver pager;
    pager.start();
    write_config("    listen: \"127.0.0.1:0\"\n", "{ name: pager, type: webhook, url: \"" + pager.url("/page") + "\" }",
                 "      - notify: [pager]\n      - escalate: { after: 5s, notify: [pager] }");
    // Soft and hard at 200, so raising the soft limit at start cannot lift it.
    start({"/usr/bin/prlimit", "--nofile=200:200"});
    ASSERT_FALSE(HasFatalFailure());

    ASSERT_EQ(post(storm("s-"), "").status, 202);
    ASSERT_TRUE(pager.wait_for(1, 20s)) << daemon_->stderr_text();

    // 400 connections that never send a byte, 31 from each of 13 loopback addresses (under the
    // per-address cap, so the descriptor reserve is what stops them).
    for (int i = 0; i < 400; ++i) {
        int fd = idle_connection("127.0.0." + std::to_string(2 + i / 31), ingest_);
        if (fd >= 0) idle_.push_back(fd);
    }
    ASSERT_TRUE(daemon_->wait_for_stderr("http listener " + std::to_string(ingest_) + " refuses connections: .*descriptors", 20s))
        << daemon_->stderr_text();
    // Ordering, not timing: the flood is in place before the escalation is due.
    ASSERT_EQ(pager.count(), 1u) << "the escalation came before the flood; the test proved nothing";

    EXPECT_EQ(healthz(), "ok\n");
    ASSERT_TRUE(pager.wait_for(2, 30s)) << "the escalation page did not get through\n" << daemon_->stderr_text();
    EXPECT_EQ(pager.requests().back().target, "/page");
    EXPECT_EQ(daemon_->stderr_text().find("Too many open files"), std::string::npos) << daemon_->stderr_text();
    EXPECT_EQ(healthz(), "ok\n");
}

// Finding "memory before authentication": twenty 7 MiB uploads without the token used to add
// 144 MB; each is now answered 401 from its headers and its body discarded unread.
TEST_F(listeners, unauthenticated_uploads_get_401_without_growing_memory) {
    write_config("    listen: \"127.0.0.1:0\"\n    token: ${file:" + (dir_ / "ingest-token").string() + "}\n",
                 "{ name: pager, type: file, path: \"" + (dir_ / "pages.jsonl").string() + "\" }",
                 "      - notify: [pager]");
    start();
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_EQ(post(storm("warm-"), token_a).status, 202);  // the ingest path has run once
    const long before = rss_peak_kib(daemon_->pid());
    ASSERT_GT(before, 0);

    const std::string upload(7 << 20, 'x');
    std::vector<std::thread> clients;
    std::atomic<int> refused{0};
    for (int i = 0; i < 20; ++i)
        clients.emplace_back([&] {
            if (post(upload, i % 2 == 0 ? "" : "wrong-token-0000000000").status == 401) ++refused;
        });
    // The admin API, too: a 1 MiB command without a token.
    auto admin = admin_request(admin_, "POST", "/api/v1/incidents/1/ack", std::string(1 << 20, 'y'), "");
    for (auto& t : clients) t.join();
    EXPECT_EQ(refused.load(), 20);
    EXPECT_EQ(admin.status, 401) << admin.body;

    const long after = rss_peak_kib(daemon_->pid());
    // 20 bodies read into memory would be 140 MB; what is left is allocator noise.
    EXPECT_LT(after - before, 32 * 1024) << "peak RSS grew from " << before << " to " << after << " KiB";
    EXPECT_EQ(post(storm("after-"), token_a).status, 202);
}

// Finding "the event loop blocks": a body of many lines is worked through in slices, and the
// admin API answers between them. Observed, not timed: a /metrics answer shows the body
// partly processed, which a loop busy with the whole body could never give.
TEST_F(listeners, the_admin_api_answers_while_a_large_body_is_worked_through) {
    write_config("    listen: \"127.0.0.1:0\"\n",
                 "{ name: pager, type: file, path: \"" + (dir_ / "pages.jsonl").string() + "\" }",
                 "      - notify: [pager]");
    start();
    ASSERT_FALSE(HasFatalFailure());
    constexpr int lines = 60000;
    bool seen_partial = false;
    std::string health;
    // A machine fast enough to finish a body between two /metrics requests proves nothing
    // either way: then another body is sent. A body takes only a handful of 10 ms slices on a
    // fast machine, and a fresh admin connection needs a few turns of the loop (accept, read,
    // answer), so one round in several sees no partial count: up to forty rounds, ~3 s at most.
    for (int round = 0; round < 40 && !seen_partial; ++round) {
        const auto body = one_author_lines("r" + std::to_string(round) + "-", lines);
        const double before = std::max(0.0, metric(admin_get(admin_, "/metrics"), "crisisd_mentions_processed_total"));
        crisisd::net::http_response response;
        std::thread sender([&] { response = post(body, ""); });
        // Watched until the whole body is processed, not only until the POST is answered: the
        // answer may come once the body is read and queued, before its slices are worked through.
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while (!seen_partial && std::chrono::steady_clock::now() < deadline) {
            const double processed = metric(admin_get(admin_, "/metrics"), "crisisd_mentions_processed_total") - before;
            if (processed > 0 && processed < lines) {
                health = healthz();
                seen_partial = true;
            }
            if (processed >= lines) break;
        }
        sender.join();
        ASSERT_EQ(response.status, 202) << response.error;
        EXPECT_NE(response.body.find(R"("accepted":60000)"), std::string::npos) << response.body.substr(0, 200);
    }
    EXPECT_TRUE(seen_partial) << "the admin API never answered while a body was being processed";
    EXPECT_EQ(health, "ok\n");
}

// Finding "a reload turns ingest off": rotating the token by a reload used to fail to rebind
// and silently stop the source while /healthz and its gauge said all was well.
TEST_F(listeners, a_reload_rotating_the_token_keeps_the_listener_and_takes_the_new_token) {
    write_config("    listen: \"127.0.0.1:0\"\n    token: ${file:" + (dir_ / "ingest-token").string() + "}\n",
                 "{ name: pager, type: file, path: \"" + (dir_ / "pages.jsonl").string() + "\" }",
                 "      - notify: [pager]");
    start();
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_EQ(post(storm("a-"), token_a).status, 202);

    std::ofstream(dir_ / "ingest-token") << token_b;
    daemon_->signal(SIGHUP);
    ASSERT_TRUE(reloaded(1, "reload: configuration from .* is in effect")) << daemon_->stderr_text();
    EXPECT_EQ(post(storm("b-"), token_b).status, 202) << daemon_->stderr_text();  // same port
    EXPECT_EQ(post(storm("c-"), token_a).status, 401);
    EXPECT_EQ(gauge(R"(crisisd_source_connected{source="ingest"})"), 1);
    EXPECT_EQ(healthz(), "ok\n");

    // A change that needs a new source (max_rate) on the same address: the listening socket
    // is handed over, so the port stays and nothing is refused.
    write_config("    listen: \"127.0.0.1:0\"\n    max_rate: 1000/s\n    token: ${file:" + (dir_ / "ingest-token").string() +
                     "}\n",
                 "{ name: pager, type: file, path: \"" + (dir_ / "pages.jsonl").string() + "\" }",
                 "      - notify: [pager]");
    daemon_->signal(SIGHUP);
    ASSERT_TRUE(reloaded(2, "reload: configuration from .* is in effect")) << daemon_->stderr_text();
    EXPECT_EQ(post(storm("d-"), token_b).status, 202) << daemon_->stderr_text();
    EXPECT_EQ(daemon_->stderr_text().find("Address already in use"), std::string::npos);
}

TEST_F(listeners, a_reload_whose_new_address_cannot_be_bound_fails_and_keeps_the_running_source) {
    write_config("    listen: \"127.0.0.1:0\"\n",
                 "{ name: pager, type: file, path: \"" + (dir_ / "pages.jsonl").string() + "\" }",
                 "      - notify: [pager]");
    start();
    ASSERT_FALSE(HasFatalFailure());
    // Served, so the event loop (and with it the SIGHUP handler) runs.
    ASSERT_EQ(post(storm("before-"), "").status, 202);
    // Someone else holds the address the new configuration names.
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor taken(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const auto taken_port = taken.local_endpoint().port();
    write_config("    listen: \"127.0.0.1:" + std::to_string(taken_port) + "\"\n",
                 "{ name: pager, type: file, path: \"" + (dir_ / "pages.jsonl").string() + "\" }",
                 "      - notify: [pager]");
    daemon_->signal(SIGHUP);
    ASSERT_TRUE(reloaded(1, "reload: the running configuration stays")) << daemon_->stderr_text();
    EXPECT_TRUE(daemon_->wait_for_stderr("source 'ingest': ingest listener .*Address already in use.*nothing of this", 1s))
        << daemon_->stderr_text();
    EXPECT_EQ(post(storm("still-"), "").status, 202) << "the running source stopped";
    EXPECT_EQ(gauge(R"(crisisd_source_connected{source="ingest"})"), 1);
    EXPECT_EQ(healthz(), "ok\n");
}

namespace {

// One HTTP/1.1 exchange on an open connection: the answer's status, 0 when none came (closed).
int round_trip(int fd, const std::string& request) {
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return 0;
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string in;
    char buf[4096];
    for (;;) {
        const auto end = in.find("\r\n\r\n");
        if (end != std::string::npos) {
            std::smatch m;
            const std::string head = in.substr(0, end);
            const std::size_t length = std::regex_search(head, m, std::regex(R"(Content-Length: (\d+))", std::regex::icase))
                                           ? std::stoul(m[1])
                                           : 0;
            if (in.size() >= end + 4 + length) return std::stoi(in.substr(9, 3));
        }
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return 0;
        in.append(buf, static_cast<std::size_t>(n));
    }
}

// Whether the server closed `fd` (a read sees the end), waiting up to 10 s.
bool closed_by_server(int fd) {
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char b;
    return ::recv(fd, &b, 1, 0) == 0;
}

}  // namespace

// Finding of the storm run: the per-address cap turned away clients of an address whose
// connections sat idle. An address at its cap now has its longest-idle connection closed to
// make room; and 127.0.0.1, which every local client shares (a monitor, systemd, a proxy on the
// host), is not held to the per-address cap at all, so idle connections from it leave /healthz
// answerable. Both used to get 503.
TEST_F(listeners, at_a_full_address_cap_the_longest_idle_connection_makes_room_and_local_probes_get_in) {
    write_config("    listen: \"127.0.0.1:0\"\n",
                 "{ name: pager, type: file, path: \"" + (dir_ / "pages.jsonl").string() + "\" }",
                 "      - notify: [pager]");
    start();
    ASSERT_FALSE(HasFatalFailure());

    // 32 keep-alive connections from 127.0.0.2 (ingest's per-address cap), each after one
    // request, then idle between requests; the first is the one idle longest.
    auto request = [&](const std::string& id) {
        const std::string b = R"({"id":")" + id + R"(","author":"@a","lang":"en","text":"hello"})" "\n";
        return "POST /api/v1/mentions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
               "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b;
    };
    std::vector<int> kept;
    for (int i = 0; i < 32; ++i) {
        int fd = idle_connection("127.0.0.2", ingest_);
        ASSERT_GE(fd, 0);
        idle_.push_back(fd);
        kept.push_back(fd);
        ASSERT_EQ(round_trip(fd, request("k-" + std::to_string(i))), 202) << "connection " << i;
    }
    // The 33rd from the same address gets in; the longest-idle one is closed for it.
    int extra = idle_connection("127.0.0.2", ingest_);
    ASSERT_GE(extra, 0);
    idle_.push_back(extra);
    EXPECT_EQ(round_trip(extra, request("extra")), 202) << daemon_->stderr_text();
    EXPECT_TRUE(closed_by_server(kept.front())) << "the longest-idle connection should have made room";
    EXPECT_TRUE(daemon_->wait_for_stderr("closes idle connections to make room", 10s)) << daemon_->stderr_text();
    // The connection in use since is idle more briefly than the second one: that one goes next.
    int another = idle_connection("127.0.0.2", ingest_);
    ASSERT_GE(another, 0);
    idle_.push_back(another);
    EXPECT_EQ(round_trip(another, request("another")), 202);
    EXPECT_TRUE(closed_by_server(kept[1]));

    // 100 silent connections from 127.0.0.1 to the admin listener (its per-address cap is 64),
    // then the probe every monitor makes from the same address.
    for (int i = 0; i < 100; ++i) {
        int fd = idle_connection("127.0.0.1", admin_);
        ASSERT_GE(fd, 0);
        idle_.push_back(fd);
    }
    int probe = idle_connection("127.0.0.1", admin_);
    ASSERT_GE(probe, 0);
    idle_.push_back(probe);
    EXPECT_EQ(round_trip(probe, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(admin_) + "\r\n\r\n"), 200) << daemon_->stderr_text();
    EXPECT_EQ(healthz(), "ok\n");
}

// Out of descriptors at start (RLIMIT_NOFILE too small for epoll, the state database, a listener
// or the signal pipe) passes, like a state directory not mounted yet: crisisd exits 75, which
// the unit restarts with back-off, never 78 (a config error it would not restart) or 1. Each
// limit from 4 up fails at a different step, until one is enough to start.
TEST_F(listeners, out_of_descriptors_at_start_exits_75_at_every_step) {
    if (!fs::exists("/usr/bin/prlimit")) GTEST_SKIP() << "needs /usr/bin/prlimit (util-linux)";
    write_config("    listen: \"127.0.0.1:0\"\n",
                 "{ name: pager, type: file, path: \"" + (dir_ / "pages.jsonl").string() + "\" }",
                 "      - notify: [pager]");
    int exits_75 = 0;
    bool started = false;
    for (int n = 4; n <= 64 && !started; ++n) {
        fs::remove(dir_ / "state.db");
        const auto limit = "--nofile=" + std::to_string(n) + ":" + std::to_string(n);
        child_process d({"/usr/bin/prlimit", limit, CRISISD_BINARY, "run", "--config", (dir_ / "crisisd.yaml").string()});
        std::optional<int> code;
        ASSERT_TRUE(wait_until(
            [&] {
                code = d.wait_exit(20ms);
                started = !code && d.stderr_text().find("crisisd running with") != std::string::npos;
                return code || started;
            },
            20s))
            << "limit " << n << ": neither exited nor started\n" << d.stderr_text();
        if (started) {
            d.signal(SIGTERM);
            EXPECT_EQ(d.wait_exit(15s), 0);
            break;
        }
        // The dynamic loader needs a few descriptors of its own before crisisd runs at all.
        if (*code == 127 && d.stderr_text().find("error while loading shared libraries") != std::string::npos) continue;
        EXPECT_EQ(*code, 75) << "limit " << n << "\n" << d.stderr_text();
        if (*code == 75) ++exits_75;
    }
    EXPECT_TRUE(started) << "64 descriptors should be enough to start";
    EXPECT_GE(exits_75, 3) << "the smallest limits should have failed at several steps";
}
