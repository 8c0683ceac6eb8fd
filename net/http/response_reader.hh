#pragma once
// Incremental HTTP/1.1 response reader: llhttp plus our bounds on the head and the body. No I/O: the connection
// feeds it the bytes it reads, which also makes it the unit the fuzz target exercises
// (tests/fuzz/http_response_fuzz.cc).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <llhttp.h>

#include "net/http/message.hh"

namespace mpic::net::http {

/// Limits applied while reading one response.
struct reader_limits {
    std::size_t max_header_count = 100;     ///< more header fields → errc::limit_exceeded
    std::size_t max_head_bytes = 16 * 1024; ///< status reason + header names + values beyond this → limit_exceeded
    std::size_t body_cap = 128 * 1024;      ///< body bytes kept; one more → limit_exceeded (first body_cap kept)
};

/// Reads one response at a time from one connection (one llhttp_t per connection, one shared llhttp_settings_t).
/// Invariants: after complete() or failed() the reader accepts no more bytes until start() is called again;
/// body().size() <= limits.body_cap; headers().size() <= limits.max_header_count.
class response_reader {
public:
    enum class state : std::uint8_t {
        idle,     ///< start() not called since the last response
        head,     ///< status line / headers in progress (possibly no byte yet)
        body,     ///< head complete, body in progress
        complete, ///< a whole response was read
        failed,   ///< error() says why
    };

    response_reader() noexcept;
    response_reader(const response_reader&) = delete;
    response_reader& operator=(const response_reader&) = delete;

    /// Prepares for the next response: llhttp_reset on a reused connection (style.md §12). `head_request` makes
    /// the reader expect no body (RFC 9110 §9.3.2).
    void start(const reader_limits& limits, bool head_request) noexcept;

    /// Feeds bytes. Returns the number consumed: all of them unless the response completed or failed inside the
    /// span; bytes after a complete response are left unconsumed (the caller decides whether that poisons a
    /// kept-alive connection: it does).
    std::size_t feed(std::span<const char> bytes) noexcept;
    /// The peer closed the connection (EOF): completes an until-close body (RFC 9112 §6.3 rule 8) or fails
    /// with llhttp's HPE_INVALID_EOF_STATE (or UV_EOF if nothing was received).
    void finish() noexcept;

    state current() const noexcept { return _state; }
    bool complete() const noexcept { return _state == state::complete; }
    bool failed() const noexcept { return _state == state::failed; }
    /// Some byte of the response arrived.
    bool started() const noexcept { return _received > 0; }
    /// errc::limit_exceeded, llhttp_category codes, or uv UV_EOF; zero unless failed().
    std::error_code error() const noexcept { return _error; }
    /// The stage in which the failure happened: stage::head or stage::body.
    stage failed_stage() const noexcept { return _failed_stage; }

    int status() const noexcept { return _status; }
    std::uint8_t http_major() const noexcept { return _major; }
    std::uint8_t http_minor() const noexcept { return _minor; }
    const std::vector<header>& headers() const noexcept { return _headers; }
    std::vector<header> take_headers() noexcept { return std::move(_headers); }
    const std::string& body() const noexcept { return _body; }
    std::string take_body() noexcept { return std::move(_body); }
    /// The connection may carry another request after this complete response (llhttp_should_keep_alive).
    bool keep_alive() const noexcept { return _keep_alive; }

private:
    static int on_message_begin(llhttp_t* p) noexcept;
    static int on_status(llhttp_t* p, const char* at, std::size_t len) noexcept;
    static int on_header_field(llhttp_t* p, const char* at, std::size_t len) noexcept;
    static int on_header_value(llhttp_t* p, const char* at, std::size_t len) noexcept;
    static int on_headers_complete(llhttp_t* p) noexcept;
    static int on_body(llhttp_t* p, const char* at, std::size_t len) noexcept;
    static int on_message_complete(llhttp_t* p) noexcept;
    static const llhttp_settings_t& settings() noexcept;

    int fail(std::error_code ec, stage where) noexcept;
    bool charge_head(std::size_t len) noexcept;

    llhttp_t _parser;
    reader_limits _limits;
    state _state = state::idle;
    bool _head_request = false;
    bool _in_value = false; ///< the last header callback was on_header_value (a new field name starts a header)
    bool _keep_alive = false;
    int _status = 0;
    std::uint8_t _major = 0;
    std::uint8_t _minor = 0;
    std::size_t _head_bytes = 0;
    std::size_t _received = 0;
    int _interim = 0; ///< 1xx interim responses skipped before the final one
    std::vector<header> _headers;
    std::string _body;
    std::error_code _error;
    stage _failed_stage = stage::none;
};

} // namespace mpic::net::http
