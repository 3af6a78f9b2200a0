#pragma once
// Runs the real crisisd binary as a child process for integration tests: captures stdout and
// stderr line by line on background threads, waits for a line, sends signals, reaps it. Also:
// a command run to its end (run_to_exit), and the command lines of `crisisd run` and `crisisd ctl`.
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace crisisd::testing {

class child_process {
public:
    explicit child_process(std::vector<std::string> argv) {
        int out[2], err[2];
        // Close-on-exec, and the child closes everything but its standard streams: a child must
        // not hold the test's listening sockets or another child's pipes (started from another
        // thread between a pipe() and its close), which kept ports bound and readers from EOF.
        if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork");
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            ::dup2(err[1], STDERR_FILENO);
            // Nothing else of the test goes with it: a stand-in's listening or accepted socket
            // kept open by a child answers nobody (a replica's request to the stand-in hung
            // on a connection only another replica still held), and the child's own pipes to
            // earlier children would keep them from seeing EOF.
            if (::close_range(3, ~0U, 0) != 0)   // a kernel before 5.9
                for (int fd = 3; fd < 65536; ++fd) ::close(fd);
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        ::close(out[1]);
        ::close(err[1]);
        readers_.emplace_back([this, fd = out[0]] { pump(fd, stdout_lines_); });
        readers_.emplace_back([this, fd = err[0]] { pump(fd, stderr_lines_); });
    }

    ~child_process() {
        if (!exited_) {
            ::kill(pid_, SIGKILL);
            wait_exit(std::chrono::seconds(10));
        }
        for (auto& t : readers_)
            if (t.joinable()) t.join();
    }

    // The port a log line announces (`pattern`'s first group is the number); 0 when none came.
    std::uint16_t wait_for_port(const std::string& pattern, std::chrono::milliseconds timeout) {
        auto port = wait_for_stderr(pattern, timeout);
        return port ? static_cast<std::uint16_t>(std::stoi(*port)) : 0;
    }

    // Waits until a stderr line matches `pattern`; returns the match's first group (or whole).
    std::optional<std::string> wait_for_stderr(const std::string& pattern, std::chrono::milliseconds timeout) {
        std::regex re(pattern);
        std::unique_lock lock(m_);
        std::optional<std::string> found;
        cv_.wait_for(lock, timeout, [&] {
            for (const auto& l : stderr_lines_) {
                std::smatch sm;
                if (std::regex_search(l, sm, re)) {
                    found = sm.size() > 1 ? sm[1].str() : sm[0].str();
                    return true;
                }
            }
            return false;
        });
        return found;
    }

    void signal(int sig) { ::kill(pid_, sig); }

    // SIGTERM, then the exit status as wait_exit gives it: how a test stops crisisd and checks
    // that it shut down cleanly.
    std::optional<int> terminate(std::chrono::milliseconds timeout) {
        signal(SIGTERM);
        return wait_exit(timeout);
    }

    pid_t pid() const { return pid_; }

    // Exit status (or 128 + signal); nullopt when it did not exit in time.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            auto r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                exited_ = true;
                // The child's ends of the pipes are closed now: drain what it wrote.
                for (auto& t : readers_)
                    if (t.joinable()) t.join();
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return std::nullopt;
    }

    std::string stderr_text() const {
        std::lock_guard lock(m_);
        std::string s;
        for (const auto& l : stderr_lines_) s += l + "\n";
        return s;
    }
    std::string stdout_text() const {
        std::lock_guard lock(m_);
        std::string s;
        for (const auto& l : stdout_lines_) s += l + "\n";
        return s;
    }

private:
    void pump(int fd, std::vector<std::string>& lines) {
        std::string buf;
        char chunk[4096];
        for (;;) {
            auto n = ::read(fd, chunk, sizeof chunk);
            if (n <= 0) break;
            buf.append(chunk, static_cast<std::size_t>(n));
            std::size_t nl;
            while ((nl = buf.find('\n')) != std::string::npos) {
                {
                    std::lock_guard lock(m_);
                    lines.push_back(buf.substr(0, nl));
                }
                cv_.notify_all();
                buf.erase(0, nl + 1);
            }
        }
        if (!buf.empty()) {
            std::lock_guard lock(m_);
            lines.push_back(buf);
        }
        cv_.notify_all();
        ::close(fd);
    }

    pid_t pid_ = -1;
    bool exited_ = false;
    mutable std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::string> stdout_lines_, stderr_lines_;
    std::vector<std::thread> readers_;
};

// How a command that was run to its end went: its exit status (-1 when it did not end in time)
// and what it wrote.
struct finished_process {
    int code = -1;
    std::string out, err;
};

inline finished_process run_to_exit(std::vector<std::string> argv,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    child_process p(std::move(argv));
    finished_process r;
    r.code = p.wait_exit(timeout).value_or(-1);
    r.out = p.stdout_text();
    r.err = p.stderr_text();
    return r;
}

#ifdef CRISISD_BINARY
// `crisisd run` on the crisisd.yaml in `dir` (support.hpp's write_config writes it there).
// CRISISD_BINARY is the binary the integration tests and tools are built against.
inline std::vector<std::string> crisisd_run(const std::filesystem::path& dir) {
    return {CRISISD_BINARY, "run", "--config", (dir / "crisisd.yaml").string()};
}

// `crisisd ctl words…` run to its end, against `url` and with the token in `token_file` when
// they are given.
inline finished_process crisisd_ctl(const std::vector<std::string>& words, const std::string& url = {},
                                    const std::filesystem::path& token_file = {}) {
    std::vector<std::string> argv{CRISISD_BINARY, "ctl"};
    if (!url.empty()) argv.insert(argv.end(), {"--url", url});
    if (!token_file.empty()) argv.insert(argv.end(), {"--token-file", token_file.string()});
    argv.insert(argv.end(), words.begin(), words.end());
    return run_to_exit(std::move(argv));
}
#endif

}  // namespace crisisd::testing
