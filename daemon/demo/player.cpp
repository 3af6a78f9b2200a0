#include "demo/player.hpp"

namespace crisisd::demo {

player::player(boost::asio::any_io_executor ex, const std::vector<post>& story, std::vector<stand_in*> networks,
               const core::clock& clock, report::timeline& timeline, daemon_view view, bool headless)
    : timer_(ex),
      story_(story),
      networks_(std::move(networks)),
      clock_(clock),
      tl_(timeline),
      view_(std::move(view)),
      headless_(headless),
      sent_(story.size(), false) {
    for (auto* n : networks_) {
        delivered_[std::string(n->source())];  // every network in the summary, even one that stayed quiet
        n->on_delivered([this](const post& p) {
            ++delivered_[p.source];
            tl_.mention(p.source, p.author, p.text);
        });
        n->on_note([this](std::string_view text) { tl_.note(text); });
    }
}

stand_in* player::network_of(std::string_view source) const {
    for (auto* n : networks_)
        if (n->source() == source) return n;
    return nullptr;
}

void player::play() { step(); }

void player::stop() {
    stopped_ = true;
    timer_.cancel();
}

void player::step() {
    if (stopped_) return;
    const auto now = clock_.now();
    const auto story_end = story_.back().at;
    // Each network gets its posts in order once it listens; one that is not listening yet
    // (a stream still connecting, a feed not read yet) holds only its own posts back.
    for (std::size_t i = next_; i < story_.size() && story_[i].at <= now; ++i) {
        if (sent_[i]) continue;
        auto* n = network_of(story_[i].source);
        if (n == nullptr) {
            sent_[i] = true;  // a line for a network the demo does not run: nobody hears it
            continue;
        }
        if (!n->ready()) continue;
        n->publish(story_[i]);
        sent_[i] = true;
    }
    while (next_ < story_.size() && sent_[next_]) ++next_;
    bool caught_up = true;
    for (auto* n : networks_) caught_up = caught_up && n->caught_up();
    if (next_ == story_.size() && caught_up && !told_) {
        told_ = true;
        tl_.note("the story's last post has reached crisisd; waiting for the incident to clear");
    }
    if (told_ && !over_ && view_.quiescent() && view_.incidents_opened() > 0 && now > story_end) {
        over_ = true;
        tl_.note("all incidents resolved and every action delivered");
        if (headless_) return view_.finish(true);
        if (view_.story_over) view_.story_over();
        return;
    }
    if (!over_ && now > story_end + std::chrono::minutes(30)) {
        tl_.note(view_.incidents_opened() == 0 ? "no incident was opened: the demo's rule did not fire"
                                               : "the incident did not clear in time");
        if (headless_) return view_.finish(false);
        over_ = true;
    }
    if (over_) return;
    timer_.expires_after(std::chrono::milliseconds(20));
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) step();
    });
}

}  // namespace crisisd::demo
