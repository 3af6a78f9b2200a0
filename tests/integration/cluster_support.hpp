#pragma once
// What the cluster tests and tools through the real binary share (issue 15): a three-node NATS
// cluster with JetStream (nats_cluster.hpp), crisisd replicas started on it with a config written
// for them, and the reads they need: /metrics figures per replica and summed over the live ones,
// lines in a file channel, an NDJSON body posted to a replica's HTTP ingest.
//
// A replica's config is its `body` (sources, channels, rules, playbooks, statements: by default
// standard_body(), one HTTP ingest source and the acme rule that pages when ten authors
// complain) followed by the admin, storage and cluster sections the harness writes. Replicas
// run the clustered runtime, or with `mode` "leases" the lease diagnostic
// (CRISISD_CLUSTER_PREVIEW=leases), which holds leases and sends nothing.
//
// Thread-safety: one test thread. The NATS nodes and replicas are child processes; the harness's
// destructor kills what still runs and removes its folder.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "child_process.hpp"
#include "fakes/io_thread.hpp"
#include "nats_cluster.hpp"
#include "net/http_client.hpp"
#include "support.hpp"

namespace crisisd::testing {

inline const std::string cluster_ingest_token = "cluster-test-ingest-token-0123456789abcdef";

// Non-empty lines in a file (0 when it does not exist): what a file channel wrote.
inline std::size_t lines_in(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) ++n;
    return n;
}

// What standard_body() writes. Channels go to files in the replica's folder unless a URL is
// given (a webhook channel to a stand-in such as fakes/http_receiver).
struct body_options {
    bool with_statement = false;   // a holding statement on `brand`, veto, 5 s wait
    std::string pager_url;         // "" : file channel pages.jsonl
    std::string brand_url;         // "" : file channel brand.jsonl
    std::string brand_mastodon;    // a Mastodon channel at this base URL (token "brand-token"), before brand_url
    std::string extra_sources;     // more "  - {...}" lines under sources:
};

// The HTTP ingest source `ingest` (the token in the replica's folder), channels pager and brand,
// and the acme-outage rule: ten unique authors in 10 minutes page once.
inline std::string standard_body(const std::filesystem::path& folder, const body_options& o = {}) {
    std::ofstream(folder / "ingest-token") << cluster_ingest_token;
    auto channel = [&](const std::string& name, const std::string& url, const std::string& file) {
        if (!url.empty()) return "  - { name: " + name + ", type: webhook, url: \"" + url + "\" }\n";
        return "  - { name: " + name + ", type: file, path: \"" + (folder / file).string() + "\" }\n";
    };
    std::string out = "sources:\n  - { name: ingest, type: http, listen: \"127.0.0.1:0\", token: \"${file:" +
                      (folder / "ingest-token").string() + "}\", trusted: true }\n" + o.extra_sources;
    out += "channels:\n" + channel("pager", o.pager_url, "pages.jsonl");
    if (!o.brand_mastodon.empty()) {
        std::ofstream(folder / "brand-token") << "brand-token";
        out += "  - { name: brand, type: mastodon, base_url: \"" + o.brand_mastodon + "\", token: \"${file:" +
               (folder / "brand-token").string() + "}\", timeout: 30s, retry: { initial: 100ms, max: 500ms } }\n";
    } else {
        out += channel("brand", o.brand_url, "brand.jsonl");
    }
    out += R"(rules:
  - name: acme-outage
    match: { keywords: ["acme"] }
    window: 10m
    baseline: 1h
    fire_when: { all: [unique_authors >= 10] }
    clear_when: { all: [count < 1], for: 1h }
    severity: critical
    playbook: outage
playbooks:
  - name: outage
    steps:
      - notify: [pager]
)";
    if (o.with_statement)
        out += R"(      - statement: { name: holding, channel: brand, approval: veto, wait: 5s }
statements:
  - name: holding
    approved_by: "Head of Communications"
    approved_at: "2026-11-01"
    text: { en: "We know about the outage and are working on it." }
)";
    return out;
}

// One replica to start. `servers` empty: every node of the cluster.
struct replica_spec {
    std::string name;
    std::string mode;   // CRISISD_CLUSTER_PREVIEW ("leases"); "": not set
    int partitions = 8;
    std::vector<std::string> servers;
    // The config before admin/storage/cluster; nullopt: standard_body(folder, body).
    std::optional<std::string> config;
    body_options body;
    std::string leases;   // a `leases: {...}` mapping's inside, e.g. "ttl: 6s"; "" : the defaults
    std::string peer_token;   // cluster.peer_token (from a file in the replica's folder); "" : none
    std::string name_space;   // cluster.namespace; "" : none
    bool has_ingest = true;   // wait for the `ingest` source's port
};

struct replica {
    std::string name;
    std::filesystem::path folder;
    std::unique_ptr<child_process> process;
    std::uint16_t admin = 0;
    std::uint16_t ingest = 0;   // the HTTP ingest source's port (0: none)
    bool alive = true;          // false once killed or stopped: its figures read -1
};

// Writes `spec`'s crisisd.yaml into `folder` and returns its path.
inline std::filesystem::path write_replica_config(const std::filesystem::path& folder, const replica_spec& spec,
                                                  const std::vector<std::string>& default_servers) {
    std::filesystem::create_directories(folder);
    std::string servers;
    for (const auto& u : spec.servers.empty() ? default_servers : spec.servers)
        servers += (servers.empty() ? "\"" : ", \"") + u + "\"";
    const auto path = folder / "crisisd.yaml";
    std::ofstream config(path);
    config << (spec.config ? *spec.config : standard_body(folder, spec.body));
    config << "admin: { listen: \"127.0.0.1:0\", tokens_file: \"" << write_admin_tokens(folder).string() << "\" }\n"
           << "storage: { path: \"" << (folder / "state.db").string() << "\" }\n"
           << "cluster:\n  name: " << spec.name << "\n  partitions: " << spec.partitions << "\n  nats: { servers: ["
           << servers << "] }\n";
    if (!spec.name_space.empty()) config << "  namespace: " << spec.name_space << "\n";
    if (!spec.leases.empty()) config << "  leases: { " << spec.leases << " }\n";
    if (!spec.peer_token.empty()) {
        std::ofstream(folder / "peer-token") << spec.peer_token;
        config << "  peer_token: \"${file:" << (folder / "peer-token").string() << "}\"\n";
    }
    return path;
}

// A /metrics figure of a live replica; -1 when absent or the replica is gone.
inline double figure(const replica& r, const std::string& series) {
    if (!r.alive || !r.process) return -1;
    return metric(admin_get(r.admin, "/metrics"), series);
}

// Posts one NDJSON body to a replica's HTTP ingest; true on 202.
inline bool ingest(const replica& r, const std::string& body, const std::string& token = cluster_ingest_token) {
    boost::asio::io_context io;
    net::http_client client(io.get_executor());
    net::http_request req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(r.ingest) + "/api/v1/mentions";
    req.headers.emplace_back("Content-Type", "application/x-ndjson");
    req.headers.emplace_back("Authorization", "Bearer " + token);
    req.body = body;
    try {
        return run_sync(io, client.send(req)).status == 202;
    } catch (const std::exception&) {
        return false;
    }
}

// One NDJSON line: a mention `id` by `author`.
inline std::string cluster_mention(const std::string& id, const std::string& author, const std::string& text) {
    return R"({"id":")" + id + R"(","lang":"en","author":")" + author + R"(","text":")" + text + "\"}\n";
}
// The key's complaint (matches acme-outage) and a mention no rule matches.
inline std::string angry_mention(const std::string& id, int author) {
    return cluster_mention(id, "@user" + std::to_string(author), "acme is down again, this is terrible and awful!");
}
inline std::string unrelated_mention(const std::string& id, int author) {
    return cluster_mention(id, "@other" + std::to_string(author), "lovely weather at the lake today");
}

// The series of one partition's ownership, as /metrics shows it.
inline std::string partition_series(int partition) {
    return "crisisd_cluster_partition_owned{partition=\"" + std::to_string(partition) + "\"}";
}

class cluster_harness {
public:
    // `advertise` false: the NATS nodes do not tell clients about each other (no_advertise), so a
    // replica given one URL (a tcp_proxy's) stays on it and cutting the proxy cuts it off.
    explicit cluster_harness(const std::string& prefix = "crisisd-cluster", bool advertise = true)
        : nats_(advertise), binary_(CRISISD_BINARY), prefix_(prefix) {}
    ~cluster_harness() {
        for (auto& r : replicas_) kill(r);
        if (!dir_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
    }
    cluster_harness(const cluster_harness&) = delete;
    cluster_harness& operator=(const cluster_harness&) = delete;

    bool available() const { return nats_.available(); }
    // Another crisisd binary (a tool's --binary).
    void set_binary(std::string path) { binary_ = std::move(path); }

    // Starts the three nodes; false with their logs in `why` when JetStream does not come up or
    // cannot place a three-replica stream (every peer known to the meta leader: before that a
    // replica's lease bucket fails with "no suitable peers for placement").
    bool start(std::string& why) {
        dir_ = make_temp_dir(prefix_);
        if (!nats_.start(why)) return false;
        if (!poll_until([&] { return r3_placeable(nats_.client_port(0)); }, std::chrono::seconds(30),
                        std::chrono::milliseconds(200))) {
            why = "JetStream could not place a three-replica stream\n" + nats_.logs();
            return false;
        }
        return true;
    }

    // Starts a replica and waits for its console (and ingest) port; on failure the returned
    // replica's admin (or ingest) port is 0 and its stderr says why.
    replica& start_replica(const replica_spec& spec) {
        replica r;
        r.name = spec.name;
        r.folder = dir_ / spec.name;
        const auto config = write_replica_config(r.folder, spec, nats_.urls());
        std::vector<std::string> argv{binary_, "run", "--config", config.string()};
        if (!spec.mode.empty()) argv.insert(argv.begin(), {"/usr/bin/env", "CRISISD_CLUSTER_PREVIEW=" + spec.mode});
        r.process = std::make_unique<child_process>(std::move(argv));
        r.admin = r.process->wait_for_port(R"(console on http://127\.0\.0\.1:(\d+)/)", std::chrono::seconds(30));
        if (r.admin != 0 && spec.has_ingest)
            r.ingest = r.process->wait_for_port(R"(source ingest: HTTP ingest on .* \(port (\d+)\))", std::chrono::seconds(5));
        replicas_.push_back(std::move(r));
        return replicas_.back();
    }
    replica& start_replica(const std::string& name) {
        replica_spec spec;
        spec.name = name;
        return start_replica(spec);
    }

    // SIGKILL, reaped.
    static void kill(replica& r) {
        if (!r.process || !r.alive) return;
        r.process->signal(SIGCONT);
        r.process->signal(SIGKILL);
        r.process->wait_exit(std::chrono::seconds(10));
        r.alive = false;
    }
    // SIGTERM; the exit status, or nullopt when it did not exit within `timeout`.
    static std::optional<int> stop(replica& r, std::chrono::seconds timeout = std::chrono::seconds(20)) {
        if (!r.process || !r.alive) return std::nullopt;
        r.process->signal(SIGTERM);
        auto code = r.process->wait_exit(timeout);
        if (code) r.alive = false;
        return code;
    }

    static double owned(const replica& r) { return figure(r, "crisisd_cluster_partitions_owned"); }
    // A figure summed over the live replicas (absent counts 0).
    double total(const std::string& series) const {
        double sum = 0;
        for (const auto& r : replicas_) sum += std::max(0.0, figure(r, series));
        return sum;
    }
    // Waits until the live replicas own every partition between them, each at least one.
    bool wait_split(int partitions, std::chrono::milliseconds timeout) const {
        return wait_until(
            [&] {
                double sum = 0;
                for (const auto& r : replicas_) {
                    if (!r.alive) continue;
                    const double o = owned(r);
                    if (o <= 0) return false;
                    sum += o;
                }
                return sum == partitions;
            },
            timeout);
    }
    // The live replica owning `partition`, or nullptr.
    replica* owner_of(int partition) {
        for (auto& r : replicas_)
            if (r.alive && figure(r, partition_series(partition)) == 1) return &r;
        return nullptr;
    }

    std::string logs() const {
        std::string out;
        for (const auto& r : replicas_)
            if (r.process) out += "--- " + r.name + "\n" + r.process->stderr_text();
        return out;
    }

    nats_cluster& nats() { return nats_; }
    const std::filesystem::path& dir() const { return dir_; }
    std::deque<replica>& replicas() { return replicas_; }

private:
    // Creates and deletes a three-replica stream through the node on `port`.
    static bool r3_placeable(std::uint16_t port) {
        natsOptions* o = nullptr;
        natsConnection* nc = nullptr;
        jsCtx* js = nullptr;
        bool ok = false;
        const std::string url = "nats://127.0.0.1:" + std::to_string(port);
        if (natsOptions_Create(&o) == NATS_OK && natsOptions_SetURL(o, url.c_str()) == NATS_OK &&
            natsOptions_SetTimeout(o, 2000) == NATS_OK && natsOptions_SetAllowReconnect(o, false) == NATS_OK &&
            natsConnection_Connect(&nc, o) == NATS_OK) {
            jsOptions jo;
            jsOptions_Init(&jo);
            jo.Wait = 5000;
            if (natsConnection_JetStream(&js, nc, &jo) == NATS_OK) {
                jsStreamConfig sc;
                jsStreamConfig_Init(&sc);
                sc.Name = "crisisd_harness_probe";
                const char* subjects[] = {"crisisd.harness.probe"};
                sc.Subjects = subjects;
                sc.SubjectsLen = 1;
                sc.Replicas = 3;
                sc.Storage = js_MemoryStorage;
                jsStreamInfo* si = nullptr;
                jsErrCode jerr = static_cast<jsErrCode>(0);
                if (js_AddStream(&si, js, &sc, nullptr, &jerr) == NATS_OK) {
                    ok = true;
                    jsStreamInfo_Destroy(si);
                    js_DeleteStream(js, sc.Name, nullptr, nullptr);
                }
            }
        }
        if (js) jsCtx_Destroy(js);
        if (nc) natsConnection_Destroy(nc);
        if (o) natsOptions_Destroy(o);
        return ok;
    }

    nats_cluster nats_;
    std::string binary_;
    std::string prefix_;
    std::filesystem::path dir_;
    std::deque<replica> replicas_;   // a deque: start_replica's references stay valid
};

}  // namespace crisisd::testing
