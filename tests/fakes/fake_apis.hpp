#pragma once
// Real local HTTP servers that speak the remote APIs crisisd posts to, with their documented
// wire formats and error codes (PROTOCOLS.md §4–§6), for tests of the channels and of the
// daemon's never-post-twice guarantees. Each runs its own io_context on its own thread; every
// member is thread-safe.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace crisisd::testing {

namespace detail {
struct fake_server;
}

// Mastodon POST /api/v1/statuses: Bearer token (401 otherwise), Idempotency-Key per account
// (a repeated key returns the first status with 200 and posts nothing), 422 for blank or
// over-long (500 characters) text, scripted 429 (with X-RateLimit-Reset) and 503.
class fake_mastodon {
public:
    struct status {
        std::string id;
        std::string text;
        std::string visibility;
        std::string language;
        std::string idempotency_key;
    };

    explicit fake_mastodon(std::string token = "mastodon-token");
    ~fake_mastodon();
    std::uint16_t start(std::uint16_t port = 0);  // listens on 127.0.0.1
    void stop();
    std::string base_url() const;

    // The next n requests are recorded and acted on (the status is created) but their answer is
    // held until release(): a client killed meanwhile never learns that it posted.
    void hold_next(int n);
    void release();
    // The next statuses answered with these codes instead (before any posting happens).
    void script_errors(std::vector<int> statuses);

    std::vector<status> statuses() const;  // what is on the timeline, in order
    std::size_t requests() const;          // POST /api/v1/statuses received
    bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;

private:
    struct state;
    std::shared_ptr<state> state_;
    std::unique_ptr<detail::fake_server> server_;
};

// A Bluesky PDS: createSession (identifier/password), refreshSession, createRecord (the rkey is
// unique per collection: a second create with it fails with 400 InvalidRequest), getRecord
// (400 RecordNotFound), 400 ExpiredToken for an expired access token, text over 300 graphemes
// refused (counted as code points here).
class fake_bluesky {
public:
    struct post {
        std::string rkey;
        std::string text;
        std::string created_at;
    };

    fake_bluesky(std::string identifier = "brand.example", std::string password = "app-password");
    ~fake_bluesky();
    std::uint16_t start();
    void stop();
    std::string base_url() const;
    std::string did() const;

    // Every access token issued so far is expired from now on.
    void expire_access_tokens();
    // The next createRecord stores the record but answers 502, as if the answer was lost.
    void lose_next_answer();

    std::vector<post> posts() const;
    int sessions_created() const;
    int sessions_refreshed() const;
    int create_calls() const;
    int get_calls() const;

private:
    struct state;
    std::shared_ptr<state> state_;
    std::unique_ptr<detail::fake_server> server_;
};

// PagerDuty Events API v2 POST /v2/enqueue: validates the event (400 "invalid event" with
// errors), answers 202 with the dedup_key, tracks each alert's state by dedup_key
// (trigger opens, acknowledge and resolve apply to the open alert), scripted statuses.
class fake_pagerduty {
public:
    struct event {
        std::string action;
        std::string dedup_key;
        std::string summary;
        std::string severity;
        int answered = 0;
    };

    explicit fake_pagerduty(std::string routing_key = "0123456789abcdef0123456789abcdef");
    ~fake_pagerduty();
    std::uint16_t start();
    void stop();
    std::string url() const;  // …/v2/enqueue

    void script_statuses(std::vector<int> statuses);
    std::vector<event> events() const;
    // "triggered" | "acknowledged" | "resolved" | "" (unknown)
    std::string alert_state(const std::string& dedup_key) const;
    std::size_t alerts_opened() const;

private:
    struct state;
    std::shared_ptr<state> state_;
    std::unique_ptr<detail::fake_server> server_;
};

// The Graph API for one Facebook Page (tests/data/facebook/README.md): POST /{version}/{page}/feed
// with form fields message and access_token posts and answers {"id"}; GET
// /{version}/{page}/posts lists the Page's posts newest first ({"data":[{id,message,
// created_time}]}). A wrong token is 400 with error code 190/463 (expired); scripted rate limits
// are 400 with code 32. The API has no idempotency key: every accepted POST is a new post.
class fake_graph {
public:
    struct post {
        std::string id;
        std::string message;
    };

    fake_graph(std::string page_id, std::string token, std::string version = "v23.0");
    ~fake_graph();
    std::uint16_t start();
    void stop();
    std::string base_url() const;

    // The next n POSTs are acted on (the post is made) but their answer is held until release()
    // (or `hold_for` passes, when it is not zero): a client that gives up or is killed meanwhile
    // never learns that it posted.
    void hold_next(int n, std::chrono::milliseconds hold_for = std::chrono::milliseconds(0));
    void release();
    void rate_limit_next(int n);

    std::vector<post> posts() const;
    std::size_t feed_requests() const;  // POST …/feed received
    std::size_t lookups() const;        // GET …/posts received
    bool wait_for_feed_requests(std::size_t n, std::chrono::milliseconds timeout) const;

private:
    struct state;
    std::shared_ptr<state> state_;
    std::unique_ptr<detail::fake_server> server_;
};

}  // namespace crisisd::testing
