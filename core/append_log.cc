// Group commit: the writer thread takes everything queued, writes it with one writev-sized write loop, calls
// fdatasync once and only then runs the completions. Under load a batch holds many records, so the cost of the
// sync is shared (the classic database log technique); at low load each record pays one sync, which is the price
// of "an acknowledged decision is never lost".

#include "core/append_log.hh"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mpic::core {
namespace {

std::error_code last_errno() {
    return {errno, std::generic_category()};
}

int open_file(const std::string& path) {
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

/// fsync(2) of the directory holding `path`: fdatasync of a file does not make its directory entry durable (a file
/// created, or renamed, since the last directory sync can vanish on power loss with every record in it). Filesystems
/// that cannot sync a directory (EINVAL) are not an error; others are.
std::error_code sync_parent_directory(const std::string& path) {
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return last_errno();
    }
    std::error_code ec;
    if (::fsync(fd) != 0 && errno != EINVAL) {
        ec = last_errno();
    }
    ::close(fd);
    return ec;
}

} // namespace

result<std::unique_ptr<append_log>> append_log::open(append_log_config config) {
    int fd = open_file(config.path);
    if (fd < 0) {
        return last_errno();
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        auto ec = last_errno();
        ::close(fd);
        return ec;
    }
    if (config.sync && S_ISREG(st.st_mode)) {
        if (auto ec = sync_parent_directory(config.path)) {
            ::close(fd);
            return ec;
        }
    }
    return std::unique_ptr<append_log>(new append_log(std::move(config), fd, static_cast<std::uint64_t>(st.st_size)));
}

append_log::append_log(append_log_config config, int fd, std::uint64_t size)
    : _config(std::move(config)), _fd(fd), _size(size) {
    _writer = std::thread([this] { writer_main(); });
}

append_log::~append_log() {
    close();
    if (_fd >= 0) {
        ::close(_fd);
    }
}

result<void> append_log::append(std::string record, durable_callback done) {
    if (record.find('\n') != std::string::npos) {
        return make_error_code(errc::invalid_argument);
    }
    {
        std::lock_guard lock(_mutex);
        if (_closing) {
            return make_error_code(errc::shutting_down);
        }
        if (_failure) {
            return make_error_code(errc::io_error);
        }
        if (_queue.size() >= _config.max_pending) {
            return make_error_code(errc::queue_full);
        }
        _queue.push_back({std::move(record), std::move(done)});
        ++_appended;
    }
    _wake.notify_one();
    return {};
}

void append_log::flush() {
    std::unique_lock lock(_mutex);
    const auto target = _appended;
    _drained.wait(lock, [&] { return _completed >= target; });
}

void append_log::close() {
    {
        std::lock_guard lock(_mutex);
        if (_closing && !_writer.joinable()) {
            return;
        }
        _closing = true;
    }
    _wake.notify_one();
    if (_writer.joinable()) {
        _writer.join();
    }
}

bool append_log::healthy() const noexcept {
    std::lock_guard lock(_mutex);
    return !_failure;
}

std::uint64_t append_log::active_bytes() const noexcept {
    std::lock_guard lock(_mutex);
    return _size;
}

void append_log::writer_main() {
    // A name in /proc/PID/task/*/comm lets tools (mpic-bench, top -H, perf) tell the audit log's CPU and its
    // fdatasync waits from the reactors'.
    pthread_setname_np(pthread_self(), "audit-writer");
    for (;;) {
        std::deque<entry> batch;
        std::error_code failure;
        {
            std::unique_lock lock(_mutex);
            _wake.wait(lock, [&] { return _closing || !_queue.empty(); });
            if (_queue.empty() && _closing) {
                return;
            }
            batch.swap(_queue);
            failure = _failure;
        }
        // After a failure nothing more is written: the file's tail is uncertain, and a later success would let
        // a caller believe records it never saw acknowledged were durable.
        auto ec = failure ? failure : write_batch(batch);
        for (auto& e : batch) {
            if (e.done) {
                e.done(ec);
            }
        }
        {
            std::lock_guard lock(_mutex);
            if (ec && !_failure) {
                _failure = ec;
            }
            _completed += batch.size();
        }
        _drained.notify_all();
    }
}

std::error_code append_log::write_batch(std::deque<entry>& batch) {
    std::string buffer;
    for (const auto& e : batch) {
        buffer += e.record;
        buffer += '\n';
    }
    std::size_t written = 0;
    while (written < buffer.size()) {
        ssize_t n = ::write(_fd, buffer.data() + written, buffer.size() - written);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return last_errno();
        }
        written += static_cast<std::size_t>(n);
    }
    if (_config.sync && ::fdatasync(_fd) != 0) {
        return last_errno();
    }
    {
        std::lock_guard lock(_mutex);
        _size += written;
    }
    if (_config.rotate_bytes != 0 && _size >= _config.rotate_bytes) {
        return rotate();
    }
    return {};
}

std::error_code append_log::rotate() {
    // path.N-1 -> path.N, ..., path -> path.1, then a fresh path. The batch just written is already durable in the
    // file being renamed; a crash between the renames loses nothing, it only leaves a gap in the numbering.
    if (_config.keep_rotated == 0) {
        if (::ftruncate(_fd, 0) != 0) {
            return last_errno();
        }
    } else {
        for (unsigned i = _config.keep_rotated; i > 1; --i) {
            const auto from = _config.path + "." + std::to_string(i - 1);
            const auto to = _config.path + "." + std::to_string(i);
            std::rename(from.c_str(), to.c_str()); // a missing older file is fine
        }
        if (std::rename(_config.path.c_str(), (_config.path + ".1").c_str()) != 0) {
            return last_errno();
        }
        int fd = open_file(_config.path);
        if (fd < 0) {
            return last_errno();
        }
        ::close(_fd);
        _fd = fd;
        // The renames and the new file must survive a power loss before records go into it.
        if (_config.sync) {
            if (auto ec = sync_parent_directory(_config.path)) {
                return ec;
            }
        }
    }
    std::lock_guard lock(_mutex);
    _size = 0;
    return {};
}

} // namespace mpic::core
