#pragma once
// Secret references inside config strings: ${env:NAME} (an environment variable) and
// ${file:PATH} (a file's content with trailing newlines trimmed, e.g. a systemd credential;
// relative paths are relative to the config file's directory). Private to config/.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace crisisd::config::detail {

// How large a file config/ reads may be: a config or include file, and a ${file:} secret (a
// token or password; a larger one is a wrong path, such as a log or a disk image). The largest
// real config we know (hundreds of rules and statements in several languages) is well under 1 MiB.
inline constexpr std::size_t max_config_bytes = 4u << 20;
inline constexpr std::size_t max_secret_bytes = 64u << 10;

// Reads a whole regular file (config, include, ${file:} secret) of at most `max_bytes`; false
// with a reason a person can act on. Never blocks: devices, FIFOs and sockets are refused.
bool read_text_file(const std::filesystem::path& path, std::string& out, std::string& why,
                    std::size_t max_bytes = max_config_bytes);

struct secret_problem {
    std::size_t offset = 0;  // byte offset of the offending "${" in the input
    std::string message;
};

struct expanded_secret {
    std::string value;             // input with every reference replaced
    std::size_t references = 0;    // how many ${…} were found
    bool only_reference = false;   // the input is exactly one reference, nothing around it
    std::vector<secret_problem> problems;
};

// Reads the environment and files; never puts a secret's value into a problem message.
expanded_secret expand_secrets(std::string_view text, const std::filesystem::path& base_dir);

}  // namespace crisisd::config::detail
