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
