// The channels against real local servers speaking each remote API (tests/fakes/fake_apis).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "fakes/fake_apis.hpp"
#include "fakes/http_receiver.hpp"
#include "fakes/io_thread.hpp"
#include "notify/channel.hpp"
#include "notify/traits.hpp"

namespace crisisd::notify {
namespace {

using namespace std::chrono_literals;
using testing::run_sync;

std::string statement_payload(std::string text, std::string lang = "en") {
    return R"({"idempotency_key":"7/open/1/brand","kind":"statement","channel":"brand","text":")" + text +
           R"(","at":"2026-11-26T08:20:00.123Z","statement":"outage-holding","language":")" + lang +
           R"(","incident":{"id":7,"rule":"isp-outage","key":"liwest","severity":"critical","state":"open","opened_at":"2026-11-26T08:17:00Z"}})";
}

std::string notify_payload(std::string event) {
    return R"({"idempotency_key":"7/open/0/pager","kind":"notify","channel":"pager","event":")" + event +
           R"(","text":"complaints about liwest 6x baseline","at":"2026-11-26T08:17:00Z","incident":{"id":7,"rule":"isp-outage","key":"liwest","severity":"critical","state":"open","opened_at":"2026-11-26T08:17:00Z"},"console_url":"http://127.0.0.1:9464/#incident-7"})";
}

channel_settings cs(std::string name, std::string type, std::string url) {
    channel_settings s;
    s.name = std::move(name);
    s.type = std::move(type);
    s.url = std::move(url);
    return s;
}

// A Bluesky channel for fake_bluesky's account; another password makes its login fail.
channel_settings bluesky(std::string name, std::string url, std::string password = "app-password") {
    auto s = cs(std::move(name), "bluesky", std::move(url));
    s.identifier = "brand.example";
    s.password = std::move(password);
    return s;
}

channel_settings with(channel_settings s, std::string channel_settings::*field, std::string value) {
    s.*field = std::move(value);
    return s;
}

struct channel_fixture : ::testing::Test {
    boost::asio::io_context io;

    std::unique_ptr<channel> make(channel_settings s) {
        std::string error;
        s.timeout = 2s;
        auto ch = make_channel(s, io.get_executor(), {}, error);
        EXPECT_TRUE(ch) << error;
        return ch;
    }
    delivery_result send(channel& ch, const std::string& key, const std::string& payload, int attempt = 1,
                         const std::string& instance = "") {
        return run_sync(io, ch.deliver(delivery{key, "", payload, attempt, instance}));
    }
};

// A state database created anew numbers its incidents from 1 again; its instance id keeps every
// key a destination sees apart from the old database's, so an old post never answers for a new one.
TEST_F(channel_fixture, the_instance_id_goes_into_every_platform_key) {
    const std::string old_db = "0123456789abcdef0123456789abcdef", new_db = "fedcba9876543210fedcba9876543210";
    EXPECT_EQ(platform_key(delivery{"1/open/1/brand", "", "", 1, new_db}), new_db + "/1/open/1/brand");
    EXPECT_EQ(platform_key(delivery{"1/open/1/brand", "", "", 1, ""}), "1/open/1/brand");

    testing::fake_mastodon mastodon;
    mastodon.start();
    auto m = make(with(cs("brand", "mastodon", mastodon.base_url()), &channel_settings::token, "mastodon-token"));
    EXPECT_EQ(send(*m, "1/open/1/brand", statement_payload("Old incident 1."), 1, old_db).result, outcome::sent);
    EXPECT_EQ(send(*m, "1/open/1/brand", statement_payload("New incident 1."), 1, new_db).result, outcome::sent);
    ASSERT_EQ(mastodon.statuses().size(), 2u) << "the new incident 1 is posted, not answered with the old post";
    EXPECT_EQ(mastodon.statuses()[1].text, "New incident 1.");
    EXPECT_EQ(mastodon.statuses()[1].idempotency_key,
              mastodon_idempotency_key(new_db + "/1/open/1/brand", mastodon.base_url()));

    testing::fake_bluesky pds;
    pds.start();
    auto b = make(bluesky("brand", pds.base_url()));
    EXPECT_EQ(send(*b, "1/open/1/brand", statement_payload("Old."), 1, old_db).result, outcome::sent);
    EXPECT_EQ(send(*b, "1/open/1/brand", statement_payload("New."), 1, new_db).result, outcome::sent);
    ASSERT_EQ(pds.posts().size(), 2u);
    for (const auto& post : pds.posts()) EXPECT_EQ(post.rkey.size(), 13u) << "app.bsky.feed.post keys are TIDs";

    testing::fake_pagerduty pd;
    pd.start();
    auto s = cs("pager", "pagerduty", pd.url());
    s.routing_key = "0123456789abcdef0123456789abcdef";
    auto p = make(s);
    EXPECT_EQ(send(*p, "7/open/0/pager", notify_payload("opened"), 1, new_db).result, outcome::sent);
    EXPECT_EQ(pd.alert_state("crisisd/" + new_db + "/isp-outage/7"), "triggered");

    testing::http_receiver am;
    am.start();
    auto a = make(cs("am", "alertmanager", am.url("/")));
    EXPECT_EQ(send(*a, "7/open/0/am", notify_payload("opened"), 1, new_db).result, outcome::sent);
    ASSERT_EQ(am.requests().size(), 1u);
    auto labels = boost::json::parse(am.requests()[0].body).as_array().at(0).at("labels");
    EXPECT_EQ(labels.at("crisisd_instance"), new_db.c_str()) << "the label set is the alert's identity";
}

TEST_F(channel_fixture, mastodon_posts_once_per_action_even_when_retried) {
    testing::fake_mastodon fake;
    fake.start();
    auto ch = make(with(cs("brand", "mastodon", fake.base_url()), &channel_settings::token, "mastodon-token"));
    auto first = send(*ch, "7/open/1/brand", statement_payload("We know about the outage."));
    EXPECT_EQ(first.result, outcome::sent) << first.detail;
    auto again = send(*ch, "7/open/1/brand", statement_payload("We know about the outage."), 2);
    EXPECT_EQ(again.result, outcome::sent) << again.detail;
    ASSERT_EQ(fake.statuses().size(), 1u);
    EXPECT_EQ(fake.requests(), 2u);
    EXPECT_EQ(fake.statuses()[0].text, "We know about the outage.");
    EXPECT_EQ(fake.statuses()[0].language, "en");
    EXPECT_EQ(fake.statuses()[0].visibility, "public");
    EXPECT_EQ(fake.statuses()[0].idempotency_key, mastodon_idempotency_key("7/open/1/brand", fake.base_url()));
    // A different action is a different post.
    EXPECT_EQ(send(*ch, "8/open/1/brand", statement_payload("Second incident.")).result, outcome::sent);
    EXPECT_EQ(fake.statuses().size(), 2u);
}

TEST_F(channel_fixture, mastodon_refusals_are_dead_letters_and_rate_limits_wait_for_the_reset) {
    testing::fake_mastodon fake;
    fake.start();
    auto bad_token = make(with(cs("brand", "mastodon", fake.base_url()), &channel_settings::token, "wrong"));
    auto r = send(*bad_token, "k1", statement_payload("text"));
    EXPECT_EQ(r.result, outcome::failed);
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.detail.find("access token is invalid"), std::string::npos) << r.detail;

    auto ch = make(with(cs("brand", "mastodon", fake.base_url()), &channel_settings::token, "mastodon-token"));
    auto too_long = send(*ch, "k2", statement_payload(std::string(501, 'x')));
    EXPECT_EQ(too_long.result, outcome::failed);
    EXPECT_EQ(too_long.status, 422);

    fake.script_errors({429, 503});
    auto limited = send(*ch, "k3", statement_payload("text"));
    EXPECT_EQ(limited.result, outcome::retry);
    ASSERT_TRUE(limited.retry_after);
    EXPECT_LE(*limited.retry_after, 2s);
    EXPECT_EQ(send(*ch, "k3", statement_payload("text")).result, outcome::retry);  // 503
    EXPECT_EQ(send(*ch, "k3", statement_payload("text")).result, outcome::sent);
    EXPECT_EQ(fake.statuses().size(), 1u);

    auto page = send(*ch, "k4", notify_payload("opened"));
    EXPECT_EQ(page.result, outcome::failed) << "a page is never posted publicly";
}

TEST_F(channel_fixture, bluesky_logs_in_once_and_refreshes_an_expired_session) {
    testing::fake_bluesky fake;
    fake.start();
    auto ch = make(bluesky("brand", fake.base_url()));
    EXPECT_EQ(send(*ch, "1/open/1/brand", statement_payload("first")).result, outcome::sent);
    EXPECT_EQ(send(*ch, "2/open/1/brand", statement_payload("second")).result, outcome::sent);
    EXPECT_EQ(fake.sessions_created(), 1);
    fake.expire_access_tokens();
    auto r = send(*ch, "3/open/1/brand", statement_payload("third"));
    EXPECT_EQ(r.result, outcome::sent) << r.detail;
    EXPECT_EQ(fake.sessions_refreshed(), 1);
    EXPECT_EQ(fake.sessions_created(), 1);
    auto posts = fake.posts();
    ASSERT_EQ(posts.size(), 3u);
    EXPECT_EQ(posts[0].rkey, bluesky_rkey("1/open/1/brand", *core::parse_rfc3339("2026-11-26T08:20:00.123Z")));
    EXPECT_EQ(posts[0].rkey.size(), 13u);
    EXPECT_EQ(posts[0].created_at, "2026-11-26T08:20:00.123Z");
}

TEST_F(channel_fixture, bluesky_learns_that_a_lost_attempt_landed_instead_of_posting_again) {
    testing::fake_bluesky fake;
    fake.start();
    auto ch = make(bluesky("brand", fake.base_url()));
    fake.lose_next_answer();
    auto first = send(*ch, "7/open/1/brand", statement_payload("holding"));
    EXPECT_EQ(first.result, outcome::sent) << "the 502 after commit is resolved by getRecord: " << first.detail;
    // A restart retries with attempt > 1: the record is found, nothing is created.
    auto creates = fake.create_calls();
    auto retry = send(*ch, "7/open/1/brand", statement_payload("holding"), 2);
    EXPECT_EQ(retry.result, outcome::sent) << retry.detail;
    EXPECT_EQ(fake.create_calls(), creates);
    EXPECT_EQ(fake.posts().size(), 1u);

    auto wrong = make(bluesky("b2", fake.base_url(), "nope"));
    auto refused = send(*wrong, "9/open/1/b2", statement_payload("x"));
    EXPECT_EQ(refused.result, outcome::failed);
    EXPECT_NE(refused.detail.find("createSession"), std::string::npos);
    EXPECT_EQ(send(*ch, "10/open/1/brand", statement_payload(std::string(301, 'y'))).result, outcome::failed);
}

TEST_F(channel_fixture, pagerduty_triggers_acknowledges_and_resolves_one_alert) {
    testing::fake_pagerduty fake;
    fake.start();
    auto s = cs("pager", "pagerduty", fake.url());
    s.routing_key = "0123456789abcdef0123456789abcdef";
    auto ch = make(s);
    EXPECT_EQ(send(*ch, "7/open/0/pager", notify_payload("opened")).result, outcome::sent);
    EXPECT_EQ(send(*ch, "7/open/2/pager", notify_payload("escalated")).result, outcome::sent);
    EXPECT_EQ(fake.alerts_opened(), 1u) << "an escalation attaches to the open alert";
    EXPECT_EQ(fake.alert_state("crisisd/isp-outage/7"), "triggered");
    EXPECT_EQ(send(*ch, "7/acknowledged/pager", notify_payload("acknowledged")).result, outcome::sent);
    EXPECT_EQ(fake.alert_state("crisisd/isp-outage/7"), "acknowledged");
    EXPECT_EQ(send(*ch, "7/resolved/pager", notify_payload("resolved")).result, outcome::sent);
    EXPECT_EQ(fake.alert_state("crisisd/isp-outage/7"), "resolved");
    auto events = fake.events();
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[0].severity, "critical");
    EXPECT_NE(events[0].summary.find("incident 7"), std::string::npos);

    fake.script_statuses({429, 500});
    EXPECT_EQ(send(*ch, "8/open/0/pager", notify_payload("opened")).result, outcome::retry);
    EXPECT_EQ(send(*ch, "8/open/0/pager", notify_payload("opened")).result, outcome::retry);
    auto bad = make(with(cs("p2", "pagerduty", fake.url()), &channel_settings::routing_key, "short"));
    auto r = send(*bad, "8/open/0/p2", notify_payload("opened"));
    EXPECT_EQ(r.result, outcome::failed) << "a 400 is never retried";
    EXPECT_EQ(r.status, 400);
}

TEST_F(channel_fixture, slack_and_alertmanager_speak_their_formats) {
    testing::http_receiver slack;
    slack.start();
    slack.set_response_body("ok", "text/plain");
    auto sl = make(cs("chat", "slack", slack.url("/services/T0/B0/x")));
    EXPECT_EQ(send(*sl, "7/open/0/chat", notify_payload("opened")).result, outcome::sent);
    auto body = boost::json::parse(slack.requests().at(0).body).as_object();
    std::string text(body.at("text").as_string());
    EXPECT_NE(text.find("[critical] incident 7 (isp-outage / liwest) opened"), std::string::npos) << text;
    EXPECT_NE(text.find("<http://127.0.0.1:9464/#incident-7|"), std::string::npos);

    testing::http_receiver am;
    am.start();
    auto ch = make(cs("am", "alertmanager", am.url("/")));
    EXPECT_EQ(send(*ch, "7/open/0/am", notify_payload("opened")).result, outcome::sent);
    EXPECT_EQ(send(*ch, "7/resolved/am", notify_payload("resolved")).result, outcome::sent);
    auto reqs = am.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[0].target, "/api/v2/alerts");
    auto firing = boost::json::parse(reqs[0].body).as_array().at(0).as_object();
    auto resolved = boost::json::parse(reqs[1].body).as_array().at(0).as_object();
    EXPECT_EQ(firing.at("labels"), resolved.at("labels")) << "the label set is the alert's identity";
    EXPECT_EQ(firing.at("labels").at("alertname"), "isp-outage");
    EXPECT_EQ(resolved.at("endsAt"), "2026-11-26T08:17:01Z");
    am.set_default_status(400);
    EXPECT_EQ(send(*ch, "7/open/0/am", notify_payload("opened")).result, outcome::failed);
}

TEST(text_limits, count_what_each_network_counts) {
    const auto length = [](std::string_view type, std::string_view text) {
        return text::text_length(traits_of(type)->length, text);
    };
    EXPECT_EQ(text::post_limit_of(traits_of("mastodon")->length).max, 500u);
    EXPECT_EQ(text::post_limit_of(traits_of("bluesky")->length).max, 300u);
    EXPECT_EQ(text::post_limit_of(traits_of("webhook")->length).max, 0u);
    EXPECT_EQ(length("mastodon", "Störung"), 7u);
    // Flag (two regional indicators), family emoji (ZWJ sequence), e + combining acute.
    EXPECT_EQ(length("bluesky", "\U0001F1E6\U0001F1F9"), 1u);
    EXPECT_EQ(length("bluesky", "\U0001F468\u200D\U0001F469\u200D\U0001F467"), 1u);
    EXPECT_EQ(length("bluesky", "e\u0301a"), 2u);
    EXPECT_EQ(length("mastodon", "e\u0301a"), 3u);
    EXPECT_EQ(length("slack", "e\u0301a"), 3u);
}

// The table config and the daemon read: every type the factory makes is in it under the name
// the channel reports, and the pager types follow acknowledgement and resolution.
TEST(channel_traits, one_row_per_type_the_factory_makes) {
    boost::asio::io_context io;
    for (const auto& t : channel_types) {
        channel_settings s;
        s.name = "c";
        s.type = std::string(t.type);
        s.url = "http://127.0.0.1:9/";
        s.path = "/dev/null";
        s.token = "t";
        s.routing_key = "k";
        s.identifier = "crisisd.example";
        s.password = "p";
        std::string error;
        auto ch = make_channel(s, io.get_executor(), {}, error);
        ASSERT_TRUE(ch) << t.type << ": " << error;
        EXPECT_EQ(ch->type(), t.type);
        EXPECT_EQ(traits_of(t.type), &t);
        for (const auto& k : t.keys) EXPECT_EQ(t.key(k.name), &k);
    }
    EXPECT_EQ(traits_of("twitter"), nullptr);
    EXPECT_TRUE(traits_of("pagerduty")->follows(incident::action_event::acknowledged));
    EXPECT_TRUE(traits_of("pagerduty")->follows(incident::action_event::resolved));
    EXPECT_FALSE(traits_of("alertmanager")->follows(incident::action_event::acknowledged));
    EXPECT_TRUE(traits_of("alertmanager")->follows(incident::action_event::resolved));
    EXPECT_FALSE(traits_of("webhook")->follows(incident::action_event::resolved));
    EXPECT_TRUE(traits_of("mastodon")->posts_statements);
    EXPECT_TRUE(traits_of("bluesky")->posts_statements);
    EXPECT_FALSE(traits_of("slack")->posts_statements);
    EXPECT_EQ(traits_of("bluesky")->key("password")->secret, secret_use::must_refer);
    EXPECT_EQ(traits_of("webhook")->key("url")->secret, secret_use::may_refer);
    EXPECT_FALSE(traits_of("pagerduty")->key("url")->required);
}

}  // namespace
}  // namespace crisisd::notify
