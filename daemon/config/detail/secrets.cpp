#include "config/detail/secrets.hpp"

#include "core/file_read.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace crisisd::config::detail {

namespace {

constexpr std::string_view how_to = "write ${env:NAME} or ${file:PATH}";

}  // namespace

bool read_text_file(const std::filesystem::path& path, std::string& out, std::string& why, std::size_t max_bytes) {
    const auto r = core::read_regular_file(path, out, max_bytes);
    why = r.why;
    return r.status == core::file_read_status::ok;
}


expanded_secret expand_secrets(std::string_view text, const std::filesystem::path& base_dir) {
    expanded_secret out;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t start = text.find("${", i);
        if (start == std::string_view::npos) {
            out.value.append(text.substr(i));
            break;
        }
        out.value.append(text.substr(i, start - i));
        ++out.references;
        std::size_t end = text.find('}', start + 2);
        if (end == std::string_view::npos) {
            out.problems.push_back({start, "unterminated '${' (" + std::string(how_to) + ")"});
            break;
        }
        const std::string_view inner = text.substr(start + 2, end - start - 2);
        i = end + 1;
        if (inner.starts_with("env:") && inner.size() > 4) {
            const std::string name(inner.substr(4));
            const char* v = std::getenv(name.c_str());
            if (v == nullptr) {
                out.problems.push_back({start, "environment variable '" + name + "' is not set"});
            } else if (*v == '\0') {
                out.problems.push_back({start, "environment variable '" + name + "' is empty"});
            } else {
                out.value.append(v);
            }
        } else if (inner.starts_with("file:") && inner.size() > 5) {
            std::filesystem::path path(inner.substr(5));
            if (path.is_relative() && !base_dir.empty()) path = (base_dir / path).lexically_normal();
            std::string content;
            std::string why;
            if (!read_text_file(path, content, why, max_secret_bytes)) {
                out.problems.push_back(
                    {start, "cannot read secret file '" + path.string() + "': " + why});
                continue;
            }
            while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
                content.pop_back();
            }
            if (content.empty()) {
                out.problems.push_back({start, "secret file '" + path.string() + "' is empty"});
            } else {
                out.value.append(content);
            }
        } else {
            out.problems.push_back({start, "unknown reference '${" + std::string(inner) + "}' (" +
                                               std::string(how_to) + ")"});
        }
    }
    out.only_reference = out.references == 1 && text.starts_with("${") && text.ends_with("}") &&
                         text.find('}') == text.size() - 1;
    return out;
}

}  // namespace crisisd::config::detail
