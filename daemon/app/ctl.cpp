// `crisisd ctl`: a small client for the admin API, for on-call people at a terminal and for
// scripts. Every call sends the bearer token from --token-file or $CRISISD_TOKEN (never from the
// command line, where `ps` would show it); the daemon knows the caller's name from the token.
// `ctl token add` talks to no daemon: it makes a new token and the line for the tokens file.
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "admin/client.hpp"
#include "admin/tokens.hpp"
#include "app/cli.hpp"
#include "report/api_tables.hpp"

namespace crisisd::app {
namespace {

constexpr int exit_unavailable = 69;  // EX_UNAVAILABLE: the daemon did not answer

constexpr const char* ctl_usage =
    "usage: crisisd ctl [--url URL] [--token-file FILE] <command>\n"
    "\n"
    "  list                          incidents, newest first\n"
    "  show ID                       one incident as JSON\n"
    "  ack ID | resolve ID           acknowledge or resolve an incident\n"
    "  approve ID STEP | veto ID STEP   decide on a statement step\n"
    "  silence RULE [--key KEY] --for DURATION   mute a rule (or one key of it), e.g. --for 2h\n"
    "  dead-letters                  actions crisisd gave up on (admin role)\n"
    "  audit [--limit N]             commands, refused requests and reloads, newest first (admin role)\n"
    "  token add NAME ROLE           print a new token for NAME (viewer, responder, approver, admin)\n"
    "                                and the line to add to the tokens file; the daemon is not asked\n"
    "\n"
    "URL defaults to $CRISISD_URL or http://127.0.0.1:9464; the token comes from --token-file or\n"
    "$CRISISD_TOKEN.\n";

struct ctl_context {
    std::string base;
    std::string token;
};

std::optional<std::string> read_token(const options& o, std::string& error) {
    if (auto path = o.value("--token-file")) {
        std::ifstream in(*path);
        std::string line;
        if (!in || !std::getline(in, line)) {
            error = "cannot read token file " + *path;
            return std::nullopt;
        }
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        return line;
    }
    if (const char* env = std::getenv("CRISISD_TOKEN")) return std::string(env);
    return std::string();
}

int call(const ctl_context& c, std::string method, const std::string& path, std::string body, std::string& out) {
    auto r = admin::call_api(c.base, c.token, std::move(method), path, std::move(body));
    if (r.status == 0) {
        std::fprintf(stderr, "crisisd ctl: %s: %s\n", c.base.c_str(), r.error.empty() ? "no answer" : r.error.c_str());
        return exit_unavailable;
    }
    out = std::move(r.body);
    if (r.status >= 300) {
        std::fprintf(stderr, "crisisd ctl: HTTP %d: %s\n", r.status, r.error.c_str());
        if (r.status == 401) std::fputs("crisisd ctl: pass --token-file or set CRISISD_TOKEN\n", stderr);
        if (r.status == 403) std::fputs("crisisd ctl: this token's role may not do that\n", stderr);
        return exit_failure;
    }
    return exit_ok;
}

// `ctl token add NAME ROLE`. It prints rather than appends to the tokens file: the file is the
// daemon's (root's, often a systemd credential), the person running this need not be able to
// write it, and whoever edits it sees exactly which line grants what before reloading.
int token_add(const std::string& name, const std::string& role_text) {
    auto r = admin::parse_role(role_text);
    if (!r) {
        std::fprintf(stderr, "crisisd ctl: unknown role '%s' (viewer, responder, approver or admin)\n", role_text.c_str());
        return exit_usage;
    }
    if (!admin::valid_token_name(name)) {
        std::fputs("crisisd ctl: NAME must be 1-64 printable characters\n", stderr);
        return exit_usage;
    }
    auto token = admin::new_token();
    if (token.empty()) {
        std::fputs("crisisd ctl: no random bytes from the system\n", stderr);
        return exit_failure;
    }
    std::printf("# A new %s token for %s. Hand it over once: crisisd keeps only its SHA-256.\n", role_text.c_str(),
                name.c_str());
    std::printf("%s\n", token.c_str());
    std::printf("# Add this line under 'tokens:' in the tokens file (admin.tokens_file), then reload crisisd:\n");
    std::printf("%s\n", admin::token_file_line(name, *r, token).c_str());
    return exit_ok;
}

bool is_number(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

int ctl_command(const std::vector<std::string>& args) {
    options o{args};
    std::vector<std::string> words;
    const std::vector<std::string_view> valued{"--url", "--token-file", "--key", "--for", "--limit"};
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        if (a == "--help" || a == "-h") {
            std::fputs(ctl_usage, stdout);
            return exit_ok;
        }
        if (a.starts_with("--")) {
            auto name = a.substr(0, a.find('='));
            if (std::find(valued.begin(), valued.end(), name) == valued.end()) {
                std::fprintf(stderr, "crisisd ctl: unknown option '%s'\n", args[i].c_str());
                return exit_usage;
            }
            if (a.find('=') == std::string_view::npos) ++i;
            continue;
        }
        words.push_back(args[i]);
    }
    if (words.empty()) {
        std::fputs(ctl_usage, stderr);
        return exit_usage;
    }
    if (words[0] == "token") {
        if (words.size() != 4 || words[1] != "add") {
            std::fprintf(stderr, "crisisd ctl: usage: crisisd ctl token add NAME ROLE\n");
            return exit_usage;
        }
        return token_add(words[2], words[3]);
    }
    ctl_context c;
    const char* env_url = std::getenv("CRISISD_URL");
    c.base = o.value("--url").value_or(env_url ? env_url : "http://127.0.0.1:9464");
    while (!c.base.empty() && c.base.back() == '/') c.base.pop_back();
    std::string error;
    auto token = read_token(o, error);
    if (!token) {
        std::fprintf(stderr, "crisisd ctl: %s\n", error.c_str());
        return exit_no_input;
    }
    c.token = *token;

    const auto& cmd = words[0];
    auto wrong = [&]() {
        std::fprintf(stderr, "crisisd ctl: wrong arguments for '%s'\n\n%s", cmd.c_str(), ctl_usage);
        return exit_usage;
    };
    std::string out;
    int rc = exit_ok;
    if (cmd == "list" && words.size() == 1) {
        rc = call(c, "GET", "/api/v1/incidents", "", out);
        if (rc == exit_ok) std::cout << report::incident_table(out);
        return rc;
    }
    if (cmd == "audit" && words.size() == 1) {
        auto limit = o.value("--limit").value_or("50");
        if (!is_number(limit)) return wrong();
        rc = call(c, "GET", "/api/v1/audit?limit=" + limit, "", out);
        if (rc == exit_ok) std::cout << report::audit_table(out);
        return rc;
    }
    if (cmd == "dead-letters" && words.size() == 1) {
        rc = call(c, "GET", "/api/v1/dead-letters", "", out);
    } else if (cmd == "show" && words.size() == 2 && is_number(words[1])) {
        rc = call(c, "GET", "/api/v1/incidents/" + words[1], "", out);
    } else if ((cmd == "ack" || cmd == "resolve") && words.size() == 2 && is_number(words[1])) {
        rc = call(c, "POST", "/api/v1/incidents/" + words[1] + "/" + cmd, "", out);
    } else if ((cmd == "approve" || cmd == "veto") && words.size() == 3 && is_number(words[1]) &&
               is_number(words[2])) {
        rc = call(c, "POST", "/api/v1/incidents/" + words[1] + "/steps/" + words[2] + "/" + cmd, "", out);
    } else if (cmd == "silence" && words.size() == 2) {
        auto length = o.value("--for");
        if (!length) return wrong();
        const boost::json::object body{
            {"rule", words[1]}, {"key", o.value("--key").value_or("")}, {"duration", *length}};
        rc = call(c, "POST", "/api/v1/silences", boost::json::serialize(body), out);
    } else {
        return wrong();
    }
    if (rc == exit_ok) std::cout << out << "\n";
    return rc;
}

}  // namespace crisisd::app
