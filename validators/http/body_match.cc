#include "validators/http/body_match.hh"

#include <algorithm>
#include <regex>

#include "core/ascii.hh"

namespace mpic::validators::http {
namespace {

bool contains(std::string_view haystack, std::string_view needle, bool exact_case) {
    if (exact_case) {
        return haystack.find(needle) != std::string_view::npos;
    }
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), core::ascii_iequal_char) !=
           haystack.end();
}

bool is_base64url(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// RFC 3986 §3.3 pchar minus "%" escapes' validation: unreserved / sub-delims / ":" / "@", plus "%" (escape) and "/"
// (segment separator). Everything else would change the request's meaning ("?", "#") or is not a URI byte.
bool is_path_byte(char c) noexcept {
    if (is_base64url(c)) {
        return true;
    }
    switch (c) {
    case '.':
    case '~':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
    case '%':
    case '/':
        return true;
    default:
        return false;
    }
}

} // namespace

bool is_success_status(int status) noexcept {
    // Standards §7.3: BR "a 2xx HTTP status code must be received" — any 2xx, not Boulder's 200-only.
    return status >= 200 && status <= 299;
}

std::string_view trim_trailing_whitespace(std::string_view body) noexcept {
    // RFC 8555 §8.3: "The server SHOULD ignore whitespace characters at the end of the body". Only ASCII whitespace:
    // a key authorization is base64url + ".", so a body ending in a non-ASCII space could never match anyway.
    while (!body.empty()) {
        const char c = body.back();
        if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') {
            body.remove_suffix(1);
        } else {
            break;
        }
    }
    return body;
}

bool http01_body_matches(std::string_view body, std::string_view key_authorization) noexcept {
    // RFC 8555 §8.3: "Verify that the body of the response is a well-formed key authorization" equal to the stored
    // one. Exact compare after the trailing-whitespace trim: Open MPIC's strip() also forgave leading whitespace.
    if (key_authorization.empty()) {
        return false;
    }
    return trim_trailing_whitespace(body) == key_authorization;
}

website_match website_change_body_matches(std::string_view body, std::string_view challenge_value,
                                          const std::optional<std::string>& match_regex, bool require_exact_case) {
    if (challenge_value.empty()) {
        return website_match::not_found;
    }
    // BR 3.2.2.4.18: the CA confirms "the presence of the Request Token or Random Value in the contents of a file".
    if (!contains(body, challenge_value, require_exact_case)) {
        return website_match::not_found;
    }
    if (!match_regex) {
        return website_match::matched;
    }
    if (match_regex->size() > regex_pattern_cap_bytes) {
        return website_match::bad_regex;
    }
    // std::regex throws on a bad pattern and may throw error_complexity / error_stack while matching; this is the
    // one place the check converts exceptions, and it does so locally.
    try {
        auto flags = std::regex::ECMAScript;
        if (!require_exact_case) {
            flags |= std::regex::icase;
        }
        const std::regex pattern(*match_regex, flags);
        const auto input = body.substr(0, regex_input_cap_bytes);
        return std::regex_search(input.begin(), input.end(), pattern) ? website_match::matched
                                                                      : website_match::not_found;
    } catch (const std::regex_error&) {
        return website_match::bad_regex;
    }
}

bool website_change_request_leaks(std::string_view challenge_value, std::string_view request_target,
                                  const std::vector<std::pair<std::string, std::string>>& headers) {
    if (challenge_value.empty()) {
        return false;
    }
    if (contains(request_target, challenge_value, false)) {
        return true;
    }
    return std::any_of(headers.begin(), headers.end(), [&](const auto& header) {
        return contains(header.first, challenge_value, false) || contains(header.second, challenge_value, false);
    });
}

std::optional<std::string> website_change_path(std::string_view http_token_path) {
    // Open MPIC sends the path relative to pki-validation; a leading "/" is tolerated and removed.
    while (!http_token_path.empty() && http_token_path.front() == '/') {
        http_token_path.remove_prefix(1);
    }
    if (http_token_path.empty() || http_token_path.size() > 1024) {
        return std::nullopt;
    }
    if (!std::all_of(http_token_path.begin(), http_token_path.end(), is_path_byte)) {
        return std::nullopt;
    }
    // BR 3.2.2.4.18: the file is "under the /.well-known/pki-validation directory"; a dot segment would climb out.
    std::size_t start = 0;
    while (start <= http_token_path.size()) {
        const auto slash = http_token_path.find('/', start);
        const auto end = slash == std::string_view::npos ? http_token_path.size() : slash;
        const auto segment = http_token_path.substr(start, end - start);
        if (segment == "." || segment == ".." || (segment.find("%2e") != std::string_view::npos) ||
            (segment.find("%2E") != std::string_view::npos)) {
            return std::nullopt;
        }
        if (slash == std::string_view::npos) {
            break;
        }
        start = slash + 1;
    }
    return "/.well-known/pki-validation/" + std::string(http_token_path);
}

std::optional<std::string> http01_path(std::string_view token) {
    if (token.empty() || token.size() > 256 || !std::all_of(token.begin(), token.end(), is_base64url)) {
        return std::nullopt;
    }
    return "/.well-known/acme-challenge/" + std::string(token);
}

} // namespace mpic::validators::http
