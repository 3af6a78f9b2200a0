// soak: issue 12's live soak. Does crisisd stay flat when it runs long under load?
//
// Starts the real crisisd binary (`run`) on loopback with a short retention and feeds it for
// --duration:
//   load      a background stream of generic mentions at --rate per second, POSTed as NDJSON
//             batches to an HTTP ingest source over keep-alive connections by --senders threads
//             (a calm rule matches every one and never fires);
//   incidents every --cycle a short burst of complaints for the `pulse` rule on its own
//             connection: the rule opens an incident, pages a receiver on loopback (a webhook
//             the tool serves), and resolves it by clear_when once the burst has left the
//             window. Resolved incidents leave memory after --grace and the state database
//             after --retention, so both should reach a steady size within the first minutes.
//   samples   every --sample: crisisd's RSS (/proc/<pid>/status VmRSS) and the state database's
//             size (main file + write-ahead log), beside the mentions sent and processed and the
//             incidents paged.
// Then the verdict: over the samples of the last --window, max / min of RSS and of the database
// size, each against the issue's ±10 % (max ≤ 1.10 × min).
//
// A measurement, not a test: exit 0 whatever the figures, non-zero only when the harness failed
// (crisisd would not start, a bad option). The generators share the machine with crisisd, so the
// rate reached is printed next to the rate asked for.
//
//   soak [--duration 10m] [--window 8m] [--sample 30s] [--rate 100000] [--senders 2] [--batch 500]
//        [--cycle 6s] [--retention 1m] [--grace 20s] [--binary PATH] [--dir DIR]
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
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
#include "support.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace crisisd::bench;

namespace {

struct options {
    std::chrono::milliseconds duration = 10min, window = 8min, sample = 30s, cycle = 6s;
    std::chrono::milliseconds retention = 1min, grace = 20s;
    double rate = 100000;
    int senders = 2;
    int batch = 500;
    std::string binary = CRISISD_BINARY;
    fs::path dir = fs::temp_directory_path();
};

std::string config_duration(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

// The pager: counts pages and the distinct incidents they were for.
class pager {
public:
    pager() : guard_(asio::make_work_guard(io_)) {
        server_.emplace(io_.get_executor(), crisisd::net::http_server_options{},
                        [this](const crisisd::net::http_request_in& in) { return record(in); });
        if (server_->start()) throw std::runtime_error("pager: cannot bind");
        thread_ = std::thread([this] { io_.run(); });
    }
    ~pager() {
        server_->stop();
        guard_.reset();
        io_.stop();
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/hook"; }
    std::uint64_t pages() const { return pages_; }
    std::size_t incidents() const {
        std::lock_guard lock(m_);
        return ids_.size();
    }

private:
    asio::awaitable<crisisd::net::http_response_out> record(const crisisd::net::http_request_in& in) {
        ++pages_;
        boost::system::error_code ec;
        auto v = boost::json::parse(in.body, ec);
        if (!ec && v.is_object())
            if (auto* inc = v.as_object().if_contains("incident"); inc && inc->is_object())
                if (auto* id = inc->as_object().if_contains("id"); id && id->is_number()) {
                    std::lock_guard lock(m_);
                    ids_.insert(id->to_number<std::uint64_t>());
                }
        crisisd::net::http_response_out out;
        out.content_type = "application/json";
        out.body = "{}";
        co_return out;
    }

    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::optional<crisisd::net::http_server> server_;
    std::thread thread_;
    std::atomic<std::uint64_t> pages_{0};
    mutable std::mutex m_;
    std::set<std::uint64_t> ids_;
};

const char* const background_texts[] = {
    "acme internet is a bit slow tonight but it works, streaming is fine",
    "switched my plan with acme today, the shop was friendly and quick",
    "does anyone know if acme fibre reaches the new houses on the hill",
    "acme app update looks nice, the bill is easier to read now",
    "had to restart the acme router once this week, otherwise all good",
    "acme support chat answered in two minutes, question sorted",
};

std::string config_text(const options& o, const fs::path& dir, const fs::path& state_db, std::uint16_t ingest_port,
                        std::uint16_t admin_port, const pager& rx) {
    std::ostringstream c;
    c << "# soak benchmark config\n"
      << "sources:\n"
      << "  - { name: ingest, type: http, listen: \"127.0.0.1:" << ingest_port << "\", token: \"${file:"
      << (dir / "ingest-token").string() << "}\" }\n"
      << "channels:\n"
      << "  - { name: pager, type: webhook, url: \"" << rx.url() << "\" }\n"
      << "playbooks:\n"
      << "  - { name: page, steps: [ { notify: [pager] } ] }\n"
      << "admin: { listen: \"127.0.0.1:" << admin_port << "\", tokens_file: \"" << (dir / "admin-tokens.yaml").string()
      << "\" }\n"
      // Short retention: what is resolved leaves memory after the grace and the database after the
      // retention, which needs every rule uncapped (max_incidents_per_hour: 0).
      << "storage: { path: \"" << state_db.string() << "\", retention: " << config_duration(o.retention)
      << ", resolved_grace: " << config_duration(o.grace) << " }\n"
      << "rules:\n"
      << "  - { name: calm, match: { keywords: [\"acme\"], sources: [ingest] }, window: 1m, baseline: 1h, "
      << "fire_when: { all: [count >= 1000000000] }, max_incidents_per_hour: 0, severity: info, playbook: page }\n"
      << "  - { name: pulse, match: { keywords: [\"zqpulse\"], sources: [ingest] }, window: 2s, baseline: 1h, "
      << "fire_when: { all: [negative_count >= 3] }, clear_when: { all: [count < 1], for: 1s }, "
      << "max_incidents_per_hour: 0, severity: critical, playbook: page }\n";
    return c.str();
}

std::uint64_t file_size_or_zero(const fs::path& p) {
    std::error_code ec;
    auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

// A counter from crisisd's /metrics text ("name value" lines); -1 when missing.
double metric(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(name + " ", 0) == 0) return std::atof(line.c_str() + name.size() + 1);
    return -1;
}

struct sample {
    double t = 0;  // seconds since the load started
    std::uint64_t rss_kb = 0, db_bytes = 0, wal_bytes = 0;
    std::uint64_t sent = 0, accepted = 0, incidents = 0;
    long live = -1;  // incidents crisisd holds in memory (GET /api/v1/incidents)
    double processed = -1;
};

}  // namespace

int main(int argc, char** argv) {
    options o;
    auto usage = [] {
        std::fprintf(stderr,
                     "usage: soak [--duration 10m] [--window 8m] [--sample 30s] [--rate N] [--senders N] [--batch N]\n"
                     "            [--cycle 6s] [--retention 1m] [--grace 20s] [--binary PATH] [--dir DIR]\n");
        return 64;
    };
    namespace bench = crisisd::bench;
    if (!bench::parse_options(argc, argv, {{"--duration", bench::duration_into(o.duration)},
                                           {"--window", bench::duration_into(o.window)},
                                           {"--sample", bench::duration_into(o.sample)},
                                           {"--cycle", bench::duration_into(o.cycle)},
                                           {"--retention", bench::duration_into(o.retention)},
                                           {"--grace", bench::duration_into(o.grace)},
                                           {"--rate", bench::number_into(o.rate)},
                                           {"--senders", bench::int_into(o.senders, 1)},
                                           {"--batch", bench::int_into(o.batch, 1)},
                                           {"--binary", bench::text_into(o.binary)},
                                           {"--dir", bench::text_into(o.dir)}}))
        return usage();

    auto tmpl = (o.dir / "crisisd-soak-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
        std::perror("soak: mkdtemp");
        return 1;
    }
    const fs::path dir = tmpl;
    const fs::path state_db = dir / "state.db";
    try {
        const std::string ingest_token = "soak-ingest-token-5b1e09c3a7d2";
        std::ofstream(dir / "ingest-token") << ingest_token;
        crisisd::testing::write_admin_tokens(dir);
        const std::string& admin_token = crisisd::testing::test_admin_token;

        pager rx;
        const std::uint16_t ingest_port = free_port(), admin_port = free_port();
        std::ofstream(dir / "crisisd.yaml") << config_text(o, dir, state_db, ingest_port, admin_port, rx);
        crisisd::testing::child_process d({o.binary, "run", "--config", (dir / "crisisd.yaml").string()});
        if (!d.wait_for_stderr(R"(console on http://127\.0\.0\.1:(\d+)/)", 60s))
            throw std::runtime_error("crisisd did not start:\n" + d.stderr_text());
        const pid_t pid = d.pid();
        std::printf("soak: crisisd pid %d, ingest :%u, state %s\n", pid, ingest_port, state_db.c_str());
        std::printf("  %.0f mentions/s asked for, %d senders × %d-mention batches; an incident every %.1f s; "
                    "retention %s, resolved_grace %s\n",
                    o.rate, o.senders, o.batch, std::chrono::duration<double>(o.cycle).count(),
                    config_duration(o.retention).c_str(), config_duration(o.grace).c_str());
        std::fflush(stdout);

        std::atomic<bool> stop{false};
        std::atomic<std::uint64_t> sent{0}, accepted{0}, failed_requests{0}, pulses{0};
        std::vector<std::thread> threads;
        const auto t0 = steady::now();

        // Posts one NDJSON body on a keep-alive connection (reconnecting when needed); the number
        // of mentions crisisd accepted, or nothing when the request failed.
        auto post = [&](int& fd, const std::string& body) -> std::optional<std::uint64_t> {
            if (fd < 0) fd = connect_to(ingest_port, 30s);
            if (fd < 0) return std::nullopt;
            raw_response r;
            if (send_all(fd, request_text("POST", ingest_port, "/api/v1/mentions", ingest_token, body,
                                          "application/x-ndjson")))
                r = read_response(fd, steady::now() + 60s);
            if (r.status == 0 || !r.keep_alive) {
                ::close(fd);
                fd = -1;
            }
            if (r.status != 202) return std::nullopt;
            boost::system::error_code ec;
            auto v = boost::json::parse(r.body, ec);
            if (ec || !v.is_object()) return std::nullopt;
            auto* x = v.as_object().if_contains("accepted");
            return x && x->is_number() ? x->to_number<std::uint64_t>() : 0;
        };

        // --- the background stream, paced: batch i leaves no earlier than i × batch / rate.
        for (int s = 0; s < o.senders; ++s) {
            threads.emplace_back([&, s] {
                const double per_sender = o.rate / o.senders;
                std::uint64_t n = 0;
                int fd = -1;
                std::string body;
                while (!stop) {
                    auto due = t0 + std::chrono::duration_cast<steady::duration>(
                                        std::chrono::duration<double>(static_cast<double>(n) / per_sender));
                    if (due > steady::now()) std::this_thread::sleep_until(std::min(due, steady::now() + 200ms));
                    if (due > steady::now()) continue;
                    body.clear();
                    for (int i = 0; i < o.batch; ++i, ++n) {
                        body += R"({"id":"bg-)" + std::to_string(s) + '-' + std::to_string(n) + R"(","author":"@calm)" +
                                std::to_string(n % 4099) + R"(","lang":"en","text":")" +
                                background_texts[n % (sizeof background_texts / sizeof *background_texts)] + " #" +
                                std::to_string(n % 89) + "\"}\n";
                    }
                    sent += static_cast<std::uint64_t>(o.batch);
                    if (auto got = post(fd, body)) accepted += *got;
                    else ++failed_requests;
                }
                if (fd >= 0) ::close(fd);
            });
        }

        // --- the pulse: every cycle a burst of complaints opens an incident; silence resolves it.
        threads.emplace_back([&] {
            const char* complaints[] = {"is down again, terrible awful outage, furious",
                                        "broken for hours, worst service ever, angry",
                                        "dead again, awful support, terrible disaster"};
            int fd = -1;
            std::uint64_t n = 0;
            for (auto next = t0; !stop; next += o.cycle) {
                while (!stop && steady::now() < next) std::this_thread::sleep_for(std::min<steady::duration>(next - steady::now(), 100ms));
                if (stop) break;
                std::string body;
                for (int i = 0; i < 6; ++i, ++n)
                    body += R"({"id":"pulse-)" + std::to_string(n) + R"(","author":"@angry)" + std::to_string(n) +
                            R"(","lang":"en","text":"zqpulse )" + complaints[n % 3] + "\"}\n";
                if (post(fd, body)) ++pulses;
                else ++failed_requests;
            }
            if (fd >= 0) ::close(fd);
        });

        // --- the samples.
        std::vector<sample> samples;
        auto take = [&] {
            sample x;
            x.t = std::chrono::duration<double>(steady::now() - t0).count();
            x.rss_kb = proc_status_kb(pid, "VmRSS:");
            x.db_bytes = file_size_or_zero(state_db);
            x.wal_bytes = file_size_or_zero(fs::path(state_db.string() + "-wal"));
            x.sent = sent;
            x.accepted = accepted;
            x.incidents = rx.incidents();
            auto r = one_request(admin_port, request_text("GET", admin_port, "/metrics", admin_token, ""), 10s);
            if (r.status == 200) x.processed = metric(r.body, "crisisd_mentions_processed_total");
            r = one_request(admin_port, request_text("GET", admin_port, "/api/v1/incidents", admin_token, ""), 10s);
            boost::system::error_code ec;
            if (r.status == 200)
                if (auto v = boost::json::parse(r.body, ec); !ec && v.is_object())
                    if (auto* list = v.as_object().if_contains("incidents"); list && list->is_array())
                        x.live = static_cast<long>(list->as_array().size());
            samples.push_back(x);
            std::printf("  %6.0f s  RSS %7.1f MB  db %7.1f KiB + wal %7.1f KiB = %7.1f KiB  sent %10llu  processed %10.0f  "
                        "paged %5llu  in memory %3ld\n",
                        x.t, static_cast<double>(x.rss_kb) / 1024, static_cast<double>(x.db_bytes) / 1024,
                        static_cast<double>(x.wal_bytes) / 1024, static_cast<double>(x.db_bytes + x.wal_bytes) / 1024,
                        static_cast<unsigned long long>(x.sent), x.processed,
                        static_cast<unsigned long long>(x.incidents), x.live);
            std::fflush(stdout);
        };
        take();
        for (auto next = t0 + o.sample; next <= t0 + o.duration; next += o.sample) {
            std::this_thread::sleep_until(next);
            if (::kill(pid, 0) != 0) throw std::runtime_error("crisisd exited:\n" + d.stderr_text());
            take();
        }
        stop = true;
        for (auto& t : threads) t.join();

        // --- the verdict over the last --window.
        const double from = std::chrono::duration<double>(o.duration - o.window).count();
        std::uint64_t rss_min = UINT64_MAX, rss_max = 0, db_min = UINT64_MAX, db_max = 0;
        std::size_t n = 0;
        for (const auto& x : samples) {
            if (x.t + 1 < from) continue;
            ++n;
            rss_min = std::min(rss_min, x.rss_kb);
            rss_max = std::max(rss_max, x.rss_kb);
            db_min = std::min(db_min, x.db_bytes + x.wal_bytes);
            db_max = std::max(db_max, x.db_bytes + x.wal_bytes);
        }
        const auto& last = samples.back();
        const auto& first = samples.front();
        const double secs = last.t - first.t;
        const double processed_rate = last.processed >= 0 && first.processed >= 0 ? (last.processed - first.processed) / secs : -1;
        std::printf("\nsoak: %.0f s, %llu mentions sent (%.0f/s of %.0f/s asked), %llu accepted, %.0f/s processed; "
                    "%llu failed requests; %llu pulses, %llu incidents paged (%llu pages)\n",
                    secs, static_cast<unsigned long long>(last.sent), static_cast<double>(last.sent) / secs, o.rate,
                    static_cast<unsigned long long>(accepted.load()), processed_rate,
                    static_cast<unsigned long long>(failed_requests.load()), static_cast<unsigned long long>(pulses.load()),
                    static_cast<unsigned long long>(rx.incidents()), static_cast<unsigned long long>(rx.pages()));
        auto verdict = [&](const char* what, double lo, double hi, const char* unit) {
            const double ratio = lo > 0 ? hi / lo : 0;
            std::printf("  %-22s last %zu samples: min %.1f %s, max %.1f %s, max/min %.3f — %s (target ≤ 1.10)\n", what, n,
                        lo, unit, hi, unit, ratio, ratio > 0 && ratio <= 1.10 ? "flat" : "NOT flat");
        };
        verdict("RSS", static_cast<double>(rss_min) / 1024, static_cast<double>(rss_max) / 1024, "MB");
        verdict("state db (main + WAL)", static_cast<double>(db_min) / 1024, static_cast<double>(db_max) / 1024, "KiB");
        // What the retention sweep let go, from crisisd's log.
        std::uint64_t swept = 0, sweeps = 0;
        {
            std::istringstream log(d.stderr_text());
            for (std::string line; std::getline(log, line);)
                if (auto at = line.find("state database: "); at != std::string::npos && line.find(" left it, with ") != std::string::npos) {
                    ++sweeps;
                    swept += std::strtoull(line.c_str() + at + 16, nullptr, 10);
                }
        }
        std::printf("  retention sweep: %llu incident(s) left the database in %llu sweep(s)\n",
                    static_cast<unsigned long long>(swept), static_cast<unsigned long long>(sweeps));
        std::printf("  peak RSS (VmHWM) %.1f MB\n", static_cast<double>(proc_status_kb(pid, "VmHWM:")) / 1024);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "soak: %s\n", e.what());
        std::error_code ec;
        fs::remove_all(dir, ec);
        return 1;
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    return 0;
}
