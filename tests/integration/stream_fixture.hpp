#pragma once
// The base of the integration tests that serve the real crisisd binary a websocket stream
// (spine, ops, the console feed, the admin and approval abuse tests): a temporary folder for the
// config, tokens and state database (removed after the test), the stream server on a free
// loopback port, and crisisd's admin port once it has started and connected. The server runs on
// its own thread; everything else on the test's.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "child_process.hpp"
#include "fakes/io_thread.hpp"
#include "net/websocket_server.hpp"
#include "support.hpp"

namespace crisisd::testing {

class stream_fixture : public ::testing::Test {
protected:
    explicit stream_fixture(std::string dir_prefix = "crisisd-it") : dir_prefix_(std::move(dir_prefix)) {}

    void SetUp() override {
        dir_ = make_temp_dir(dir_prefix_);
        ASSERT_FALSE(ws_.start());
    }
    void TearDown() override {
        ws_.stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    // The URL of the test's stream, for the config's websocket source.
    std::string stream_url() const { return "ws://127.0.0.1:" + std::to_string(ws_.port()) + "/stream"; }

    // crisisd's admin port once it announces its console and its source has connected to the
    // stream; 0 when either does not happen.
    std::uint16_t started(child_process& d) {
        using namespace std::chrono_literals;
        const auto port = d.wait_for_port(console_line, 60s);
        if (port == 0 || !wait_until([&] { return ws_.connection_count() == 1; }, 10s)) return 0;
        return port;
    }

    std::filesystem::path dir_;
    io_thread io_;
    net::websocket_server ws_{io_.executor(), {}};

private:
    std::string dir_prefix_;
};

}  // namespace crisisd::testing
