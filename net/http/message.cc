#include "net/http/message.hh"

namespace mpic::net::http {
namespace {

char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

} // namespace

const header* find_header(const std::vector<header>& headers, std::string_view name) noexcept {
    for (const auto& h : headers) {
        if (iequals(h.name, name)) {
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
