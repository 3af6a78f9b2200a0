// The demo's Mastodon: a streaming API websocket on loopback that sends each post as a status
// update, in the shape Mastodon's streaming server writes (the status is JSON encoded into the
// "payload" string; content is HTML).
#include "core/json_writer.hpp"
#include "demo/stand_in.hpp"
#include "net/websocket_server.hpp"

namespace crisisd::demo {
namespace {

// "@karin@mastodon.at" → acct "karin@mastodon.at", username "karin": what the status's account
// says, so crisisd's Mastodon reader names the author as the scenario does.
std::string status_json(const post& p) {
    const std::string acct = p.author.starts_with('@') ? p.author.substr(1) : p.author;
    const std::string username = acct.substr(0, acct.find('@'));
    std::string out;
    core::json_writer w(out);
    w.begin_object()
        .member("id", p.id)
        .member("created_at", core::format_rfc3339(p.at))
        .member("visibility", "public")
        .member("sensitive", false)
        .member("spoiler_text", "")
        .member("url", p.url)
        .member("uri", p.url);
    if (p.lang.empty()) w.key("language").null();
    else w.member("language", p.lang);
    w.member("content", "<p>" + xml_escaped(p.text) + "</p>");
    w.key("account")
        .begin_object()
        .member("id", std::to_string(std::hash<std::string>{}(acct) % 1000000000))
        .member("username", username)
        .member("acct", acct)
        .member("display_name", username)
        .end_object();
    w.key("tags").begin_array().begin_object().member("name", "liwest").end_object().end_array();
    w.end_object();
    return out;
}

class mastodon final : public mastodon_stand_in {
public:
    explicit mastodon(boost::asio::any_io_executor ex) : server_(std::move(ex), {}) {}

    boost::system::error_code start() { return server_.start(); }

    std::string url() const override {
        return "ws://127.0.0.1:" + std::to_string(server_.port()) + "/api/v1/streaming?stream=hashtag&tag=liwest";
    }
    std::string_view source() const override { return "mastodon"; }
    bool ready() const override { return server_.connection_count() > 0; }

    void publish(const post& p) override {
        std::string frame;
        core::json_writer w(frame);
        w.begin_object();
        w.key("stream").begin_array().value("hashtag").value("liwest").end_array();
        w.member("event", "update").member("payload", status_json(p)).end_object();
        server_.broadcast(std::move(frame));
        delivered(p);
    }
    bool caught_up() const override { return server_.backlog() == 0; }
    void stop() override { server_.stop(); }

private:
    net::websocket_server server_;
};

}  // namespace

std::unique_ptr<mastodon_stand_in> make_mastodon(boost::asio::any_io_executor ex, std::string& error) {
    auto m = std::make_unique<mastodon>(std::move(ex));
    if (auto ec = m->start()) {
        error = "cannot start the Mastodon stand-in: " + ec.message();
        return nullptr;
    }
    return m;
}

}  // namespace crisisd::demo
