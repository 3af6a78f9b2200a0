// The demo's Mastodon: a streaming API websocket on loopback that sends each post as a status
// update, in the shape Mastodon's streaming server writes (demo/wire.hpp).
#include "demo/stand_in.hpp"
#include "demo/wire.hpp"
#include "net/websocket_server.hpp"

namespace crisisd::demo {
namespace {

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
        server_.broadcast(mastodon_update(p));
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
