#include "net/http/request_wire.hh"

#include "core/ascii.hh"
#include "core/error.hh"
#include "net/http/message.hh"

namespace mpic::net::http::detail {
namespace {

// Visible ASCII only: no space, no CTL. Request-target and Host never need more (RFC 3986 percent-encodes the rest).
bool is_visible(std::string_view s) noexcept {
    for (char c : s) {
        if (c <= 0x20 || c >= 0x7f) {
            return false;
        }
    }
    return !s.empty();
}

// RFC 9110 §5.5: a field value never contains CR, LF or NUL. Refusing them closes the header-injection hole that
// applicant-influenced values (website-change http_headers) would otherwise open.
bool is_field_value(std::string_view s) noexcept {
    return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool positive(const stage_deadlines& d) noexcept {
    return d.connect.count() > 0 && d.tls.count() > 0 && d.send.count() > 0 && d.head.count() > 0 &&
           d.body.count() > 0 && d.total.count() > 0;
}

} // namespace

std::error_code validate_request(const request& r, bool handshake_only, bool tls_available) noexcept {
    if (r.addresses.empty() || r.port == 0 || !positive(r.deadlines)) {
        return make_error_code(errc::invalid_argument);
    }
    if (r.tls && !tls_available) {
        return make_error_code(errc::invalid_argument);
    }
    if (handshake_only) {
        return r.tls ? std::error_code{} : make_error_code(errc::invalid_argument);
    }
    if (!is_token(r.method) || !is_visible(r.target) || r.target.front() != '/' || !is_visible(r.host)) {
        return make_error_code(errc::invalid_argument);
    }
    for (const auto& h : r.headers) {
        // Framing headers are the client's: a caller-supplied Content-Length or Transfer-Encoding next to ours is
        // request smuggling material (RFC 9112 §6.3).
        if (!is_token(h.name) || !is_field_value(h.value) || core::ascii_iequals(h.name, "host") ||
            core::ascii_iequals(h.name, "content-length") || core::ascii_iequals(h.name, "connection") ||
            core::ascii_iequals(h.name, "transfer-encoding")) {
            return make_error_code(errc::invalid_argument);
        }
    }
    return {};
}

std::string serialize_request(const request& r) {
    std::string s;
    s.reserve(64 + r.target.size() + r.host.size() + r.body.size());
    s.append(r.method).append(" ").append(r.target).append(" HTTP/1.1\r\nHost: ").append(r.host).append("\r\n");
    for (const auto& h : r.headers) {
        s.append(h.name).append(": ").append(h.value).append("\r\n");
    }
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT") {
        s.append("Content-Length: ").append(std::to_string(r.body.size())).append("\r\n");
    }
    if (!r.keep_alive) {
        s.append("Connection: close\r\n"); // RFC 9112 §9.6: we will not send a second request
    }
    s.append("\r\n").append(r.body);
    return s;
}

// standards §5.6 (Boulder va/http.go): try the first IPv6 address, then the first IPv4 address; the rest are
// ignored so one check costs at most two connects.
std::vector<addr::ip_address> pick_candidates(const std::vector<addr::ip_address>& all) {
    std::vector<addr::ip_address> out;
    for (const auto& a : all) {
        if (a.is_v6()) {
            out.push_back(a);
            break;
        }
    }
    for (const auto& a : all) {
        if (a.is_v4()) {
            out.push_back(a);
            break;
        }
    }
    return out;
}

} // namespace mpic::net::http::detail
