#pragma once
// A real three-node NATS cluster with JetStream for tests: nats-server processes on free loopback
// ports (client and route ports), each with its own store folder under one temporary folder,
// routed to each other. start() returns once JetStream answers through every node (the cluster
// has a metadata leader and all three peers). Single nodes can be killed, frozen (SIGSTOP: a
// node that stops answering without closing its sockets) and restarted with their stores.
// The destructor kills what still runs and removes the folder, so every test ends by itself.
//
// Also here: a loopback TCP proxy that a test puts between one client and one node and then cuts,
// which is a lost connection for that client and nothing at all for the cluster.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nats/nats.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"

namespace crisisd::testing {

inline bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(step);
    }
    return pred();
}

// A port nobody listens on right now (bound to port 0 and released). Another process could take
// it before we do; on a test machine that is rare enough, and start() reports it clearly.
// A loopback port free now, for a nats-server to listen on, taken below the kernel's ephemeral
// range (net.ipv4.ip_local_port_range). A port from bind(0) lies inside that range: between the
// test closing it and nats-server binding it, the kernel could hand it to any outgoing connection
// as its local port - one node dialling another's route, say - and the node then failed with
// "address already in use" (seen once in a fresh-root run: JetStream never came up on that node).
// Below the range no outgoing connection gets it, and the random start keeps parallel test
// processes apart; the ports this process handed out are not handed out again.
inline std::uint16_t free_loopback_port() {
    static std::mutex m;
    static std::vector<std::uint16_t> given;
    std::lock_guard lock(m);
    int ephemeral_low = 32768;
    std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
    const int high = std::clamp(ephemeral_low, 2048, 65536);
    const int low = std::max(1024, high - 12000);
    static std::mt19937 rng(std::random_device{}());
    const int span = high - low;
    int candidate = low + static_cast<int>(rng() % static_cast<unsigned>(span));
    for (int tries = 0; tries < span; ++tries, candidate = candidate + 1 == high ? low : candidate + 1) {
        const auto port = static_cast<std::uint16_t>(candidate);
        if (std::find(given.begin(), given.end(), port) != given.end()) continue;
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) throw std::runtime_error("socket");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (!free) continue;
        given.push_back(port);
        return port;
    }
    throw std::runtime_error("no free loopback port below the ephemeral range");
}

// The nats-server binary, or empty when it is not installed (tests skip then).
inline std::string nats_server_binary() {
    for (const char* p : {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"})
        if (::access(p, X_OK) == 0) return p;
    return {};
}

class nats_cluster {
public:
    static constexpr int size = 3;

    // `advertise` false: the nodes do not announce each other to clients (no_advertise), so a
    // client given one URL stays on it (a test cuts it off through a tcp_proxy).
    explicit nats_cluster(bool advertise = true) : binary_(nats_server_binary()), advertise_(advertise) {
        auto tmpl = (std::filesystem::temp_directory_path() / "crisisd-nats-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
        dir_ = tmpl;
        for (int i = 0; i < size; ++i) {
            client_ports_[i] = free_loopback_port();
            route_ports_[i] = free_loopback_port();
        }
        for (int i = 0; i < size; ++i) write_config(i);
    }

    ~nats_cluster() {
        for (auto& n : nodes_)
            if (n) {
                n->signal(SIGCONT);   // a frozen node cannot die
                n.reset();
            }
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    nats_cluster(const nats_cluster&) = delete;
    nats_cluster& operator=(const nats_cluster&) = delete;

    bool available() const { return !binary_.empty(); }

    // Starts every node and waits until JetStream answers through each; false (with the nodes'
    // logs in `why`) when it does not within the timeout.
    // Before start(): the servers' max_payload (the largest message a client may publish).
    void set_max_payload(std::size_t bytes) {
        max_payload_ = bytes;
        for (int i = 0; i < size; ++i) write_config(i);
    }

    bool start(std::string& why, std::chrono::seconds timeout = std::chrono::seconds(60)) {
        for (int i = 0; i < size; ++i) start_node(i);
        for (int i = 0; i < size; ++i)
            if (!wait_jetstream(i, timeout)) {
                why = "JetStream did not come up on node " + std::to_string(i) + "\n" + logs();
                return false;
            }
        return true;
    }

    void start_node(int i) {
        nodes_[i] = std::make_unique<child_process>(std::vector<std::string>{binary_, "-c", config_path(i).string()});
    }

    // SIGKILL, and wait until it is gone.
    void kill_node(int i) {
        if (!nodes_[i]) return;
        nodes_[i]->signal(SIGCONT);
        nodes_[i]->signal(SIGKILL);
        nodes_[i]->wait_exit(std::chrono::seconds(10));
    }
    void freeze_node(int i) { nodes_[i]->signal(SIGSTOP); }
    void thaw_node(int i) { nodes_[i]->signal(SIGCONT); }

    // Waits until a JetStream request through node i is answered.
    bool wait_jetstream(int i, std::chrono::milliseconds timeout) {
        return poll_until([&] { return jetstream_answers(client_ports_[i]); }, timeout, std::chrono::milliseconds(200));
    }

    std::string url(int i) const { return "nats://127.0.0.1:" + std::to_string(client_ports_[i]); }
    std::vector<std::string> urls() const { return {url(0), url(1), url(2)}; }
    std::uint16_t client_port(int i) const { return client_ports_[i]; }
    const std::filesystem::path& dir() const { return dir_; }

    std::string logs() const {
        std::string out;
        for (int i = 0; i < size; ++i)
            if (nodes_[i]) out += "--- node " + std::to_string(i) + "\n" + nodes_[i]->stderr_text();
        return out;
    }

    // The name of the server leading the stream `stream` (empty if unknown), asked through node i.
    std::string stream_leader(const std::string& stream, int through) const {
        std::string leader;
        with_jetstream(client_ports_[through], [&](jsCtx* js) {
            jsStreamInfo* si = nullptr;
            if (js_GetStreamInfo(&si, js, stream.c_str(), nullptr, nullptr) == NATS_OK) {
                if (si->Cluster && si->Cluster->Leader) leader = si->Cluster->Leader;
                jsStreamInfo_Destroy(si);
            }
        });
        return leader;
    }
    static std::string node_name(int i) { return "n" + std::to_string(i); }

private:
    std::filesystem::path config_path(int i) const { return dir_ / (node_name(i) + ".conf"); }

    void write_config(int i) {
        std::ofstream f(config_path(i));
        f << "server_name: " << node_name(i) << "\n"
          << "listen: 127.0.0.1:" << client_ports_[i] << "\n"
          << (max_payload_ ? "max_payload: " + std::to_string(max_payload_) + "\n" : std::string())
          << "jetstream {\n  store_dir: \"" << (dir_ / node_name(i)).string() << "\"\n"
          << "  max_memory_store: 64MB\n  max_file_store: 256MB\n}\n"
          << "cluster {\n  name: crisisd-test\n" << (advertise_ ? "" : "  no_advertise: true\n")
          << "  listen: 127.0.0.1:" << route_ports_[i] << "\n  routes: [\n";
        for (int j = 0; j < size; ++j)
            if (j != i) f << "    nats-route://127.0.0.1:" << route_ports_[j] << "\n";
        f << "  ]\n}\n";
    }

    static void with_jetstream(std::uint16_t port, const std::function<void(jsCtx*)>& fn) {
        natsOptions* o = nullptr;
        natsConnection* nc = nullptr;
        jsCtx* js = nullptr;
        std::string url = "nats://127.0.0.1:" + std::to_string(port);
        if (natsOptions_Create(&o) == NATS_OK && natsOptions_SetURL(o, url.c_str()) == NATS_OK &&
            natsOptions_SetTimeout(o, 1000) == NATS_OK && natsOptions_SetAllowReconnect(o, false) == NATS_OK &&
            natsConnection_Connect(&nc, o) == NATS_OK) {
            jsOptions jo;
            jsOptions_Init(&jo);
            jo.Wait = 1000;
            if (natsConnection_JetStream(&js, nc, &jo) == NATS_OK) fn(js);
        }
        if (js) jsCtx_Destroy(js);
        if (nc) natsConnection_Destroy(nc);
        if (o) natsOptions_Destroy(o);
    }

    static bool jetstream_answers(std::uint16_t port) {
        bool ok = false;
        with_jetstream(port, [&](jsCtx* js) {
            jsAccountInfo* ai = nullptr;
            if (js_GetAccountInfo(&ai, js, nullptr, nullptr) == NATS_OK) {
                ok = true;
                jsAccountInfo_Destroy(ai);
            }
        });
        return ok;
    }

    std::string binary_;
    bool advertise_ = true;
    std::size_t max_payload_ = 0;   // 0: the servers' default (1 MiB)
    std::filesystem::path dir_;
    std::array<std::uint16_t, size> client_ports_{};
    std::array<std::uint16_t, size> route_ports_{};
    std::array<std::unique_ptr<child_process>, size> nodes_;
};

// Forwards loopback TCP connections from its own port to `target_port`. cut() closes every
// forwarded connection and refuses new ones until heal(): a lost connection for whoever connects
// through it, while the server behind it stays up. cut_silently() refuses new ones the same way but
// leaves the forwarded connections open and never forwards on them again: what a link that goes
// quiet looks like (a firewall or NAT that forgot the flows), where neither end hears a close.
// Every socket it opens is close-on-exec: a process the test starts later must not keep a
// forwarded connection open (a cut would then close nothing).
class tcp_proxy {
public:
    explicit tcp_proxy(std::uint16_t target_port) : target_port_(target_port) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a = loopback(0);
        socklen_t len = sizeof a;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener_, 16) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("proxy listen");
        port_ = ntohs(a.sin_port);
        if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        thread_ = std::thread([this] { run(); });
    }
    ~tcp_proxy() {
        stop_ = true;
        poke();
        thread_.join();
        for (auto& p : pairs_) close_pair(p);
        for (auto& p : quiet_) close_pair(p);
        ::close(listener_);
        ::close(wake_[0]);
        ::close(wake_[1]);
    }
    tcp_proxy(const tcp_proxy&) = delete;
    tcp_proxy& operator=(const tcp_proxy&) = delete;

    std::uint16_t port() const { return port_; }
    std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
    void cut() {
        cut_ = true;
        poke();
    }
    void cut_silently() {
        silence_ = true;
        cut();
    }
    void heal() { cut_ = false; }

private:
    struct pair_fds {
        int a = -1, b = -1;
    };
    static sockaddr_in loopback(std::uint16_t port) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        return a;
    }
    static void close_pair(pair_fds& p) {
        if (p.a >= 0) ::close(p.a);
        if (p.b >= 0) ::close(p.b);
        p.a = p.b = -1;
    }
    void poke() {
        char c = 0;
        [[maybe_unused]] auto n = ::write(wake_[1], &c, 1);
    }
    void run() {
        char buf[16384];
        while (!stop_) {
            // cut_ is read first: cut_silently() sets silence_ before cut_, so a cut seen here
            // comes with its silence, and a silenced pair is never closed by mistake.
            const bool cut = cut_;
            if (silence_.exchange(false)) {
                // Held open to the end, never read or written again.
                quiet_.insert(quiet_.end(), pairs_.begin(), pairs_.end());
                pairs_.clear();
            }
            if (cut)
                for (auto& p : pairs_) close_pair(p);
            std::erase_if(pairs_, [](const pair_fds& p) { return p.a < 0; });
            std::vector<pollfd> fds{{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
            for (auto& p : pairs_) {
                fds.push_back({p.a, POLLIN, 0});
                fds.push_back({p.b, POLLIN, 0});
            }
            if (::poll(fds.data(), fds.size(), 200) <= 0) continue;
            if (fds[1].revents) {
                char drain[64];
                [[maybe_unused]] auto n = ::read(wake_[0], drain, sizeof drain);
            }
            if (fds[0].revents & POLLIN) {
                int c = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
                if (c >= 0 && cut_) ::close(c);
                else if (c >= 0) {
                    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                    sockaddr_in t = loopback(target_port_);
                    if (::connect(s, reinterpret_cast<sockaddr*>(&t), sizeof t) == 0) pairs_.push_back({c, s});
                    else {
                        ::close(c);
                        ::close(s);
                    }
                }
            }
            // Only the pairs polled this round: one accepted just now has no entry in `fds`, and
            // reading its stale slot would block this thread (and every connection) on a read.
            const std::size_t polled = (fds.size() - 2) / 2;
            for (std::size_t i = 0; i < polled; ++i) {
                auto& p = pairs_[i];
                for (int side = 0; side < 2 && p.a >= 0; ++side) {
                    auto& f = fds[2 + 2 * i + static_cast<std::size_t>(side)];
                    if (!(f.revents & (POLLIN | POLLHUP | POLLERR))) continue;
                    int from = side == 0 ? p.a : p.b, to = side == 0 ? p.b : p.a;
                    auto n = ::read(from, buf, sizeof buf);
                    if (n <= 0 || !write_all(to, buf, static_cast<std::size_t>(n))) close_pair(p);
                }
            }
        }
    }
    static bool write_all(int fd, const char* p, std::size_t n) {
        while (n > 0) {
            auto w = ::send(fd, p, n, MSG_NOSIGNAL);
            if (w <= 0) return false;
            p += w;
            n -= static_cast<std::size_t>(w);
        }
        return true;
    }

    std::uint16_t target_port_;
    std::uint16_t port_ = 0;
    int listener_ = -1;
    int wake_[2] = {-1, -1};
    std::atomic<bool> stop_{false}, cut_{false}, silence_{false};
    std::vector<pair_fds> pairs_;
    std::vector<pair_fds> quiet_;   // silenced by cut_silently()
    std::thread thread_;
};

}  // namespace crisisd::testing
