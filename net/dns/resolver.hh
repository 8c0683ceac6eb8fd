#pragma once
// The DNS client of one perspective on one reactor: a c-ares 1.18 channel driven by the reactor's libuv loop.
//
// BR §3.2.2.9: results from one perspective "MUST NOT be reused or cached" by another, so every (reactor,
// perspective) pair gets its own resolver: its own channel, its own sockets, its own source address, its own
// upstream servers. c-ares 1.18 has no answer cache, so a resolver caches nothing either.
//
// Use from the loop's thread only. A resolver must be destroyed before its loop is closed; destroying it completes
// every query still in flight (callback with outcome::cancelled) and closes its handles, after which running the
// loop once more lets uv_loop_close() return 0.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <uv.h>

#include "core/result.hh"
#include "net/dns/message.hh"

namespace mpic::net::dns {

/// One upstream resolver. `address` is an IPv4 or IPv6 literal (no brackets).
struct server_address {
    std::string address;
    std::uint16_t port = 53;
};

/// Configuration of one perspective's resolver. Invariant after resolver::create succeeded: at least one server,
/// addresses parse, timeout_ms >= 1, tries >= 1.
struct resolver_config {
    std::string perspective;                ///< label for logs and metrics only
    std::vector<server_address> servers;    ///< tried in order (c-ares moves to the next on timeout/error)
    std::optional<std::string> source_ipv4; ///< bind address for queries to IPv4 servers (ares_set_local_ip4)
    std::optional<std::string> source_ipv6; ///< bind address for queries to IPv6 servers (ares_set_local_ip6)
    std::uint32_t timeout_ms = 2000;        ///< per try; c-ares doubles it per round over all servers
    std::uint32_t tries = 2;                ///< rounds over the server list before outcome::timeout
    bool recursion_desired = true;          ///< RD bit (the upstream is a recursive resolver)
    bool edns = true;                       ///< add an OPT RR (RFC 6891)
    bool dnssec_ok = true;                  ///< DO bit in the OPT RR (RFC 3225), so AD and EDE are meaningful
    /// Declared by the operator, never probed: every server in `servers` is a recursive resolver that validates
    /// DNSSEC from the root trust anchor (RFC 4035 §5), answers Secure data with AD=1 and Bogus data with
    /// SERVFAIL. The resolver does not act on it; checks read it through config() to decide whether an AD bit of 0
    /// proves "Insecure" (BR 3.2.2.8). Default false: nothing is inferred from AD.
    bool validates_dnssec = false;
    std::uint16_t edns_udp_size = 1232;  ///< advertised UDP payload size (DNS Flag Day 2020); c-ares reads 4096 max
    int socket_receive_buffer = 4 << 20; ///< SO_RCVBUF: 1.18 multiplexes every query on one UDP socket per server
    std::size_t max_alias_steps = 16;    ///< cap for the CNAME/DNAME chain followed in an answer
    /// Queries handed to c-ares at once; more wait in FIFO order for a free slot. c-ares 1.18 draws a random unused
    /// 16-bit ID per query by retrying, which gets slow near 65536 in flight and never ends at 65536.
    std::size_t max_in_flight = 16384;
    /// Sends per c-ares channel before a fresh one (fresh UDP socket, fresh source port) takes over; 0 = never.
    /// c-ares >= 1.20 calls this ARES_OPT_UDP_MAX_QUERIES; 1.18 keeps one port for as long as queries keep it busy.
    std::size_t udp_max_queries = 256;
    /// A channel older than this takes no new query either: a fresh one does. Channels keep their sockets open
    /// between queries (ARES_FLAG_STAYOPEN: no socket, bind, connect and close per burst), so without an age bound
    /// a lightly loaded perspective would keep one source port for minutes. With it, a port is used for at most
    /// udp_max_queries queries sent within udp_max_age_ms (RFC 5452 §9.2; SAD DNS finds open ports by scanning, so
    /// a port must not outlive the queries it was opened for by much). 0 = no age bound.
    std::uint32_t udp_max_age_ms = 1000;
};

/// How a query ended. Exactly one per query.
enum class outcome {
    answer,        ///< NOERROR with at least one RR of the asked type at the end of the alias chain
    nodata,        ///< NOERROR without such an RR (RFC 2308 §2.2); the alias chain may be non-empty
    nxdomain,      ///< RCODE 3: the (last) name does not exist (RFC 6604: applies to the end of the chain)
    servfail,      ///< RCODE 2; `extended_error` carries RFC 8914 text if the server sent any
    refused,       ///< RCODE 5
    other_rcode,   ///< any other non-zero RCODE (FORMERR, NOTIMP, BADVERS, ...): see `rcode`
    timeout,       ///< no usable answer within tries x timeout over all servers
    truncated,     ///< an answer with TC=1 reached us even after the TCP retry; never acted upon
    malformed,     ///< an answer arrived but did not parse, or its alias chain is broken (loop, too long)
    network_error, ///< connection refused / socket error on every server
    cancelled,     ///< the resolver was destroyed (or the query could not be started: see `error`)
};
/// "answer", "nodata", "nxdomain", ...
std::string_view to_string(outcome o) noexcept;

/// The result of one query, handed to the callback.
/// Invariants: `msg` is set for answer, nodata, nxdomain, servfail, refused, other_rcode and truncated, and for
/// malformed when the message parsed but its question or alias chain was wrong; `error` is non-zero exactly for
/// timeout, malformed, network_error and cancelled; `records` is non-empty exactly for answer.
struct query_result {
    outcome kind = outcome::cancelled;
    std::string qname; ///< canonical text name asked (lowercase, no trailing dot)
    std::uint16_t qtype = 0;
    std::optional<message> msg;  ///< the parsed answer
    std::uint16_t rcode = 0;     ///< extended RCODE of msg (0 when there is no msg)
    bool ad = false;             ///< AD bit of msg (RFC 4035 §3.2.3); meaningful only from a validating resolver
    std::string extended_error;  ///< msg->extended_error_text(): RFC 8914 EDE, e.g. "DNSSEC Bogus (6): ..."
    alias_chain chain;           ///< CNAME/DNAME steps from qname inside msg
    std::vector<record> records; ///< RRs of qtype owned by chain.final_name, in message order
    std::error_code error;       ///< ares_category / message_category / alias_category / mpic::errc code
    std::chrono::microseconds elapsed{0}; ///< from query() to c-ares's completion (monotonic; includes queueing)

    /// rcode_name(rcode), e.g. "NOERROR"; empty when there is no message.
    std::string rcode_name() const;
};

/// Receives a query's result exactly once, on the loop thread: never synchronously inside resolver::query() and never
/// inside c-ares (results are collected during ares_process_fd and delivered after it returns), so a callback may
/// start further queries freely.
using query_callback = std::function<void(query_result&&)>;

/// The caller's side of one query. c-ares 1.18 cannot cancel a single query, so cancellation means detaching: the
/// callback is dropped (its captures released) at once and will never run; the c-ares query runs to its own end and
/// its answer is discarded. A handle may outlive the resolver. Destroying a handle does NOT detach.
class query_handle {
public:
    query_handle() = default;
    /// Suppresses the callback. Idempotent; safe after completion and after the resolver is gone.
    void detach() noexcept;
    /// True while the callback is still due to run (not completed, not detached).
    bool active() const noexcept;

private:
    friend class resolver;
    struct state;
    explicit query_handle(std::shared_ptr<state> s) : _state(std::move(s)) {}
    std::shared_ptr<state> _state;
};

/// One perspective's DNS client on one loop. Not copyable or movable (c-ares and libuv keep pointers to it).
class resolver {
public:
    /// Creates the channel: SOCK_STATE_CB (sockets become uv_poll handles), NOSEARCH|NOALIASES|NOCHECKRESP|EDNS,
    /// TIMEOUTMS, TRIES, SOCK_RCVBUF, the servers and the source addresses. Errors: errc::invalid_argument for a bad
    /// config, an ares_category code if c-ares refuses.
    static result<std::unique_ptr<resolver>> create(uv_loop_t* loop, resolver_config config);

    /// Completes every query in flight with outcome::cancelled (callbacks run inside the destructor, before it
    /// returns; they must not call query() on this resolver), then closes the timer and every poll handle. Their
    /// memory is freed in the close callbacks, so the loop must run once more before uv_loop_close().
    /// Precondition: not called from inside one of this resolver's own query callbacks (the resolver is then still
    /// walking its list of completions); defer the destruction to another loop turn instead.
    ~resolver();
    resolver(const resolver&) = delete;
    resolver& operator=(const resolver&) = delete;

    /// Sends one query for (name, type, IN) with this resolver's RD/EDNS/DO settings. `name` is an ordinary dotted
    /// name (any case, optional trailing dot, labels 1..63 octets, at most 253 characters; '_' allowed; no escapes).
    /// A bad name, or a resolver being destroyed, completes with outcome::cancelled and errc::invalid_argument /
    /// errc::shutting_down, asynchronously like every other completion. Beyond config().max_in_flight the query
    /// waits in FIFO order before it is sent. Truncated UDP answers are retried over TCP by c-ares (RFC 1035 §4.2.1,
    /// RFC 7766 §5).
    query_handle query(std::string_view name, std::uint16_t type, query_callback callback);
    query_handle query(std::string_view name, rr_type type, query_callback callback) {
        return query(name, static_cast<std::uint16_t>(type), std::move(callback));
    }

    /// Queries handed to c-ares and not yet finished by it (detached ones included).
    std::size_t in_flight() const noexcept { return _in_flight; }
    /// Queries waiting for an in-flight slot (config().max_in_flight reached); detached ones may still be counted.
    std::size_t queued() const noexcept { return _waiting.size(); }
    /// The sockets c-ares has open right now (for tests and metrics: perspectives never share one).
    std::vector<int> open_sockets() const;
    const resolver_config& config() const noexcept { return _config; }
    uv_loop_t* loop() const noexcept { return _loop; }

private:
    struct loop_side;     // uv handles + fd map; freed after the last close callback
    struct pending;       // per-query state passed to c-ares as `arg`
    struct generation;    // one c-ares channel; retired after udp_max_queries sends, destroyed once drained
    struct channel_setup; // the parsed servers and source addresses every new channel is set up from
    resolver(uv_loop_t* loop, resolver_config config);
    result<void> init();
    result<void> open_generation();
    void reap_generations();
    void on_socket_state(generation* gen, int fd, bool readable, bool writable);
    void on_poll(generation* gen, int fd, int status, int events);
    void on_timer();
    void on_complete(pending& p, int status, const unsigned char* abuf, int alen);
    void deliver(const std::shared_ptr<query_handle::state>& state, query_result&& res);
    void drain_deferred();
    void arm_timer();
    void send(std::unique_ptr<pending> p);
    void send_waiting();
    void process(generation* gen, int read_fd, int write_fd);

    uv_loop_t* _loop;
    resolver_config _config;
    std::unique_ptr<channel_setup> _setup;
    std::vector<std::unique_ptr<generation>> _gens; // back() takes new queries; older ones drain, then go
    loop_side* _side = nullptr;
    std::size_t _in_flight = 0;
    std::deque<std::unique_ptr<pending>> _waiting; // FIFO of queries beyond max_in_flight
    int _submitting = 0; // > 0 while inside ares_send: completions then wait for the next loop turn
    int _processing = 0; // > 0 while inside ares_process_fd: completions then wait until it returned
    bool _closing = false;
};

} // namespace mpic::net::dns
