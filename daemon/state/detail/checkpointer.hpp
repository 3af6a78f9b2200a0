#pragma once
// Checkpoints the state database's write-ahead log on a thread and connection of its own, so the
// thread that commits actions never waits for one, and the log stays short: after each full
// checkpoint SQLite starts the log again from its beginning, overwriting blocks the file already
// has. That matters for the time to the first page: an fsync that only overwrites costs ~0.1 ms
// on ext4, one that grows the file (a journal commit for the new size) ~3 ms, measured with
// `dd oflag=dsync` on this project's CI disk. The log file is kept across restarts
// (SQLITE_FCNTL_PERSIST_WAL) for the same reason.
// Private to state/ (included by database.cpp only). The background thread uses only its own
// connection; committed() and log_frames() are called from the committing thread.
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/log.hpp"

namespace crisisd::state::detail {

class checkpointer {
public:
    explicit checkpointer(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
            core::log_warning("state database: no background checkpoints (" +
                              std::string(db_ ? sqlite3_errmsg(db_) : "out of memory") + "); SQLite checkpoints inline");
            sqlite3_close(db_);
            db_ = nullptr;
            return;
        }
        sqlite3_busy_timeout(db_, 5000);
        // A connection learns that the database is in WAL mode when it first reads it; until
        // then a checkpoint request is a no-op.
        sqlite3_exec(db_, "PRAGMA schema_version", nullptr, nullptr, nullptr);
        thread_ = std::thread([this] { run(); });
    }
    ~checkpointer() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        wake_.notify_one();
        if (thread_.joinable()) thread_.join();
        if (db_) sqlite3_close(db_);
    }
    bool running() const { return db_ != nullptr; }
    // Checkpoints that copied the whole log: the next commit starts it again from the top.
    std::uint64_t complete() const { return complete_.load(std::memory_order_relaxed); }
    // After every commit (WAL hook), with the frames now in the log.
    void committed(int frames) {
        log_frames_ = frames;
        nudge();
    }
    int log_frames() const { return log_frames_; }  // committing thread only
    void nudge() {
        {
            std::lock_guard lock(mutex_);
            pending_ = true;
        }
        wake_.notify_one();
    }

private:
    void run() {
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return pending_ || stop_; });
            if (stop_) return;
            // Let a burst of commits (an incident's actions, then their results) finish first,
            // so the checkpoint does not hold the log while they want to restart it; but under
            // a steady stream of commits, checkpoint at least every 100 ms.
            const auto latest = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
            while (pending_ && !stop_ && std::chrono::steady_clock::now() < latest) {
                pending_ = false;
                wake_.wait_for(lock, std::chrono::milliseconds(20), [this] { return pending_ || stop_; });
            }
            pending_ = false;
            if (stop_) return;
            lock.unlock();
            int log = -1, copied = -1;
            if (sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) == SQLITE_OK &&
                log >= 0 && log == copied)
                complete_.fetch_add(1, std::memory_order_relaxed);
            lock.lock();
        }
    }

    sqlite3* db_ = nullptr;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool pending_ = false;
    bool stop_ = false;
    int log_frames_ = 0;
    std::atomic<std::uint64_t> complete_{0};
};

// After every commit (WAL hook): hand the checkpoint to the background thread. Should it fall
// far behind, checkpoint inline rather than let the log grow without bound.
inline int after_commit(void* context, sqlite3* db, const char* schema, int frames) {
    static_cast<checkpointer*>(context)->committed(frames);
    if (frames > 10000) sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
}

}  // namespace crisisd::state::detail
