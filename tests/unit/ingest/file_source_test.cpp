#include "ingest/file_source.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "recording_events.hpp"

namespace crisisd::ingest {
namespace {

namespace asio = boost::asio;

class file_source_test : public ::testing::Test {
protected:
    std::string write_file(const std::string& content) {
        path_ = std::filesystem::temp_directory_path() /
                ("crisisd_file_source_" + std::to_string(::getpid()) + "_" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".jsonl");
        std::ofstream(path_, std::ios::binary) << content;
        return path_.string();
    }
    void TearDown() override {
        if (!path_.empty()) std::filesystem::remove(path_);
    }

    // Runs the source to its end on this thread's io_context.
    void run(source_settings settings) {
        settings.name = "replay";
        settings.type = "file";
        file_source source(
            io_.get_executor(), settings, [&](std::string_view f) { events_.on_frame(f); },
            [&](const std::string& error) {
                ended_ = true;
                end_error_ = error;
            },
            events_);
        source.start();
        auto guard = asio::make_work_guard(io_);
        while (!ended_ && io_.run_one_for(std::chrono::seconds(10)) > 0) {
        }
        source.stop();
    }

    std::filesystem::path path_;
    asio::io_context io_;
    testing::recording_events events_;
    bool ended_ = false;
    std::string end_error_;
};

TEST_F(file_source_test, delivers_each_line_in_order_and_then_ends) {
    source_settings s;
    s.path = write_file("{\"id\":\"1\"}\n{\"id\":\"2\"}\r\n\n{\"id\":\"3\"}");
    run(s);
    EXPECT_TRUE(ended_);
    EXPECT_EQ(end_error_, "");
    EXPECT_EQ(events_.frames(), (std::vector<std::string>{R"({"id":"1"})", R"({"id":"2"})", R"({"id":"3"})"}));
    EXPECT_TRUE(events_.rejected().empty());
    EXPECT_EQ(events_.connected(), (std::vector<bool>{true, false}));
}

TEST_F(file_source_test, rejects_oversized_lines_and_keeps_going) {
    source_settings s;
    s.max_message_bytes = 100;
    std::string content = "short-1\n" + std::string(100, 'a') + "\n" + std::string(300000, 'x') + "\nshort-2\n" +
                          std::string(101, 'b') + "\n" + std::string(200, 'z');
    s.path = write_file(content);
    run(s);
    EXPECT_EQ(events_.frames(), (std::vector<std::string>{"short-1", std::string(100, 'a'), "short-2"}));
    EXPECT_EQ(events_.rejected(), (std::vector<std::string>{"oversized", "oversized", "oversized"}));
}

TEST_F(file_source_test, many_lines_flow_through_bounded_batches) {
    source_settings s;
    std::string content;
    for (int i = 0; i < 20000; ++i) content += "{\"id\":\"" + std::to_string(i) + "\"}\n";
    s.path = write_file(content);
    run(s);
    auto frames = events_.frames();
    ASSERT_EQ(frames.size(), 20000u);
    EXPECT_EQ(frames.front(), R"({"id":"0"})");
    EXPECT_EQ(frames.back(), R"({"id":"19999"})");
}

TEST_F(file_source_test, a_missing_file_is_reported) {
    source_settings s;
    s.path = "/nonexistent/crisisd/input.jsonl";
    run(s);
    EXPECT_TRUE(ended_);
    EXPECT_NE(end_error_.find("cannot open /nonexistent/crisisd/input.jsonl"), std::string::npos) << end_error_;
    EXPECT_EQ(events_.fatal(), end_error_);
    EXPECT_TRUE(events_.frames().empty());
}

}  // namespace
}  // namespace crisisd::ingest
