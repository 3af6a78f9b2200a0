// Real streams against local websocket servers (127.0.0.1, port 0): a Jetstream connection that
// drops mid-stream and resumes with a cursor (each post processed exactly once), and Mastodon
// with its token, subscribe frames and a 401. The frame path is assembled as the daemon does
// it: websocket_source → frame_parser → jetstream_resume + dedup_window.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "fakes/io_thread.hpp"
#include "ingest/dedup_window.hpp"
#include "ingest/jetstream_resume.hpp"
#include "ingest/websocket_source.hpp"
#include "net/websocket_server.hpp"
#include "parse/frame_parser.hpp"
#include "recording_events.hpp"

namespace crisisd::ingest {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

constexpr std::int64_t base_time_us = 1783175888000000;

std::string jetstream_post(int i) {
    const std::string n = std::to_string(i);
    return R"({"did":"did:plc:author)" + n + R"(","time_us":)" + std::to_string(base_time_us + i * 1000) +
           R"(,"kind":"commit","commit":{"rev":"rev)" + n +
           R"(","operation":"create","collection":"app.bsky.feed.post","rkey":"post)" + n +
           R"(","record":{"$type":"app.bsky.feed.post","createdAt":"2026-07-04T14:38:07.732Z","langs":["en"],)"
           R"("text":"acme is down again )" + n + R"("},"cid":"bafy)" + n + R"("}})";
}

std::string jetstream_identity(int i) {
    return R"({"did":"did:plc:x","time_us":)" + std::to_string(base_time_us + i * 1000) +
           R"(,"kind":"identity","identity":{"did":"did:plc:x","seq":1,"time":"2026-07-04T14:38:07.732Z"}})";
}

// What the daemon does with each frame, recorded.
class pipeline_stand_in {
public:
    pipeline_stand_in(std::string format, jetstream_resume* resume) : resume_(resume) {
        parse::parser_settings s;
        s.format = std::move(format);
        parser_ = parse::make_parser(s);
    }
    void on_frame(std::string_view frame) {
        core::mention m;
        auto r = parser_->parse(frame, m);
        std::lock_guard lock(mutex_);
        if (r.position > 0 && resume_) resume_->advance(r.position);
        if (r.kind != parse::frame_kind::mention) {
            ++other_;
            return;
        }
        if (!dedup_.first_time(parser_->dedup_key())) {
            ++duplicates_;
            return;
        }
        ++processed_[m.id];
        mentions_.push_back(m);
    }
    std::map<std::string, int> processed() const {
        std::lock_guard lock(mutex_);
        return processed_;
    }
    std::vector<core::mention> mentions() const {
        std::lock_guard lock(mutex_);
        return mentions_;
    }
    int duplicates() const {
        std::lock_guard lock(mutex_);
        return duplicates_;
    }
    std::string url() const {
        std::lock_guard lock(mutex_);
        return resume_->url();
    }

private:
    mutable std::mutex mutex_;
    std::unique_ptr<parse::frame_parser> parser_;
    jetstream_resume* resume_;
    dedup_window dedup_;
    std::map<std::string, int> processed_;
    std::vector<core::mention> mentions_;
    int duplicates_ = 0;
    int other_ = 0;
};

class stream_test : public ::testing::Test {
protected:
    void start_server(net::websocket_server_options options = {}) {
        server_.emplace(server_io_.executor(), std::move(options));
        server_->on_connect([this](const net::websocket_upgrade_info& info) {
            std::lock_guard lock(mutex_);
            targets_.push_back(info.target);
            authorization_.push_back(info.header("Authorization"));
        });
        server_->on_message([this](std::string_view message) {
            std::lock_guard lock(mutex_);
            received_.emplace_back(message);
        });
        ASSERT_FALSE(server_->start());
    }
    std::string base_url(std::string_view path) const {
        return "ws://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
    }
    source_settings settings(std::string url) const {
        source_settings s;
        s.name = "stream";
        s.url = std::move(url);
        s.reconnect_initial = 20ms;
        s.reconnect_max = 100ms;
        return s;
    }
    std::vector<std::string> targets() {
        std::lock_guard lock(mutex_);
        return targets_;
    }
    void TearDown() override {
        if (source_) source_->stop();
    }

    testing::io_thread server_io_;
    testing::io_thread client_io_;
    std::optional<net::websocket_server> server_;
    testing::recording_events events_;
    std::optional<websocket_source> source_;
    std::mutex mutex_;
    std::vector<std::string> targets_, authorization_, received_;
};

TEST_F(stream_test, jetstream_drop_mid_stream_resumes_with_a_cursor_and_processes_each_post_once) {
    start_server();
    jetstream_resume resume(base_url("/subscribe"), {"app.bsky.feed.post"}, {}, 5s);
    pipeline_stand_in pipeline("jetstream", &resume);
    source_.emplace(client_io_.executor(), settings(base_url("/subscribe")),
                    [&](std::string_view f) { pipeline.on_frame(f); }, events_);
    source_->set_url_provider([&] { return pipeline.url(); });
    source_->start();
    ASSERT_TRUE(eventually([&] { return server_->connection_count() == 1; }));

    constexpr int total = 300, before_drop = 200;
    for (int i = 0; i < before_drop; ++i) server_->broadcast(i % 10 == 5 ? jetstream_identity(i) : jetstream_post(i));
    // Drop while frames are still in flight: some of them never arrive on this connection.
    ASSERT_TRUE(eventually([&] { return pipeline.processed().size() >= 20; }));
    server_->close_all();
    ASSERT_TRUE(eventually([&] { return server_->connections_accepted() == 2 && server_->connection_count() == 1; }));

    auto t = targets();
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0], "/subscribe?wantedCollections=app.bsky.feed.post") << "live tail at first";
    auto at = t[1].find("&cursor=");
    ASSERT_NE(at, std::string::npos) << t[1];
    const std::int64_t cursor = std::stoll(t[1].substr(at + 8));
    EXPECT_LT(cursor, base_time_us) << "a few seconds before the last processed event";
    // The server replays from the cursor (everything here), then the live stream continues.
    for (int i = 0; i < total; ++i) {
        if (base_time_us + i * 1000 >= cursor) server_->broadcast(i % 10 == 5 ? jetstream_identity(i) : jetstream_post(i));
    }
    const std::size_t posts = total - total / 10;
    ASSERT_TRUE(eventually([&] { return pipeline.processed().size() == posts; }));
    for (const auto& [id, n] : pipeline.processed()) EXPECT_EQ(n, 1) << id;
    EXPECT_GE(pipeline.duplicates(), 20) << "the replayed overlap was seen and dropped";
    EXPECT_EQ(pipeline.mentions().front().text, "acme is down again 0");
    EXPECT_EQ(events_.reconnects(), 1);
}

TEST_F(stream_test, mastodon_sends_the_token_as_a_header_and_subscribes_on_the_socket) {
    net::websocket_server_options o;
    o.required_token = "good-token";
    start_server(o);
    pipeline_stand_in pipeline("mastodon", nullptr);
    auto s = settings(base_url("/api/v1/streaming"));
    s.token = "good-token";
    source_.emplace(client_io_.executor(), s, [&](std::string_view f) { pipeline.on_frame(f); }, events_);
    source_->set_subscribe_messages({R"({"type":"subscribe","stream":"hashtag","tag":"acme"})",
                                     R"({"type":"subscribe","stream":"public:local"})"});
    source_->start();
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(mutex_);
        return received_.size() == 2;
    }));
    {
        std::lock_guard lock(mutex_);
        EXPECT_EQ(received_[0], R"({"type":"subscribe","stream":"hashtag","tag":"acme"})");
        EXPECT_EQ(authorization_.at(0), "Bearer good-token");
        EXPECT_EQ(targets_.at(0), "/api/v1/streaming") << "never in the URL";
    }
    server_->broadcast(R"({"stream":["hashtag","acme"],"event":"update","payload":"{\"id\":\"1\",)"
                       R"(\"created_at\":\"2026-11-26T08:15:02.000Z\",\"content\":\"<p>acme down</p>\",)"
                       R"(\"language\":null,\"account\":{\"acct\":\"anna@example.social\"}}"})");
    server_->broadcast(R"({"stream":["hashtag","acme"],"event":"delete","payload":"1"})");
    ASSERT_TRUE(eventually([&] { return pipeline.mentions().size() == 1; }));
    auto m = pipeline.mentions()[0];
    EXPECT_EQ(m.id, "1");
    EXPECT_EQ(m.author, "@anna@example.social");
    EXPECT_TRUE(m.html);
}

TEST_F(stream_test, mastodon_401_is_a_clear_configuration_error_not_a_reconnect_loop) {
    net::websocket_server_options o;
    o.required_token = "good-token";
    start_server(o);
    auto s = settings(base_url("/api/v1/streaming"));
    s.token = "revoked-token";
    source_.emplace(client_io_.executor(), s, [&](std::string_view f) { events_.on_frame(f); }, events_);
    source_->start();
    ASSERT_TRUE(eventually([&] { return !events_.fatal().empty(); }));
    EXPECT_NE(events_.fatal().find("HTTP 401"), std::string::npos) << events_.fatal();
    EXPECT_NE(events_.fatal().find("token"), std::string::npos) << events_.fatal();
    std::this_thread::sleep_for(200ms);  // two backoff periods: no second attempt may follow
    EXPECT_EQ(events_.reconnects(), 0);
    EXPECT_EQ(server_->connections_accepted(), 0u);
}

}  // namespace
}  // namespace crisisd::ingest
