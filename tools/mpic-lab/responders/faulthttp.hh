#pragma once
// The fault HTTP responder's socket-free parts: request-head parsing, rule matching and response heads, so unit
// tests can check them without a server; faulthttp_main.cc does the I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tools/mpic-lab/responders/responder_config.hh"

namespace mpic::lab::responders::http {

/// Upper bound on a request head; longer heads get 431.
inline constexpr std::size_t max_request_head = 64 * 1024;

/// The parts of a request the responder looks at. Invariant: target starts with '/' (absolute-form targets are
/// reduced to their path and query); host is lower case, without port or IPv6 brackets; empty if absent.
struct request {
    std::string method;
    std::string target;
    std::string host;
};

/// Parses "METHOD SP target SP HTTP/1.x CRLF *(header CRLF) CRLF" (RFC 9112 §2-§3; `head` may omit the final
/// CRLF CRLF). nullopt on anything else, including obs-fold and bare LF line ends beyond the request line.
std::optional<request> parse_request_head(std::string_view head);

/// The rule for (target, host, peer): per-perspective rules first, then default rules; nullptr if none.
const http_rule* match_rule(const http_config& config, const request& req, const std::string& peer);

/// Status line and headers ending in CRLF CRLF: Server, Connection: close, then the rule's headers, then
/// Content-Length (if set) or Transfer-Encoding: chunked, unless the rule's own headers already name them.
std::string response_head(int status, const http_rule* rule, std::optional<std::uint64_t> content_length, bool chunked,
                          std::string_view location = {});

/// Reason phrase for common codes ("OK", "Found", ...), "Status" otherwise.
std::string_view reason_phrase(int status);

} // namespace mpic::lab::responders::http
