// The console feed across replicas (admin/cluster_feed.hpp, admin/feed.hpp in cluster mode): what a
// replica publishes of its incidents, what it keeps of its peers' and relays to its consoles (each
// message once, naming its replica), the live list over every replica, and the healing rounds.
#include "admin/cluster_feed.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

#include "admin/api.hpp"
#include "admin/feed.hpp"
#include "admin/metrics.hpp"

using namespace crisisd::admin;
namespace json = boost::json;

namespace {

std::string incident(std::uint64_t id, std::string_view state, std::string_view replica = "") {
    std::string out = "{";
    if (!replica.empty()) out += "\"replica\":\"" + std::string(replica) + "\",";
    return out + "\"id\":" + std::to_string(id) + ",\"state\":\"" + std::string(state) + "\"}";
}

std::string changes_from(std::string_view replica, const std::vector<std::string>& incidents,
                         const std::vector<std::uint64_t>& removed = {}) {
    cluster_feed peer{std::string(replica)};
    auto msgs = peer.changes(incidents, removed);
    EXPECT_EQ(msgs.size(), 1u);
    return msgs.front();
}

std::vector<std::uint64_t> ids_in(const json::value& body, std::string_view member) {
    std::vector<std::uint64_t> out;
    for (const auto& v : body.at(member).as_array())
        out.push_back(v.is_object() ? v.at("id").to_number<std::uint64_t>() : v.to_number<std::uint64_t>());
    return out;
}

}  // namespace

TEST(cluster_feed, an_incident_names_its_replica_first) {
    EXPECT_EQ(with_replica(R"({"id":7,"state":"open"})", "a"), R"({"replica":"a","id":7,"state":"open"})");
    EXPECT_EQ(with_replica("{}", "a"), R"({"replica":"a"})");
    EXPECT_EQ(with_replica("{}", "a\"b"), R"({"replica":"a\"b"})");
}

TEST(cluster_feed, a_peers_changes_are_relayed_once_with_its_name_and_own_messages_are_not) {
    cluster_feed b("replica-b");
    bool asked = false;
    // The incident claims another replica: the message's sender is whose it is.
    auto body = b.take(changes_from("replica-a", {incident(10001, "open", "replica-x")}), asked);
    ASSERT_TRUE(body);
    auto v = json::parse(*body);
    EXPECT_EQ(v.at("replica").as_string(), "replica-a");
    EXPECT_EQ(v.at("incidents").at(0).at("replica").as_string(), "replica-a");
    EXPECT_EQ(ids_in(v, "incidents"), std::vector<std::uint64_t>{10001});
    EXPECT_TRUE(v.at("removed").as_array().empty());
    EXPECT_FALSE(asked);
    EXPECT_EQ(b.held(), 1u);

    // Its own message comes back from the subject too: not relayed again.
    EXPECT_FALSE(b.take(changes_from("replica-b", {incident(20001, "open")}), asked));
    // Nor anything malformed or from a name no replica may have.
    EXPECT_FALSE(b.take("not json", asked));
    EXPECT_FALSE(b.take(R"({"replica":"a b","kind":"changes","incidents":[{"id":1}]})", asked));
    EXPECT_FALSE(b.take(R"({"replica":"replica-a","kind":"gossip"})", asked));
    EXPECT_EQ(b.held(), 1u);

    // A full round repeats it unchanged: not relayed again; changed, it is.
    EXPECT_FALSE(b.take(changes_from("replica-a", {incident(10001, "open")}), asked));
    EXPECT_TRUE(b.take(changes_from("replica-a", {incident(10001, "acknowledged")}), asked));

    // A hello asks for a full round and is not relayed.
    EXPECT_FALSE(b.take(cluster_feed("replica-c").hello(), asked));
    EXPECT_TRUE(asked);
}

TEST(cluster_feed, a_resolved_incident_is_relayed_and_leaves_the_live_list_and_a_removal_names_its_replica) {
    cluster_feed b("replica-b");
    bool asked = false;
    b.take(changes_from("replica-a", {incident(10001, "open"), incident(20001, "open")}), asked);
    auto body = b.take(changes_from("replica-a", {incident(10001, "resolved")}, {20001}), asked);
    ASSERT_TRUE(body);
    auto v = json::parse(*body);
    EXPECT_EQ(v.at("incidents").at(0).at("state").as_string(), "resolved");
    EXPECT_EQ(ids_in(v, "removed"), std::vector<std::uint64_t>{20001});
    EXPECT_EQ(v.at("replica").as_string(), "replica-a");
    EXPECT_EQ(b.held(), 0u);
}

TEST(cluster_feed, a_live_round_drops_what_a_lost_message_left_behind) {
    cluster_feed b("replica-b");
    bool asked = false;
    b.take(changes_from("replica-a", {incident(10001, "open"), incident(20001, "open")}), asked);
    // replica-a resolved 20001 and forgot it; that message was lost. Its next round lists 10001.
    auto body = b.take(cluster_feed("replica-a").live({10001}), asked);
    ASSERT_TRUE(body);
    EXPECT_EQ(ids_in(json::parse(*body), "removed"), std::vector<std::uint64_t>{20001});
    EXPECT_EQ(b.held(), 1u);
    // A round that changes nothing relays nothing.
    EXPECT_FALSE(b.take(cluster_feed("replica-a").live({10001}), asked));
}

TEST(cluster_feed, a_replica_gone_from_the_directory_is_forgotten_after_the_grace) {
    cluster_feed b("replica-b");
    bool asked = false;
    b.take(changes_from("replica-a", {incident(10001, "open")}), asked);
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    // Not in the directory yet (it may just have started): kept for the grace.
    EXPECT_TRUE(b.keep_only({}, t0).empty());
    EXPECT_TRUE(b.keep_only({}, t0 + cluster_feed::absent_grace - std::chrono::milliseconds(1)).empty());
    // Seen again: the clock starts over.
    EXPECT_TRUE(b.keep_only({"replica-a"}, t0 + cluster_feed::absent_grace).empty());
    EXPECT_TRUE(b.keep_only({}, t0 + cluster_feed::absent_grace + std::chrono::seconds(1)).empty());
    auto gone = b.keep_only({}, t0 + 2 * cluster_feed::absent_grace + std::chrono::seconds(1));
    ASSERT_EQ(gone.size(), 1u);
    auto v = json::parse(gone[0]);
    EXPECT_EQ(v.at("replica").as_string(), "replica-a");
    EXPECT_EQ(ids_in(v, "removed"), std::vector<std::uint64_t>{10001});
    EXPECT_EQ(b.held(), 0u);
}

TEST(cluster_feed, the_live_list_has_one_copy_per_incident_the_owners_while_a_partition_moves) {
    cluster_feed c("replica-c");
    bool asked = false;
    c.take(changes_from("replica-a", {incident(10001, "open"), incident(20002, "open"), incident(30003, "open")}), asked);
    // 10001's partition moved to replica-b, whose copy came before replica-a's removal.
    c.take(changes_from("replica-b", {incident(10001, "acknowledged")}), asked);
    auto owner = [](std::uint64_t id) -> std::optional<std::string> {
        if (id == 10001) return "replica-b";
        return std::nullopt;
    };
    // 30003 is held here as well: this replica's copy is in the list already.
    auto live = c.live_incidents({30003}, owner);
    ASSERT_EQ(live.size(), 2u);
    EXPECT_EQ(live[0].first, 10001u);
    EXPECT_NE(live[0].second.find("\"replica\":\"replica-b\""), std::string::npos) << live[0].second;
    EXPECT_EQ(live[1].first, 20002u);
}

TEST(cluster_feed, a_large_round_is_split_into_messages_under_the_bound) {
    cluster_feed a("replica-a");
    std::vector<std::string> many;
    const std::string pad(10000, 'x');
    for (std::uint64_t id = 1; id <= 100; ++id)
        many.push_back(R"({"id":)" + std::to_string(id) + R"(,"state":"open","pad":")" + pad + "\"}");
    auto msgs = a.changes(many, {1000});
    EXPECT_GT(msgs.size(), 3u);
    cluster_feed b("replica-b");
    bool asked = false;
    std::size_t removed = 0;
    for (const auto& m : msgs) {
        EXPECT_LE(m.size(), cluster_feed::max_message_bytes);
        auto body = b.take(m, asked);
        ASSERT_TRUE(body);
        removed += json::parse(*body).at("removed").as_array().size();
    }
    EXPECT_EQ(b.held(), 100u);
    EXPECT_EQ(removed, 1u) << "the removal goes once";
}

// ---- the feed in cluster mode ----

namespace {

class fake_daemon final : public daemon_access {
public:
    std::map<std::uint64_t, std::string> state;  // id -> "open" | "resolved"
    std::string incidents_json(std::optional<std::size_t>) override { return "{}"; }
    std::vector<std::uint64_t> live_incident_ids() override {
        std::vector<std::uint64_t> ids;
        for (const auto& [id, s] : state)
            if (s != "resolved") ids.push_back(id);
        return ids;
    }
    std::string now_rfc3339() override { return "2026-12-04T10:00:00Z"; }
    std::optional<std::string> incident_json(std::uint64_t id) override {
        auto it = state.find(id);
        if (it == state.end()) return std::nullopt;
        return incident(id, it->second);
    }
    command_outcome command(std::string_view, std::uint64_t, std::optional<std::size_t>, std::string_view) override {
        return {};
    }
    bool healthy(std::string&) override { return true; }
};

class fake_cluster final : public cluster_access {
public:
    std::vector<std::string> published;
    std::vector<peer> members{{"replica-a", "http://127.0.0.1:1"}};
    std::string self_name() override { return "replica-b"; }
    std::vector<peer> peers() override { return members; }
    incident_route route(std::uint64_t) override { return {incident_route::kind::nobody, {}, 0}; }
    void publish_feed(std::string message) override { published.push_back(std::move(message)); }
    std::size_t count(std::string_view kind) const {
        std::size_t n = 0;
        for (const auto& m : published) n += json::parse(m).at("kind").as_string() == kind ? 1 : 0;
        return n;
    }
};

class stream final : public crisisd::net::sse_stream {
public:
    std::vector<std::pair<std::string, std::string>> events;  // name, data
    bool send(std::string_view data, std::string_view name) override {
        events.emplace_back(std::string(name), std::string(data));
        return true;
    }
    bool is_open() const override { return true; }
    std::size_t queued_bytes() const override { return 0; }
    void close() override {}
    void on_close(std::function<void()>) override {}
};

}  // namespace

TEST(cluster_feed, a_replica_publishes_its_changes_and_relays_its_peers_to_its_consoles) {
    fake_daemon daemon;
    fake_cluster cluster;
    metrics m;
    daemon.state = {{20001, "open"}};
    feed f(daemon, m, 4, 1 << 20);
    f.enable_cluster(cluster);

    // The first flush says hello and publishes a full round, with nobody listening here.
    f.flush();
    EXPECT_EQ(cluster.count("hello"), 1u);
    EXPECT_EQ(cluster.count("live"), 1u);
    ASSERT_EQ(cluster.count("changes"), 1u);
    EXPECT_NE(cluster.published[1].find(R"({"replica":"replica-b","id":20001,)"), std::string::npos)
        << cluster.published[1];

    // A peer's incident before a console connects: in its live list.
    f.peer_message(changes_from("replica-a", {incident(10001, "open")}));
    f.flush();
    auto s = std::make_shared<stream>();
    f.attach(f.admit(sha256("t")), s);
    f.flush();
    ASSERT_EQ(s->events.size(), 1u);
    EXPECT_EQ(s->events[0].first, "incidents");
    auto list = json::parse(s->events[0].second);
    EXPECT_EQ(ids_in(list, "incidents"), (std::vector<std::uint64_t>{20001, 10001}));
    EXPECT_EQ(list.at("incidents").at(0).at("replica").as_string(), "replica-b");
    EXPECT_EQ(list.at("incidents").at(1).at("replica").as_string(), "replica-a");

    // This replica's change: to its console (naming itself) and to the peers, once each.
    cluster.published.clear();
    daemon.state[20001] = "acknowledged";
    f.mark(20001);
    // A peer's change and its own echo arrive in the same tick.
    f.peer_message(changes_from("replica-a", {incident(10001, "acknowledged")}));
    f.peer_message(changes_from("replica-b", {incident(20001, "acknowledged")}));
    f.flush();
    ASSERT_EQ(s->events.size(), 3u);
    auto own = json::parse(s->events[1].second);
    EXPECT_EQ(own.at("replica").as_string(), "replica-b");
    EXPECT_EQ(ids_in(own, "incidents"), std::vector<std::uint64_t>{20001});
    auto relayed = json::parse(s->events[2].second);
    EXPECT_EQ(relayed.at("replica").as_string(), "replica-a");
    EXPECT_EQ(relayed.at("incidents").at(0).at("state").as_string(), "acknowledged");
    ASSERT_EQ(cluster.count("changes"), 1u);
    EXPECT_NE(cluster.published[0].find(R"("state":"acknowledged")"), std::string::npos);

    // Nothing new: nothing relayed again.
    f.flush();
    EXPECT_EQ(s->events.size(), 3u);

    // A peer says hello: the next flush publishes a full round.
    cluster.published.clear();
    f.peer_message(cluster_feed("replica-c").hello());
    f.flush();
    EXPECT_EQ(cluster.count("live"), 1u);
    EXPECT_EQ(cluster.count("hello"), 0u);
}
