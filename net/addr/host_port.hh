#pragma once
// "host", "host:port", "[v6]", "[v6]:port": the one parser for endpoints in configuration and on command lines.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hh"

namespace mpic::net::addr {

/// A parsed endpoint. `host` has no brackets; `port` is empty when the text gave none.
struct host_port {
    std::string host;
    std::optional<std::uint16_t> port;
};

/// Parses an endpoint. Errors (errc::invalid_argument): empty host, unbalanced brackets, a port that is not
/// 0..65535 in decimal, or an unbracketed IPv6 address followed by a port (ambiguous). An unbracketed text with
/// more than one ':' is taken as an IPv6 address without a port.
result<host_port> parse_host_port(std::string_view text) noexcept;

} // namespace mpic::net::addr
