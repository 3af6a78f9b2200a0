#include "net/poll.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

namespace crisisd::net {

namespace {

struct poller : std::enable_shared_from_this<poller> {
    boost::asio::steady_timer timer;
    std::function<bool()> ready;
    std::chrono::milliseconds every;
    std::chrono::steady_clock::time_point until;
    std::function<void(bool)> done;

    poller(boost::asio::any_io_executor ex, std::function<bool()> r, std::chrono::milliseconds e,
           std::chrono::steady_clock::time_point u, std::function<void(bool)> d)
        : timer(std::move(ex)), ready(std::move(r)), every(e), until(u), done(std::move(d)) {}

    void check() {
        const bool met = ready();
        if (met || std::chrono::steady_clock::now() >= until) {
            done(met);
            return;
        }
        timer.expires_after(every);
        timer.async_wait([self = shared_from_this()](boost::system::error_code) { self->check(); });
    }
};

}  // namespace

void poll_until(boost::asio::any_io_executor ex, std::function<bool()> ready, std::chrono::milliseconds every,
                std::chrono::milliseconds deadline, std::function<void(bool)> done) {
    auto p = std::make_shared<poller>(ex, std::move(ready), every, std::chrono::steady_clock::now() + deadline,
                                      std::move(done));
    boost::asio::post(ex, [p] { p->check(); });
}

}  // namespace crisisd::net
