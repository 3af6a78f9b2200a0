#pragma once
// A network the demo's story is told on: an in-process stand-in that speaks the network's wire
// format to one of crisisd's configured sources. The player hands each post to the stand-in of
// its source when the story's clock reaches it; the stand-in says when the post has reached
// crisisd (written to its stream, answered, served in a document), so the timeline can show
// where each mention came from and the player knows when the story has been told.
//
// Thread-safety: none. Everything runs on the demo's one io_context thread (the daemon's too).
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "demo/scenario.hpp"

namespace crisisd::demo {

class stand_in {
public:
    // Called when a post has reached crisisd on this network.
    using delivered_fn = std::function<void(const post&)>;
    // Called with a line worth showing on the timeline (a handshake, a rule sync).
    using note_fn = std::function<void(std::string_view)>;

    virtual ~stand_in() = default;

    // The configured source this network feeds ("mastodon", "page", "x", "forum").
    virtual std::string_view source() const = 0;
    // Whether crisisd is listening on this network now: a post handed over earlier would be
    // lost (no stream open) or taken for history (before a feed's first poll).
    virtual bool ready() const = 0;
    virtual void publish(const post& p) = 0;
    // Every post handed over has reached crisisd.
    virtual bool caught_up() const = 0;
    virtual void stop() = 0;

    void on_delivered(delivered_fn f) { delivered_ = std::move(f); }
    void on_note(note_fn f) { note_ = std::move(f); }

protected:
    void delivered(const post& p) const {
        if (delivered_) delivered_(p);
    }
    void note(std::string_view text) const {
        if (note_) note_(text);
    }

private:
    delivered_fn delivered_;
    note_fn note_;
};

// The four networks. The ones crisisd connects to start listening on a free loopback port in
// their make_* (nullptr with `error` set when they cannot); their url() is what the demo's config
// names. Facebook is the other way round: Meta calls crisisd's listener.

// Mastodon's streaming API: a websocket that sends {"stream":[…],"event":"update","payload":
// "<Status as a JSON string>"}, the status's HTML content, language and account included.
class mastodon_stand_in : public stand_in {
public:
    virtual std::string url() const = 0;  // ws://127.0.0.1:P/api/v1/streaming?stream=hashtag&tag=liwest
};
std::unique_ptr<mastodon_stand_in> make_mastodon(boost::asio::any_io_executor ex, std::string& error);

// Meta's webhooks for the Page: the stand-in is Meta. It proves the subscription (a GET with the
// verify token that must echo the challenge) and then POSTs `feed` changes (comments on the
// Page's post), several per delivery when they come together, signed with the app secret in
// X-Hub-Signature-256; a delivery not answered 200 is sent again, as Meta does.
class facebook_stand_in : public stand_in {
public:
    // Begins with the handshake against crisisd's listener (http://127.0.0.1:P/), retried until
    // the listener answers.
    virtual void start(std::string callback_url) = 0;
};
std::unique_ptr<facebook_stand_in> make_facebook(boost::asio::any_io_executor ex, std::string verify_token,
                                                 std::string app_secret);

// X API v2's filtered stream and its rules: GET and POST /2/tweets/search/stream/rules, and
// GET /2/tweets/search/stream, one chunked HTTP/1.1 response with a post per line (data,
// includes.users, matching_rules) and a keep-alive newline every 20 s. It starts with a stale
// rule, so crisisd's rule sync has a difference to make.
class x_stand_in : public stand_in {
public:
    virtual std::string url() const = 0;  // the API's base: http://127.0.0.1:P
};
std::unique_ptr<x_stand_in> make_x(boost::asio::any_io_executor ex, std::string bearer_token, std::string& error);

// A forum's Atom feed of its latest posts (RFC 4287), with an ETag and 304 Not Modified for an
// unchanged document. Two older threads are in it before the story begins: crisisd's first
// poll takes them for history. ready() once that first poll was answered.
class forum_stand_in : public stand_in {
public:
    virtual std::string url() const = 0;  // http://127.0.0.1:P/latest.atom
};
std::unique_ptr<forum_stand_in> make_forum(boost::asio::any_io_executor ex, std::string& error);

}  // namespace crisisd::demo
