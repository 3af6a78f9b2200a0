#pragma once
// Standard base64 (RFC 4648, with padding): detector snapshots in the state database's TEXT
// column, websocket handshake keys. OpenSSL (EVP_EncodeBlock, EVP_DecodeBlock) does the coding;
// from_base64 adds the strictness OpenSSL lacks.
#include <optional>
#include <string>
#include <string_view>

namespace crisisd::core {

std::string to_base64(std::string_view bytes);
// nullopt when `text` is not padded base64 of the standard alphabet.
std::optional<std::string> from_base64(std::string_view text);

}  // namespace crisisd::core
