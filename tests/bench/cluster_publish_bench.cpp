// Matched mentions/s into the partitioned stream of a real three-node NATS cluster (R3) on this
// machine: one publish per round trip, and pipelined batches (mention_stream::publish_batch).
// Wall-clock figures on a shared machine are noisy; the ratio of the two in one run is not.
// Usage: cluster_publish_bench [--count N] [--batch B]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "cluster/mention_stream.hpp"
#include "nats_cluster.hpp"

using namespace std::chrono;
using namespace crisisd;

// A message id per (source, mention, partition), as a front's batch ids are unique per message.
static std::string msg_id(const std::string& source, const std::string& id, int partition) {
    return crisisd::cluster::batch_id(source + ":" + id, static_cast<std::uint64_t>(partition));
}

int main(int argc, char** argv) {
    int count = 50000, batch_size = 1000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--count")) count = std::stoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--batch")) batch_size = std::stoi(argv[i + 1]);
    }
    testing::nats_cluster nats;
    if (!nats.available()) {
        std::fprintf(stderr, "nats-server is not installed\n");
        return 77;
    }
    std::string error;
    if (!nats.start(error)) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    cluster::nats_settings ns;
    ns.servers = nats.urls();
    ns.request_timeout = 5000ms;
    auto conn = cluster::nats_connection::connect(ns, error);
    if (!conn) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    std::unique_ptr<cluster::mention_stream> stream;
    testing::poll_until([&] { return (stream = cluster::mention_stream::open(*conn, {}, error)) != nullptr; }, 30s, 250ms);
    if (!stream) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    // A matched mention as the front would publish it: ~300 bytes of JSON.
    std::string payload = R"({"source":"ingest","id":"m-0000000","author":"someone","lang":"en","score":-0.62,)"
                          R"("rules":["isp-outage"],"key":"acme","text":"The internet has been down for three hours )"
                          R"(again and nobody at the support line knows anything, this is the second time this week"})";
    auto mention = [&](int i) {
        int p = cluster::partition_of("isp-outage", "key-" + std::to_string(i % 997), 16);
        return cluster::outgoing_mention{p, msg_id("ingest", "m-" + std::to_string(i), p), payload};
    };

    int sync_count = std::max(1, count / 20);
    auto t0 = steady_clock::now();
    int failed = 0;
    for (int i = 0; i < sync_count; ++i) {
        auto m = mention(i);
        failed += stream->publish(m.partition, m.msg_id, m.payload).result != cluster::publish_result::outcome::stored;
    }
    double sync_s = duration<double>(steady_clock::now() - t0).count();

    t0 = steady_clock::now();
    for (int i = 0; i < count; i += batch_size) {
        std::vector<cluster::outgoing_mention> batch;
        for (int j = i; j < std::min(count, i + batch_size); ++j) batch.push_back(mention(sync_count + j));
        for (const auto& r : stream->publish_batch(batch)) failed += r.result != cluster::publish_result::outcome::stored;
    }
    double batch_s = duration<double>(steady_clock::now() - t0).count();

    double sync_rate = sync_count / sync_s, batch_rate = count / batch_s;
    std::printf("one publish per round trip: %d mentions in %.2f s = %.0f mentions/s\n", sync_count, sync_s, sync_rate);
    std::printf("pipelined batches of %d:    %d mentions in %.2f s = %.0f mentions/s (%.1fx)\n", batch_size, count, batch_s,
                batch_rate, batch_rate / sync_rate);
    std::printf("not stored: %d\n", failed);
    return failed == 0 ? 0 : 1;
}
