#include "demo/networks.hpp"

#include "demo/ports.hpp"

namespace crisisd::demo {

std::unique_ptr<networks> networks::start(boost::asio::any_io_executor ex, const secrets& s, std::string& error) {
    std::unique_ptr<networks> n(new networks());
    n->mastodon_ = make_mastodon(ex, error);
    if (!n->mastodon_) return nullptr;
    n->x_ = make_x(ex, s.x_bearer, error);
    if (!n->x_) return nullptr;
    n->forum_ = make_forum(ex, error);
    if (!n->forum_) return nullptr;
    n->facebook_ = make_facebook(ex, s.verify_token, s.app_secret);
    // crisisd opens the webhook listener itself: the demo names a port that is free now.
    const auto port = free_loopback_port();
    if (port == 0) {
        error = "no free loopback port for the Facebook webhook";
        return nullptr;
    }
    n->webhook_ = "127.0.0.1:" + std::to_string(port);
    return n;
}

std::vector<std::pair<std::string_view, std::string>> networks::config_values() const {
    return {{"@MASTODON_URL@", mastodon_->url()},
            {"@FACEBOOK_LISTEN@", webhook_},
            {"@X_URL@", x_->url()},
            {"@FORUM_URL@", forum_->url()}};
}

void networks::connect() { facebook_->start("http://" + webhook_ + "/"); }

void networks::describe(std::FILE* out) const {
    std::fprintf(out, "  mastodon  %s (Mastodon's streaming API)\n", mastodon_->url().c_str());
    std::fprintf(out, "  page      http://%s/ (crisisd's webhook; this process delivers as Meta does)\n", webhook_.c_str());
    std::fprintf(out, "  x         %s (X's filtered stream and its rules)\n", x_->url().c_str());
    std::fprintf(out, "  forum     %s (a forum's Atom feed)\n", forum_->url().c_str());
}

std::vector<stand_in*> networks::all() const { return {mastodon_.get(), facebook_.get(), x_.get(), forum_.get()}; }

void networks::stop() {
    for (auto* n : all()) n->stop();
}

}  // namespace crisisd::demo
