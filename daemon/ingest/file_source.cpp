#include "ingest/file_source.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "core/log.hpp"
#include "net/detail/async.hpp"

namespace crisisd::ingest {

namespace asio = boost::asio;

namespace {
constexpr std::size_t read_size = 64 * 1024;
constexpr std::size_t batch_lines = 512;
constexpr std::size_t batch_bytes = 1 << 20;
// Batches handed to the executor but not yet processed; the reader waits beyond this.
constexpr int max_in_flight = 2;
// stdin may stay silent for a long time (`tail -F`); the reader wakes this often to notice stop().
constexpr int poll_ms = 100;

using batch = std::vector<std::optional<std::string>>;  // nullopt: an oversized line
}  // namespace

struct file_source::impl : std::enable_shared_from_this<impl> {
    asio::strand<asio::any_io_executor> strand;
    source_settings settings;
    frame_handler on_frame;
    end_handler on_end;
    source_events& events;
    flow_control* flow = nullptr;
    std::atomic<bool> stopped{false};
    std::thread reader;
    std::mutex mutex;
    std::condition_variable drained;
    int in_flight = 0;

    impl(asio::any_io_executor ex, source_settings s, frame_handler f, end_handler e, source_events& ev)
        : strand(asio::make_strand(ex)),
          settings(std::move(s)),
          on_frame(std::move(f)),
          on_end(std::move(e)),
          events(ev) {}

    // On the strand: one batch to on_frame, line by line, waiting for room when flow control
    // says the consumer is full.
    static asio::awaitable<void> deliver(std::shared_ptr<impl> self, batch lines) {
        for (const auto& line : lines) {
            if (self->stopped) break;
            if (!line) {
                self->events.on_frame_rejected("oversized");
                continue;
            }
            while (self->flow != nullptr && !self->stopped && !self->flow->has_room())
                co_await self->flow->wait_for_room();
            if (self->stopped) break;
            try {
                self->on_frame(*line);
            } catch (const std::exception& e) {
                core::log_error("source " + self->settings.name + ": frame handler threw: " + e.what());
            }
        }
        {
            std::lock_guard lock(self->mutex);
            --self->in_flight;
        }
        self->drained.notify_all();
    }

    // Reader thread: hands a batch over, waiting while the consumer is behind.
    bool hand_over(batch& lines) {
        if (lines.empty()) return !stopped;
        {
            std::unique_lock lock(mutex);
            drained.wait(lock, [&] { return in_flight < max_in_flight || stopped; });
            if (stopped) return false;
            ++in_flight;
        }
        asio::co_spawn(strand, deliver(shared_from_this(), std::move(lines)),
                       net::detail::log_completion{"source " + settings.name});
        lines = batch{};
        return true;
    }

    void finish(std::string error) {
        {
            // on_end comes after the last frame, and a batch may still be waiting for room.
            std::unique_lock lock(mutex);
            drained.wait(lock, [&] { return in_flight == 0 || stopped; });
        }
        asio::post(strand, [self = shared_from_this(), error = std::move(error)] {
            if (self->stopped) return;
            if (!error.empty()) {
                core::log_error("source " + self->settings.name + ": " + error);
                self->events.on_fatal(error);
            }
            self->events.on_connected(false);
            if (self->on_end) self->on_end(error);
        });
    }

    void read_all() {
        const bool use_stdin = settings.path == "-";
        int fd = use_stdin ? STDIN_FILENO : ::open(settings.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            finish("cannot open " + settings.path + ": " + std::strerror(errno));
            return;
        }
        asio::post(strand, [self = shared_from_this()] {
            if (!self->stopped) self->events.on_connected(true);
        });
        std::string error;
        std::vector<char> buffer(read_size);
        std::string line;
        bool discarding = false;  // inside an oversized line: drop bytes until its newline
        batch lines;
        std::size_t pending_bytes = 0;
        auto end_line = [&] {
            if (discarding) {
                lines.emplace_back(std::nullopt);
                discarding = false;
            } else {
                if (!line.empty() && line.back() == '\r') line.pop_back();
                if (line.size() > settings.max_message_bytes) {
                    lines.emplace_back(std::nullopt);
                } else if (!line.empty()) {
                    pending_bytes += line.size();
                    lines.emplace_back(std::move(line));
                }
            }
            line.clear();
        };
        while (!stopped) {
            pollfd wait_for{fd, POLLIN, 0};
            int ready = ::poll(&wait_for, 1, poll_ms);
            if (ready < 0 && errno != EINTR) {
                error = std::string("poll: ") + std::strerror(errno);
                break;
            }
            if (ready <= 0) continue;
            ssize_t n = ::read(fd, buffer.data(), buffer.size());
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) continue;
                error = "read " + settings.path + ": " + std::strerror(errno);
                break;
            }
            if (n == 0) break;
            std::string_view chunk(buffer.data(), static_cast<std::size_t>(n));
            while (!chunk.empty()) {
                auto newline = chunk.find('\n');
                auto piece = chunk.substr(0, newline);
                if (!discarding) {
                    // +1 leaves room for a '\r' that is stripped at the end of the line.
                    if (line.size() + piece.size() > settings.max_message_bytes + 1) {
                        discarding = true;
                        line.clear();
                    } else {
                        line.append(piece);
                    }
                }
                if (newline == std::string_view::npos) break;
                end_line();
                chunk.remove_prefix(newline + 1);
            }
            if (lines.size() >= batch_lines || pending_bytes >= batch_bytes) {
                if (!hand_over(lines)) break;
                pending_bytes = 0;
            }
        }
        if (!stopped && (discarding || !line.empty())) end_line();  // last line without '\n'
        if (!stopped) hand_over(lines);
        if (!use_stdin) ::close(fd);
        if (!stopped) finish(error);
    }
};

file_source::file_source(asio::any_io_executor ex, source_settings settings, frame_handler on_frame,
                         end_handler on_end, source_events& events)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(settings), std::move(on_frame), std::move(on_end),
                                   events)) {}

file_source::~file_source() { stop(); }

void file_source::set_flow_control(flow_control* flow) { impl_->flow = flow; }

void file_source::start() {
    if (impl_->reader.joinable() || impl_->stopped) return;
    impl_->reader = std::thread([self = impl_] { self->read_all(); });
}

void file_source::stop() {
    impl_->stopped = true;
    impl_->drained.notify_all();
    if (impl_->reader.joinable() && impl_->reader.get_id() != std::this_thread::get_id()) impl_->reader.join();
}

}  // namespace crisisd::ingest
