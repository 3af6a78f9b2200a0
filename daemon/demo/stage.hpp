#pragma once
// The demo's directory: where `crisisd demo` writes what it runs, so a person can read it — the
// config with its placeholders filled in, the example rule and playbook, and the secrets the
// config names by ${file:…} (made up for each run, readable by the owner only). Not thread-safe.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crisisd::demo {

// The credentials crisisd and the demo's networks share for one run.
struct secrets {
    std::string verify_token, app_secret, x_bearer;
    static secrets made_up();  // 256 random bits each
};

// Creates `requested` (or a fresh crisisd-demo-XXXXXX under the temp directory) with rules/,
// playbooks/ and secrets/ filled. nullopt with `error` set when it cannot.
std::optional<std::filesystem::path> make_dir(const std::optional<std::string>& requested, const secrets& s,
                                              std::string& error);

// Writes the embedded demo config to `dir`/crisisd.yaml with each placeholder ("@X_URL@") replaced
// by its value, and the outbox and state database inside `dir`. Returns the config's path.
std::filesystem::path write_config(const std::filesystem::path& dir,
                                   const std::vector<std::pair<std::string_view, std::string>>& values);

}  // namespace crisisd::demo
