#pragma once
// Plain blocking HTTP/1.1 on 127.0.0.1 and /proc readings, shared by the tools that load the real
// crisisd binary over loopback (storm, soak). Blocking sockets on threads of their own keep the
// load generators simple and cheap next to what they measure; crisisd's own server always
// answers with a Content-Length body, which is all read_response handles besides EOF.
// Free functions; each call uses only its own descriptor, so any thread may call them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace crisisd::bench {

using steady = std::chrono::steady_clock;

// A port nobody listens on now (bound and released; a later bind may still lose a race).
inline std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("free_port: " + std::string(std::strerror(errno)));
    ::close(fd);
    return ntohs(a.sin_port);
}

inline void set_timeouts(int fd, std::chrono::milliseconds t) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(t.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// A blocking TCP connection to 127.0.0.1:port; -1 on failure. rcvbuf > 0 shrinks the receive
// buffer before connecting (a client that never reads then stalls the sender sooner).
inline int connect_to(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5), int rcvbuf = 0) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_timeouts(fd, timeout);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

struct raw_response {
    int status = 0;  // 0: no (complete) response
    std::string body;
    bool keep_alive = true;
};

// Reads one HTTP/1.1 response with a Content-Length body (what crisisd's server sends), or up
// to EOF without one. Gives up at the deadline.
inline raw_response read_response(int fd, steady::time_point deadline) {
    raw_response r;
    std::string buf;
    char chunk[16384];
    std::size_t header_end = std::string::npos, need = std::string::npos;
    while (steady::now() < deadline) {
        auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
        if (n <= 0) {
            if (header_end != std::string::npos && need == std::string::npos) {
                r.body = buf.substr(header_end + 4);
                r.keep_alive = false;
                return r;
            }
            r.status = 0;
            return r;
        }
        buf.append(chunk, static_cast<std::size_t>(n));
        if (header_end == std::string::npos) {
            header_end = buf.find("\r\n\r\n");
            if (header_end == std::string::npos) continue;
            if (buf.size() < 12) return r;
            r.status = std::atoi(buf.c_str() + 9);
            std::string head = buf.substr(0, header_end);
            std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
            if (auto p = head.find("\ncontent-length:"); p != std::string::npos)
                need = std::strtoull(head.c_str() + p + 16, nullptr, 10);
            r.keep_alive = head.find("\nconnection: close") == std::string::npos;
        }
        if (need != std::string::npos && buf.size() >= header_end + 4 + need) {
            r.body = buf.substr(header_end + 4, need);
            return r;
        }
    }
    r.status = 0;
    return r;
}

// One request on a fresh connection.
inline raw_response one_request(std::uint16_t port, const std::string& request, std::chrono::milliseconds timeout) {
    int fd = connect_to(port, std::min<std::chrono::milliseconds>(timeout, std::chrono::seconds(1)));
    if (fd < 0) return {};
    raw_response r;
    if (send_all(fd, request)) r = read_response(fd, steady::now() + timeout);
    ::close(fd);
    return r;
}

inline std::string request_text(const std::string& method, std::uint16_t port, const std::string& target,
                                const std::string& token, const std::string& body,
                                const std::string& type = "application/json") {
    std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
    if (!token.empty()) r += "Authorization: Bearer " + token + "\r\n";
    if (!body.empty() || method == "POST") r += "Content-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    r += "\r\n";
    r += body;
    return r;
}

// A "Field:   123 kB" line of /proc/<pid>/status, in kB; 0 when missing.
inline std::uint64_t proc_status_kb(pid_t pid, const char* field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(field, 0) == 0) return std::strtoull(line.c_str() + std::strlen(field), nullptr, 10);
    return 0;
}

// utime + stime of a process, in seconds; -1 when unreadable.
inline double proc_cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
        if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace crisisd::bench
