#pragma once
// Settings of the cluster module: how to reach NATS and how partitions are leased. Plain structs,
// filled by config/ (a `cluster:` section) or by tests; the module never sees YAML.
#include <chrono>
#include <string>
#include <vector>

namespace crisisd::cluster {

struct tls_settings {
    bool enabled = false;       // also implied by a tls:// server URL
    std::string ca_file;        // PEM roots that sign the servers' certificates (empty: system roots)
    std::string cert_file;      // client certificate chain, for servers that require mutual TLS
    std::string key_file;       // its private key
    std::string server_name;    // name expected in the servers' certificates (empty: the URL's host)
};

struct nats_settings {
    std::vector<std::string> servers;   // nats://host:port or tls://host:port, tried in this order
    std::string credentials_file;       // a NATS .creds file (user JWT + nkey seed); empty: none
    tls_settings tls;
    std::string client_name;            // shown by the servers' monitoring (connz)
    std::chrono::milliseconds connect_timeout{2000};
    // Every JetStream request (a lease write, a read) waits this long for its answer. It bounds how
    // late a renewal can be noticed as failed, so it must stay well below the lease TTL.
    std::chrono::milliseconds request_timeout{1000};
    std::chrono::milliseconds reconnect_wait{250};
    // Only the listed servers, never those a server announces. A replica normally wants the
    // announced ones (it survives the loss of the servers it was given); tests turn this on to cut
    // one replica off through a proxy.
    bool ignore_discovered_servers = false;
};

struct lease_settings {
    std::string bucket = "crisisd_leases";   // the key-value bucket (stream KV_<bucket>)
    int partitions = 16;
    int replicas = 3;                          // the bucket's replication: R3 survives one lost server
    // A lease lives `ttl` after its last write (the bucket's max age). The owner renews every
    // `renew_interval` and considers itself owner only until its last successful renewal (when the
    // request was sent, on the monotonic clock) + ttl - safety_margin. The margin covers the NATS
    // servers' clocks running fast against ours and the time between checking and acting.
    std::chrono::milliseconds ttl{6000};
    std::chrono::milliseconds renew_interval{1000};
    std::chrono::milliseconds safety_margin{1500};
};

struct cluster_settings {
    std::string name;   // this replica's name, unique in the cluster: letters, digits, '-', '_'
    // `cluster.namespace`: puts every bucket, stream and subject of this cluster under its own
    // names (nats_names), so two clusters on one NATS system - staging beside production - stay
    // apart. Empty: the names crisisd has always used. The same on every replica of a cluster.
    std::string name_space;
    nats_settings nats;
    lease_settings leases;
    // This replica's admin API as its peers reach it ("https://10.0.0.2:9464"), published in the
    // member directory (cluster/directory.hpp). Empty: the admin listener's own address with the
    // bound port (admin::console_url), right when replicas share a host or listen on a routable
    // address, wrong behind NAT or a wildcard listen.
    std::string advertise_url;
    // What replicas present to one another's admin APIs (admin/cluster.hpp), from ${file:…} or
    // ${env:…}; the same on every replica. Empty: each replica shows and commands only its own
    // incidents, and a silence holds only where it was set.
    std::string peer_token;
};

// What one cluster calls its things in NATS. Two clusters that share these would share leases,
// partition state and mentions: each would take the other's partitions and process (and page
// for) the other's mentions under its own rules and channels.
struct nats_names {
    std::string leases;           // key-value bucket: partition leases (and, with a suffix, pull sources')
    std::string members;          // key-value bucket: replicas' admin APIs
    std::string state;            // key-value bucket: each partition's state
    std::string statement_caps;   // key-value bucket: statements per channel in the last hour
    std::string source_cursors;   // key-value bucket: pull sources' resume points
    std::string stream;           // the mention stream
    std::string mention_subjects; // its subjects' prefix: partition n is <prefix>.<n>
    std::string console_feed;     // core NATS subject of the consoles' live feed
};
// "" gives crisisd_leases, crisisd_members, ..., crisisd.mentions, crisisd.console.feed; "eu" gives
// crisisd_eu_leases, ..., crisisd.eu.mentions, crisisd.eu.console.feed. `name_space` is valid_name().
nats_names names_in(const std::string& name_space);

// Problems that make these settings unusable, one sentence each; empty when they are fine.
std::vector<std::string> validate(const cluster_settings& s);

// True when `s` may be a key token or bucket name: [A-Za-z0-9_-]+, at most 64 characters.
bool valid_name(const std::string& s);

}  // namespace crisisd::cluster
