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

// http(s)://host:port with nothing after but an optional '/': peers append the API paths to it.
bool advertise_url(const std::string& s) {
    std::string_view v = s;
    bool found = false;
    for (std::string_view scheme : {"http://", "https://"})
        if (v.starts_with(scheme)) {
            v.remove_prefix(scheme.size());
            found = true;
        }
    if (!found) return false;
    if (v.ends_with('/')) v.remove_suffix(1);
    auto colon = v.rfind(':');
    if (colon == 0 || colon == std::string_view::npos || colon + 1 == v.size()) return false;
    for (char c : v.substr(colon + 1))
        if (c < '0' || c > '9') return false;
    return v.find_first_of("/@ ?#") == std::string_view::npos;
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
    mapping m(ctx, f, {"name", "namespace", "partitions", "nats", "leases", "advertise_url", "peer_token"});
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
    if (const field* ns = m.find("namespace")) {
        if (auto v = read_string(ctx, *ns)) {
            if (cluster::valid_name(*v) && v->size() <= 32) {
                s.name_space = *v;
                s.leases.bucket = cluster::names_in(s.name_space).leases;
            } else {
                ctx.error(value_at(ctx, *ns), "'namespace' must be 1-32 letters, digits, '-' or '_' (it names this "
                                              "cluster's buckets, stream and subjects in NATS)");
            }
        }
    }
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
                    if (!s.name_space.empty())
                        // Only the lease bucket would move: a second cluster would still share the
                        // partition state and the mention stream.
                        ctx.error(value_at(ctx, *b), "'bucket' cannot be set with 'namespace', which names the lease bucket (" +
                                                         cluster::names_in(s.name_space).leases + ") with the others");
                    else if (cluster::valid_name(*v)) s.leases.bucket = *v;
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
    if (const field* a = m.find("advertise_url")) {
        if (auto v = read_string(ctx, *a)) {
            if (advertise_url(*v)) s.advertise_url = v->back() == '/' ? v->substr(0, v->size() - 1) : *v;
            else
                ctx.error(value_at(ctx, *a), "'advertise_url' must be this replica's admin API as its peers reach it, "
                                             "like http://10.0.0.2:9464 or https://crisisd-2.example.com:9464 (got \"" +
                                                 *v + "\")");
        }
    }
    if (const field* t = m.find("peer_token")) {
        if (auto v = read_secret(ctx, *t, true)) {
            // As admin tokens (admin/tokens.hpp): a shorter secret can be guessed.
            if (v->size() < 22 || v->size() > 512)
                ctx.error(value_at(ctx, *t), "'peer_token' must be 22 to 512 characters (crisisd ctl token makes one)");
            else s.peer_token = *v;
        }
    }
    // The timing rules only make sense once the parts read cleanly.
    if (complete)
        for (const auto& problem : cluster::validate(s)) ctx.error(ctx.at(f.key_node), "'cluster': " + problem);
    out = std::move(s);
}

}  // namespace crisisd::config::detail
