#pragma once
// mpic::lab::lab — a small internet on loopback that makes a scenario true: BIND 9 (one view per perspective),
// nginx (HTTP and HTTPS, per-perspective answers by `geo`), and the lab responders (TLS-ALPN-01, fault DNS, fault
// HTTP) when the scenario needs them. Every server runs as a child process on free ports, in a private temporary
// directory; stop() (or the destructor) stops them all by PID and removes the directory.
//
// Perspective k (1-based) is the source address 127.0.0.(k+1): bind a client socket there and the servers answer
// what the scenario says perspective k sees. Any other source address (127.0.0.1 included) sees the base scenario.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "core/result.hh"
#include "tools/mpic-lab/scenario.hh"

namespace mpic::lab {

/// An IPv4 address and port on loopback.
struct endpoint {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;
    bool operator==(const endpoint&) const = default;
};

/// How to start a lab.
struct options {
    /// Parent of the lab's temporary directory; "" = $TMPDIR, else /tmp.
    std::string temp_root;
    /// Bound on the whole start-up (all servers ready); past it start() fails and cleans up.
    std::chrono::milliseconds start_timeout{10000};
    /// Grace between SIGTERM and SIGKILL for each server on stop().
    std::chrono::milliseconds stop_grace{3000};
    /// Directory holding mpic-lab-alpn, mpic-lab-faultdns and mpic-lab-faulthttp; "" = the build tree's directory
    /// (compiled in), then the running executable's directory, then PATH.
    std::string responders_dir;
    /// Keep the temporary directory (configs and logs) after stop(), for debugging. Off by default.
    bool keep_dir = false;
    /// Receives diagnostics (why a server failed to start, with the tail of its log). Default: stderr.
    std::function<void(std::string_view)> log;
    /// Chooses a port for BIND and nginx (which cannot bind port 0 and report it); default pick_free_port(). A port
    /// that turns out to be taken is detected and replaced by calling this again. Tests use it to force a clash.
    std::function<result<std::uint16_t>()> pick_port;
};

/// One running server process of the lab, for reporting and for tests that check teardown.
struct server_info {
    std::string name;     ///< "named", "nginx", "alpn", "faultdns", "faulthttp"
    pid_t pid = -1;       ///< the process the lab spawned (the leader of its process group)
    std::string log_path; ///< its stdout/stderr
};

/// A running lab. Not copyable or movable (its servers are tied to it); owned through unique_ptr. Methods are not
/// thread-safe. Invariant: between a successful start() and stop(), every server in servers() is running and ready.
class lab {
public:
    /// Writes configs for `s`, starts every needed server on free loopback ports and returns once each one has
    /// answered a readiness probe (DNS: a nonce TXT query; HTTP: a nonce GET; responders: their "ready" line).
    /// A port taken by someone else between picking and binding is retried with a new port. On failure nothing is
    /// left running and the temporary directory is gone; the reason goes to options::log.
    static result<std::unique_ptr<lab>> start(const scenario& s, options opts = {});

    lab(const lab&) = delete;
    lab& operator=(const lab&) = delete;
    /// Stops the servers (see stop()).
    ~lab();

    /// SIGTERM to each server, SIGKILL to its process group after the grace, reap; then remove the temporary
    /// directory (unless keep_dir). Idempotent.
    void stop();

    /// The authoritative DNS server (BIND), UDP and TCP.
    endpoint dns() const { return {"127.0.0.1", _dns_port}; }
    std::uint16_t dns_port() const { return _dns_port; }
    /// nginx, plain HTTP and HTTPS (self-signed certificate at https_cert_path(), also usable as a CA file).
    std::uint16_t http_port() const { return _http_port; }
    std::uint16_t https_port() const { return _https_port; }
    const std::string& https_cert_path() const { return _cert_path; }
    /// nginx's access log (combined format, one line per request, client address first): dir() + "/access.log".
    std::string access_log_path() const { return _dir + "/access.log"; }
    /// The TLS-ALPN-01 responder; nullopt when the scenario has no [[tls_alpn]] certificate.
    std::optional<std::uint16_t> tls_alpn_port() const { return _alpn_port; }
    /// The fault DNS responder (UDP and TCP); nullopt when the scenario needs none.
    std::optional<std::uint16_t> fault_dns_port() const { return _fault_dns_port; }
    /// The fault HTTP responder; nullopt without a [fault_http] table.
    std::optional<std::uint16_t> fault_http_port() const { return _fault_http_port; }

    /// Number of perspectives N in the scenario.
    int perspectives() const { return _scenario.perspectives; }
    /// Source address of perspective k: "127.0.0.(k+1)". Precondition: 1 <= k <= perspectives().
    std::string perspective_address(int k) const;
    /// Where perspective k sends its DNS queries: the fault DNS responder when an override stalls or faults that
    /// perspective's DNS, else its validating resolver when the scenario has a DNSSEC zone, else BIND.
    /// Precondition: 1 <= k <= perspectives().
    endpoint dns_for(int k) const;

    /// The unbound validating resolver of perspective k (k = 0: the one for any other source), present only when
    /// the scenario has a DNSSEC zone. It resolves every scenario zone through BIND from perspective k's address
    /// and validates the signed ones (AD bit set on secure answers, SERVFAIL on bogus ones).
    std::optional<endpoint> resolver_for(int k) const;

    /// The lab's temporary directory (configs, zone files, logs).
    const std::string& dir() const { return _dir; }
    /// Wall time from start() entry to every server ready.
    std::chrono::milliseconds startup_time() const { return _startup_time; }
    /// The server processes; empty after stop().
    std::vector<server_info> servers() const;
    /// Names of servers that have exited since start-up (a healthy lab returns none).
    std::vector<std::string> exited_servers() const;
    /// Every PID belonging to the lab's servers, including children such as nginx workers.
    std::vector<pid_t> all_pids() const;
    /// The scenario this lab serves.
    const scenario& served_scenario() const { return _scenario; }

    /// Machine-readable description of where everything listens (the `mpic-lab up` output), as one JSON object.
    std::string summary_json() const;

private:
    struct impl; ///< the servers (lab.cc)
    explicit lab(scenario s);

    scenario _scenario;
    options _options;
    std::string _dir;
    std::string _cert_path;
    std::uint16_t _dns_port = 0;
    std::uint16_t _http_port = 0;
    std::uint16_t _https_port = 0;
    std::optional<std::uint16_t> _alpn_port;
    std::optional<std::uint16_t> _fault_dns_port;
    std::optional<std::uint16_t> _fault_http_port;
    std::vector<std::uint16_t> _resolver_ports; ///< unbound per perspective 0..N; empty without DNSSEC zones
    std::chrono::milliseconds _startup_time{0};
    std::unique_ptr<impl> _impl;
};

} // namespace mpic::lab
