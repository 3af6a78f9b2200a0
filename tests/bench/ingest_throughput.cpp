// ingest_throughput: how many ~300-byte mentions per second the real crisisd binary fully
// processes (websocket read, parse, score, match, detect) on its one pipeline thread. Serves
// generated generic-format mentions over a local websocket as fast as crisisd reads them: the
// upgrade is Beast's, then a producer thread writes ready-made text frames to the socket in
// 64 KiB batches with blocking writes, so TCP itself paces it to crisisd's reading speed and the
// server costs little next to what it measures. Scrapes crisisd_mentions_processed_total from
// /metrics until all are through, and reports wall-clock and CPU-time rates with crisisd's
// peak RSS. On a shared machine the CPU-time rate (mentions per second of crisisd's own CPU) is
// the steadier number; the wall rate shows whether anything else held it back.
//
// Two streams: `phrases` (the default; short English phrases, ~300-byte mentions) and `mixed` (a
// realistic German/English feed with 120-280-byte texts, emoji, handles and links; see
// make_mixed_body). `--dump N` writes the first N mentions of the chosen stream as JSONL to
// stdout instead (for `crisisd replay` or `crisisd score` under a profiler).
//
//   ingest_throughput [--binary PATH] [--count N] [--warmup N] [--state-dir DIR]
//                     [--stream phrases|mixed] [--seed N] [--dump N]
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket.hpp>
#include <algorithm>
#include <atomic>
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

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// The phrase stream: mentions about one brand, mixed in tone and length, each ~300 bytes on the
// wire, short plain English texts.
const char* const phrases[] = {
    "acme internet is down again in the whole neighbourhood, nothing loads and support hangs up",
    "shoutout to acme support, the technician came early and fixed the router in ten minutes",
    "is anyone else seeing acme outages tonight? streaming keeps buffering and pages time out",
    "acme billing charged me twice this month and the app says my account does not exist",
    "new acme fibre plan is actually fast, speed test shows full bandwidth even at peak hours",
    "three days without acme service and still no update, this is the worst provider ever",
    "acme outage map shows everything green while half the city is offline, terrible",
    "finally switched to acme after the move, installation was smooth and the price is fair",
};

std::string make_phrase_mention(std::uint64_t n) {
    const std::string text = phrases[n % (sizeof phrases / sizeof *phrases)];
    std::string m;
    m.reserve(360);
    m += R"({"id":"bench-)";
    m += std::to_string(n);
    m += R"(","created_at":"2026-11-26T08:15:02Z","source":"bench","author":"@user)";
    m += std::to_string(n % 5003);
    m += R"(@example.social","lang":"en","text":")";
    m += text;
    m += R"( #)";
    m += std::to_string(n % 97);
    m += R"(","url":"https://mastodon.example.social/@user/statuses/)";
    m += std::to_string(n);
    m += R"("})";
    return m;
}

// The mixed stream: what a real feed about a telecom brand looks like. Half German, half
// English; texts of 120-280 bytes assembled from complaint and chatter sentences, @-handles,
// #hashtags, links, emoji (with skin tones, ZWJ sequences and flags), typographic quotes and
// Twitter-style HTML entities; ~80% name the brand as a word (and so match the rule), the rest
// only mention it inside handles or hashtags ("@acme_hilfe", "#acmefail"), which do not match.
// 15% carry no "lang" (guessed), 10% are Mastodon HTML. Seeded: mention n is a pure function of
// (seed, n), so a dump and a live run see the same stream (see mixed_stream).
const char* const de_brand[] = {
    "Seit heute Morgen geht bei Acme gar nichts mehr, Internet komplett weg und die Hotline ist dauerbesetzt.",
    "Wieder eine Störung bei ACME im ganzen Viertel. Drei Tage ohne WLAN, Homeoffice unmöglich!",
    "Danke an den Techniker von Acme, der war pünktlich und hat den Router in zehn Minuten getauscht.",
    "Die Rechnung von Acme wurde diesen Monat doppelt abgebucht und der Kundenservice antwortet nicht.",
    "Kann jemand bestätigen, dass Acme gerade Probleme hat? Der Störungsmelder zeigt alles grün.",
    "Großartiger Service heute im Acme-Shop, sehr freundliche Beratung, gerne wieder.",
    "Vertragsverlängerung bei Acme war ein Albtraum, die Kündigungsbestätigung kam nie an.",
    "Acme-Störung in München, Köln und Düsseldorf laut Nachbarn, Glasfaseranschluss tot.",
    "Warum dauert die Entstörung bei acme so lange? Warteschleife seit 45 Minuten …",
    "Ehrlich, die neue Glasfaser von Acme ist schnell, Speedtest zeigt volle Bandbreite.",
    "Acme hat mir eine Entschädigungszahlung angeboten, immerhin. Trotzdem nervt’s gewaltig.",
    "Mobilfunknetz von Acme in der Innenstadt heute katastrophal langsam, Videocall ständig weg.",
};
const char* const de_other[] = {
    "Der Stream ruckelt ständig, das Bild friert ein und das Fußballspiel ist längst vorbei.",
    "Heute wieder stundenlang in der Warteschleife gehangen, die Musik kann ich mitsingen.",
    "Straßenbahn fällt aus, Internet fällt aus, was für ein großartiger Montag.",
    "Bin gespannt, ob die Kundenservicemitarbeiterin morgen wirklich zurückruft.",
    "Endlich Wochenende, Kaffee, Sonne und kein einziger Verbindungsabbruch.",
    "Übrigens: die Störungsmeldung von gestern ist immer noch nicht bearbeitet.",
};
const char* const en_brand[] = {
    "acme internet is down again in the whole neighbourhood, nothing loads and support hangs up.",
    "lol Acme really said “we’re aware of the issue” four hours ago and nothing since",
    "Shoutout to ACME support, the technician came early and fixed the router in ten minutes!",
    "is anyone else seeing acme outages tonight? streaming keeps buffering & pages time out",
    "Acme billing charged me twice this month and the app says my account doesn’t exist??",
    "three days without Acme service and still no update, worst provider ever, I’m done",
    "The acme outage map shows everything green while half the city is offline. Terrible.",
    "Finally switched to Acme after the move, installation was smooth and the price is fair.",
    "Acme’s new fibre plan is honestly great, full speed even at peak hours",
    "Called Acme three times today, got disconnected every single time. Unbelievable.",
    "not gonna lie, acme customer service fixed my issue in 5 minutes, impressed",
    "Why does ACME keep raising prices when the connection drops every evening?",
};
const char* const en_other[] = {
    "my wifi has been dropping every twenty minutes since the storm, anyone else?",
    "waiting on hold for the third time today, the hold music is stuck in my head",
    "Power’s back, internet isn’t. Working from the café again I guess",
    "the speed test says 300 but every video call freezes, what is going on",
    "Honestly the best support chat I’ve had in years, quick and friendly",
    "router lights all blinking orange again, time to restart it for the fifth time",
};
const char* const handles[] = {
    "@acme_hilfe", "@AcmeSupport", "@acme_de", "@jana_k", "@tom.berger@mastodon.social",
    "@lisa_mueller", "@NetzNews", "@dave_online", "@ops_watch@infosec.exchange",
};
const char* const de_tags[] = {"#Störung", "#acmefail", "#Homeoffice", "#Glasfaser", "#Kundenservice", "#Internet"};
const char* const en_tags[] = {"#outage", "#acmefail", "#fail", "#wfh", "#customerservice", "#fiber"};
const char* const emoji[] = {
    "😡", "🙃", "😂", "👍", "❤️", "🔥", "🤬", "😤", "🙏", "😭",
    "👍🏽", "🤦‍♂️", "🤷‍♀️", "👨‍💻", "🏳️‍🌈", "👩‍👩‍👧", "🇩🇪", "🇦🇹", "🇬🇧", "🇺🇸",
};
const char* const links[] = {
    "https://acme.example/status?region=de&amp;id=",
    "https://t.co/Xk29fQ",
    "https://mastodon.social/@jana_k/11234",
    "https://www.heise.example/news/stoerung-",
    "https://downdetector.example/status/acme/",
};
const char* const entities[] = {" &amp; ", " &gt; ", " &quot;", " &lt;3 "};

std::uint64_t splitmix(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

template <std::size_t N>
const char* pick(const char* const (&a)[N], std::uint64_t& rng) {
    return a[splitmix(rng) % N];
}

// Appends `s` as the body of a JSON string.
void append_json_string(std::string& out, std::string_view s) {
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
}

struct mixed_stats {
    std::uint64_t mentions = 0, branded = 0, german = 0, text_bytes = 0, min_text = ~0ull, max_text = 0;
};

// Everything of mention n after its id: a function of (seed, n mod mixed_pool).
std::string make_mixed_body(std::uint64_t seed, std::uint64_t n, mixed_stats* stats = nullptr) {
    std::uint64_t rng = seed * 0x2545F4914F6CDD1Dull + n;
    splitmix(rng);
    const bool german = splitmix(rng) % 2 == 0;
    const bool branded = splitmix(rng) % 100 < 80;
    std::string text;
    text.reserve(300);
    // Each piece goes in only when it keeps the text within 280 bytes.
    const auto add = [&](std::string_view piece, std::string_view sep = " ") {
        const std::size_t extra = (text.empty() ? 0 : sep.size()) + piece.size();
        if (text.size() + extra > 280) return false;
        if (!text.empty()) text += sep;
        text += piece;
        return true;
    };
    if (splitmix(rng) % 100 < 45) add(pick(handles, rng));
    if (branded) add(german ? pick(de_brand, rng) : pick(en_brand, rng));
    else add(german ? pick(de_other, rng) : pick(en_other, rng));
    if (splitmix(rng) % 100 < 60) add(pick(emoji, rng));
    if (splitmix(rng) % 100 < 50) add(german ? pick(de_other, rng) : pick(en_other, rng));
    if (splitmix(rng) % 100 < 15) add(pick(entities, rng), "");
    if (splitmix(rng) % 100 < 70) add(german ? pick(de_tags, rng) : pick(en_tags, rng));
    if (splitmix(rng) % 100 < 55) {
        std::string link = pick(links, rng);
        if (link.back() == '=' || link.back() == '/' || link.back() == '-') link += std::to_string(splitmix(rng) % 100000);
        add(link);
    }
    if (splitmix(rng) % 100 < 30) add(pick(emoji, rng));
    // Too short: more chatter, then tags and emoji, until 120 bytes.
    for (int i = 0; text.size() < 120 && i < 8; ++i) {
        if (i % 2 == 0) add(german ? pick(de_other, rng) : pick(en_other, rng));
        else add(german ? pick(de_tags, rng) : pick(en_tags, rng));
    }
    const std::uint64_t form = splitmix(rng) % 100;
    const bool html = form >= 90;
    std::string m;
    m.reserve(text.size() + 260);
    m += R"(","created_at":"2026-11-26T08:15:02Z","source":"bench","author":"@user)";
    m += std::to_string(n % 5003);
    m += R"(@example.social")";
    if (form >= 15) m += german ? R"(,"lang":"de")" : R"(,"lang":"en")";
    if (html) m += R"(,"html":true)";
    m += R"(,"text":")";
    if (html) m += "<p>";
    append_json_string(m, text);
    if (html) m += "</p>";
    m += R"(","url":"https://mastodon.example.social/@user/statuses/)";
    m += std::to_string(n);
    m += R"("})";
    if (stats) {
        ++stats->mentions;
        stats->branded += branded;
        stats->german += german;
        stats->text_bytes += text.size();
        stats->min_text = std::min<std::uint64_t>(stats->min_text, text.size());
        stats->max_text = std::max<std::uint64_t>(stats->max_text, text.size());
    }
    return m;
}

// The producer must cost little next to crisisd, and assembling a mixed text is slower than
// crisisd's reading of it: bodies are made once for a pool of 65,536 and mention n is its own id
// in front of body n mod 65,536 (ids stay unique: crisisd de-duplicates by id).
constexpr std::uint64_t mixed_pool = 65'536;

class mixed_stream {
public:
    explicit mixed_stream(std::uint64_t seed) {
        bodies_.reserve(mixed_pool);
        for (std::uint64_t n = 0; n < mixed_pool; ++n) bodies_.push_back(make_mixed_body(seed, n, &stats_));
    }
    std::string mention(std::uint64_t n) const {
        std::string m;
        m.reserve(400);
        m += R"({"id":"mix-)";
        m += std::to_string(n);
        m += bodies_[n % mixed_pool];
        return m;
    }
    const mixed_stats& stats() const { return stats_; }

private:
    std::vector<std::string> bodies_;
    mixed_stats stats_;
};

// An unmasked server text frame around `payload`, appended to `out`.
void append_frame(std::string& out, std::string_view payload) {
    out += static_cast<char>(0x81);
    if (payload.size() < 126) {
        out += static_cast<char>(payload.size());
    } else {
        out += static_cast<char>(126);
        out += static_cast<char>(payload.size() >> 8);
        out += static_cast<char>(payload.size() & 0xFF);
    }
    out += payload;
}

struct child {
    pid_t pid = -1;
};

child spawn(const std::vector<std::string>& argv, const fs::path& log) {
    child c;
    c.pid = ::fork();
    if (c.pid == 0) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ::dup2(fd, STDERR_FILENO);
            ::dup2(fd, STDOUT_FILENO);
        }
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        std::_Exit(127);
    }
    return c;
}

std::string read_all(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// utime and stime of a process, in seconds: the split says whether a change saved work in
// crisisd's own code or in system calls (socket reads, wakeups).
struct cpu_times {
    double user = 0;
    double sys = 0;
};

cpu_times cpu_seconds(pid_t pid) {
    auto stat = read_all("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) return {};
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    const auto tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    return {static_cast<double>(utime) / tick, static_cast<double>(stime) / tick};
}

std::string status_field(pid_t pid, const std::string& name) {
    std::istringstream in(read_all("/proc/" + std::to_string(pid) + "/status"));
    for (std::string line; std::getline(in, line);)
        if (line.rfind(name + ":", 0) == 0) {
            auto v = line.substr(name.size() + 1);
            v.erase(0, v.find_first_not_of(" \t"));
            return v;
        }
    return "?";
}

// The value of an unlabelled (or first labelled) sample of `name` in a Prometheus exposition.
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

}  // namespace

int main(int argc, char** argv) {
    std::string binary = CRISISD_BINARY;
    std::uint64_t count = 2'000'000, warmup = 100'000;
    fs::path state_dir = fs::temp_directory_path();
    std::string stream = "phrases";
    std::uint64_t seed = 12;
    std::optional<std::uint64_t> dump;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--stream" && i + 1 < argc) stream = argv[++i];
        else if (a == "--seed" && i + 1 < argc) seed = std::stoull(argv[++i]);
        else if (a == "--dump" && i + 1 < argc) dump = std::stoull(argv[++i]);
        else
        if (a == "--binary" && i + 1 < argc) binary = argv[++i];
        else if (a == "--count" && i + 1 < argc) count = std::stoull(argv[++i]);
        else if (a == "--warmup" && i + 1 < argc) warmup = std::stoull(argv[++i]);
        else if (a == "--state-dir" && i + 1 < argc) state_dir = argv[++i];
        else {
            std::fprintf(stderr,
                         "usage: ingest_throughput [--binary PATH] [--count N] [--warmup N] [--state-dir DIR]\n"
                         "                         [--stream phrases|mixed] [--seed N] [--dump N]\n");
            return 64;
        }
    }
    if (stream != "phrases" && stream != "mixed") {
        std::fprintf(stderr, "ingest_throughput: --stream is 'phrases' or 'mixed'\n");
        return 64;
    }
    const bool mixed = stream == "mixed";
    std::optional<mixed_stream> mix;
    if (mixed) mix.emplace(seed);
    const auto make_mention = [&](std::uint64_t n) { return mixed ? mix->mention(n) : make_phrase_mention(n); };
    if (dump) {
        for (std::uint64_t n = 0; n < *dump; ++n) {
            auto m = make_mention(n);
            m += '\n';
            std::fwrite(m.data(), 1, m.size(), stdout);
        }
        return 0;
    }
    auto tmpl = (state_dir / "crisisd-ingest-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) return 1;
    const fs::path dir = tmpl;

    namespace asio = boost::asio;
    asio::io_context server_io;
    asio::ip::tcp::acceptor acceptor(server_io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = acceptor.local_endpoint().port();
    {
        std::ofstream cfg(dir / "crisisd.yaml");
        cfg << "sources:\n  - { name: bench, type: websocket, url: \"ws://127.0.0.1:" << port << "/s\" }\n"
            << "channels:\n  - { name: log, type: log }\n"
            << "playbooks:\n  - { name: page, steps: [ { notify: [log] } ] }\n"
            // /metrics needs a token since issue 11 unless opened alone (a loopback scraper).
            << "admin: { listen: \"127.0.0.1:0\", metrics_open: true }\n"
            << "storage: { path: \"" << (dir / "state.db").string() << "\" }\n"
            // Matches every mention and never fires: what is measured is the steady state of
            // parse, score, match and detect, not incident handling.
            << "rules:\n  - { name: acme, match: { keywords: [\"acme\"] }, window: 10m, baseline: 1h, "
               "fire_when: { all: [count >= 1000000000] }, clear_when: { all: [count < 1], for: 1h }, "
               "severity: info, playbook: page }\n";
    }
    const fs::path log = dir / "crisisd.log";
    auto d = spawn({binary, "run", "--config", (dir / "crisisd.yaml").string()}, log);
    std::optional<std::string> admin_port;
    const std::regex console(R"(console on http://127\.0\.0\.1:(\d+)/)");
    for (auto until = steady::now() + 60s; steady::now() < until && !admin_port; std::this_thread::sleep_for(20ms)) {
        std::smatch m;
        auto text = read_all(log);
        if (std::regex_search(text, m, console)) admin_port = m[1].str();
        int status = 0;
        if (::waitpid(d.pid, &status, WNOHANG) == d.pid) break;
    }
    if (!admin_port) {
        std::fprintf(stderr, "crisisd did not start:\n%s\n", read_all(log).c_str());
        ::kill(d.pid, SIGKILL);
        return 1;
    }
    // crisisd connects once; Beast answers the upgrade, then the socket is the producer's.
    boost::beast::websocket::stream<asio::ip::tcp::socket> ws(server_io);
    {
        boost::system::error_code ec;
        acceptor.accept(ws.next_layer(), ec);
        if (!ec) ws.accept(ec);
        if (ec) {
            std::fprintf(stderr, "crisisd did not connect: %s\n", ec.message().c_str());
            ::kill(d.pid, SIGKILL);
            return 1;
        }
    }

    boost::asio::io_context mio;
    crisisd::net::http_client client(mio.get_executor());
    auto scrape = [&] {
        crisisd::net::http_request req;
        req.method = "GET";
        req.url = "http://127.0.0.1:" + *admin_port + "/metrics";
        return crisisd::testing::run_sync(mio, client.send(req)).body;
    };

    // The producer: blocking writes of 64 KiB batches; TCP flow control paces it.
    const std::uint64_t total = warmup + count;
    std::thread producer([&] {
        std::string batch;
        batch.reserve(70 * 1024);
        boost::system::error_code ec;
        for (std::uint64_t n = 0; n < total && !ec;) {
            batch.clear();
            while (batch.size() < 64 * 1024 && n < total) append_frame(batch, make_mention(n++));
            asio::write(ws.next_layer(), asio::buffer(batch), ec);
        }
    });

    auto wait_processed = [&](std::uint64_t target, double& processed, std::string& body) {
        for (auto until = steady::now() + 600s; steady::now() < until; std::this_thread::sleep_for(20ms)) {
            body = scrape();
            processed = sample(body, "crisisd_mentions_processed_total");
            // A rejected or dropped mention is never processed: count it as through, and show
            // it below, rather than wait for it forever.
            const double lost = sample(body, "crisisd_mentions_rejected_total") + sample(body, "crisisd_mentions_dropped_total");
            if (processed + lost >= static_cast<double>(target)) return true;
            int status = 0;
            if (::waitpid(d.pid, &status, WNOHANG) == d.pid) return false;
        }
        return false;
    };

    double processed = 0;
    std::string body;
    if (!wait_processed(warmup, processed, body)) {
        std::fprintf(stderr, "warm-up did not complete (%.0f processed)\n%s\n", processed, read_all(log).c_str());
        ::kill(d.pid, SIGKILL);
        producer.join();
        return 1;
    }
    const auto t0 = steady::now();
    const cpu_times cpu0 = cpu_seconds(d.pid);
    const double start_count = processed;
    bool ok = wait_processed(total, processed, body);
    const auto t1 = steady::now();
    const cpu_times cpu1 = cpu_seconds(d.pid);
    producer.join();
    const std::string hwm = status_field(d.pid, "VmHWM");
    const std::string threads = status_field(d.pid, "Threads");

    const double measured = processed - start_count;
    const double wall = std::chrono::duration<double>(t1 - t0).count();
    const double user = cpu1.user - cpu0.user;
    const double sys = cpu1.sys - cpu0.sys;
    const double cpu = user + sys;
    // 300k is the phrase stream's standing target; issue 12 asks 500k of the realistic mixed one.
    const double target = mixed ? 500000 : 300000;
    std::printf("ingest_throughput: %s\n", binary.c_str());
    std::printf("  stream: %s", stream.c_str());
    if (mixed) {
        const mixed_stats& stats = mix->stats();
        const auto share = [&](std::uint64_t k) { return 100.0 * static_cast<double>(k) / static_cast<double>(stats.mentions); };
        std::printf(" (seed %llu; text %llu-%llu bytes, mean %.0f; %.0f%% German; %.0f%% name the brand)",
                    static_cast<unsigned long long>(seed), static_cast<unsigned long long>(stats.min_text),
                    static_cast<unsigned long long>(stats.max_text),
                    static_cast<double>(stats.text_bytes) / static_cast<double>(stats.mentions), share(stats.german),
                    share(stats.branded));
    }
    std::printf("\n  %.0f mentions (~%zu bytes each) after %llu warm-up, %s\n", measured, make_mention(123456).size(),
                static_cast<unsigned long long>(warmup), ok ? "all processed" : "INCOMPLETE");
    std::printf("  wall:  %.3f s  -> %.0f mentions/s\n", wall, measured / wall);
    std::printf("  cpu:   %.3f s of crisisd (user %.3f + sys %.3f) -> %.0f mentions per CPU-second (target %.0f)\n",
                cpu, user, sys, cpu > 0 ? measured / cpu : 0.0, target);
    std::printf("  crisisd peak RSS (VmHWM): %s, threads: %s\n", hwm.c_str(), threads.c_str());
    std::printf("  received %.0f, rejected %.0f, dropped %.0f, processed %.0f\n",
                sample(body, "crisisd_mentions_received_total"), sample(body, "crisisd_mentions_rejected_total"),
                sample(body, "crisisd_mentions_dropped_total"), processed);

    ::kill(d.pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 500 && ::waitpid(d.pid, &status, WNOHANG) != d.pid; ++i) std::this_thread::sleep_for(20ms);
    boost::system::error_code ignored;
    ws.next_layer().close(ignored);
    std::error_code ec;
    fs::remove_all(dir, ec);
    return ok ? 0 : 1;
}
