#pragma once
// The four networks of the demo's story, started together: Mastodon, the Facebook Page's
// webhooks, X and the forum (stand_in.hpp). What the demo's config needs of them comes from
// config_values(); connect() starts what must wait for crisisd to listen (Meta's handshake).
// Not thread-safe: on the demo's io_context thread.
#include <boost/asio/any_io_executor.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "demo/stand_in.hpp"
#include "demo/stage.hpp"

namespace crisisd::demo {

class networks {
public:
    // Starts the stand-ins on free loopback ports; nullptr with `error` set when one cannot.
    static std::unique_ptr<networks> start(boost::asio::any_io_executor ex, const secrets& s, std::string& error);

    // The config's placeholders for the four sources and their values.
    std::vector<std::pair<std::string_view, std::string>> config_values() const;
    // After crisisd listens: Meta's subscription handshake, then the Page's comments.
    void connect();
    // One line per network for the demo's header: its source name and where it is.
    void describe(std::FILE* out) const;
    std::vector<stand_in*> all() const;
    void stop();

private:
    networks() = default;
    std::unique_ptr<mastodon_stand_in> mastodon_;
    std::unique_ptr<facebook_stand_in> facebook_;
    std::unique_ptr<x_stand_in> x_;
    std::unique_ptr<forum_stand_in> forum_;
    std::string webhook_;  // 127.0.0.1:P, crisisd's Facebook listener
};

}  // namespace crisisd::demo
