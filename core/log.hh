#pragma once
// Structured logging: one JSON object per line (ts, level, event, trace_id, reactor, then the caller's key/value
// fields), written with a single write(2) per line so lines from different threads never interleave. The level
// check is one relaxed atomic load, so a disabled log call costs a compare and a branch; fields are views, built
// on the caller's stack, and only formatted when the level is enabled.
//
// Usage: log_info("check_done", trace_id, {{"perspective", name}, {"elapsed_us", us}, {"ok", true}});

#include <atomic>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.hh"

namespace mpic::core {

/// Severity, ordered. `off` disables everything when used as the threshold.
enum class log_level : int { trace = 0, debug, info, warn, error, off };

/// "trace", "debug", "info", "warn", "error", "off".
std::string_view to_string(log_level level) noexcept;
/// Parses the names above (exact, lower case). Error: errc::invalid_argument.
result<log_level> parse_log_level(std::string_view name) noexcept;

/// One key/value pair of a log line. Holds views: valid for the duration of the log call only.
class log_field {
public:
    enum class kind { string, signed_integer, unsigned_integer, floating, boolean };

    log_field(std::string_view key, std::string_view value) noexcept : _key(key), _kind(kind::string), _s(value) {}
    log_field(std::string_view key, const char* value) noexcept : log_field(key, std::string_view(value)) {}
    log_field(std::string_view key, const std::string& value) noexcept : log_field(key, std::string_view(value)) {}
    log_field(std::string_view key, bool value) noexcept : _key(key), _kind(kind::boolean), _b(value) {}
    log_field(std::string_view key, double value) noexcept : _key(key), _kind(kind::floating), _d(value) {}
    template <std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, char>) log_field(std::string_view key, I value)
    noexcept : _key(key) {
        if constexpr (std::signed_integral<I>) {
            _kind = kind::signed_integer;
            _i = value;
        } else {
            _kind = kind::unsigned_integer;
            _u = value;
        }
    }

    std::string_view key() const noexcept { return _key; }
    kind type() const noexcept { return _kind; }
    std::string_view as_string() const noexcept { return _s; }
    std::int64_t as_signed() const noexcept { return _i; }
    std::uint64_t as_unsigned() const noexcept { return _u; }
    double as_double() const noexcept { return _d; }
    bool as_bool() const noexcept { return _b; }

private:
    std::string_view _key;
    kind _kind;
    std::string_view _s;
    union {
        std::int64_t _i;
        std::uint64_t _u;
        double _d;
        bool _b;
    };
};

/// Appends `s` as a JSON string literal (with quotes) per RFC 8259 §7: '"' and '\\' escaped, control characters
/// as \n \r \t \b \f or \u00XX, DEL as \u007f, and every maximal ill-formed UTF-8 subpart (RFC 3629 §4: no
/// overlongs, surrogates or code points above U+10FFFF) replaced by one U+FFFD (core/json_writer.hh). The output is
/// always valid JSON and valid UTF-8, whatever the input bytes (peer-supplied strings reach logs).
void append_json_string(std::string& out, std::string_view s);
/// append_json_string without the surrounding quotes (for building a literal from several parts).
void append_json_chars(std::string& out, std::string_view s);

/// Formats one log line (with the trailing '\n'). `unix_us` is the wall-clock time in microseconds since the
/// epoch; `reactor` is the reactor id or -1 (rendered as null). An empty trace_id is rendered as null. A field
/// whose key collides with a fixed key (ts, level, event, trace_id, reactor) is emitted as "_<key>".
std::string format_log_line(std::int64_t unix_us, log_level level, std::string_view event, std::string_view trace_id,
                            int reactor, std::initializer_list<log_field> fields);

/// A line-oriented JSON logger writing to one file descriptor. Thread-safe.
class logger {
public:
    /// Writes to stderr at level info.
    logger() noexcept;
    ~logger();
    logger(const logger&) = delete;
    logger& operator=(const logger&) = delete;

    /// The process-wide logger used by log() and log_*().
    static logger& global() noexcept;

    void set_level(log_level level) noexcept { _level.store(static_cast<int>(level), std::memory_order_relaxed); }
    log_level level() const noexcept { return static_cast<log_level>(_level.load(std::memory_order_relaxed)); }
    /// True when a line at `level` would be written. One relaxed load.
    bool enabled(log_level level) const noexcept {
        return level != log_level::off && static_cast<int>(level) >= _level.load(std::memory_order_relaxed);
    }

    /// Appends to `path` (created 0640 if missing, O_APPEND so concurrent writers keep whole lines) from now on.
    /// Error: the open(2) errno as a generic_category code; the previous destination is kept.
    result<void> open_file(const std::string& path);
    /// Writes to `fd` from now on, without taking ownership (STDERR_FILENO, a test pipe).
    void use_fd(int fd) noexcept;

    /// Formats and writes one line if `level` is enabled. Never throws; a failed write is counted, not reported.
    void write(log_level level, std::string_view event, std::string_view trace_id,
               std::initializer_list<log_field> fields) noexcept;

    /// Lines lost to write errors since construction.
    std::uint64_t dropped() const noexcept { return _dropped.load(std::memory_order_relaxed); }

private:
    void close_owned() noexcept;

    std::atomic<int> _level;
    std::mutex _mutex; ///< serialises writes and destination changes
    int _fd;
    bool _owned = false;
    std::atomic<std::uint64_t> _dropped{0};
};

/// Logs through logger::global() if `level` is enabled.
inline void log(log_level level, std::string_view event, std::string_view trace_id = {},
                std::initializer_list<log_field> fields = {}) noexcept {
    logger& l = logger::global();
    if (l.enabled(level)) {
        l.write(level, event, trace_id, fields);
    }
}
/// log() at a fixed level (log_debug, log_info, log_warn, log_error).
inline void log_debug(std::string_view event, std::string_view trace_id = {},
                      std::initializer_list<log_field> fields = {}) noexcept {
    log(log_level::debug, event, trace_id, fields);
}
inline void log_info(std::string_view event, std::string_view trace_id = {},
                     std::initializer_list<log_field> fields = {}) noexcept {
    log(log_level::info, event, trace_id, fields);
}
inline void log_warn(std::string_view event, std::string_view trace_id = {},
                     std::initializer_list<log_field> fields = {}) noexcept {
    log(log_level::warn, event, trace_id, fields);
}
inline void log_error(std::string_view event, std::string_view trace_id = {},
                      std::initializer_list<log_field> fields = {}) noexcept {
    log(log_level::error, event, trace_id, fields);
}

} // namespace mpic::core
