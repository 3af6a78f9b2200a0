#include "admin/tokens.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "core/file_read.hpp"
#include "core/base64.hpp"

namespace crisisd::admin {

std::string_view to_string(role r) {
    switch (r) {
        case role::viewer: return "viewer";
        case role::responder: return "responder";
        case role::approver: return "approver";
        case role::admin: return "admin";
    }
    return "viewer";
}

std::optional<role> parse_role(std::string_view s) {
    for (auto r : {role::viewer, role::responder, role::approver, role::admin})
        if (to_string(r) == s) return r;
    return std::nullopt;
}

token_digest sha256(std::string_view data) {
    token_digest d{};
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), d.data(), &n, EVP_sha256(), nullptr);
    return d;
}

std::string to_hex(const token_digest& d) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : d) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<token_digest> parse_hex(std::string_view s) {
    if (s.size() != 64) return std::nullopt;
    token_digest d{};
    for (std::size_t i = 0; i < 32; ++i) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        d[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    return d;
}

class reader {
public:
    explicit reader(const std::string& path) : path_(path) {}

    void error(const YAML::Mark& m, const std::string& what) {
        // yaml-cpp marks are 0-based; diagnostics are 1-based like gcc's.
        errors.push_back(path_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) + ": error: " + what);
    }

    std::vector<std::string> errors;

private:
    std::string path_;
};

}  // namespace

tokens_file parse_tokens(std::string_view text, const std::string& path) {
    tokens_file out;
    reader r(path);
    YAML::Node doc;
    try {
        doc = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        r.error(e.mark, e.msg);
        out.state = tokens_file::status::invalid;
        out.errors = std::move(r.errors);
        return out;
    }
    const auto list = doc.IsMap() ? doc["tokens"] : YAML::Node();
    if (!doc.IsMap() || !list || !list.IsSequence()) {
        r.error(doc.Mark().line >= 0 ? doc.Mark() : YAML::Mark(),
                "a tokens file is a mapping with a 'tokens' list: tokens: [{name: \"Anna Berger\", role: approver, "
                "sha256: \"<hex>\"}]");
    } else {
        for (const auto& pair : doc) {
            if (pair.first.Scalar() != "tokens") r.error(pair.first.Mark(), "unknown key '" + pair.first.Scalar() + "'");
        }
        std::set<token_digest> seen;
        for (const auto& item : list) {
            if (!item.IsMap()) {
                r.error(item.Mark(), "each token must be a mapping with name, role and sha256");
                continue;
            }
            token_entry e;
            bool ok = true;
            for (const auto& pair : item) {
                const auto key = pair.first.Scalar();
                if (key != "name" && key != "role" && key != "sha256") {
                    r.error(pair.first.Mark(), "unknown key '" + key + "' (a token has name, role and sha256)");
                    ok = false;
                }
            }
            auto text_of = [&](const char* key) -> std::optional<std::string> {
                auto v = item[key];
                if (!v) {
                    r.error(item.Mark(), std::string("missing '") + key + "'");
                    return std::nullopt;
                }
                if (!v.IsScalar() || v.Scalar().empty()) {
                    r.error(v.Mark(), std::string("'") + key + "' must be a non-empty string");
                    return std::nullopt;
                }
                return v.Scalar();
            };
            auto name = text_of("name");
            auto role_text = text_of("role");
            auto hash = text_of("sha256");
            if (name && name->size() > 64) {
                r.error(item["name"].Mark(), "'name' must be at most 64 characters");
                ok = false;
            }
            if (name) e.name = *name;
            if (role_text) {
                if (auto rl = parse_role(*role_text)) e.granted = *rl;
                else {
                    r.error(item["role"].Mark(),
                            "unknown role '" + *role_text + "' (viewer, responder, approver or admin)");
                    ok = false;
                }
            }
            if (hash) {
                if (auto d = parse_hex(*hash)) {
                    e.digest = *d;
                    if (!seen.insert(*d).second) {
                        r.error(item["sha256"].Mark(), "the same token appears twice");
                        ok = false;
                    }
                } else {
                    r.error(item["sha256"].Mark(), "'sha256' must be 64 hex digits, the SHA-256 of the token (got " +
                                                       std::to_string(hash->size()) + " characters)");
                    ok = false;
                }
            }
            if (ok && name && role_text && hash) out.tokens.push_back(std::move(e));
        }
    }
    if (!r.errors.empty()) {
        // Half a file is not loaded: the caller keeps the tokens it had.
        out.state = tokens_file::status::invalid;
        out.tokens.clear();
        out.errors = std::move(r.errors);
    }
    return out;
}

tokens_file load_tokens(const std::string& path) {
    // Read on every reload, on the event loop: a FIFO or device there must not block or flood it.
    std::string text;
    const auto r = core::read_regular_file(path, text, 1u << 20);
    tokens_file out;
    switch (r.status) {
        case core::file_read_status::ok: return parse_tokens(text, path);
        case core::file_read_status::missing: out.state = tokens_file::status::missing; return out;
        case core::file_read_status::refused: break;
    }
    out.state = tokens_file::status::invalid;
    out.errors.push_back(path + ": error: cannot read the tokens file: " + r.why);
    return out;
}

std::string new_token() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return "";
    // base64url without padding (RFC 4648 §5): the standard coding with two letters swapped.
    std::string out = core::to_base64({reinterpret_cast<const char*>(bytes), sizeof bytes});
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return out;
}

bool valid_token_name(std::string_view name) {
    bool printable = !name.empty() && name.size() <= 64;
    for (unsigned char ch : name) printable = printable && ch >= 0x20 && ch != 0x7f;
    return printable;
}

std::string token_file_line(std::string_view name, role r, std::string_view token) {
    std::string line = "  - {name: \"";
    for (char ch : name) {
        if (ch == '"' || ch == '\\') line += '\\';
        line += ch;
    }
    line += "\", role: " + std::string(to_string(r)) + ", sha256: \"" + to_hex(sha256(token)) + "\"}";
    return line;
}

}  // namespace crisisd::admin
