#pragma once
// The command line: `crisisd run | check-config | score | replay | demo | version | help`.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace crisisd::app {

int main(int argc, char** argv);

// Exit codes (sysexits.h): 78 is EX_CONFIG, which the systemd unit names in
// RestartPreventExitStatus so a broken config does not restart in a loop.
constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 64;
constexpr int exit_no_input = 66;
constexpr int exit_config = 78;

int run_command(const std::vector<std::string>& args);
int check_config_command(const std::vector<std::string>& args);
int score_command(const std::vector<std::string>& args);
int replay_command(const std::vector<std::string>& args);
int demo_command(const std::vector<std::string>& args);
int ctl_command(const std::vector<std::string>& args);  // the admin API client (ctl.cpp)

// Loads and validates a config file as check-config does (including compiling the rules'
// keywords); prints every diagnostic to stderr and returns nullopt when there is one.
std::optional<config::settings> load_config_or_report(const std::string& path);

// Minimal option reading shared by the commands: "--name value" or "--name=value".
struct options {
    std::vector<std::string> args;
    std::optional<std::string> value(std::string_view name) const;
    bool flag(std::string_view name) const;
    // The first argument not starting with "--" and not a value of a known option.
    std::vector<std::string> unknown(const std::vector<std::string_view>& valued,
                                     const std::vector<std::string_view>& flags) const;
};

}  // namespace crisisd::app
