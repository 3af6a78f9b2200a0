#pragma once
// Admin tokens: who may use the admin API and what they may do. A token belongs to a person
// (its name is the acting name in history and audit) and carries a role. Only the SHA-256 of a
// token is ever stored; the tokens file (admin.tokens_file) is YAML:
//
//   tokens:
//     - {name: "Anna Berger", role: approver, sha256: "<64 hex digits>"}
//
// Roles grow by inclusion: viewer (read) < responder (+ ack, resolve, silence) < approver
// (+ approve, veto) < admin (+ dead letters, audit).
// Pure functions; thread-safe.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crisisd::admin {

enum class role { viewer, responder, approver, admin };
std::string_view to_string(role r);
std::optional<role> parse_role(std::string_view s);
// Whether `have` includes everything `need` may do.
inline bool allows(role have, role need) { return static_cast<int>(have) >= static_cast<int>(need); }

using token_digest = std::array<unsigned char, 32>;
token_digest sha256(std::string_view data);
std::string to_hex(const token_digest& d);

struct token_entry {
    std::string name;
    role granted = role::viewer;
    token_digest digest{};
};

// Tokens shorter than this are refused before they are hashed: 22 characters of base64url carry
// 128 bits; a shorter secret can be guessed, whatever its hash in the file says.
inline constexpr std::size_t min_token_length = 22;

struct tokens_file {
    enum class status { loaded, missing, invalid };
    status state = status::loaded;
    std::vector<token_entry> tokens;
    std::vector<std::string> errors;  // "path:line:col: error: …", when invalid (or unreadable)
};

// Parses the text of a tokens file; `path` only names it in messages.
tokens_file parse_tokens(std::string_view text, const std::string& path);
// Reads and parses `path`: missing when the file does not exist (which revokes every token),
// invalid when it cannot be read or parsed (the caller keeps the tokens it had).
tokens_file load_tokens(const std::string& path);

// Whether `name` may name a token: 1-64 printable characters (the file quotes it).
bool valid_token_name(std::string_view name);
// The tokens file's line for `token` (its SHA-256, never the token), as `ctl token add` prints
// it: `  - {name: "NAME", role: ROLE, sha256: "…"}`, the name quoted with `"` and `\` escaped.
std::string token_file_line(std::string_view name, role r, std::string_view token);

// A new token: 32 bytes from the system's CSPRNG, base64url without padding (43 characters).
// Empty when no random bytes could be had.
std::string new_token();

}  // namespace crisisd::admin
