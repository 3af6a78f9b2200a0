// The console feed: the live list on connect, then only what changed, each incident rendered
// once per flush however many clients and changes; a client bounded by bytes falls behind and
// gets the newest list instead of a backlog; a cap on streams.
#include "admin/feed.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "admin/api.hpp"
#include "admin/metrics.hpp"

using namespace crisisd::admin;

namespace {

// Incidents as short JSON objects; counts how often each was rendered.
class fake_daemon final : public daemon_access {
public:
    std::map<std::uint64_t, std::string> state;  // id -> "open" | "resolved"
    std::map<std::uint64_t, int> renders;
    int lists = 0;
    std::size_t padding = 0;  // extra bytes in each incident, to make events large

    std::string incidents_json(std::optional<std::size_t>) override { return "{}"; }
    std::vector<std::uint64_t> live_incident_ids() override {
        ++lists;
        std::vector<std::uint64_t> ids;
        for (const auto& [id, s] : state)
            if (s == "open") ids.push_back(id);
        return ids;
    }
    std::string now_rfc3339() override { return "2026-12-04T10:00:00Z"; }
    std::optional<std::string> incident_json(std::uint64_t id) override {
        auto it = state.find(id);
        if (it == state.end()) return std::nullopt;
        ++renders[id];
        return "{\"id\":" + std::to_string(id) + ",\"state\":\"" + it->second + "\",\"pad\":\"" +
               std::string(padding, 'x') + "\"}";
    }
    command_outcome command(std::string_view, std::uint64_t, std::optional<std::size_t>, std::string_view) override {
        return {};
    }
    bool healthy(std::string&) override { return true; }
};

// A stream whose client reads only when told to.
class test_stream final : public crisisd::net::sse_stream {
public:
    struct event {
        std::string name, data;
    };
    std::vector<event> unread, read;
    bool open = true;

    bool send(std::string_view data, std::string_view name) override {
        if (!open) return false;
        unread.push_back({std::string(name), std::string(data)});
        return true;
    }
    bool is_open() const override { return open; }
    std::size_t queued_bytes() const override {
        std::size_t n = 0;
        for (const auto& e : unread) n += e.data.size() + e.name.size() + 16;
        return n;
    }
    void close() override { open = false; }
    void on_close(std::function<void()>) override {}

    void read_all() {
        read.insert(read.end(), unread.begin(), unread.end());
        unread.clear();
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& e : read) out.push_back(e.name);
        return out;
    }
};

token_digest digest_of(std::string_view t) { return sha256(t); }

struct fixture : ::testing::Test {
    fake_daemon daemon;
    metrics m;

    std::shared_ptr<test_stream> connect(feed& f, std::string_view token = "t") {
        auto place = f.admit(digest_of(token));
        EXPECT_TRUE(place);
        auto s = std::make_shared<test_stream>();
        if (place) f.attach(place, s);
        return s;
    }
};

using admin_feed = fixture;

}  // namespace

TEST_F(admin_feed, a_new_client_gets_the_live_list_then_only_what_changed) {
    daemon.state = {{1, "resolved"}, {2, "open"}, {3, "open"}};
    feed f(daemon, m, 4, 1 << 20);
    auto s = connect(f);
    f.flush();
    s->read_all();
    ASSERT_EQ(s->read.size(), 1u);
    EXPECT_EQ(s->read[0].name, "incidents");
    // Open ones only, newest first.
    EXPECT_NE(s->read[0].data.find("{\"incidents\":[{\"id\":3,"), std::string::npos) << s->read[0].data;
    EXPECT_EQ(s->read[0].data.find("\"id\":1,"), std::string::npos) << "resolved incidents are not in the live list";

    // Incident 2 changes many times and 3 resolves, between two ticks: one event, each rendered once.
    daemon.renders.clear();
    daemon.state[3] = "resolved";
    for (int i = 0; i < 50; ++i) f.mark(2);
    f.mark(3);
    f.mark(99);  // forgotten
    f.flush();
    s->read_all();
    ASSERT_EQ(s->read.size(), 2u);
    EXPECT_EQ(s->read[1].name, "changes");
    EXPECT_EQ(s->read[1].data,
              "{\"incidents\":[{\"id\":2,\"state\":\"open\",\"pad\":\"\"},{\"id\":3,\"state\":\"resolved\",\"pad\":\"\"}],"
              "\"removed\":[99],\"now\":\"2026-12-04T10:00:00Z\"}");
    EXPECT_EQ(daemon.renders[2], 1);
    EXPECT_EQ(daemon.lists, 1) << "the live list is not sent again";

    // Nothing changed: nothing rendered.
    daemon.renders.clear();
    f.flush();
    EXPECT_TRUE(daemon.renders.empty());
}

TEST_F(admin_feed, many_clients_share_one_rendering) {
    daemon.state = {{1, "open"}};
    feed f(daemon, m, 8, 1 << 20);
    std::vector<std::shared_ptr<test_stream>> clients;
    for (int i = 0; i < 5; ++i) clients.push_back(connect(f));
    f.flush();
    EXPECT_EQ(daemon.lists, 1);
    EXPECT_EQ(daemon.renders[1], 1);
    f.mark(1);
    f.flush();
    EXPECT_EQ(daemon.renders[1], 2);
    for (auto& c : clients) {
        c->read_all();
        EXPECT_EQ(c->names(), (std::vector<std::string>{"incidents", "changes"}));
    }
}

TEST_F(admin_feed, a_client_that_does_not_read_is_bounded_and_then_gets_the_newest_list) {
    daemon.padding = 1000;
    daemon.state = {{1, "open"}};
    feed f(daemon, m, 4, 8 * 1024);
    auto slow = connect(f);
    auto fast = connect(f);
    f.flush();
    fast->read_all();
    // A burst: 200 incidents open, one per tick. The slow client never reads.
    for (std::uint64_t id = 2; id <= 201; ++id) {
        daemon.state[id] = "open";
        f.mark(id);
        f.flush();
        fast->read_all();
        EXPECT_LE(slow->queued_bytes(), 8u * 1024 + 2048) << "after incident " << id;
    }
    EXPECT_EQ(fast->read.size(), 201u) << "the client that reads gets every change";
    EXPECT_NE(fast->read.back().data.find("\"id\":201"), std::string::npos);
    EXPECT_NE(m.render().find("crisisd_admin_event_stream_resyncs_total 1"), std::string::npos) << m.render();

    // The slow client catches up: it gets the newest list, not the changes it missed.
    slow->read_all();
    const auto before = slow->read.size();
    f.flush();
    slow->read_all();
    ASSERT_EQ(slow->read.size(), before + 1);
    EXPECT_EQ(slow->read.back().name, "incidents");
    EXPECT_NE(slow->read.back().data.find("\"id\":201"), std::string::npos);
    // And from then on changes again.
    daemon.state[202] = "open";
    f.mark(202);
    f.flush();
    slow->read_all();
    EXPECT_EQ(slow->read.back().name, "changes");
}

TEST_F(admin_feed, streams_are_capped_and_a_place_not_used_is_given_back) {
    feed f(daemon, m, 2, 1 << 20);
    auto a = connect(f);
    auto place = f.admit(digest_of("t"));  // admitted, its response not yet a stream
    ASSERT_TRUE(place);
    EXPECT_FALSE(f.admit(digest_of("t"))) << "the third is refused";
    EXPECT_NE(m.render().find("crisisd_admin_event_streams_refused_total 1"), std::string::npos) << m.render();
    place.reset();  // the response was dropped
    EXPECT_TRUE(f.admit(digest_of("t")));
    a->close();  // the client left
    EXPECT_EQ(f.streams(), 0u);
}

TEST_F(admin_feed, revoking_a_token_closes_its_streams) {
    feed f(daemon, m, 4, 1 << 20);
    auto anna = connect(f, "anna");
    auto vera = connect(f, "vera");
    f.close_if_not([](const token_digest& d) { return d == digest_of("vera"); });
    EXPECT_FALSE(anna->is_open());
    EXPECT_TRUE(vera->is_open());
    EXPECT_EQ(f.streams(), 1u);
}
