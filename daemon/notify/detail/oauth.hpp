#pragma once
// OAuth 2.0's refresh-token grant as X speaks it (RFC 6749 §6 and §5; X's "OAuth 2.0
// Authorization Code Flow with PKCE" page): the form a client posts to the token endpoint, the
// answer it reads, and when an access token is due for renewal. Pure functions, no I/O; safe
// from any thread.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace crisisd::notify::detail {

// application/x-www-form-urlencoded: unreserved characters as they are, every other byte %XX.
std::string form_encode(std::string_view value);

// The body of a refresh: grant_type=refresh_token&refresh_token=…, and client_id=… for a
// public client (a confidential one authenticates with basic_credentials instead; RFC 6749
// §2.3.1 allows one method per request).
std::string refresh_form(std::string_view refresh_token, std::string_view client_id, bool confidential);

// "Basic base64(form(client_id):form(client_secret))" (RFC 6749 §2.3.1).
std::string basic_credentials(std::string_view client_id, std::string_view client_secret);

// A short fingerprint of a token (SHA-256, 16 bytes in hex): what the state database keeps to
// know which configured token a chain of rotated ones descends from, without keeping the token.
std::string token_fingerprint(std::string_view token);

struct token_answer {
    // A 200 answer: the access token, its life (expires_in; 7200 s when X omits it) and the
    // refresh token that replaces the one presented (empty when the server did not rotate).
    std::string access_token;
    std::chrono::seconds expires_in{7200};
    std::string refresh_token;
    // An error answer (RFC 6749 §5.2): "invalid_grant", "invalid_request", "invalid_client", …
    std::string error;
    std::string error_description;
};
// Reads a token endpoint's JSON answer; nullopt when it is not a JSON object.
std::optional<token_answer> parse_token_answer(std::string_view body);

// How long a fresh access token is used: its life less a margin (a quarter of it, at most a
// minute), so that no request leaves with a token about to lapse on the way. Never negative.
std::chrono::seconds use_for(std::chrono::seconds expires_in);

}  // namespace crisisd::notify::detail
