// Request parsing and response heads for mpic-lab-faulthttp. The parser accepts only what a validator sends (a
// plain GET/HEAD with a Host header); anything odd is a 400, never a crash.

#include "tools/mpic-lab/responders/faulthttp.hh"

#include <algorithm>
#include <cctype>

namespace mpic::lab::responders::http {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// RFC 9110 §7.2: Host = uri-host [ ":" port ]; uri-host may be an IP-literal in brackets.
std::string host_without_port(std::string_view h) {
    if (!h.empty() && h.front() == '[') {
        const auto close = h.find(']');
        return lower(close == std::string_view::npos ? h : h.substr(1, close - 1));
    }
    const auto colon = h.rfind(':');
    return lower(colon == std::string_view::npos ? h : h.substr(0, colon));
}

bool path_matches(const std::string& pattern, const std::string& target) {
    if (!pattern.empty() && pattern.back() == '*') {
        return target.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
    }
    return pattern == target;
}

bool rule_matches(const http_rule& r, const request& req) {
    return path_matches(r.path, req.target) && (!r.host || lower(*r.host) == req.host);
}

bool has_header(const http_rule* rule, std::string_view name) {
    if (rule == nullptr) {
        return false;
    }
    return std::any_of(rule->headers.begin(), rule->headers.end(),
                       [&](const auto& h) { return lower(h.first) == lower(name); });
}

} // namespace

std::optional<request> parse_request_head(std::string_view head) {
    const auto eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || sp1 == 0 || sp2 == sp1 + 1) {
        return std::nullopt;
    }
    request req;
    req.method = std::string(line.substr(0, sp1));
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        return std::nullopt;
    }
    // RFC 9112 §3.2.2 absolute-form: keep only path and query.
    if (target.substr(0, 7) == "http://" || target.substr(0, 8) == "https://") {
        const auto slash = target.find('/', target.find("//") + 2);
        target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
    if (target.empty() || target.front() != '/') {
        return std::nullopt;
    }
    req.target = std::string(target);
    std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
    // At most max_request_head lines can fit, so this loop is bounded by the (bounded) input.
    while (!rest.empty()) {
        const auto e = rest.find("\r\n");
        const std::string_view h = rest.substr(0, e);
        rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 2);
        if (h.empty()) {
            break;
        }
        if (h.front() == ' ' || h.front() == '\t') {
            return std::nullopt; // RFC 9112 §5.2: obs-fold may be rejected
        }
        const auto colon = h.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            return std::nullopt;
        }
        if (lower(h.substr(0, colon)) == "host") {
            req.host = host_without_port(trim(h.substr(colon + 1)));
        }
    }
    return req;
}

const http_rule* match_rule(const http_config& config, const request& req, const std::string& peer) {
    for (const auto& r : config.rules) {
        if (r.source && *r.source == peer && rule_matches(r, req)) {
            return &r;
        }
    }
    for (const auto& r : config.rules) {
        if (!r.source && rule_matches(r, req)) {
            return &r;
        }
    }
    return nullptr;
}

std::string_view reason_phrase(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

std::string response_head(int status, const http_rule* rule, std::optional<std::uint64_t> content_length, bool chunked,
                          std::string_view location) {
    std::string h = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) + "\r\n";
    h += "Server: mpic-lab-faulthttp\r\nConnection: close\r\n";
    if (!location.empty() && !has_header(rule, "location")) {
        h += "Location: " + std::string(location) + "\r\n";
    }
    if (rule != nullptr) {
        for (const auto& [name, value] : rule->headers) {
            h += name + ": " + value + "\r\n";
        }
    }
    // A scenario that sets Content-Length / Transfer-Encoding itself gets exactly what it asked for (e.g. a
    // conflicting pair, RFC 9112 §6.3).
    const bool own_framing = has_header(rule, "content-length") || has_header(rule, "transfer-encoding");
    if (!own_framing) {
        if (chunked) {
            h += "Transfer-Encoding: chunked\r\n";
        } else if (content_length) {
            h += "Content-Length: " + std::to_string(*content_length) + "\r\n";
        }
    }
    h += "\r\n";
    return h;
}

} // namespace mpic::lab::responders::http
