#pragma once
// The command line: `crisisd run | check-config | score | replay | demo | version | help`.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"
#include "pipeline/pipeline.hpp"

namespace crisisd::app {

int main(int argc, char** argv);

// Exit codes (sysexits.h). 78 is EX_CONFIG and 65 (EX_DATAERR) a state database crisisd refuses
// (written by a newer crisisd, or corrupt): the systemd unit names both in
// RestartPreventExitStatus, since a restart would only repeat them. A state database out of
// reach (directory not mounted yet, permissions) is 75, EX_TEMPFAIL, which the unit does
// restart: the next try may find it. So is any other start-up failure for want of a resource
// that comes back (out of descriptors or memory: EMFILE, ENFILE, ENOBUFS, ENOMEM).
constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 64;
constexpr int exit_state_refused = 65;
constexpr int exit_no_input = 66;
constexpr int exit_state_unavailable = 75;
constexpr int exit_temporary = 75;  // EX_TEMPFAIL, the same code for any cause that passes
constexpr int exit_config = 78;
// Past sysexits' range, crisisd's own: a cluster replica started on a state database that holds a
// single node's open incidents or undelivered actions, which cluster mode would lose
// (state/handover.hpp). A restart would only repeat it; the unit names it too.
constexpr int exit_state_not_drained = 79;

struct create_error;
// The exit code for a daemon that could not be created (see the codes above).
int create_exit_code(const create_error& e);
// Whether an error's text says a resource ran short that comes back by itself (descriptors,
// memory for sockets): start-up failing on it exits exit_temporary, not as a config error.
bool is_temporary_shortage(std::string_view message);

int run_command(const std::vector<std::string>& args);
int check_config_command(const std::vector<std::string>& args);
int score_command(const std::vector<std::string>& args);
int replay_command(const std::vector<std::string>& args);
int demo_command(const std::vector<std::string>& args);
int ctl_command(const std::vector<std::string>& args);  // the admin API client (ctl.cpp)

// Loads and validates a config file as check-config does (including compiling the rules'
// keywords); prints every diagnostic to stderr and returns nullopt when there is one.
std::optional<config::settings> load_config_or_report(const std::string& path);
// How a replica with `cluster:` runs (issue 15): "partitions", the clustered runtime (partitioned
// intake, each partition's detection, incidents and delivery on its owner, its state in
// JetStream); or, when CRISISD_CLUSTER_PREVIEW=leases asks for the diagnostic, "leases": the
// replica holds partition leases and shows them in /metrics, and sends nothing.
std::string cluster_mode();

// The pipeline's part of a configuration: rules, playbooks, statements, resolved_grace.
pipeline::pipeline_settings pipeline_settings_of(const config::settings& s);

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
