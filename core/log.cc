#include "core/log.hh"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

#include "core/error.hh"
#include "core/reactor.hh"

namespace mpic::core {
namespace {

constexpr std::string_view level_names[] = {"trace", "debug", "info", "warn", "error", "off"};
constexpr std::string_view reserved_keys[] = {"ts", "level", "event", "trace_id", "reactor"};

/// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if the bytes there are not one
/// (RFC 3629 §4 table: the second byte's range depends on the first, which excludes overlongs and surrogates).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char b0 = byte(i);
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        lo = b0 == 0xE0 ? 0xA0 : 0x80; // E0 80..9F would be overlong
        hi = b0 == 0xED ? 0x9F : 0xBF; // ED A0..BF would be a UTF-16 surrogate
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        lo = b0 == 0xF0 ? 0x90 : 0x80; // F0 80..8F would be overlong
        hi = b0 == 0xF4 ? 0x8F : 0xBF; // F4 90.. would exceed U+10FFFF
    } else {
        return 0; // 80..C1 (continuation or overlong lead) and F5..FF never start a sequence
    }
    if (i + len > s.size()) {
        return 0;
    }
    if (byte(i + 1) < lo || byte(i + 1) > hi) {
        return 0;
    }
    for (std::size_t k = 2; k < len; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
            return 0;
        }
    }
    return len;
}

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

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    append_json_chars(out, s);
    out += '"';
}

void append_json_chars(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            if (std::size_t len = utf8_sequence_length(s, i); len != 0) {
                out.append(s.data() + i, len);
                i += len;
            } else {
                out += "\\ufffd"; // one replacement per offending byte, then resynchronise
                ++i;
            }
            continue;
        }
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xf];
            } else {
                out += static_cast<char>(c);
            }
        }
        ++i;
    }
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
