#pragma once
// Small helpers the integration tests share: temporary folders, mention JSON, plain HTTP GETs
// against the admin listener, reading one metric, polling for a condition with a timeout, the
// config scaffolding every test repeats and the log lines that announce crisisd's ports.
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
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

// A temporary folder that is removed, with all it holds, when the object goes.
struct temp_dir {
    std::filesystem::path path;
    explicit temp_dir(const std::string& prefix = "crisisd-it") : path(make_temp_dir(prefix)) {}
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
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

// POSTs an NDJSON body of mentions to an HTTP ingest source's /api/v1/mentions, with a bearer
// token when one is given.
inline net::http_response post_mentions(std::uint16_t port, const std::string& ndjson, const std::string& token = {}) {
    boost::asio::io_context io;
    net::http_client client(io.get_executor());
    net::http_request req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port) + "/api/v1/mentions";
    req.headers.emplace_back("Content-Type", "application/x-ndjson");
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    req.body = ndjson;
    return run_sync(io, client.send(req));
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

inline std::filesystem::path admin_tokens_path(const std::filesystem::path& dir) { return dir / "admin-tokens.yaml"; }

// Writes the tokens file granting test_admin_token (as "Integration Test", role admin) and any
// `more` into `dir`; returns its path (for `admin: {tokens_file: …}`).
inline std::filesystem::path write_admin_tokens(const std::filesystem::path& dir, std::vector<test_token> more = {}) {
    auto path = admin_tokens_path(dir);
    more.insert(more.begin(), test_token{"Integration Test", "admin", test_admin_token});
    std::ofstream(path) << tokens_yaml(more);
    return path;
}

// The config file of a test whose files live in `dir`.
inline std::filesystem::path config_path(const std::filesystem::path& dir) { return dir / "crisisd.yaml"; }

// Writes `dir`/crisisd.yaml: the test's own sections (sources, channels, rules, playbooks,
// statements: what a reader of the test needs to see), then the part every test repeats — the
// admin listener on a free loopback port reading the tokens file in `dir`, with `admin_extra`
// keys of the test's own (", metrics_open: true"), and the state database `dir`/state.db. A test
// that grants other tokens writes them first (write_admin_tokens); otherwise the tokens file
// granting test_admin_token is written here. Returns the config's path.
inline std::filesystem::path write_config(const std::filesystem::path& dir, const std::string& sections,
                                          const std::string& admin_extra = {}) {
    const auto tokens = admin_tokens_path(dir);
    if (!std::filesystem::exists(tokens)) write_admin_tokens(dir);
    const auto path = config_path(dir);
    std::ofstream(path) << sections << "\nadmin: { listen: \"127.0.0.1:0\", tokens_file: \"" << tokens.string() << "\""
                        << admin_extra << " }\nstorage: { path: \"" << (dir / "state.db").string() << "\" }\n";
    return path;
}

// One entry of a config's `statements:` list: the English text `text`, with the approval every
// test gives its statements (the Head of Communications, 2026-11-01).
inline std::string approved_statement(const std::string& name, const std::string& text) {
    return "  - name: " + name +
           "\n"
           "    approved_by: \"Head of Communications\"\n"
           "    approved_at: \"2026-11-01\"\n"
           "    text: { en: \"" +
           text + "\" }\n";
}

// The log lines crisisd announces its listeners with; the group is the port
// (child_process::wait_for_port).
inline const std::string console_line = R"(console on http://127\.0\.0\.1:(\d+)/)";
inline std::string ingest_line(const std::string& source) {
    return "source " + source + R"(: HTTP ingest on .* \(port (\d+)\))";
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
