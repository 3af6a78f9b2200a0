// `crisisd score` reads its input in blocks: every line comes out whole, whatever the block
// boundaries, the last one without its '\n' too, and results are flushed before a read waits.
#include "core/line_reader.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace {

TEST(line_reader, hands_out_whole_lines_across_blocks) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    // Longer than the first 1 MiB block, so a line straddles the refill and the buffer grows.
    const std::string longest(1500 * 1024, 'x');
    std::thread writer([&] {
        std::string data = "one\r\ntwo\n\n" + longest + "\nlast";
        for (std::size_t off = 0; off < data.size();) {
            auto n = ::write(fds[1], data.data() + off, std::min<std::size_t>(data.size() - off, 4096));
            if (n <= 0) break;
            off += static_cast<std::size_t>(n);
        }
        ::close(fds[1]);
    });
    int flushes = 0;
    crisisd::core::line_reader reader(fds[0], [&flushes] { ++flushes; });
    std::vector<std::string> lines;
    std::string_view line;
    while (reader.next(line)) lines.emplace_back(line);
    writer.join();
    ::close(fds[0]);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[0], "one\r");  // the caller drops a '\r'
    EXPECT_EQ(lines[1], "two");
    EXPECT_EQ(lines[2], "");
    EXPECT_EQ(lines[3], longest);
    EXPECT_EQ(lines[4], "last");
    EXPECT_GE(flushes, 2);
}

}  // namespace
