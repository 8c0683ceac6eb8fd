#include "net/addr/host_port.hh"

#include <algorithm>

namespace mpic::net::addr {
namespace {

std::optional<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5) {
        return std::nullopt;
    }
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

} // namespace

result<host_port> parse_host_port(std::string_view text) noexcept {
    const auto bad = make_error_code(errc::invalid_argument);
    host_port out;
    std::string_view port;
    bool has_port = false;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) {
            return bad;
        }
        out.host = std::string(text.substr(1, close - 1));
        auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return bad;
            }
            port = rest.substr(1);
            has_port = true;
        }
    } else if (std::count(text.begin(), text.end(), ':') > 1) {
        out.host = std::string(text); // a bare IPv6 address
    } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
        out.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
        has_port = true;
    } else {
        out.host = std::string(text);
    }
    if (out.host.empty()) {
        return bad;
    }
    if (has_port) {
        out.port = parse_port(port);
        if (!out.port) {
            return bad;
        }
    }
    return out;
}

} // namespace mpic::net::addr
