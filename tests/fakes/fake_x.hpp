#pragma once
// A stand-in for the X API v2, as documented (tests/data/x/README.md): the filtered stream
// (GET /2/tweets/search/stream, HTTP/1.1 chunked, one JSON object per line, "\r\n"
// keep-alives, backfill_minutes, in-stream error objects, scripted 429 and 5xx on connect), its
// rules (GET and POST /2/tweets/search/stream/rules with add and delete, duplicates refused),
// posting (POST /2/tweets with a user-context token, 403 for duplicate content, scripted 429
// with x-rate-limit-reset, GET /2/users/me and GET /2/users/:id/tweets), and the OAuth 2.0
// refresh-token grant (POST /2/oauth2/token: a confidential client's Basic credentials,
// single-use refresh tokens rotated on every refresh, access tokens that lapse). The app bearer
// token guards the stream and rules, a live access token posting: 401 otherwise.
//
// Runs its own io_context on its own thread, on 127.0.0.1; every member is thread-safe.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace crisisd::testing {

class fake_x {
public:
    struct rule {
        std::string id;
        std::string value;
        std::string tag;
    };
    struct rules_request {
        std::string method;  // GET | POST
        std::string body;
    };
    struct stream_connect {
        std::string target;
        std::chrono::steady_clock::time_point at;
        int status = 0;
    };
    struct post {
        std::string id;
        std::string text;
    };

    // One refresh by the client: the refresh token it presented and X's answer.
    struct token_request {
        std::string refresh_token;
        int status = 0;
        std::string error;  // the OAuth error of a refusal
    };

    explicit fake_x(std::string app_token = "x-app-bearer");
    ~fake_x();
    std::uint16_t start();
    void stop();
    std::string base_url() const;

    // --- rules ---
    void set_rules(std::vector<rule> rules);  // the live set before the source starts
    std::vector<rule> rules() const;
    std::vector<rules_request> rules_requests() const;

    // --- the stream ---
    // The next connection attempts are answered with these statuses (429 carries
    // x-rate-limit-reset one second ahead) instead of the stream.
    void script_stream_statuses(std::vector<int> statuses);
    std::vector<stream_connect> stream_connects() const;
    std::size_t open_streams() const;
    // A post matched now: sent to every open stream and kept for backfill.
    void push_post(const std::string& id, const std::string& username, const std::string& text);
    // A line as it is (an error object, a malformed line); not kept for backfill.
    void push_line(const std::string& line);
    void keep_alive();  // "\r\n" to every open stream
    std::size_t keep_alives_sent() const;
    // Every open stream is closed without a word (as a network drop looks).
    void drop_streams();
    bool wait_for_streams(std::size_t open, std::chrono::milliseconds timeout) const;

    // --- posting ---
    void script_post_statuses(std::vector<int> statuses);
    // The next POST /2/tweets creates the post, then closes the connection unanswered (status
    // 0) or answers `status` (a 5xx from a proxy in front), as if the answer was lost.
    void lose_next_answer(int status = 0);
    // The next POST /2/tweets creates the post at once but holds its answer until release(): a
    // client killed meanwhile never learns that it posted.
    void hold_next_answer();
    void release();
    bool wait_for_post_calls(int n, std::chrono::milliseconds timeout) const;
    std::vector<post> posts() const;
    int post_calls() const;
    int timeline_calls() const;
    std::string user_id() const { return "1700000000000000001"; }

    // --- OAuth 2.0 (the brand account's grant to the app) ---
    std::string client_id() const { return "eC1jbGllbnQtaWQ6MTpjaQ"; }
    std::string client_secret() const { return "x-client-secret-of-the-app"; }
    // The refresh token the brand account's authorization handed over: what the config holds.
    std::string first_refresh_token() const { return "x-refresh-0"; }
    // A person authorizes the app again: one more live refresh token (the old ones stay as they are).
    void grant(const std::string& refresh_token);
    // The account revokes the app: every refresh and access token stops working.
    void revoke();
    // Every access token handed out so far lapses now (as two hours passing would do).
    void expire_access_tokens();
    // The next refresh is done (the presented token spent, a successor issued) but its answer
    // is lost: the connection closes unanswered.
    void lose_next_token_answer();
    std::vector<token_request> token_requests() const;

private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace crisisd::testing
