#pragma once
// Reads a file descriptor (stdin for `crisisd score`) in large blocks and hands out complete lines; the last line may lack '\n'.
// One read(2) per refill, taking what is there: from a pipe that is at most the pipe's 64 KiB,
// and those lines are scored while the writer refills the pipe on another core. (fread() waited
// until the whole 1 MiB block was filled, so `crisisd score` blocked on every 64 KiB chunk of a
// pipe - thousands of sleeps per million mentions, a fifth of the wall time.)
// `before_read` runs before each read(2), which may block: the caller writes out the results
// it holds, so a slow producer (`tail -F … | crisisd score`) sees each line's score at once
// instead of when 64 KiB of output have piled up.
// One owner; not thread-safe.
#include <functional>
#include <string>
#include <string_view>

namespace crisisd::core {

class line_reader {
public:
    line_reader(int fd, std::function<void()> before_read);
    // The next line without its '\n'; false at the end of input (or a read error). The view
    // lasts until the next call.
    bool next(std::string_view& line);

private:
    int fd_;
    std::function<void()> before_read_;
    std::string buf_;
    std::size_t begin_ = 0, end_ = 0;
    bool eof_ = false;
};

}  // namespace crisisd::core
