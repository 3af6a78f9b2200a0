#include "core/file_read.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using crisisd::core::file_read_status;
using crisisd::core::read_regular_file;

struct scratch {
    fs::path dir = fs::temp_directory_path() / ("crisisd-file-read-" + std::to_string(::getpid()));
    scratch() {
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    ~scratch() { fs::remove_all(dir); }
};

TEST(file_read, reads_a_regular_file_whole) {
    scratch s;
    std::ofstream(s.dir / "token") << "s3cret\n";
    std::string out;
    const auto r = read_regular_file(s.dir / "token", out, 64);
    EXPECT_EQ(r.status, file_read_status::ok) << r.why;
    EXPECT_EQ(out, "s3cret\n");
}

TEST(file_read, a_missing_file_is_missing_not_refused) {
    scratch s;
    std::string out;
    EXPECT_EQ(read_regular_file(s.dir / "gone", out, 64).status, file_read_status::missing);
}

TEST(file_read, devices_fifos_and_directories_are_refused_without_blocking) {
    scratch s;
    ASSERT_EQ(::mkfifo((s.dir / "fifo").c_str(), 0600), 0);  // nobody writes: a blocking open would hang
    for (const fs::path& p : {fs::path("/dev/zero"), s.dir / "fifo", s.dir}) {
        std::string out;
        const auto r = read_regular_file(p, out, 1 << 20);
        EXPECT_EQ(r.status, file_read_status::refused) << p;
        EXPECT_FALSE(r.why.empty()) << p;
    }
}

TEST(file_read, a_file_over_the_limit_is_refused) {
    scratch s;
    std::ofstream(s.dir / "big") << std::string(65, 'x');
    std::string out;
    const auto r = read_regular_file(s.dir / "big", out, 64);
    EXPECT_EQ(r.status, file_read_status::refused);
    EXPECT_EQ(r.why, "it is larger than 64 bytes");
}

}  // namespace
