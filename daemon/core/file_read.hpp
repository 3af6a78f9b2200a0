#pragma once
// Reading a whole small file that a person names (a config, an include, a ${file:} secret, the
// admin tokens file) without ever blocking or reading without end: only a regular file of at most
// `max_bytes` is read; a device (/dev/zero), FIFO or socket is refused at once. Thread-safe.
#include <cstddef>
#include <filesystem>
#include <string>

namespace crisisd::core {

enum class file_read_status { ok, missing, refused };

struct file_read_result {
    file_read_status status = file_read_status::ok;
    std::string why;  // missing, refused: a reason a person can act on
};

file_read_result read_regular_file(const std::filesystem::path& path, std::string& out, std::size_t max_bytes);

}  // namespace crisisd::core
