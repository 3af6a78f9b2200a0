#include "notify/detail/oauth.hpp"

#include <openssl/sha.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/base64.hpp"

namespace crisisd::notify::detail {

std::string form_encode(std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size());
    for (unsigned char c : value) {
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

std::string refresh_form(std::string_view refresh_token, std::string_view client_id, bool confidential) {
    std::string out = "grant_type=refresh_token&refresh_token=" + form_encode(refresh_token);
    if (!confidential) out += "&client_id=" + form_encode(client_id);
    return out;
}

std::string basic_credentials(std::string_view client_id, std::string_view client_secret) {
    return "Basic " + core::to_base64(form_encode(client_id) + ":" + form_encode(client_secret));
}

std::string token_fingerprint(std::string_view token) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 16; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

std::optional<token_answer> parse_token_answer(std::string_view body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    auto text = [&](std::string_view key) {
        auto* f = o.if_contains(key);
        return f && f->is_string() ? std::string(f->get_string()) : std::string();
    };
    token_answer out;
    out.access_token = text("access_token");
    out.refresh_token = text("refresh_token");
    out.error = text("error");
    out.error_description = text("error_description");
    if (auto* e = o.if_contains("expires_in")) {
        // A number as RFC 6749 has it; some servers send a string of digits.
        std::int64_t s = -1;
        if (e->is_int64()) s = e->get_int64();
        else if (e->is_uint64()) s = static_cast<std::int64_t>(std::min<std::uint64_t>(e->get_uint64(), 1u << 30));
        else if (e->is_string() && !e->get_string().empty() &&
                 e->get_string().find_first_not_of("0123456789") == boost::json::string::npos &&
                 e->get_string().size() < 10)
            s = std::stoll(std::string(e->get_string()));
        if (s >= 0) out.expires_in = std::chrono::seconds(s);
    }
    return out;
}

std::chrono::seconds use_for(std::chrono::seconds expires_in) {
    if (expires_in <= std::chrono::seconds(0)) return std::chrono::seconds(0);
    const auto margin = std::min<std::chrono::seconds>(std::chrono::minutes(1), expires_in / 4);
    return expires_in - margin;
}

}  // namespace crisisd::notify::detail
