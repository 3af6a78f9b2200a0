#pragma once
// A feed server on loopback for the feed tests (feed_test, cluster_network_test): one document
// per path, an ETag per version, conditional GET answered 304, an optional number of 429 answers
// with Retry-After first, gzip when the client accepts it. Its own io thread; thread-safe.
#include <zlib.h>

#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "fakes/io_thread.hpp"
#include "net/http_server.hpp"

namespace crisisd::testing {

inline std::string gzip(const std::string& in) {
    z_stream z{};
    deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, in.size()) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

class feed_server {
public:
    struct request_seen {
        std::string path, if_none_match, accept_encoding;
        int status = 0;
        std::chrono::steady_clock::time_point at;
    };

    feed_server()
        : server_(io_.executor(), options(), [this](const crisisd::net::http_request_in& req)
                                                 -> boost::asio::awaitable<crisisd::net::http_response_out> {
              co_return answer(req);
          }) {
        if (auto ec = server_.start()) throw std::runtime_error(ec.message());
    }

    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(server_.port()) + path; }

    void serve(const std::string& path, std::string body, std::string etag) {
        std::lock_guard lock(m_);
        docs_[path] = {std::move(body), std::move(etag)};
    }
    void refuse_next(int n, std::string retry_after) {
        std::lock_guard lock(m_);
        refusals_ = n;
        retry_after_ = std::move(retry_after);
    }
    void gzip_when_accepted(bool on) {
        std::lock_guard lock(m_);
        gzip_ = on;
    }
    std::vector<request_seen> requests() {
        std::lock_guard lock(m_);
        return log_;
    }
    std::size_t count(int status) {
        std::size_t n = 0;
        for (const auto& r : requests()) n += r.status == status;
        return n;
    }

private:
    static crisisd::net::http_server_options options() {
        crisisd::net::http_server_options o;
        o.listen = "127.0.0.1:0";
        return o;
    }

    crisisd::net::http_response_out answer(const crisisd::net::http_request_in& req) {
        std::lock_guard lock(m_);
        request_seen seen{std::string(req.path()), req.header("If-None-Match"), req.header("Accept-Encoding"), 0,
                          std::chrono::steady_clock::now()};
        crisisd::net::http_response_out r;
        r.content_type = "application/rss+xml; charset=utf-8";
        auto it = docs_.find(seen.path);
        if (refusals_ > 0) {
            --refusals_;
            r.status = 429;
            r.headers.emplace_back("Retry-After", retry_after_);
        } else if (it == docs_.end()) {
            r.status = 404;
        } else if (!it->second.second.empty() && seen.if_none_match == it->second.second) {
            r.status = 304;
            r.headers.emplace_back("ETag", it->second.second);
        } else {
            r.status = 200;
            if (!it->second.second.empty()) r.headers.emplace_back("ETag", it->second.second);
            r.headers.emplace_back("Last-Modified", "Fri, 04 Dec 2026 07:00:00 GMT");
            if (gzip_ && seen.accept_encoding.find("gzip") != std::string::npos) {
                r.headers.emplace_back("Content-Encoding", "gzip");
                r.body = gzip(it->second.first);
            } else {
                r.body = it->second.first;
            }
        }
        seen.status = r.status;
        log_.push_back(seen);
        return r;
    }

    io_thread io_;
    std::mutex m_;
    std::map<std::string, std::pair<std::string, std::string>> docs_;
    std::vector<request_seen> log_;
    int refusals_ = 0;
    std::string retry_after_;
    bool gzip_ = false;
    crisisd::net::http_server server_;
};

}  // namespace crisisd::testing
