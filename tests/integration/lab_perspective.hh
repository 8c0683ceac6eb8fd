#pragma once
// One lab perspective as the engine would build it: a private uv loop, a net::dns::resolver bound to the
// perspective's source address 127.0.0.(k+1) and aimed at the lab's DNS for that perspective, a TLS client context
// and a net::http::client in lab mode (URL ports 80/443 and the tls-alpn port mapped to the lab's servers). Checks
// run through validators::start_check exactly as a reactor would run them; the destructor closes every handle and
// asserts uv_loop_close() == 0 (style.md: every test that runs a loop ends with a closed loop).
//
// Also: request builders, the nginx access log of a lab, and the process's peak RSS (bounded-memory assertions).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "net/addr/address_policy.hh"
#include "net/dns/resolver.hh"
#include "net/http/client.hh"
#include "net/tls/client_context.hh"
#include "tools/mpic-lab/lab.hh"
#include "validators/check_operation.hh"

namespace mpic::test {

/// How to build a perspective. Defaults: lab ports from the lab, DNS = lab.dns_for(k), 400 ms x 2 tries.
struct perspective_options {
    int k = 1;                                       ///< perspective index (source 127.0.0.(k+1))
    std::optional<std::uint16_t> dns_port;           ///< override: this port on 127.0.0.1 instead of dns_for(k)
    std::optional<std::uint16_t> http_port;          ///< override for URL port 80 (e.g. the fault HTTP responder)
    std::uint32_t dns_timeout_ms = 400;              ///< per try (c-ares doubles it per round)
    std::uint32_t dns_tries = 2;                     ///< rounds over the server list
    std::optional<net::addr::address_policy> policy; ///< override: e.g. production()
    /// resolver_config::validates_dnssec. Default: as quorum::apply_lab_summary decides it, true exactly when the
    /// perspective resolves through the lab's validating unbound (lab::resolver_for(k), signed scenarios only).
    std::optional<bool> validating;

    // Chainable setters (designated initializers with omitted members trip -Wmissing-field-initializers).
    perspective_options& with_dns_port(std::uint16_t port) {
        dns_port = port;
        return *this;
    }
    perspective_options& with_http_port(std::uint16_t port) {
        http_port = port;
        return *this;
    }
    perspective_options& with_dns_timeout(std::uint32_t ms) {
        dns_timeout_ms = ms;
        return *this;
    }
    perspective_options& with_policy(net::addr::address_policy p) {
        policy = p;
        return *this;
    }
    perspective_options& with_validating(bool v) {
        validating = v;
        return *this;
    }
};

/// Options for perspective k with every default.
inline perspective_options at(int k) {
    perspective_options options;
    options.k = k;
    return options;
}

/// A perspective's services on a private loop. Not copyable or movable (the runtime points into it).
class lab_perspective {
public:
    lab_perspective(const lab::lab& l, perspective_options options = {});
    ~lab_perspective();
    lab_perspective(const lab_perspective&) = delete;
    lab_perspective& operator=(const lab_perspective&) = delete;

    /// Runs one check through validators::start_check with `timeout_ms` and drives the loop until its callback has
    /// run (the test fails if that takes longer than timeout_ms + 3 s, or if the callback runs other than once).
    /// `elapsed` (optional) receives the wall time from start to callback.
    validators::check_result run(const validators::check_request& request, std::uint64_t timeout_ms = 5000,
                                 std::chrono::milliseconds* elapsed = nullptr);

    /// Starts every request at once (one check each, all on this perspective's loop) and drives the loop until all
    /// callbacks ran; results are in request order. Each callback must run exactly once.
    std::vector<validators::check_result> run_all(const std::vector<validators::check_request>& requests,
                                                  std::uint64_t timeout_ms = 5000);

    /// Starts `request`, cancels it through its check_handle once `after` has passed on the loop clock, and returns
    /// the result (the callback must run exactly once; cancelling again afterwards must not run it again).
    validators::check_result run_and_cancel(const validators::check_request& request, std::chrono::milliseconds after,
                                            std::uint64_t timeout_ms = 5000);

    validators::perspective_runtime& runtime() { return _runtime; }

private:
    uv_loop_t _loop{};
    std::unique_ptr<net::dns::resolver> _resolver;
    std::optional<net::tls::client_context> _tls;
    std::unique_ptr<net::http::client> _http;
    validators::perspective_runtime _runtime;
};

/// A DCV request for `target` (parsed with net::parse_identifier; the test fails if it does not parse).
validators::check_request dcv_request(std::string_view target, validators::validation_method method);
/// A CAA request for `target` with issuer domains {"ca.example"}.
validators::check_request caa_request(std::string_view target);
/// An acme-http-01 request: token and key authorization "<token>.thumb".
validators::check_request http01_request(std::string_view target, std::string_view token);
/// An acme-tls-alpn-01 request whose key_authorization_hash is base64url(SHA-256(key_authorization)).
validators::check_request tls_alpn_request(std::string_view target, std::string_view key_authorization);

/// base64url (no padding) of SHA-256(text): the dns-01 / tls-alpn-01 digest of a key authorization.
std::string sha256_base64url(std::string_view text);

/// The nginx access log of the lab (lab::access_log_path()); empty if absent.
std::string access_log(const lab::lab& l);
/// True once `needle` appears in the access log, polling up to `wait` (nginx logs after it has answered).
bool access_log_has(const lab::lab& l, std::string_view needle,
                    std::chrono::milliseconds wait = std::chrono::milliseconds(1000));

/// The process's peak resident set size so far, in KiB (getrusage ru_maxrss).
long peak_rss_kib();

/// "key: message" of the first error, or "(no error)": for assertion messages.
std::string first_error(const validators::check_result& result);

} // namespace mpic::test
