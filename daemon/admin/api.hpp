#pragma once
// The admin HTTP API: /metrics, /healthz, the incident API and the console's live feed. It
// reads and commands the daemon through daemon_access, so it knows nothing of how incidents
// are stored. State-changing calls need a bearer token from the tokens file, compared in
// constant time; reads are open (the listener is on loopback by default).
//
//   GET  /api/v1/incidents, /api/v1/incidents/{id}, /api/v1/dead-letters, /metrics, /healthz
//   POST /api/v1/incidents/{id}/ack|resolve, /api/v1/incidents/{id}/steps/{n}/approve|veto
//   POST /api/v1/silences  {"rule": "...", "key": "..." (optional), "duration": "2h"}
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/metrics.hpp"
#include "admin/settings.hpp"
#include "net/http_server.hpp"

namespace crisisd::admin {

enum class command_status { done, already_done, not_found, not_allowed, bad_request };

struct command_outcome {
    command_status status = command_status::done;
    std::string message;
};

class daemon_access {
public:
    virtual ~daemon_access() = default;
    virtual std::string incidents_json() = 0;  // {"incidents":[…]}, newest first
    virtual std::optional<std::string> incident_json(std::uint64_t id) = 0;
    // verb: ack | resolve | approve | veto; step only for approve/veto.
    virtual command_outcome command(std::string_view verb, std::uint64_t id, std::optional<std::size_t> step,
                                    std::string_view who) = 0;
    // True when the daemon is able to do its job; detail says why not.
    virtual bool healthy(std::string& detail) = 0;
    // Mutes a rule (every key when `key` is empty) for `length`. The default refuses.
    virtual command_outcome silence(std::string_view rule, std::string_view key, std::chrono::seconds length,
                                    std::string_view who);
    // {"dead_letters":[…]}: actions given up on, newest first. The default is an empty list.
    virtual std::string dead_letters_json();
};

// A static asset of the console (embedded in the binary).
struct asset {
    std::string_view path;  // "/", "/app.js"
    std::string_view content_type;
    std::string_view body;
};

class api {
public:
    api(admin_settings settings, metrics& m, daemon_access& daemon, std::vector<asset> assets);
    ~api();

    // Loads tokens (one per line, '#' comments) from settings.tokens_file, replacing the ones
    // loaded before (a reload rotates them); error text or "", and then the old ones stay.
    std::string load_tokens();
    // Adds a token directly (the demo makes one up and prints it).
    void add_token(std::string token);

    boost::asio::awaitable<net::http_response_out> handle(const net::http_request_in& req);

    // Pushes an event to every console listening on /api/v1/events.
    void publish(std::string_view event, std::string_view json);
    // Whether any console is listening, so callers can skip rendering an event nobody gets.
    bool has_listeners() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::admin
