#pragma once
// Internal to net/http: what goes on the wire for a request, and which addresses an exchange tries. Pure functions,
// separate from the state machine so they can be tested (and read) on their own.

#include <string>
#include <system_error>
#include <vector>

#include "net/addr/ip_address.hh"
#include "net/http/client.hh"

namespace mpic::net::http::detail {

/// errc::invalid_argument when the request cannot be sent as given: no address, port 0, a deadline <= 0, TLS asked
/// for without a TLS context, a method that is not a token, a request-target not in origin form or with spaces or
/// controls, a Host with controls, a header name that is not a token or a value with CR/LF/NUL, or a caller header
/// that the client owns (Host, Content-Length, Connection, Transfer-Encoding). Zero otherwise.
std::error_code validate_request(const request& r, bool handshake_only, bool tls_available) noexcept;

/// The request line, headers and body as bytes. Precondition: validate_request() returned zero.
std::string serialize_request(const request& r);

/// The first IPv6 address, then the first IPv4 address, of `all` (standards §5.6); the rest are ignored.
std::vector<addr::ip_address> pick_candidates(const std::vector<addr::ip_address>& all);

} // namespace mpic::net::http::detail
