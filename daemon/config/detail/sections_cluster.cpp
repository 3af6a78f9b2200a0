// The `cluster:` section (issue 15): present, crisisd runs as one replica among several on NATS
// JetStream; absent, nothing changes. Only settings are read here; cluster/ validates the
// timing rules that make fencing sound, and those come back as diagnostics at the section.
//
// credentials_file is a path, not a ${file:…} value: the NATS client reads a .creds file itself on
// every (re)connect, so a rotated file is picked up without a reload and the seed never sits in
// crisisd's configuration in memory.
#include <string_view>

#include "config/detail/sections.hpp"

namespace crisisd::config::detail {
namespace {

bool nats_url(const std::string& s) {
    std::string_view v = s;
    for (std::string_view scheme : {"nats://", "tls://"})
        if (v.starts_with(scheme)) {
            v.remove_prefix(scheme.size());
            auto colon = v.rfind(':');
            if (colon == 0 || colon == std::string_view::npos || colon + 1 == v.size()) return false;
            for (char c : v.substr(colon + 1))
                if (c < '0' || c > '9') return false;
            return v.find_first_of("/@ ") == std::string_view::npos;
        }
    return false;
}

std::chrono::milliseconds millis(core::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d); }

void read_tls(context& ctx, const field& f, cluster::tls_settings& out) {
    mapping m(ctx, f, {"ca_file", "cert_file", "key_file", "server_name"});
    if (!m.valid()) return;
    out.enabled = true;
    for (auto [key, target] : {std::pair{"ca_file", &out.ca_file}, std::pair{"cert_file", &out.cert_file},
                               std::pair{"key_file", &out.key_file}})
        if (const field* p = m.find(key))
            if (auto v = read_string(ctx, *p)) *target = resolve_path(ctx, *v);
    if (const field* n = m.find("server_name"))
        if (auto v = read_string(ctx, *n)) out.server_name = *v;
    if (out.cert_file.empty() != out.key_file.empty())
        ctx.error(ctx.at(f.key_node), "'cert_file' and 'key_file' go together (a client certificate needs its key)");
}

void read_nats(context& ctx, const field& f, cluster::nats_settings& out) {
    mapping m(ctx, f, {"servers", "credentials_file", "tls", "connect_timeout", "request_timeout"});
    if (!m.valid()) return;
    if (const field* s = m.require("servers")) {
        if (auto v = read_string_list(ctx, *s, true)) {
            bool ok = true;
            for (const auto& url : *v)
                if (!nats_url(url)) {
                    ctx.error(value_at(ctx, *s), "'servers' must be URLs like nats://host:4222 or tls://host:4222 (got \"" +
                                                     url + "\")");
                    ok = false;
                    break;
                }
            if (ok) out.servers = *v;
        }
    }
    if (const field* c = m.find("credentials_file"))
        if (auto v = read_string(ctx, *c)) out.credentials_file = resolve_path(ctx, *v);
    if (const field* t = m.find("tls")) read_tls(ctx, *t, out.tls);
    if (const field* t = m.find("connect_timeout"))
        if (auto v = read_duration(ctx, *t, false, "2s")) out.connect_timeout = millis(*v);
    if (const field* t = m.find("request_timeout"))
        if (auto v = read_duration(ctx, *t, false, "1s")) out.request_timeout = millis(*v);
}

}  // namespace

void read_cluster(context& ctx, const field& f, std::optional<cluster::cluster_settings>& out) {
    mapping m(ctx, f, {"name", "partitions", "nats", "leases"});
    if (!m.valid()) return;
    m.set_owner("'cluster'");
    cluster::cluster_settings s;
    bool complete = true;
    if (const field* n = m.require("name")) {
        if (auto v = read_string(ctx, *n)) {
            if (cluster::valid_name(*v)) s.name = *v;
            else {
                ctx.error(value_at(ctx, *n), "'name' must be 1-64 letters, digits, '-' or '_' (it names this replica's keys)");
                complete = false;
            }
        } else complete = false;
    } else complete = false;
    if (const field* p = m.find("partitions")) {
        if (auto v = read_integer(ctx, *p, 1, 4096)) s.leases.partitions = static_cast<int>(*v);
        else complete = false;
    }
    if (const field* n = m.require("nats")) {
        read_nats(ctx, *n, s.nats);
        if (s.nats.servers.empty()) complete = false;
    } else complete = false;
    if (const field* l = m.find("leases")) {
        mapping lm(ctx, *l, {"bucket", "replicas", "ttl", "renew_interval", "safety_margin"});
        if (lm.valid()) {
            if (const field* b = lm.find("bucket")) {
                if (auto v = read_string(ctx, *b)) {
                    if (cluster::valid_name(*v)) s.leases.bucket = *v;
                    else ctx.error(value_at(ctx, *b), "'bucket' must be 1-64 letters, digits, '-' or '_'");
                }
            }
            if (const field* r = lm.find("replicas"))
                if (auto v = read_integer(ctx, *r, 1, 5)) s.leases.replicas = static_cast<int>(*v);
            if (const field* t = lm.find("ttl"))
                if (auto v = read_duration(ctx, *t, false, "6s")) s.leases.ttl = millis(*v);
            if (const field* t = lm.find("renew_interval"))
                if (auto v = read_duration(ctx, *t, false, "1s")) s.leases.renew_interval = millis(*v);
            if (const field* t = lm.find("safety_margin"))
                if (auto v = read_duration(ctx, *t, true, "1500ms")) s.leases.safety_margin = millis(*v);
        }
    }
    // The timing rules only make sense once the parts read cleanly.
    if (complete)
        for (const auto& problem : cluster::validate(s)) ctx.error(ctx.at(f.key_node), "'cluster': " + problem);
    out = std::move(s);
}

}  // namespace crisisd::config::detail
