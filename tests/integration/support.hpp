#pragma once
// Small helpers the integration tests share: temporary folders, mention JSON, plain HTTP GETs
// against the admin listener, reading one metric, and polling for a condition with a timeout.
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "admin/tokens.hpp"
#include "fakes/io_thread.hpp"
#include "net/http_client.hpp"

namespace crisisd::testing {

inline std::filesystem::path make_temp_dir(const std::string& prefix = "crisisd-it") {
    auto tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
    return tmpl;
}

// One mention in the generic wire format.
inline std::string mention_json(int n, const std::string& author, const std::string& text,
                                const std::string& lang = "en") {
    boost::json::object o;
    o["id"] = "m-" + std::to_string(n);
    o["author"] = author;
    o["lang"] = lang;
    o["text"] = text;
    return boost::json::serialize(o);
}

inline std::string http_get(const std::string& url) {
    boost::asio::io_context io;
    net::http_client client(io.get_executor());
    net::http_request req;
    req.method = "GET";
    req.url = url;
    return run_sync(io, client.send(req)).body;
}

inline std::string http_get(std::uint16_t port, const std::string& path) {
    return http_get("http://127.0.0.1:" + std::to_string(port) + path);
}

// The value of a series such as crisisd_x{a="b"} in a Prometheus exposition; -1 when absent.
inline double metric(const std::string& exposition, const std::string& series) {
    auto pos = exposition.find("\n" + series + " ");
    if (pos == std::string::npos) return -1;
    return std::stod(exposition.substr(pos + series.size() + 2));
}

// The admin access integration tests use: one token with every right (role admin), the tokens
// file that grants it, and requests that carry it. Every test that talks to the admin API goes
// through these, so a change to how tokens are stored or presented is made here once.
inline const std::string test_admin_token = "crisisd-integration-admin-token-5b1f0c9e7d2a4e68";

// One line of a tokens file (admin/tokens.hpp): the token itself is never written, only its hash.
struct test_token {
    std::string name;
    std::string role;  // viewer | responder | approver | admin
    std::string token;
};

inline std::string tokens_yaml(const std::vector<test_token>& tokens) {
    std::string out = "# integration test tokens\ntokens:\n";
    for (const auto& t : tokens)
        out += "  - {name: \"" + t.name + "\", role: " + t.role + ", sha256: \"" + admin::to_hex(admin::sha256(t.token)) +
               "\"}\n";
    return out;
}

// Writes the tokens file granting test_admin_token (as "Integration Test", role admin) and any
// `more` into `dir`; returns its path (for `admin: {tokens_file: …}`).
inline std::filesystem::path write_admin_tokens(const std::filesystem::path& dir, std::vector<test_token> more = {}) {
    auto path = dir / "admin-tokens.yaml";
    more.insert(more.begin(), test_token{"Integration Test", "admin", test_admin_token});
    std::ofstream(path) << tokens_yaml(more);
    return path;
}

inline net::http_response admin_request(std::uint16_t port, const std::string& method, const std::string& path,
                                        const std::string& body = {}, const std::string& token = test_admin_token,
                                        const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    boost::asio::io_context io;
    net::http_client client(io.get_executor());
    net::http_request req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(port) + path;
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    for (const auto& h : headers) req.headers.push_back(h);
    req.body = body;
    return run_sync(io, client.send(req));
}

// GET with the test token; the body.
inline std::string admin_get(std::uint16_t port, const std::string& path) {
    return admin_request(port, "GET", path).body;
}

inline bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
}

}  // namespace crisisd::testing
