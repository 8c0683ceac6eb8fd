#pragma once
// Vocabulary shared by the HTTP client and the response reader: headers and the named stages of an exchange.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mpic::net::http {

/// One header field as received or to be sent. Names compare case-insensitively (RFC 9110 §5.1).
struct header {
    std::string name;
    std::string value;
    bool operator==(const header&) const = default;
};

/// The first header named `name` (ASCII case-insensitive), or nullptr.
const header* find_header(const std::vector<header>& headers, std::string_view name) noexcept;

/// True when `s` is an RFC 9110 §5.6.2 token (1*tchar): a valid method or field name. False for the empty string.
bool is_token(std::string_view s) noexcept;

/// The named stages of one exchange, in order (h2o http1client.c: connect, on_connected, on_tls_done,
/// on_request_sent, on_head, on_body). `resolve` is never entered by the client (addresses come resolved); it is
/// here so validators can report a resolution failure in the same vocabulary.
enum class stage : std::uint8_t {
    none,    ///< no failure / not started
    resolve, ///< the caller's DNS resolution
    connect, ///< policy check, bind to the source address, TCP connect
    tls,     ///< TLS handshake
    send,    ///< writing the request
    head,    ///< waiting for and reading the status line and headers
    body,    ///< reading the body
    done,    ///< the exchange completed
};

/// "connect", "tls", ...
std::string_view to_string(stage s) noexcept;

} // namespace mpic::net::http
