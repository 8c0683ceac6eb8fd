#pragma once
// The small slice of RFC 3986 an HTTP validator needs: parse an absolute http(s) URL, resolve a Location reference
// against the URL that returned it (RFC 3986 §5), and print the result in one canonical form. Anything outside that
// slice (userinfo, zone ids, IPvFuture, raw non-ASCII, percent-encoded hosts) is refused rather than guessed at: a
// validator that misreads a URL may fetch from a host the applicant does not control.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mpic::validators::http {

/// Why a URL or reference was refused.
enum class url_error : std::uint8_t {
    none = 0,
    malformed,  ///< not an RFC 3986 URI-reference (control bytes, space, non-ASCII, bad percent escape)
    no_scheme,  ///< an absolute URL was needed
    bad_scheme, ///< scheme other than http / https
    userinfo,   ///< "user@host" (RFC 9110 §4.2.4: MUST NOT be sent; phishing vector)
    empty_host, ///< authority without a host
    bad_host,   ///< host is not an LDH name, IPv4 dotted quad or bracketed IPv6 literal
    ipv6_zone,  ///< "[fe80::1%25eth0]": zone ids name local interfaces (RFC 6874)
    bad_port,   ///< non-numeric or > 65535
};

/// The canonical text of a url_error ("userinfo", ...), used in problem messages.
std::string_view to_string(url_error error) noexcept;

/// An absolute http(s) URL. Invariants: scheme is "http" or "https"; host is non-empty, lowercase, and is either an
/// LDH name (no trailing dot, labels 1..63, total <= 253), an IPv4 dotted quad, or an IPv6 address in RFC 5952 text
/// form without brackets (host_kind tells which); path starts with "/" and has no dot segments; no fragment.
struct url {
    enum class host_kind_t : std::uint8_t { name, ipv4, ipv6 };

    std::string scheme;
    std::string host;
    host_kind_t host_kind = host_kind_t::name;
    std::optional<std::uint16_t> port; ///< explicit port, if the URL had one
    std::string path = "/";
    std::optional<std::string> query; ///< without the "?"; present-but-empty is kept ("?" then nothing)

    bool host_is_ip() const noexcept { return host_kind != host_kind_t::name; }
    /// The explicit port, or the scheme's default (80 / 443).
    std::uint16_t effective_port() const noexcept;
    /// "host", "1.2.3.4" or "[2001:db8::1]", plus ":port" when the port is explicit: the Host header value
    /// (RFC 9110 §7.2).
    std::string authority() const;
    /// path + ("?" + query): the request-target in origin-form (RFC 9112 §3.2.1).
    std::string request_target() const;
    /// scheme "://" authority request_target.
    std::string to_string() const;

    bool operator==(const url&) const = default;
};

/// Outcome of parse / resolve: a url, or the first reason it was refused.
struct url_result {
    std::optional<url> value;
    url_error error = url_error::none;
    explicit operator bool() const noexcept { return value.has_value(); }
};

/// Parses an absolute http(s) URL (used for the URL a check starts from).
url_result parse_url(std::string_view text);

/// Resolves `reference` (a Location header value) against `base` per RFC 3986 §5.2 (including §5.2.4 dot-segment
/// removal) and validates the result like parse_url. The fragment of the reference is dropped: it is never sent.
url_result resolve_reference(const url& base, std::string_view reference);

/// Builds the URL for `host` as given by an identifier: a DNS name, or an IP literal (IPv6 bracketed in the URL,
/// RFC 8738 §5). `path` must start with "/". Returns an empty result for a host parse_url would refuse.
url_result make_url(std::string_view scheme, std::string_view host, bool host_is_ip, std::string_view path);

} // namespace mpic::validators::http
