#pragma once
// An append-only log file with group commit: records from any thread are written in batches by one writer thread
// and made durable with one fdatasync per batch; each record's completion runs only after its batch is on disk.
// Used for the audit log, where an acknowledged decision must never be lost (issue #7, BR §5.4.1).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "core/result.hh"

namespace mpic::core {

/// Settings of an append_log.
struct append_log_config {
    std::string path;                          ///< the active file; rotated files are path.1 .. path.N
    std::uint64_t rotate_bytes = 256ull << 20; ///< rotate once the active file reaches this size; 0 = never
    unsigned keep_rotated = 8;                 ///< rotated files kept (path.1 is the newest)
    std::size_t max_pending = 65536;           ///< records waiting for the writer; append() fails beyond this
    bool sync = true;                          ///< fdatasync each batch (off only for benchmarks)
};

/// Runs once per record, on the writer thread, with success or the write/sync error. Keep it short (post the real
/// work to a reactor).
using durable_callback = std::function<void(std::error_code)>;

/// The log. Thread-safe. Invariants: records appear in the file in append order, each followed by '\n'; a
/// completion with no error means the record and every record before it are durable (fdatasync returned 0);
/// once a write or sync fails the log is failed: that batch and every later append complete with the error, and
/// healthy() is false (the caller must refuse work rather than act without a record).
class append_log {
public:
    /// Opens (creating, mode 0640) and starts the writer. Errors: the open(2) errno (generic category).
    static result<std::unique_ptr<append_log>> open(append_log_config config);
    /// Flushes what is queued, then stops the writer.
    ~append_log();
    append_log(const append_log&) = delete;
    append_log& operator=(const append_log&) = delete;

    /// Queues one record (without its trailing newline; embedded newlines are refused). The callback runs exactly
    /// once. Errors returned here (the callback then never runs): errc::queue_full, errc::invalid_argument,
    /// errc::io_error when the log already failed, errc::shutting_down after close().
    result<void> append(std::string record, durable_callback done);
    /// Blocks until everything appended so far is durable (or failed). For shutdown paths.
    void flush();
    /// Stops intake, writes what is queued and joins the writer. Idempotent.
    void close();
    /// False once a write or sync failed.
    bool healthy() const noexcept;
    /// Bytes in the active file.
    std::uint64_t active_bytes() const noexcept;

private:
    struct entry {
        std::string record;
        durable_callback done;
    };
    explicit append_log(append_log_config config, int fd, std::uint64_t size);
    void writer_main();
    std::error_code write_batch(std::deque<entry>& batch);
    std::error_code rotate();

    append_log_config _config;
    int _fd;
    std::uint64_t _size;
    mutable std::mutex _mutex;
    std::condition_variable _wake;
    std::condition_variable _drained;
    std::deque<entry> _queue;
    std::uint64_t _appended = 0;  ///< records accepted
    std::uint64_t _completed = 0; ///< records whose completion ran
    bool _closing = false;
    std::error_code _failure;
    std::thread _writer;
};

} // namespace mpic::core
