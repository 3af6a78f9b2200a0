#include "core/line_reader.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace crisisd::core {

line_reader::line_reader(int fd, std::function<void()> before_read) : fd_(fd), before_read_(std::move(before_read)) {
    buf_.resize(1 << 20);
}

bool line_reader::next(std::string_view& line) {
    for (;;) {
        auto nl = static_cast<const char*>(std::memchr(buf_.data() + begin_, '\n', end_ - begin_));
        if (nl) {
            line = std::string_view(buf_.data() + begin_, static_cast<std::size_t>(nl - (buf_.data() + begin_)));
            begin_ = static_cast<std::size_t>(nl - buf_.data()) + 1;
            return true;
        }
        if (eof_) {
            if (begin_ == end_) return false;
            line = std::string_view(buf_.data() + begin_, end_ - begin_);
            begin_ = end_;
            return true;
        }
        if (begin_ > 0) {
            std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
        before_read_();
        ssize_t n = 0;
        do {
            n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
        } while (n < 0 && errno == EINTR);
        if (n <= 0) {
            eof_ = true;  // end of input, or a read error (as fread() treated it)
        } else {
            end_ += static_cast<std::size_t>(n);
        }
    }
}

}  // namespace crisisd::core
