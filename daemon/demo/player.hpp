#pragma once
// Plays the demo's story: hands each post to the stand-in of its network when the story's
// clock reaches the post's time (and that network is listening), shows each post on the
// timeline as it reaches crisisd, with the source it came on, and decides when the story is
// over: every post told, every incident cleared and every action delivered. What it needs of
// the daemon comes as the `daemon_view` callbacks, so this module depends on nothing above it.
//
// Thread-safety: none; on the demo's io_context thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <vector>

#include "core/clock.hpp"
#include "demo/scenario.hpp"
#include "demo/stand_in.hpp"
#include "report/timeline.hpp"

namespace crisisd::demo {

struct daemon_view {
    std::function<bool()> quiescent;            // nothing open, nothing waiting to be delivered
    std::function<std::size_t()> incidents_opened;
    std::function<void(bool ok)> finish;        // end the demo (ok: the story went as told)
    std::function<void()> story_over;           // an interactive demo's "press Ctrl-C" line
};

class player {
public:
    player(boost::asio::any_io_executor ex, const std::vector<post>& story, std::vector<stand_in*> networks,
           const core::clock& clock, report::timeline& timeline, daemon_view view, bool headless);

    void play();  // starts; runs until finish is called
    void stop();  // no more posts or checks (the demo is ending)

    // Posts that reached crisisd, by source, for the summary line.
    const std::map<std::string, std::size_t, std::less<>>& delivered() const { return delivered_; }

private:
    void step();
    stand_in* network_of(std::string_view source) const;

    boost::asio::steady_timer timer_;
    const std::vector<post>& story_;
    std::vector<stand_in*> networks_;
    const core::clock& clock_;
    report::timeline& tl_;
    daemon_view view_;
    bool headless_;
    std::vector<bool> sent_;
    std::size_t next_ = 0;  // every post before it was sent
    bool told_ = false, over_ = false, stopped_ = false;
    std::map<std::string, std::size_t, std::less<>> delivered_;
};

}  // namespace crisisd::demo
