#pragma once
// What counts as a passing response body for the HTTP methods. Pure logic on bytes already read (the transport
// caps the body; see body_cap_bytes).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mpic::validators::http {

/// How much of a response body the HTTP methods read. Boulder reads 128 bytes and fails a longer body without
/// saying what it was; we read up to 64 KiB so a long wrong body (an HTML error page, a CDN interstitial) is still
/// reported in response_page and judged on its full content. A larger body is a failure (never truncated-then-
/// matched): the key authorization cannot be "contained" in an http-01 body that is not exactly it.
inline constexpr std::size_t body_cap_bytes = 64 * 1024;
/// How many leading body bytes are reported as response_page (Open MPIC reports "the first bytes").
inline constexpr std::size_t response_page_bytes = 1024;
/// match_regex is applied to at most this many leading body bytes: libstdc++ std::regex recurses per input
/// character and has no step limit, so an unbounded hostile body could exhaust the loop thread's stack, and a
/// search is quadratic (or worse) in the input: 1 KiB keeps a hostile body to milliseconds on the loop thread.
inline constexpr std::size_t regex_input_cap_bytes = 1024;
/// Longest match_regex accepted (the pattern comes from the CA, but is still bounded).
inline constexpr std::size_t regex_pattern_cap_bytes = 512;

/// True for any 2xx status. Standards §7.3 (BR 3.2.2.4.18/.19 "2xx HTTP status code must be received"); Boulder
/// accepts only 200 (H5 is a deliberate difference).
bool is_success_status(int status) noexcept;

/// `body` with trailing ASCII whitespace (SP, HT, LF, VT, FF, CR) removed; leading whitespace is kept.
std::string_view trim_trailing_whitespace(std::string_view body) noexcept;

/// RFC 8555 §8.3: the body, after ignoring trailing whitespace, equals the key authorization exactly (bytewise,
/// case-sensitive). Leading whitespace, or anything after the whitespace, fails. An empty key authorization never
/// matches.
bool http01_body_matches(std::string_view body, std::string_view key_authorization) noexcept;

/// The outcome of a website-change comparison.
enum class website_match : std::uint8_t {
    matched,
    not_found, ///< challenge_value not in the body, or match_regex did not match
    bad_regex, ///< match_regex does not compile, is too long, or the engine gave up (parameter error)
};

/// BR 3.2.2.4.18: the file content must contain the Random Value / Request Token. `challenge_value` must occur in
/// `body` (ASCII case-insensitively unless `require_exact_case`); when `match_regex` is given it must also find a
/// match (ECMAScript std::regex_search over the first regex_input_cap_bytes bytes). An empty challenge_value never
/// matches (the API refuses it; refusing here too keeps "contains the empty string" from passing everything).
website_match website_change_body_matches(std::string_view body, std::string_view challenge_value,
                                          const std::optional<std::string>& match_regex, bool require_exact_case);

/// The website-change request path: "/.well-known/pki-validation/" + http_token_path (BR 3.2.2.4.18), or nullopt
/// when http_token_path is empty, contains a byte outside RFC 3986 pchar / "/" (space, "?", "#", control, non-ASCII),
/// or has a "." / ".." segment that would climb out of pki-validation.
std::optional<std::string> website_change_path(std::string_view http_token_path);

/// BR 3.2.2.4.18: the Random Value "MUST NOT appear in the request used to retrieve the file". True when
/// `challenge_value` occurs (ASCII case-insensitively: servers and proxies may case-fold) in the request target or
/// in any extra header name or value; the check then refuses to send the request (parameter error).
bool website_change_request_leaks(std::string_view challenge_value, std::string_view request_target,
                                  const std::vector<std::pair<std::string, std::string>>& headers);

/// The http-01 request path "/.well-known/acme-challenge/" + token (RFC 8555 §8.3), or nullopt if the token is not
/// non-empty base64url without padding (RFC 8555 §8.3 "base64url ... MUST NOT include any padding characters").
std::optional<std::string> http01_path(std::string_view token);

} // namespace mpic::validators::http
