#pragma once
// Error categories for the C libraries under the engine (libuv, c-ares, OpenSSL, llhttp) and the engine's own
// error codes. Each C library keeps its own numbering; a std::error_code carries the category so a caller can
// tell a libuv ECONNREFUSED from a c-ares ECONNREFUSED (Seastar's ares_error_category does the same).

#include <string>
#include <system_error>

namespace mpic {

/// The engine's own error conditions, independent of any C library.
enum class errc {
    cancelled = 1,      ///< the operation was cancelled before it completed
    timed_out,          ///< a deadline passed
    queue_full,         ///< a bounded queue (mailbox, pool, limit) had no room
    shutting_down,      ///< intake is closed; the component is stopping
    invalid_argument,   ///< a caller passed a value outside the contract
    limit_exceeded,     ///< a size or count cap was hit (body cap, redirect cap, record cap)
    malformed,          ///< input bytes did not parse (DNS message, HTTP response, certificate)
    refused_by_policy,  ///< an address, port or scheme the security policy refuses
    not_found,          ///< a looked-up thing does not exist
    io_error,           ///< an I/O failure not better described by a library code
};

/// The category of errc; its message() names each condition.
const std::error_category& mpic_category() noexcept;
/// Lets `std::error_code ec = errc::timed_out;` work (ADL hook of std::is_error_code_enum).
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), mpic_category()}; }

/// libuv status codes (negative errno values, UV_E*). Messages come from uv_strerror.
const std::error_category& uv_category() noexcept;
/// c-ares status codes (ARES_E*). Messages come from ares_strerror.
const std::error_category& ares_category() noexcept;
/// OpenSSL error-queue codes (ERR_get_error). Messages come from ERR_error_string_n.
const std::error_category& ssl_category() noexcept;
/// llhttp_errno values (HPE_*). Messages come from llhttp_errno_name.
const std::error_category& llhttp_category() noexcept;

/// Wraps a libuv status; precondition: status < 0.
inline std::error_code uv_error(int status) noexcept { return {status, uv_category()}; }
/// Wraps a c-ares status; precondition: status != ARES_SUCCESS.
inline std::error_code ares_error(int status) noexcept { return {status, ares_category()}; }
/// Wraps an OpenSSL error code as returned by ERR_get_error (an unsigned long truncated to int).
inline std::error_code ssl_error(unsigned long code) noexcept { return {static_cast<int>(code), ssl_category()}; }
/// Wraps an llhttp_errno; precondition: err != HPE_OK.
inline std::error_code llhttp_error(int err) noexcept { return {err, llhttp_category()}; }

/// Pops the oldest OpenSSL error for this thread and clears the rest of the queue; io_error if the queue was empty.
std::error_code take_ssl_error() noexcept;

} // namespace mpic

template <>
struct std::is_error_code_enum<mpic::errc> : std::true_type {};
