#pragma once
// The admin HTTP API: /metrics, /healthz, the incident API, the audit log and the console's live
// feed. It reads and commands the daemon through daemon_access, so it knows nothing of how
// incidents are stored.
//
// Every request is first checked for its Host header (admin_settings::hosts; 421 otherwise), so
// a page that rebinds its DNS name to 127.0.0.1 reads nothing. Then everything but /healthz and
// the console's static files needs a bearer token from the tokens file (admin/tokens.hpp), whose
// role must allow the call: 401 without a valid token, 403 when the role may not. The acting
// name is the token's. /metrics is open only with metrics_open.
//
//   GET  /healthz                                     open
//   GET  /metrics                                     viewer (or open with metrics_open)
//   GET  /api/v1/session                              viewer: {"name","role"}
//   GET  /api/v1/incidents, /api/v1/incidents/{id}    viewer
//   POST /api/v1/events/ticket                        viewer: {"ticket","expires_in"}
//   GET  /api/v1/events?ticket=T                      the ticket (single use, 30 s); the live feed
//                                                     (admin/feed.hpp), 503 at max_event_streams
//   POST /api/v1/incidents/{id}/ack|resolve           responder
//   POST /api/v1/silences {"rule","key","duration"}   responder
//   POST /api/v1/incidents/{id}/steps/{n}/approve|veto  approver
//   GET  /api/v1/dead-letters, /api/v1/audit?limit=N  admin
//
// In cluster mode (set_cluster(); admin/cluster.hpp has the model) the same calls cover the whole
// cluster: the incident list merges every live replica's (naming each incident's replica, and any
// replica that did not answer), one incident and its commands go to the owner of its partition,
// and a silence is set on every replica. Replicas talk to each other with the peer token only:
//
//   GET  /api/v1/cluster/incidents[?resolved=N]       this replica's own incidents
//   GET  /api/v1/cluster/incidents/{id}               one of them
//   POST /api/v1/cluster/incidents/{id}/ack|resolve,  applied only while this replica owns the
//        …/steps/{n}/approve|veto  {"who","via"}      incident's partition (else 409)
//   POST /api/v1/cluster/silences {"rule","key","duration","who","via"}
//
// The peer token opens nothing else, and no person's token opens these. The live feed carries
// every replica's incidents too, through NATS rather than the peers' APIs (admin/cluster_feed.hpp).
// Every command, and every refused request (401, 403, 421), is written to the audit log through
// daemon_access::audit; refusals at most once a minute per address, token name and action, the rest
// of that minute counted into one further entry, so a flood of bad tokens cannot fill the disk.
//
// Thread-safety: handle(), incidents_changed(), feed_message() and the token calls may be made
// from any thread; flush_feed() from the daemon's thread, one call at a time.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "admin/cluster.hpp"
#include "admin/metrics.hpp"
#include "admin/settings.hpp"
#include "admin/tokens.hpp"
#include "net/http_server.hpp"

namespace crisisd::admin {

enum class command_status { done, already_done, not_found, not_allowed, bad_request };

struct command_outcome {
    command_status status = command_status::done;
    std::string message;
};

// One line of the audit log: who (a token's name, "-" when none was valid), from which peer
// address, what (ack, approve, sign-in, reload, …), on what, and how it ended.
struct audit_entry {
    std::string who;
    std::string address;
    std::string action;
    std::string target;
    std::string outcome;
};

class daemon_access {
public:
    virtual ~daemon_access() = default;
    // {"incidents":[…]}, newest first: every incident held, or with `resolved_limit` every one
    // not resolved and the newest resolved_limit resolved ones (GET /api/v1/incidents?resolved=N).
    virtual std::string incidents_json(std::optional<std::size_t> resolved_limit) = 0;
    // The incidents not resolved (the console's live list), in any order. The default: none.
    virtual std::vector<std::uint64_t> live_incident_ids();
    // The daemon's time (RFC 3339), which the console measures ages against. The default: "".
    virtual std::string now_rfc3339();
    virtual std::optional<std::string> incident_json(std::uint64_t id) = 0;
    // The incident as the console feed sends it: incident_json() without the chart's points,
    // which change every tick (the console reads them for the incident on screen). The default:
    // incident_json().
    virtual std::optional<std::string> incident_feed_json(std::uint64_t id);
    // The 404 message for an incident incident_json() does not know. The default: "no such incident".
    virtual std::string missing_incident(std::uint64_t id);
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
    // Records an audit entry (time stamped by the daemon). The default forgets it.
    virtual void audit(const audit_entry& entry);
    // {"audit":[…]}, newest first, at most `limit`. The default is an empty list.
    virtual std::string audit_json(std::size_t limit);
};

// A static asset of the console (embedded in the binary).
struct asset {
    std::string_view path;  // "/", "/app.js"
    std::string_view content_type;
    std::string_view body;
};

// The console's files as the API serves them (web/assets.hpp embeds them): index.html at "/",
// the others at their names, each with its content type. They live as long as the program.
std::vector<asset> console_assets();

class api {
public:
    api(admin_settings settings, metrics& m, daemon_access& daemon, std::vector<asset> assets);
    ~api();

    // (Re)loads settings.tokens_file. A file that is gone revokes every token from it; one that
    // cannot be read or parsed keeps the tokens loaded before, logs every problem as an error and
    // counts crisisd_admin_tokens_file_errors_total. Returns "" when loaded, else what happened
    // (for reload notes). Event streams opened with a token that is no longer valid are closed.
    std::string load_tokens();
    // Adds a token kept in memory only, across loads (the demo makes one up and prints it).
    void add_token(std::string name, role granted, std::string_view token);
    // The port the listener is bound to (for port 0), so Host checks know it.
    void set_port(std::uint16_t port);
    // Cluster mode: `cluster` (which outlives the api) names the peers and owners; `peer_token`
    // is what replicas present to each other (empty: none is accepted, and the API shows and
    // commands this replica's incidents only). Call before the listener starts.
    void set_cluster(cluster_access* cluster, std::string_view peer_token);
    // Cluster mode with a peer token: a message of the peers' console feed (admin/feed.hpp,
    // admin/cluster_feed.hpp), relayed to this replica's consoles at the next flush_feed().
    void feed_message(std::string_view message);

    boost::asio::awaitable<net::http_response_out> handle(const net::http_request_in& req);
    // For the listener's head check (net::http_server_options::check_head): a request with a
    // body is refused on its headers (foreign Host, no valid token) before the body is read, as
    // handle() would refuse it after. Audited like handle()'s refusals.
    std::optional<net::http_response_out> check_head(const net::http_request_in& head);

    // Notes incidents that changed (opened, updated, resolved, forgotten) for the consoles'
    // live feed. Cheap: nothing is rendered until flush_feed().
    void incidents_changed(std::span<const std::uint64_t> ids);
    // Sends the consoles what changed since the last call (admin/feed.hpp); call once per tick,
    // from the thread that may call daemon_access.
    void flush_feed();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::admin
