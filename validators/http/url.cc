#include "validators/http/url.hh"

#include <arpa/inet.h>
#include <array>
#include <cctype>

#include "core/ascii.hh"

namespace mpic::validators::http {
namespace {

/// A URI-reference split per RFC 3986 Appendix B. Absent components are nullopt; present-but-empty ones are "".
struct reference_parts {
    std::optional<std::string> scheme;
    std::optional<std::string> authority;
    std::string path;
    std::optional<std::string> query;
};

bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
bool is_hex(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 3986 §2: a URI is ASCII; every byte outside the visible range must arrive percent-encoded, and "%" must start a
// valid escape. A backslash is refused too: WHATWG parsers read it as "/", RFC 3986 parsers do not, and a validator
// must not disagree with the server about which path it asked for.
bool well_formed(std::string_view text) noexcept {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c <= 0x20 || c >= 0x7f || c == '\\') {
            return false;
        }
        if (c == '%' && (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2]))) {
            return false;
        }
    }
    return true;
}

// RFC 3986 Appendix B: ^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?  (fragment dropped)
reference_parts split_reference(std::string_view text) {
    reference_parts parts;
    std::size_t pos = 0;
    const auto scheme_end = text.find_first_of(":/?#");
    if (scheme_end != std::string_view::npos && scheme_end > 0 && text[scheme_end] == ':') {
        parts.scheme = std::string(text.substr(0, scheme_end));
        pos = scheme_end + 1;
    }
    if (text.substr(pos, 2) == "//") {
        const auto end = text.find_first_of("/?#", pos + 2);
        const auto stop = end == std::string_view::npos ? text.size() : end;
        parts.authority = std::string(text.substr(pos + 2, stop - pos - 2));
        pos = stop;
    }
    const auto path_end = text.find_first_of("?#", pos);
    const auto path_stop = path_end == std::string_view::npos ? text.size() : path_end;
    parts.path = std::string(text.substr(pos, path_stop - pos));
    pos = path_stop;
    if (pos < text.size() && text[pos] == '?') {
        const auto end = text.find('#', pos + 1);
        const auto stop = end == std::string_view::npos ? text.size() : end;
        parts.query = std::string(text.substr(pos + 1, stop - pos - 1));
    }
    return parts;
}

// RFC 3986 §5.2.4 remove_dot_segments, written as the RFC's input/output buffer loop.
std::string remove_dot_segments(std::string_view input) {
    std::string output;
    while (!input.empty()) {
        if (input.starts_with("../")) {
            input.remove_prefix(3);
        } else if (input.starts_with("./")) {
            input.remove_prefix(2);
        } else if (input.starts_with("/./")) {
            input.remove_prefix(2);
        } else if (input == "/.") {
            input = "/";
        } else if (input.starts_with("/../") || input == "/..") {
            input = input.size() == 3 ? std::string_view("/") : input.substr(3);
            const auto slash = output.rfind('/');
            output.erase(slash == std::string::npos ? 0 : slash);
        } else if (input == "." || input == "..") {
            input = {};
        } else {
            const auto next = input.find('/', input.front() == '/' ? 1 : 0);
            const auto take = next == std::string_view::npos ? input.size() : next;
            output.append(input.substr(0, take));
            input.remove_prefix(take);
        }
    }
    return output;
}

// RFC 3986 §5.2.3 merge.
std::string merge_paths(const url& base, std::string_view reference_path) {
    const auto slash = base.path.rfind('/');
    return base.path.substr(0, slash + 1) + std::string(reference_path);
}

bool all_digits(std::string_view s) noexcept {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (!is_digit(c)) {
            return false;
        }
    }
    return true;
}

// A registered name: LDH labels only (no percent-encoding, no IDN U-labels; RFC 5890 A-labels are LDH), lowercased
// (RFC 4343), one trailing dot removed. A name whose last label is numeric or "0x..." is refused unless it is a
// strict dotted quad: inet_aton-style parsers read "2130706433" or "0x7f.1" as 127.0.0.1, and no IANA TLD is
// numeric, so such a host can only be an attempt to smuggle an address past the reserved-address check.
url_error parse_host(std::string_view raw, url& out) {
    if (raw.empty()) {
        return url_error::empty_host;
    }
    if (raw.front() == '[') {
        if (raw.back() != ']' || raw.size() < 3) {
            return url_error::bad_host;
        }
        const auto inner = raw.substr(1, raw.size() - 2);
        if (inner.find('%') != std::string_view::npos) {
            return url_error::ipv6_zone; // RFC 6874 "%25": a zone id names an interface of *our* host
        }
        if (inner.front() == 'v' || inner.front() == 'V') {
            return url_error::bad_host; // IPvFuture
        }
        in6_addr addr{};
        const std::string text(inner);
        if (inet_pton(AF_INET6, text.c_str(), &addr) != 1) {
            return url_error::bad_host;
        }
        std::array<char, INET6_ADDRSTRLEN> buf{};
        inet_ntop(AF_INET6, &addr, buf.data(), buf.size());
        out.host = buf.data(); // RFC 5952 canonical form, so loop detection compares like with like
        out.host_kind = url::host_kind_t::ipv6;
        return url_error::none;
    }
    std::string host;
    host.reserve(raw.size());
    for (char c : raw) {
        if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '.')) {
            return url_error::bad_host;
        }
        host.push_back(core::ascii_lower(c));
    }
    if (host.back() == '.') {
        host.pop_back();
    }
    if (host.empty() || host.size() > 253) {
        return url_error::bad_host;
    }
    std::size_t start = 0;
    std::string_view last_label;
    while (start <= host.size()) {
        const auto dot = host.find('.', start);
        const auto end = dot == std::string::npos ? host.size() : dot;
        const auto label = std::string_view(host).substr(start, end - start);
        if (label.empty() || label.size() > 63) {
            return url_error::bad_host;
        }
        last_label = label;
        if (dot == std::string::npos) {
            break;
        }
        start = dot + 1;
    }
    const bool numeric_tld = all_digits(last_label) || last_label.starts_with("0x");
    if (numeric_tld) {
        in_addr addr{};
        if (inet_pton(AF_INET, host.c_str(), &addr) != 1) { // glibc refuses leading zeros and short forms
            return url_error::bad_host;
        }
        out.host_kind = url::host_kind_t::ipv4;
    } else {
        out.host_kind = url::host_kind_t::name;
    }
    out.host = std::move(host);
    return url_error::none;
}

url_error parse_authority(std::string_view authority, url& out) {
    if (authority.find('@') != std::string_view::npos) {
        return url_error::userinfo;
    }
    std::string_view host = authority;
    std::string_view port;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return url_error::bad_host;
        }
        host = authority.substr(0, close + 1);
        const auto rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return url_error::bad_host;
            }
            has_port = true;
            port = rest.substr(1);
        }
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
        has_port = true;
    }
    if (const auto err = parse_host(host, out); err != url_error::none) {
        return err;
    }
    out.port.reset();
    if (has_port && !port.empty()) { // RFC 3986 §3.2.3: an empty port means the default
        if (!all_digits(port) || port.size() > 5) {
            return url_error::bad_port;
        }
        unsigned value = 0;
        for (char c : port) {
            value = value * 10 + static_cast<unsigned>(c - '0');
        }
        if (value > 65535) {
            return url_error::bad_port;
        }
        out.port = static_cast<std::uint16_t>(value);
    }
    return url_error::none;
}

// Builds and validates the target of a resolution (or a plain parse) from its components.
url_result finish(std::string scheme, const std::optional<std::string>& authority, std::string path,
                  std::optional<std::string> query) {
    for (auto& c : scheme) {
        c = core::ascii_lower(c);
    }
    if (scheme.empty()) {
        return {std::nullopt, url_error::no_scheme};
    }
    if (scheme != "http" && scheme != "https") {
        return {std::nullopt, url_error::bad_scheme};
    }
    if (!authority) {
        return {std::nullopt, url_error::empty_host};
    }
    url out;
    out.scheme = std::move(scheme);
    if (const auto err = parse_authority(*authority, out); err != url_error::none) {
        return {std::nullopt, err};
    }
    // RFC 3986 §6.2.3: an explicit default port is the same resource as no port.
    if (out.port && ((out.scheme == "http" && *out.port == 80) || (out.scheme == "https" && *out.port == 443))) {
        out.port.reset();
    }
    out.path = path.empty() ? std::string("/") : std::move(path); // RFC 9110 §4.2.1: empty path is "/"
    out.query = std::move(query);
    return {std::move(out), url_error::none};
}

} // namespace

std::string_view to_string(url_error error) noexcept {
    switch (error) {
    case url_error::none:
        return "none";
    case url_error::malformed:
        return "malformed";
    case url_error::no_scheme:
        return "no_scheme";
    case url_error::bad_scheme:
        return "bad_scheme";
    case url_error::userinfo:
        return "userinfo";
    case url_error::empty_host:
        return "empty_host";
    case url_error::bad_host:
        return "bad_host";
    case url_error::ipv6_zone:
        return "ipv6_zone";
    case url_error::bad_port:
        return "bad_port";
    }
    return "unknown"; // LCOV_EXCL_LINE: DefensiveCoding
}

std::uint16_t url::effective_port() const noexcept {
    if (port) {
        return *port;
    }
    return scheme == "https" ? 443 : 80;
}

std::string url::authority() const {
    std::string out = host_kind == host_kind_t::ipv6 ? "[" + host + "]" : host;
    if (port) {
        out += ":" + std::to_string(*port);
    }
    return out;
}

std::string url::request_target() const {
    return query ? path + "?" + *query : path;
}

std::string url::to_string() const {
    return scheme + "://" + authority() + request_target();
}

url_result parse_url(std::string_view text) {
    if (!well_formed(text)) {
        return {std::nullopt, url_error::malformed};
    }
    auto parts = split_reference(text);
    if (!parts.scheme) {
        return {std::nullopt, url_error::no_scheme};
    }
    return finish(std::move(*parts.scheme), parts.authority, remove_dot_segments(parts.path), std::move(parts.query));
}

url_result resolve_reference(const url& base, std::string_view reference) {
    // RFC 9110 §10.2.2: Location is a URI-reference; surrounding OWS is not part of it.
    while (!reference.empty() && (reference.front() == ' ' || reference.front() == '\t')) {
        reference.remove_prefix(1);
    }
    while (!reference.empty() && (reference.back() == ' ' || reference.back() == '\t')) {
        reference.remove_suffix(1);
    }
    if (!well_formed(reference)) {
        return {std::nullopt, url_error::malformed};
    }
    auto r = split_reference(reference);
    // RFC 3986 §5.2.2, strict form (a reference with a scheme is absolute even when it equals the base's).
    if (r.scheme) {
        return finish(std::move(*r.scheme), r.authority, remove_dot_segments(r.path), std::move(r.query));
    }
    if (r.authority) {
        return finish(base.scheme, r.authority, remove_dot_segments(r.path), std::move(r.query));
    }
    const std::optional<std::string> base_authority = base.authority();
    if (r.path.empty()) {
        return finish(base.scheme, base_authority, base.path, r.query ? std::move(r.query) : base.query);
    }
    auto path = r.path.front() == '/' ? remove_dot_segments(r.path) : remove_dot_segments(merge_paths(base, r.path));
    return finish(base.scheme, base_authority, std::move(path), std::move(r.query));
}

url_result make_url(std::string_view scheme, std::string_view host, bool host_is_ip, std::string_view path) {
    std::string text(scheme);
    text += "://";
    const bool v6 = host_is_ip && host.find(':') != std::string_view::npos;
    text += v6 ? "[" + std::string(host) + "]" : std::string(host);
    text += path;
    auto out = parse_url(text);
    if (out && out.value->host_is_ip() != host_is_ip) {
        return {std::nullopt, url_error::bad_host};
    }
    return out;
}

} // namespace mpic::validators::http
