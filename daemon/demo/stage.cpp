#include "demo/stage.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "demo/files.hpp"

namespace crisisd::demo {
namespace {

std::string random_hex(std::size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) std::abort();
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out += hex[c >> 4];
        out += hex[c & 0xF];
    }
    return out;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
    return s;
}

// Created with mode 0600 from the start: a secret is never readable by others, not even briefly.
bool write_private(const std::filesystem::path& path, const std::string& value) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    const bool ok = ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
    return ::close(fd) == 0 && ok;
}

}  // namespace

secrets secrets::made_up() { return {random_hex(32), random_hex(32), random_hex(32)}; }

std::optional<std::filesystem::path> make_dir(const std::optional<std::string>& requested, const secrets& s,
                                              std::string& error) {
    std::filesystem::path dir;
    std::error_code ec;
    if (requested) {
        dir = *requested;
        std::filesystem::create_directories(dir, ec);
    } else {
        std::string tmpl = (std::filesystem::temp_directory_path(ec) / "crisisd-demo-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) {
            error = "cannot make a directory from " + tmpl;
            return std::nullopt;
        }
        dir = tmpl;
    }
    for (auto sub : {"rules", "playbooks", "secrets"}) std::filesystem::create_directories(dir / sub, ec);
    for (auto name : {"rules/isp-outage.yaml", "playbooks/isp-outage.yaml"})
        std::ofstream(dir / name, std::ios::binary) << files::embedded(name);
    const std::pair<const char*, const std::string*> named[] = {{"secrets/facebook-verify-token", &s.verify_token},
                                                                {"secrets/facebook-app-secret", &s.app_secret},
                                                                {"secrets/x-bearer-token", &s.x_bearer}};
    for (const auto& [name, value] : named) {
        if (!write_private(dir / name, *value)) {
            error = "cannot write " + (dir / name).string();
            return std::nullopt;
        }
    }
    return dir;
}

std::filesystem::path write_config(const std::filesystem::path& dir,
                                   const std::vector<std::pair<std::string_view, std::string>>& values) {
    std::string yaml(files::embedded("demo/crisisd-demo.yaml"));
    for (const auto& [key, value] : values) yaml = replace_all(yaml, key, value);
    yaml = replace_all(yaml, "@OUTBOX_PATH@", (dir / "outbox.jsonl").string());
    yaml = replace_all(yaml, "@STATE_PATH@", (dir / "state.db").string());
    const auto path = dir / "crisisd.yaml";
    std::ofstream(path, std::ios::binary) << yaml;
    return path;
}

}  // namespace crisisd::demo
