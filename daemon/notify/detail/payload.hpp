#pragma once
// The action payload the daemon writes to the outbox (runtime::action_payload), read back by the
// channels that turn it into a remote API's own format.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace crisisd::notify::detail {

struct action_payload {
    std::string kind;   // notify | statement
    std::string event;  // notify: opened | escalated | acknowledged | resolved
    std::string text;
    std::string statement;
    std::string language;
    core::timestamp at{};
    std::string console_url;
    bool has_incident = false;
    std::uint64_t incident_id = 0;
    std::string rule;
    std::string key;
    std::string severity;
    std::string state;
    core::timestamp opened_at{};
    std::optional<core::timestamp> resolved_at;
};

// nullopt when the payload is not a JSON object; missing fields stay empty.
std::optional<action_payload> parse_payload(std::string_view json);

// "HTTP <status>: <short body>" for dead letters and logs; the body is cut at 200 bytes.
std::string describe_response(int status, std::string_view body);

// Retry-After as delta-seconds (an HTTP date is rare from these APIs), capped at an hour.
std::optional<core::duration> parse_retry_after(std::string_view v);

}  // namespace crisisd::notify::detail
