// failover_trials: issue 15's failover trials. Each trial starts three crisisd replicas
// (partitions mode) on one three-node NATS cluster, sends a key's ten angry authors (and
// unrelated mentions) to the replicas, and SIGKILLs the key's owner at a random moment:
//   idle     — before any of the key's mentions;
//   mid      — after k of them (k random, 1..9) were counted, the rest sent to the survivors;
//   veto     — after the page, at a random point of the statement's 5 s veto wait;
//   inflight — while the statement's request is at the Mastodon stand-in (its answer held
//              until the owner is dead: the post exists, the owner never learnt it).
// The page goes to a file channel on each replica, the statement to one Mastodon stand-in
// (tests/fakes, Idempotency-Key honoured as Mastodon does) shared by the three.
//
// Bar per trial: takeover (kill → a survivor holds the key's partition) ≤ 10 s; the page
// delivered at least once (over the three file channels); exactly one status on the stand-in;
// every mention counted exactly once. The count: crisisd_mentions_processed_total of the
// survivors, plus the killed owner's as read right before the kill. So that this reading is the
// owner's final count, the kill comes when everything sent so far is counted (the sum over the
// three equals what was sent): a replica counts a mention only once the partition state naming
// it is written to JetStream, so what it counted is exactly what a successor skips.
//
//   failover_trials [--trials N] [--moment idle|mid|veto|inflight|random] [--binary PATH]
// Exit 0 when every trial met the bar.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cluster/mention_stream.hpp"
#include "cluster_support.hpp"
#include "fakes/fake_apis.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using crisisd::testing::cluster_harness;
using crisisd::testing::figure;
using crisisd::testing::lines_in;
using crisisd::testing::replica;
using crisisd::testing::wait_until;

namespace {

constexpr int partitions = 8;

struct outcome {
    std::string moment;
    double takeover_s = -1;
    std::size_t pages = 0, statements = 0, statement_requests = 0;
    bool counted_once = false;
    double counted = 0;   // the dead replica's last count plus the survivors'
    int distinct = 0;
    std::string why;   // set when the trial could not run (setup)
    // What explains a count that is off: a count still short when the owner's was read (what it
    // counted between that reading and the kill then looks lost), the figures summed.
    std::string note;
    bool ok() const {
        return why.empty() && takeover_s >= 0 && takeover_s <= 10 && pages >= 1 && statements == 1 && counted_once;
    }
};

outcome trial(int n, const std::string& moment, std::mt19937& rng, const std::string& binary) {
    outcome o;
    o.moment = moment;
    // A NATS cluster of its own per trial: the partitions' state lives there now, and a trial
    // must not adopt the incident an earlier trial left open for the same key. start() returns
    // once the new cluster can place a three-replica stream (before that a replica exits at once).
    cluster_harness cluster("crisisd-failover");
    cluster.set_binary(binary);
    if (std::string why; !cluster.start(why)) {
        o.why = why;
        return o;
    }
    crisisd::testing::fake_mastodon mastodon("brand-token");
    mastodon.start();
    auto& rs = cluster.replicas();
    auto stop_all = [&] {
        for (auto& r : rs) cluster_harness::stop(r);
    };
    for (const char* s : {"a", "b", "c"}) {
        crisisd::testing::replica_spec spec;
        spec.name = "t" + std::to_string(n) + "-" + s;
        spec.partitions = partitions;
        // The harness's standard body, the statement posted to the Mastodon stand-in (its
        // Idempotency-Key is what the in-flight kill is about).
        spec.body.with_statement = true;
        spec.body.brand_mastodon = mastodon.base_url();
        auto& r = cluster.start_replica(spec);
        if (r.admin == 0 || r.ingest == 0) {
            o.why = "replica " + r.name + " did not start: " + r.process->stderr_text();
            stop_all();
            return o;
        }
    }
    auto owned = [&](const replica& r) { return figure(r, "crisisd_cluster_partitions_owned"); };
    // Leases of an earlier trial's killed replica lapse first (its member key for one ttl).
    if (!wait_until([&] { return owned(rs[0]) > 0 && owned(rs[1]) > 0 && owned(rs[2]) > 0 &&
                                 owned(rs[0]) + owned(rs[1]) + owned(rs[2]) == partitions; },
                    60s)) {
        o.why = "the partitions did not split over the three replicas";
        stop_all();
        return o;
    }
    const int kp = crisisd::cluster::partition_of("acme-outage", "acme", partitions);
    const std::string series = "crisisd_cluster_partition_owned{partition=\"" + std::to_string(kp) + "\"}";
    std::size_t owner = 0;
    for (std::size_t i = 0; i < rs.size(); ++i)
        if (figure(rs[i], series) == 1) owner = i;
    std::vector<std::size_t> survivors;
    for (std::size_t i = 0; i < rs.size(); ++i)
        if (i != owner) survivors.push_back(i);

    const std::string prefix = "t" + std::to_string(n) + "-";
    int distinct = 0;
    // Unrelated mentions to every front, some homed on the owner's partitions.
    for (int i = 0; i < 6; ++i, ++distinct)
        crisisd::testing::ingest(rs[static_cast<std::size_t>(i % 3)],
                                 crisisd::testing::unrelated_mention(prefix + "u" + std::to_string(i), i));
    const bool late = moment == "veto" || moment == "inflight";
    const int before = moment == "idle" ? 0 : late ? 10 : std::uniform_int_distribution<int>(1, 9)(rng);
    if (moment == "inflight") mastodon.hold_next(1);
    auto angry = [&](int i, const replica& to) {
        crisisd::testing::ingest(to, crisisd::testing::angry_mention(prefix + "m" + std::to_string(i), i));
    };
    for (int i = 0; i < before; ++i, ++distinct) angry(i, rs[static_cast<std::size_t>(i % 3)]);
    if (late) wait_until([&] { return lines_in(rs[owner].folder / "pages.jsonl") >= 1; }, 20s);
    if (moment == "veto")
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 4000)(rng)));
    if (moment == "inflight" && !mastodon.wait_for_requests(1, 20s)) o.why = "the statement's request never came";
    // The owner's count dies with it: read it once everything sent so far is counted somewhere,
    // or a mention it counts after the reading would look lost.
    auto counted_now = [&] {
        double sum = 0;
        for (const auto& r : rs) sum += std::max(0.0, figure(r, "crisisd_mentions_processed_total"));
        return sum;
    };
    if (!wait_until([&] { return counted_now() >= distinct; }, 10s))
        o.note = "before the kill only " + std::to_string(static_cast<int>(counted_now())) + " of " +
                 std::to_string(distinct) + " were counted within 10 s; ";
    double counted_by_owner = std::max(0.0, figure(rs[owner], "crisisd_mentions_processed_total"));

    cluster_harness::kill(rs[owner]);
    // The stand-in posted the held status; the dead owner never hears so.
    if (moment == "inflight") mastodon.release();
    const auto killed = std::chrono::steady_clock::now();
    for (int i = before; i < 10; ++i, ++distinct) angry(i, rs[survivors[static_cast<std::size_t>(i % 2)]]);
    if (wait_until([&] { return figure(rs[survivors[0]], series) == 1 || figure(rs[survivors[1]], series) == 1; }, 30s))
        o.takeover_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();

    auto all_lines = [&](const char* file) {
        std::size_t sum = 0;
        for (const auto& r : rs) sum += lines_in(r.folder / file);
        return sum;
    };
    auto counted = [&] {
        double sum = counted_by_owner;
        for (auto i : survivors) sum += std::max(0.0, figure(rs[i], "crisisd_mentions_processed_total"));
        return sum;
    };
    // In flight: the survivor asks again with the same Idempotency-Key (the stand-in answers
    // with the first status); otherwise one post.
    const std::size_t asks = moment == "inflight" ? 2 : 1;
    wait_until([&] { return counted() >= distinct && all_lines("pages.jsonl") >= 1 && mastodon.statuses().size() >= 1 &&
                            mastodon.requests() >= asks; },
               30s);
    o.counted = counted();
    o.distinct = distinct;
    o.note += "owner " + std::to_string(static_cast<int>(counted_by_owner));
    for (auto i : survivors)
        o.note += ", " + rs[i].name + " " + std::to_string(static_cast<int>(std::max(0.0, figure(rs[i], "crisisd_mentions_processed_total"))));
    o.counted_once = o.counted == distinct;
    o.pages = all_lines("pages.jsonl");
    o.statements = mastodon.statuses().size();
    o.statement_requests = mastodon.requests();
    stop_all();
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    int trials = 10;
    std::string moment = "random";
    std::string binary = CRISISD_BINARY;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--trials" && i + 1 < argc) trials = std::atoi(argv[++i]);
        else if (a == "--moment" && i + 1 < argc) moment = argv[++i];
        else if (a == "--binary" && i + 1 < argc) binary = argv[++i];
        else {
            std::fprintf(stderr,
                         "usage: failover_trials [--trials N] [--moment idle|mid|veto|inflight|random] [--binary PATH]\n");
            return 64;
        }
    }
    if (!crisisd::testing::nats_cluster().available()) {
        std::fprintf(stderr, "nats-server is not installed\n");
        return 69;
    }
    std::mt19937 rng(std::random_device{}());
    const std::array<const char*, 4> moments{"idle", "mid", "veto", "inflight"};
    std::map<std::string, std::pair<int, int>> by_moment;   // ok, total
    std::vector<double> takeovers;
    int failures = 0;
    for (int t = 1; t <= trials; ++t) {
        const std::string m = moment == "random" ? moments[std::uniform_int_distribution<std::size_t>(0, moments.size() - 1)(rng)] : moment;
        auto o = trial(t, m, rng, binary);
        if (o.takeover_s >= 0) takeovers.push_back(o.takeover_s);
        auto& [ok, total] = by_moment[m];
        ++total;
        if (o.ok()) ++ok;
        else ++failures;
        std::printf("trial %d (%s): %s takeover=%.1fs pages=%zu statements=%zu (requests %zu) counted=%g/%d%s%s%s%s\n", t,
                    m.c_str(), o.ok() ? "ok" : "FAILED", o.takeover_s, o.pages, o.statements, o.statement_requests,
                    o.counted, o.distinct, o.why.empty() ? "" : " why=", o.why.c_str(),
                    o.ok() ? "" : " counts: ", o.ok() ? "" : o.note.c_str());
        std::fflush(stdout);
    }
    std::sort(takeovers.begin(), takeovers.end());
    for (const auto& [m, r] : by_moment) std::printf("%s: %d of %d trials met the bar\n", m.c_str(), r.first, r.second);
    if (!takeovers.empty())
        std::printf("takeover: p50 %.1f s, max %.1f s over %zu kills\n", takeovers[takeovers.size() / 2], takeovers.back(),
                    takeovers.size());
    return failures == 0 ? 0 : 1;
}
