// x_throughput: how many X posts per second the real crisisd binary fully processes through a
// `type: x` source (chunked HTTP read, line split, the x parser, score, match, detect). A local
// stand-in answers the rules read with the configured rule (so nothing is added or deleted),
// then serves the filtered stream: ready-made chunks of ~64 KiB, each a run of post lines in
// X's shape (data + includes.users + matching_rules, ~560 bytes), written with blocking writes
// so TCP paces it to crisisd's reading. Scrapes crisisd_mentions_processed_total from /metrics
// and reports the wall-clock rate and the rate per CPU-second of crisisd (the steadier figure on
// a shared machine).
//
//   x_throughput [--binary PATH] [--count N] [--warmup N]
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fakes/io_thread.hpp"
#include "net/http_client.hpp"

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

std::string read_all(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

double cpu_seconds(pid_t pid) {
    auto stat = read_all("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double sample(const std::string& body, const std::string& name) {
    std::istringstream in(body);
    double total = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(name, 0) != 0) continue;
        auto rest = line.substr(name.size());
        if (!rest.empty() && rest[0] != ' ' && rest[0] != '{') continue;
        total += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return total;
}

const char* phrases[] = {
    "@liwest seit heute früh kein Internet in Linz, Hotline nicht erreichbar. Was ist los?",
    "liwest down again, third time this week. This is terrible service and nobody says anything",
    "Danke @liwest, Störung behoben, alles läuft wieder 👍",
    "Is liwest having an outage? My router blinks red since 7am #liwest",
    "liwest TV und Internet weg in Wels. Frechheit, zahlen aber pünktlich jeden Monat",
};

std::string post_line(std::uint64_t n) {
    const std::string id = std::to_string(1862750000000000000ULL + n);
    const std::string author = std::to_string(1000000 + n % 50000);
    std::string s;
    s.reserve(600);
    s += R"({"data":{"author_id":")" + author + R"(","created_at":"2026-11-30T08:14:03.000Z","edit_history_tweet_ids":[")" +
         id + R"("],"id":")" + id + R"(","lang":")" + (n % 2 ? "en" : "de") + R"(","text":")" + phrases[n % 5] +
         R"("},"includes":{"users":[{"id":")" + author + R"(","name":"Kundin )" + author + R"(","username":"kundin_)" + author +
         R"("}]},"matching_rules":[{"id":"1862749000000000001","tag":"isp"}]})";
    s += "\r\n";
    return s;
}

// Reads one request head from a connection; its target ("" on error).
std::string read_target(asio::ip::tcp::socket& socket, asio::streambuf& buffer) {
    boost::system::error_code ec;
    auto n = asio::read_until(socket, buffer, "\r\n\r\n", ec);
    if (ec) return {};
    std::string head(asio::buffers_begin(buffer.data()), asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(n));
    buffer.consume(n);
    auto first = head.find(' ');
    auto second = head.find(' ', first + 1);
    return first == std::string::npos || second == std::string::npos ? std::string() : head.substr(first + 1, second - first - 1);
}

}  // namespace

int main(int argc, char** argv) {
    std::string binary = CRISISD_BINARY;
    std::uint64_t count = 1'000'000, warmup = 100'000;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--binary" && i + 1 < argc) binary = argv[++i];
        else if (a == "--count" && i + 1 < argc) count = std::stoull(argv[++i]);
        else if (a == "--warmup" && i + 1 < argc) warmup = std::stoull(argv[++i]);
        else {
            std::fprintf(stderr, "usage: x_throughput [--binary PATH] [--count N] [--warmup N]\n");
            return 64;
        }
    }
    const std::uint64_t total = warmup + count;
    asio::io_context server_io;
    asio::ip::tcp::acceptor acceptor(server_io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = acceptor.local_endpoint().port();

    auto tmpl = (fs::temp_directory_path() / "crisisd-x-throughput-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) return 1;
    const fs::path dir = tmpl;
    std::ofstream(dir / "bearer") << "bench-bearer";
    std::ofstream(dir / "crisisd.yaml")
        << "sources:\n  - { name: x, type: x, url: \"http://127.0.0.1:" << port << "\", bearer_token: \"${file:"
        << (dir / "bearer").string() << "}\", rules: [ { value: \"liwest\", tag: isp } ], stall_timeout: 10m, "
        << "queue: { capacity: 10000 } }\n"
        << "channels:\n  - { name: pager, type: log }\n"
        << "playbooks:\n  - { name: page, steps: [ { notify: [pager] } ] }\n"
        << "admin: { listen: \"127.0.0.1:0\", metrics_open: true }\n"
        << "storage: { path: \"" << (dir / "state.db").string() << "\" }\n"
        << "rules:\n  - { name: isp, match: { keywords: [\"liwest\"] }, window: 10m, baseline: 1h, "
           "fire_when: { all: [count >= 1000000000] }, clear_when: { all: [count < 1], for: 1h }, "
           "severity: info, playbook: page }\n";

    const fs::path log = dir / "crisisd.log";
    pid_t pid = ::fork();
    if (pid == 0) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ::dup2(fd, STDERR_FILENO);
            ::dup2(fd, STDOUT_FILENO);
        }
        const std::string config = (dir / "crisisd.yaml").string();
        std::vector<char*> args{binary.data(), const_cast<char*>("run"), const_cast<char*>("--config"),
                                const_cast<char*>(config.c_str()), nullptr};
        ::execv(args[0], args.data());
        std::_Exit(127);
    }

    // The server: the rules read on one connection (kept open by the client's pool), the
    // stream on the next.
    asio::ip::tcp::socket rules_socket(server_io), stream_socket(server_io);
    std::thread producer([&] {
        boost::system::error_code ec;
        for (;;) {
            asio::ip::tcp::socket s(server_io);
            acceptor.accept(s, ec);
            if (ec) return;
            asio::streambuf buffer;
            auto target = read_target(s, buffer);
            if (target.rfind("/2/tweets/search/stream/rules", 0) == 0) {
                const std::string body =
                    R"({"data":[{"id":"1862749000000000001","value":"liwest","tag":"isp"}],"meta":{"sent":"2026-11-30T08:00:00.000Z","result_count":1}})";
                const std::string resp = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " +
                                         std::to_string(body.size()) + "\r\n\r\n" + body;
                asio::write(s, asio::buffer(resp), ec);
                rules_socket = std::move(s);
                continue;
            }
            const std::string head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            asio::write(s, asio::buffer(head), ec);
            std::string lines, chunk;
            for (std::uint64_t n = 0; n < total && !ec;) {
                lines.clear();
                while (lines.size() < 64 * 1024 && n < total) lines += post_line(n++);
                char size[32];
                std::snprintf(size, sizeof size, "%zx\r\n", lines.size());
                chunk.assign(size).append(lines).append("\r\n");
                asio::write(s, asio::buffer(chunk), ec);
            }
            stream_socket = std::move(s);
            return;
        }
    });

    std::optional<std::string> admin_port;
    const std::regex console(R"(console on http://127\.0\.0\.1:(\d+)/)");
    for (auto until = steady::now() + 60s; steady::now() < until && !admin_port; std::this_thread::sleep_for(20ms)) {
        std::smatch m;
        auto text = read_all(log);
        if (std::regex_search(text, m, console)) admin_port = m[1].str();
    }
    int exit_code = 0;
    if (!admin_port) {
        std::fprintf(stderr, "crisisd did not start:\n%s\n", read_all(log).c_str());
        exit_code = 1;
    } else {
        asio::io_context mio;
        crisisd::net::http_client client(mio.get_executor());
        auto processed = [&] {
            crisisd::net::http_request req;
            req.method = "GET";
            req.url = "http://127.0.0.1:" + *admin_port + "/metrics";
            return sample(crisisd::testing::run_sync(mio, client.send(req)).body, "crisisd_mentions_processed_total");
        };
        auto wait_for = [&](double target) {
            for (auto until = steady::now() + 600s; steady::now() < until; std::this_thread::sleep_for(20ms))
                if (processed() >= target) return true;
            return false;
        };
        if (!wait_for(static_cast<double>(warmup))) {
            std::fprintf(stderr, "warm-up did not complete\n%s\n", read_all(log).c_str());
            exit_code = 1;
        } else {
            const auto t0 = steady::now();
            const double cpu0 = cpu_seconds(pid);
            const double start = processed();
            const bool ok = wait_for(static_cast<double>(total));
            const double cpu1 = cpu_seconds(pid);
            const double wall = std::chrono::duration<double>(steady::now() - t0).count();
            const double done = processed() - start;
            std::printf("x_throughput: %s\n  %.0f posts in %.2f s wall -> %.0f posts/s\n", binary.c_str(), done, wall,
                        done / wall);
            std::printf("  cpu: %.2f s of crisisd (user+sys) -> %.0f posts per CPU-second (target 300000)\n", cpu1 - cpu0,
                        cpu1 > cpu0 ? done / (cpu1 - cpu0) : 0.0);
            if (!ok) exit_code = 1;
        }
    }
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    boost::system::error_code ignored;
    acceptor.close(ignored);
    producer.join();
    fs::remove_all(dir);
    return exit_code;
}
