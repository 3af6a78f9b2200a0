// poll_until: the shutdown drain waits for a condition nothing signals, bounded by a deadline.
#include "net/poll.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <optional>

namespace crisisd::net {
namespace {

using std::chrono::milliseconds;

TEST(poll_until, reports_the_condition_once_it_holds) {
    boost::asio::io_context io;
    int asked = 0;
    std::optional<bool> result;
    poll_until(io.get_executor(), [&] { return ++asked == 3; }, milliseconds(1), milliseconds(60000),
               [&](bool met) { result = met; });
    EXPECT_EQ(asked, 0);  // first asked after what is queued, not inside the call
    io.run();
    EXPECT_EQ(result, true);
    EXPECT_EQ(asked, 3);
}

TEST(poll_until, gives_up_at_the_deadline) {
    boost::asio::io_context io;
    std::optional<bool> result;
    poll_until(io.get_executor(), [] { return false; }, milliseconds(1), milliseconds(20),
               [&](bool met) { result = met; });
    io.run();
    EXPECT_EQ(result, false);
}

}  // namespace
}  // namespace crisisd::net
