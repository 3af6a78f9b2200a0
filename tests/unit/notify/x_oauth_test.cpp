// The x channel's OAuth 2.0 refresh-token grant: the pure pieces (notify/detail/oauth.hpp) and
// the channel against the stand-in X with a token store of its own, for what the real binary
// cannot easily show: a rotated refresh token that cannot be saved holds the post back until it
// is saved, and an unchanged chain continues from the store.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <iterator>

#include "core/base64.hpp"
#include "fakes/fake_x.hpp"
#include "fakes/io_thread.hpp"
#include "notify/channel.hpp"
#include "notify/detail/oauth.hpp"

namespace crisisd::notify {
namespace {

using namespace std::chrono_literals;
using testing::run_sync;

TEST(x_oauth, the_refresh_form_is_url_encoded_and_names_the_client_only_when_public) {
    EXPECT_EQ(detail::form_encode("a b+c/d=e&f~g"), "a%20b%2Bc%2Fd%3De%26f~g");
    EXPECT_EQ(detail::refresh_form("rt:1/2", "cid", true), "grant_type=refresh_token&refresh_token=rt%3A1%2F2");
    EXPECT_EQ(detail::refresh_form("rt", "cid", false), "grant_type=refresh_token&refresh_token=rt&client_id=cid");
    // RFC 6749 §2.3.1's example, and X's own: Basic base64(id:secret).
    EXPECT_EQ(detail::basic_credentials("Aladdin", "opensesame"), "Basic " + core::to_base64("Aladdin:opensesame"));
}

std::string x_data(const std::string& name) {
    std::ifstream in(std::string(CRISISD_TEST_DATA) + "/x/" + name);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(x_oauth, a_token_answer_is_read_with_its_rotated_refresh_token_or_its_error) {
    auto ok = detail::parse_token_answer(x_data("oauth2-token-200.json"));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->access_token.substr(0, 8), "bWZ4ZXJD");
    EXPECT_EQ(ok->refresh_token.substr(0, 8), "cXl2cDhU");
    EXPECT_EQ(ok->expires_in, 7200s);
    auto err = detail::parse_token_answer(x_data("oauth2-token-invalid.json"));
    ASSERT_TRUE(err);
    EXPECT_EQ(err->error, "invalid_request");
    EXPECT_EQ(err->error_description, "Value passed for the token was invalid.");
    EXPECT_TRUE(err->access_token.empty());
    EXPECT_EQ(detail::parse_token_answer(x_data("oauth2-token-unauthorized-client.json"))->error, "unauthorized_client");
    EXPECT_EQ(detail::parse_token_answer(R"({"access_token":"at","expires_in":"60"})")->expires_in, 60s);
    EXPECT_FALSE(detail::parse_token_answer("<html>502</html>"));
}

TEST(x_oauth, an_access_token_is_renewed_a_little_before_it_lapses) {
    EXPECT_EQ(detail::use_for(7200s), 7140s);  // a minute early
    EXPECT_EQ(detail::use_for(120s), 90s);     // a quarter early when its life is short
    EXPECT_EQ(detail::use_for(0s), 0s);
    EXPECT_EQ(detail::use_for(-5s), 0s);
}

TEST(x_oauth, the_fingerprint_names_a_token_without_holding_it) {
    const auto f = detail::token_fingerprint("x-refresh-0");
    EXPECT_EQ(f.size(), 32u);
    EXPECT_EQ(f, detail::token_fingerprint("x-refresh-0"));
    EXPECT_NE(f, detail::token_fingerprint("x-refresh-1"));
    EXPECT_EQ(f.find("refresh"), std::string::npos);
}

// A token store in memory whose writes can be made to fail (a full disk).
struct memory_store final : token_store {
    std::map<std::string, stored_token, std::less<>> rows;
    bool fail = false;
    int saves = 0;
    std::optional<stored_token> load(std::string_view channel) override {
        auto it = rows.find(channel);
        if (it == rows.end()) return std::nullopt;
        return it->second;
    }
    bool save(std::string_view channel, const stored_token& t) override {
        ++saves;
        if (fail) return false;
        rows[std::string(channel)] = t;
        return true;
    }
    std::string last_error() const override { return fail ? "database or disk is full" : ""; }
};

std::string statement(const std::string& text) {
    return R"({"idempotency_key":"7/open/1/brand-x","kind":"statement","channel":"brand-x","text":")" + text +
           R"(","at":"2026-11-26T08:20:00.123Z","statement":"holding","language":"en","incident":{"id":7,"rule":"isp-outage","key":"liwest","severity":"critical","state":"open","opened_at":"2026-11-26T08:17:00Z"}})";
}

struct x_oauth_channel : ::testing::Test {
    boost::asio::io_context io;
    testing::fake_x x;
    memory_store store;

    void SetUp() override { x.start(); }

    std::unique_ptr<channel> make() {
        channel_settings s;
        s.name = "brand-x";
        s.type = "x";
        s.url = x.base_url();
        s.client_id = x.client_id();
        s.client_secret = x.client_secret();
        s.refresh_token = x.first_refresh_token();
        s.timeout = 2s;
        std::string error;
        auto ch = make_channel(s, io.get_executor(), {}, error, &store);
        EXPECT_TRUE(ch) << error;
        return ch;
    }
    delivery_result send(channel& ch, const std::string& text, int attempt = 1) {
        return run_sync(io, ch.deliver(delivery{"7/open/1/brand-x", "statement", statement(text), attempt, ""}));
    }
};

TEST_F(x_oauth_channel, a_rotated_token_that_cannot_be_saved_holds_the_post_back_until_it_is) {
    auto ch = make();
    store.fail = true;
    auto r = send(*ch, "We are on it.");
    EXPECT_EQ(r.result, outcome::retry);
    EXPECT_NE(r.detail.find("could not be saved to the state database (database or disk is full)"), std::string::npos)
        << r.detail;
    EXPECT_EQ(x.post_calls(), 0) << "the access token is not used before its refresh token is saved";
    ASSERT_EQ(x.token_requests().size(), 1u);

    store.fail = false;  // the disk has room again
    r = send(*ch, "We are on it.", 2);
    EXPECT_EQ(r.result, outcome::sent) << r.detail;
    EXPECT_EQ(x.token_requests().size(), 1u) << "the successor kept in memory is saved, not asked for again";
    EXPECT_EQ(store.rows.at("brand-x").token, "x-refresh-1");
    EXPECT_EQ(store.rows.at("brand-x").origin, detail::token_fingerprint(x.first_refresh_token()));
    EXPECT_EQ(x.posts().size(), 1u);
}

TEST_F(x_oauth_channel, a_new_channel_continues_the_stored_chain) {
    {
        auto ch = make();
        EXPECT_EQ(send(*ch, "First.").result, outcome::sent);
    }
    auto ch = make();  // as after a restart: the configured token is spent at X
    auto r = send(*ch, "Second.");
    EXPECT_EQ(r.result, outcome::sent) << r.detail;
    ASSERT_EQ(x.token_requests().size(), 2u);
    EXPECT_EQ(x.token_requests()[1].refresh_token, "x-refresh-1");
    EXPECT_EQ(store.rows.at("brand-x").token, "x-refresh-2");
}

TEST_F(x_oauth_channel, a_refused_client_is_a_dead_letter_naming_the_client_keys) {
    channel_settings s;
    s.name = "brand-x";
    s.type = "x";
    s.url = x.base_url();
    s.client_id = x.client_id();
    s.client_secret = "not-the-secret";
    s.refresh_token = x.first_refresh_token();
    std::string error;
    auto ch = make_channel(s, io.get_executor(), {}, error, &store);
    auto r = send(*ch, "We are on it.");
    EXPECT_EQ(r.result, outcome::failed);
    EXPECT_NE(r.detail.find("X refused the app's OAuth 2.0 client (HTTP 401 unauthorized_client"), std::string::npos)
        << r.detail;
    EXPECT_EQ(store.saves, 0);
}

}  // namespace
}  // namespace crisisd::notify
