#pragma once
// Waiting for a condition nothing signals (a pipeline and an outbox to drain): `ready` is asked
// on the executor's thread, first right after what is queued there now, then every `every`,
// until it holds — done(true) — or `deadline` has passed — done(false). done runs on that
// thread too, once. Not cancellable: the condition or the deadline ends it.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>

namespace crisisd::net {

void poll_until(boost::asio::any_io_executor ex, std::function<bool()> ready, std::chrono::milliseconds every,
                std::chrono::milliseconds deadline, std::function<void(bool)> done);

}  // namespace crisisd::net
