#include "net/http/message.hh"

#include "core/ascii.hh"

namespace mpic::net::http {
const header* find_header(const std::vector<header>& headers, std::string_view name) noexcept {
    for (const auto& h : headers) {
        if (core::ascii_iequals(h.name, name)) {
            return &h;
        }
    }
    return nullptr;
}

bool is_token(std::string_view s) noexcept {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        // RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" /
        // "|" / "~" / DIGIT / ALPHA (ASCII only).
        const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

std::string_view to_string(stage s) noexcept {
    switch (s) {
    case stage::none:
        return "none";
    case stage::resolve:
        return "resolve";
    case stage::connect:
        return "connect";
    case stage::tls:
        return "tls";
    case stage::send:
        return "send";
    case stage::head:
        return "head";
    case stage::body:
        return "body";
    case stage::done:
        return "done";
    }
    return "unknown"; // LCOV_EXCL_LINE: DefensiveCoding
}

} // namespace mpic::net::http
