#pragma once
// HTTP/1.1 client on libuv + llhttp + OpenSSL memory BIOs. It performs ONE request/response exchange per call and
// knows no validation rule: it never follows redirects (the validator judges each hop before fetching it,
// standards §7.5), never resolves names (the caller passes addresses from the perspective's own resolver, BR
// §3.2.2.9), and only re-checks the address policy right before connecting as defence in depth.
//
// Each exchange walks the named stages of h2o's http1client.c: connect → tls → send → head → body, each with its
// own deadline plus a total deadline (style.md §8, §13). One client belongs to one perspective on one loop; its
// keep-alive pool therefore never hands a connection to another perspective (BR §3.2.2.9: results must not be
// shared across perspectives) — by construction, not by a check.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "net/addr/address_policy.hh"
#include "net/addr/ip_address.hh"
#include "net/http/message.hh"
#include "net/tls/client_context.hh"
#include "net/tls/ossl_ptr.hh"
#include "net/tls/session.hh"

typedef struct uv_loop_s uv_loop_t;

namespace mpic::net::http {

/// Per-stage deadlines and the total deadline of one exchange. A stage's clock starts when the stage starts; the
/// total clock starts when fetch()/handshake() is called and bounds everything (including address fallback).
/// Every value must be > 0.
struct stage_deadlines {
    std::chrono::milliseconds connect{10'000}; ///< TCP connect of one address (Boulder singleDialTimeout 10 s)
    std::chrono::milliseconds tls{10'000};     ///< TLS handshake (Boulder TLSHandshakeTimeout 10 s)
    std::chrono::milliseconds send{10'000};    ///< writing the whole request
    std::chrono::milliseconds head{10'000};    ///< request sent → end of the response head (first byte included)
    std::chrono::milliseconds body{10'000};    ///< end of head → end of body
    std::chrono::milliseconds total{30'000};   ///< whole exchange
};

/// Durations of the stages reached (zero for a stage not reached). `first_byte` is measured from the end of `send`
/// to the first response byte and is part of `head`.
struct stage_timings {
    std::chrono::microseconds connect{0};
    std::chrono::microseconds tls{0};
    std::chrono::microseconds send{0};
    std::chrono::microseconds first_byte{0};
    std::chrono::microseconds head{0};
    std::chrono::microseconds body{0};
    std::chrono::microseconds total{0};
};

/// TLS parameters of a connection.
struct tls_options {
    std::string sni;                           ///< SNI; empty or an IP literal = none sent
    std::vector<std::string> alpn{"http/1.1"}; ///< offered protocols; for fetch() the server must pick http/1.1 or none
    tls::verification verify;                  ///< on by default; off only with a reason
};

/// When to move from the first address (IPv6) to the second (IPv4).
enum class address_fallback : std::uint8_t {
    on_connect_failure, ///< only a failed or timed-out TCP connect falls back (Boulder http-01, va/http.go)
    on_any_failure,     ///< any failure of the attempt falls back (Boulder tls-alpn-01, va/tlsalpn.go)
};

/// One HTTP request. The request line and headers are built from these fields; a CR, LF or NUL in any of them is
/// refused with errc::invalid_argument (no header injection from applicant-influenced values).
struct request {
    /// Candidate addresses from the perspective's resolver. The client tries the first IPv6 address, then the first
    /// IPv4 address (standards §5.6, "only one address per family"); others are ignored. Must not be empty.
    std::vector<addr::ip_address> addresses;
    std::uint16_t port = 80;        ///< port to connect to (already mapped by addr::address_policy::admit)
    std::optional<tls_options> tls; ///< present = https
    std::string method = "GET";
    std::string target = "/";    ///< request-target in origin form ("/path?query")
    std::string host;            ///< Host header value (RFC 9110 §7.2), e.g. "example.com" or "[2001:db8::1]:443"
    std::vector<header> headers; ///< extra headers; Host, Content-Length and Connection are set by the client
    std::string body;            ///< request body; Content-Length is sent when non-empty or the method is POST/PUT
    /// The response body is read up to this many bytes; one byte more stops the exchange with
    /// errc::limit_exceeded at stage::body and the response keeps the first `body_cap` bytes.
    std::size_t body_cap = 128 * 1024;
    /// Allow this connection to come from / go back to the keep-alive pool. Off by default: a validation fetches
    /// one URL per target (Boulder DisableKeepAlives, Open MPIC force_close); on for redirects to the same origin,
    /// perspective RPC and benchmarks. When off, "Connection: close" is sent.
    bool keep_alive = false;
    address_fallback fallback = address_fallback::on_connect_failure;
    stage_deadlines deadlines;
};

/// What the exchange observed. Filled as far as the exchange got, also on failure (address, timings, partial body).
struct response {
    int status = 0; ///< status code; 0 if the head was not received
    std::uint8_t http_major = 0;
    std::uint8_t http_minor = 0;
    std::vector<header> headers; ///< in arrival order, names and values as received (values OWS-trimmed)
    std::string body;            ///< decoded body (chunked framing removed), at most request::body_cap bytes
    std::optional<addr::ip_address> address; ///< the address connected to (or last tried)
    std::uint16_t port = 0;
    bool reused = false;    ///< the connection came from the keep-alive pool
    bool fell_back = false; ///< the first address failed and the second was used
    /// A pooled connection turned out to be closed by the server before any response byte, and the request was
    /// sent again, once, on a new connection (`reused` is then false: the answer came on the new one).
    bool stale_retry = false;
    std::string alpn; ///< negotiated ALPN over TLS; empty for plain HTTP or none selected
    stage_timings timings;
};

/// Completion of fetch(). `error` is zero on success: a complete response was read (any status code).
struct exchange_result {
    std::error_code error; ///< uv/ssl/llhttp category or errc::{timed_out, limit_exceeded,
                           ///< refused_by_policy, cancelled, invalid_argument, malformed, shutting_down}
    /// Where `error` happened; stage::none on success, and for an exchange that failed or was cancelled before it
    /// started (errc::invalid_argument, errc::shutting_down, cancel() before the next loop iteration).
    stage failed_stage = stage::none;
    http::response response;
    bool ok() const noexcept { return !error; }
};

/// A TLS handshake without application data, for tls-alpn-01 (RFC 8737 §3: after the handshake the client MUST
/// NOT exchange further data and closes the connection).
struct handshake_request {
    std::vector<addr::ip_address> addresses; ///< as for request::addresses
    std::uint16_t port = 443;
    tls_options tls; ///< e.g. sni = name, alpn = {"acme-tls/1"}, verify = off("RFC 8737")
    address_fallback fallback = address_fallback::on_any_failure;
    stage_deadlines deadlines; ///< connect, tls and total are used
};

/// What the handshake observed.
struct handshake_response {
    std::optional<addr::ip_address> address;
    std::uint16_t port = 0;
    bool fell_back = false;
    std::string alpn;               ///< negotiated ALPN; empty = the server selected none (a tls-alpn-01 failure)
    tls::x509_ptr peer_certificate; ///< the server's end-entity certificate; null if the handshake did not finish
    std::string tls_version;        ///< e.g. "TLSv1.3"
    long verify_result = 0;         ///< X509_V_OK or X509_V_ERR_* when verification was on
    stage_timings timings;          ///< connect, tls, total
};

/// Completion of handshake(); `error` and `failed_stage` as in exchange_result.
struct handshake_result {
    std::error_code error;
    stage failed_stage = stage::none;
    http::handshake_response response;
    bool ok() const noexcept { return !error; }
};

/// Configuration of one perspective's client.
struct client_config {
    /// Checked right before each connect (check_connect): production refuses every special-purpose address and any
    /// port but 80/443 (errc::refused_by_policy at stage::connect).
    addr::address_policy policy;
    /// The perspective's source addresses (design.md: uv_tcp_bind before uv_tcp_connect). Unset = the kernel picks.
    std::optional<addr::ip_address> source_v4;
    std::optional<addr::ip_address> source_v6;
    /// Idle connections kept (all keys together); 0 disables pooling. The oldest is closed when full.
    std::size_t pool_capacity = 8;
    /// An idle pooled connection is closed after this long.
    std::chrono::milliseconds idle_timeout{5'000};
    /// Response head limits: a response with more headers, or a head (status line + headers) larger than this,
    /// fails with errc::limit_exceeded at stage::head.
    std::size_t max_header_count = 100;
    std::size_t max_head_bytes = 16 * 1024;
};

namespace detail {
class client_impl;
class exchange;
} // namespace detail

/// Handle on one in-flight exchange. Cheap to copy; outliving the exchange (or the client) is safe.
class request_handle {
public:
    request_handle() noexcept = default;
    /// Cancels the exchange if it has not completed: its completion runs before cancel() returns, with
    /// errc::cancelled and the stage it was in. No-op afterwards (completion runs exactly once).
    void cancel() noexcept;
    /// The completion has not run yet.
    bool pending() const noexcept;

private:
    friend class detail::client_impl;
    explicit request_handle(std::weak_ptr<detail::exchange> ex) noexcept : _exchange(std::move(ex)) {}
    std::weak_ptr<detail::exchange> _exchange;
};

/// The HTTP client of one perspective on one loop. Not thread-safe: every call happens on the loop's thread.
/// Completions are never invoked from inside fetch()/handshake() (even immediate failures are deferred to the
/// loop), and each runs exactly once: with the result, on a deadline, on cancel(), or when the client is closed.
class client {
public:
    using fetch_callback = std::function<void(exchange_result&&)>;
    using handshake_callback = std::function<void(handshake_result&&)>;

    /// `tls_context` may be null if the client never does TLS (a TLS request then fails with
    /// errc::invalid_argument); otherwise it must outlive the client's last TLS connection (use the reactor's).
    client(uv_loop_t* loop, const tls::client_context* tls_context, client_config config);
    /// Equivalent to close(). Memory holding libuv handles is released from their close callbacks, so the loop must
    /// run afterwards (it does whenever uv_run is called until uv_loop_alive is false).
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// Starts one request/response exchange.
    request_handle fetch(request req, fetch_callback done);
    /// Starts one connect + TLS handshake and closes the connection right after it (no application data).
    request_handle handshake(handshake_request req, handshake_callback done);

    /// Stops intake (later calls complete with errc::shutting_down), cancels every in-flight exchange (their
    /// completions run before close() returns, with errc::cancelled) and closes pooled connections. Idempotent.
    void close() noexcept;

    /// Idle connections in the pool.
    std::size_t idle_connections() const noexcept;
    /// Exchanges whose completion has not run.
    std::size_t in_flight() const noexcept;
    /// Connections opened since creation (pool reuse shows as fewer connections than exchanges).
    std::uint64_t connections_opened() const noexcept;
    const client_config& config() const noexcept;

private:
    detail::client_impl* _impl; ///< frees itself once closed and all its libuv handles are closed
};

} // namespace mpic::net::http
