#include "core/file_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace crisisd::core {

file_read_result read_regular_file(const std::filesystem::path& path, std::string& out, std::size_t max_bytes) {
    file_read_result r;
    auto refuse = [&](std::string why) {
        r.status = file_read_status::refused;
        r.why = std::move(why);
        return r;
    };
    // O_NONBLOCK so that opening a FIFO nobody writes to returns at once (and fstat then refuses
    // it) instead of hanging check-config, or the event loop on a reload.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT) {
            r.status = file_read_status::missing;
            r.why = std::strerror(errno);
            return r;
        }
        return refuse(std::strerror(errno));
    }
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } close_at_end{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return refuse(std::strerror(errno));
    if (S_ISDIR(st.st_mode)) return refuse("it is a directory");
    // A device (/dev/zero, /dev/urandom), FIFO or socket may never end or block for ever.
    if (!S_ISREG(st.st_mode)) return refuse("it is not a regular file (a device, FIFO or socket can block or never end)");
    const auto too_large = [&] { return refuse("it is larger than " + std::to_string(max_bytes) + " bytes"); };
    if (static_cast<std::uintmax_t>(st.st_size) > max_bytes) return too_large();
    out.clear();
    // Read at most one byte past the limit: a file that grows while it is read is caught too.
    char buf[65536];
    for (;;) {
        const ::ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return refuse(std::string("read error: ") + std::strerror(errno));
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > max_bytes) return too_large();
    }
    return r;
}

}  // namespace crisisd::core
