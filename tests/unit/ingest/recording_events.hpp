#pragma once
// source_events that remember everything, for tests; thread-safe.
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ingest/source.hpp"

namespace crisisd::testing {

class recording_events final : public ingest::source_events {
public:
    void on_connected(bool up) override {
        std::lock_guard lock(mutex_);
        connected_.push_back(up);
    }
    void on_frame_rejected(std::string_view reason) override {
        std::lock_guard lock(mutex_);
        rejected_.emplace_back(reason);
    }
    void on_reconnect() override {
        std::lock_guard lock(mutex_);
        ++reconnects_;
    }
    void on_fatal(std::string_view message) override {
        std::lock_guard lock(mutex_);
        fatal_ = std::string(message);
    }
    void on_frame(std::string_view frame) {
        std::lock_guard lock(mutex_);
        frames_.emplace_back(frame);
    }

    std::vector<bool> connected() const {
        std::lock_guard lock(mutex_);
        return connected_;
    }
    std::vector<std::string> rejected() const {
        std::lock_guard lock(mutex_);
        return rejected_;
    }
    std::vector<std::string> frames() const {
        std::lock_guard lock(mutex_);
        return frames_;
    }
    int reconnects() const {
        std::lock_guard lock(mutex_);
        return reconnects_;
    }
    std::string fatal() const {
        std::lock_guard lock(mutex_);
        return fatal_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<bool> connected_;
    std::vector<std::string> rejected_;
    std::vector<std::string> frames_;
    int reconnects_ = 0;
    std::string fatal_;
};

inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return condition();
}

}  // namespace crisisd::testing
