#include "core/log.hh"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

#include "core/error.hh"
#include "core/json_writer.hh"
#include "core/reactor.hh"

namespace mpic::core {
namespace {

constexpr std::string_view level_names[] = {"trace", "debug", "info", "warn", "error", "off"};
constexpr std::string_view reserved_keys[] = {"ts", "level", "event", "trace_id", "reactor"};

/// RFC 3339 UTC timestamp with microseconds: 2026-11-30T04:28:10.123456Z. The date-time part is cached per
/// thread and recomputed once a second, so the common case is one integer format.
void append_timestamp(std::string& out, std::int64_t unix_us) {
    thread_local std::int64_t cached_second = -1;
    thread_local char cached[24];
    std::int64_t second = unix_us >= 0 ? unix_us / 1'000'000 : (unix_us - 999'999) / 1'000'000;
    if (second != cached_second) {
        std::time_t t = static_cast<std::time_t>(second);
        std::tm tm{};
        gmtime_r(&t, &tm);
        std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_second = second;
    }
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06dZ", static_cast<int>(unix_us - second * 1'000'000));
    out += '"';
    out += cached;
    out += frac;
    out += '"';
}

template <class Number>
void append_number(std::string& out, Number value) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, end);
}

void append_field_value(std::string& out, const log_field& f) {
    switch (f.type()) {
    case log_field::kind::string:
        append_json_string(out, f.as_string());
        break;
    case log_field::kind::signed_integer:
        append_number(out, f.as_signed());
        break;
    case log_field::kind::unsigned_integer:
        append_number(out, f.as_unsigned());
        break;
    case log_field::kind::floating:
        // JSON has no NaN or infinity (RFC 8259 §6).
        if (std::isfinite(f.as_double())) {
            append_number(out, f.as_double());
        } else {
            out += "null";
        }
        break;
    case log_field::kind::boolean:
        out += f.as_bool() ? "true" : "false";
        break;
    }
}

std::int64_t now_unix_us() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

} // namespace

std::string_view to_string(log_level level) noexcept {
    auto i = static_cast<std::size_t>(level);
    return i < std::size(level_names) ? level_names[i] : "unknown";
}

result<log_level> parse_log_level(std::string_view name) noexcept {
    for (std::size_t i = 0; i < std::size(level_names); ++i) {
        if (level_names[i] == name) {
            return static_cast<log_level>(i);
        }
    }
    return errc::invalid_argument;
}

// The escaping is core/json_writer's, shared with the API and audit renderers.
void append_json_string(std::string& out, std::string_view s) {
    append_json_quoted(out, s);
}

void append_json_chars(std::string& out, std::string_view s) {
    append_json_escaped(out, s);
}

std::string format_log_line(std::int64_t unix_us, log_level level, std::string_view event, std::string_view trace_id,
                            int reactor, std::initializer_list<log_field> fields) {
    std::string out;
    out.reserve(128 + 32 * fields.size());
    out += "{\"ts\":";
    append_timestamp(out, unix_us);
    out += ",\"level\":\"";
    out += to_string(level);
    out += "\",\"event\":";
    append_json_string(out, event);
    out += ",\"trace_id\":";
    if (trace_id.empty()) {
        out += "null";
    } else {
        append_json_string(out, trace_id);
    }
    out += ",\"reactor\":";
    if (reactor >= 0) {
        append_number(out, reactor);
    } else {
        out += "null";
    }
    for (const log_field& f : fields) {
        out += ',';
        bool reserved = false;
        for (std::string_view key : reserved_keys) {
            reserved = reserved || key == f.key();
        }
        if (reserved) {
            // Duplicate keys are legal JSON but most consumers keep only one of them; never shadow a fixed key.
            out += "\"_";
            append_json_chars(out, f.key());
            out += '"';
        } else {
            append_json_string(out, f.key());
        }
        out += ':';
        append_field_value(out, f);
    }
    out += "}\n";
    return out;
}

logger::logger() noexcept : _level(static_cast<int>(log_level::info)), _fd(STDERR_FILENO) {}

logger::~logger() {
    close_owned();
}

logger& logger::global() noexcept {
    static logger instance;
    return instance;
}

void logger::close_owned() noexcept {
    if (_owned) {
        ::close(_fd);
        _owned = false;
    }
}

result<void> logger::open_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        return std::error_code(errno, std::generic_category());
    }
    std::lock_guard lock(_mutex);
    close_owned();
    _fd = fd;
    _owned = true;
    return {};
}

void logger::use_fd(int fd) noexcept {
    std::lock_guard lock(_mutex);
    close_owned();
    _fd = fd;
}

void logger::write(log_level level, std::string_view event, std::string_view trace_id,
                   std::initializer_list<log_field> fields) noexcept {
    if (!enabled(level)) {
        return;
    }
    try {
        reactor* r = reactor::current();
        std::string line = format_log_line(now_unix_us(), level, event, trace_id,
                                           r != nullptr ? static_cast<int>(r->id()) : -1, fields);
        std::lock_guard lock(_mutex);
        // One write(2) per line: with O_APPEND (files) or a pipe (PIPE_BUF) the kernel keeps it whole; the mutex
        // covers the rare partial write to a slow terminal.
        std::size_t done = 0;
        while (done < line.size()) {
            ssize_t n = ::write(_fd, line.data() + done, line.size() - done);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                _dropped.fetch_add(1, std::memory_order_relaxed);
                return;
            }
            done += static_cast<std::size_t>(n);
        }
    } catch (...) {
        // LCOV_EXCL_LINE: DefensiveCoding (bad_alloc while formatting); logging must never take the caller down
        _dropped.fetch_add(1, std::memory_order_relaxed);
    }
}

} // namespace mpic::core
