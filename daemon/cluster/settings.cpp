#include "cluster/settings.hpp"

namespace crisisd::cluster {
namespace {

// As the config writes them: "3s", "1500ms".
std::string shown(std::chrono::milliseconds d) {
    auto ms = d.count();
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

}  // namespace

bool valid_name(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

nats_names names_in(const std::string& name_space) {
    const std::string bucket = name_space.empty() ? "crisisd_" : "crisisd_" + name_space + "_";
    const std::string subject = name_space.empty() ? "crisisd." : "crisisd." + name_space + ".";
    nats_names n;
    n.leases = bucket + "leases";
    n.members = bucket + "members";
    n.state = bucket + "state";
    n.statement_caps = bucket + "statement_caps";
    n.source_cursors = bucket + "source_cursors";
    n.stream = bucket + "mentions";
    n.mention_subjects = subject + "mentions";
    n.console_feed = subject + "console.feed";
    return n;
}

std::vector<std::string> validate(const cluster_settings& s) {
    std::vector<std::string> out;
    if (!valid_name(s.name)) out.push_back("the replica name must be 1-64 letters, digits, '-' or '_'");
    if (!s.name_space.empty() && (!valid_name(s.name_space) || s.name_space.size() > 32))
        out.push_back("the namespace must be 1-32 letters, digits, '-' or '_'");
    if (s.nats.servers.empty()) out.push_back("at least one NATS server is needed");
    if (!valid_name(s.leases.bucket)) out.push_back("the lease bucket name must be 1-64 letters, digits, '-' or '_'");
    if (s.leases.partitions < 1 || s.leases.partitions > 4096) out.push_back("partitions must be between 1 and 4096");
    if (s.leases.replicas < 1 || s.leases.replicas > 5) out.push_back("the bucket's replicas must be between 1 and 5");
    const auto& l = s.leases;
    if (l.renew_interval.count() <= 0 || l.safety_margin.count() < 0)
        out.push_back("the renew interval must be positive and the safety margin not negative");
    // A renewal started at the last moment (one interval after the previous one) must have its
    // answer, or its timeout, before the owner's own deadline; otherwise a healthy owner would
    // blink out of ownership between two renewals.
    else if (l.renew_interval + s.nats.request_timeout >= l.ttl - l.safety_margin)
        out.push_back("renew_interval (" + shown(l.renew_interval) + ") + request_timeout (" + shown(s.nats.request_timeout) +
                      ") must be shorter than ttl (" + shown(l.ttl) + ") - safety_margin (" + shown(l.safety_margin) +
                      "), or a healthy owner would fall silent between two renewals");
    return out;
}

}  // namespace crisisd::cluster
