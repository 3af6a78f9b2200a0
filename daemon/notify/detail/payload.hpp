#pragma once
// Channels read the action payload the outbox hands them with the incident codec
// (incident::action_from_json, included here for them); what is left here are the helpers for
// the answers of remote APIs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"
#include "incident/codec.hpp"

namespace crisisd::notify::detail {

// "HTTP <status>: <short body>" for dead letters and logs; the body is cut at 200 bytes.
std::string describe_response(int status, std::string_view body);

// Retry-After as delta-seconds (an HTTP date is rare from these APIs), capped at an hour.
std::optional<core::duration> parse_retry_after(std::string_view v);

}  // namespace crisisd::notify::detail
