#pragma once
// The engine's configuration: perspectives and how each is reached, the policy, limits and timeouts, lab mode.
// Built from TOML (config_toml.cc, every key documented in docs/configuration.md) or from the embedded default.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/addr/address_policy.hh"
#include "net/dns/resolver.hh"
#include "quorum/perspective.hh"
#include "quorum/policy.hh"

namespace mpic::quorum {

/// How one perspective is reached. In-process: its own source address and resolvers on every reactor. Agent: an
/// `mpicd --role perspective` reached over mutual TLS (BR.md 1207: authenticated and encrypted channel).
struct perspective_transport {
    // in-process
    std::optional<std::string> source_ipv4; ///< bind address for DNS, HTTP and TLS
    std::optional<std::string> source_ipv6;
    std::vector<net::dns::server_address> resolvers; ///< this perspective's own resolvers (never shared)
    /// Whether those resolvers validate DNSSEC from the root trust anchor (net::dns::resolver_config::
    /// validates_dnssec); unset = engine_config::dns_resolver_validates_dnssec. Lab mode sets it per perspective.
    std::optional<bool> resolver_validates_dnssec;
    // agent
    std::string agent_url;        ///< "https://host:port"; non-empty = a remote agent
    std::string agent_ca_file;    ///< trust anchor for the agent's server certificate
    std::string client_cert_file; ///< the coordinator's client certificate (mutual TLS)
    std::string client_key_file;

    bool is_agent() const noexcept { return !agent_url.empty(); }
};

/// One configured perspective.
struct configured_perspective {
    perspective_info info;
    perspective_transport transport;
};

/// Everything the engine needs. Invariant after validate_engine_config() succeeded: perspective codes unique,
/// every in-process perspective has at least one resolver, every agent has its TLS material, numbers in range.
struct engine_config {
    unsigned reactors = 0; ///< 0 = one per core
    /// The remote (corroborating) perspectives, and optionally a primary whose determination decides
    /// (standards §1.4). Without a primary the engine behaves as Open MPIC: every selected perspective corroborates.
    std::vector<configured_perspective> perspectives;
    std::optional<configured_perspective> primary;

    policy_config policy;
    std::optional<civil_date> date_override;    ///< evaluate the phase-in as of this date (tests, dry runs)
    std::string cohort_secret;                  ///< keys cohort selection (api.md); random per process if empty
    int default_perspective_count = 0;          ///< 0 = every configured perspective
    int max_attempts = 3;                       ///< cap on a request's max_attempts
    std::uint32_t default_deadline_ms = 30'000; ///< request deadline when the request gives none
    std::uint32_t max_deadline_ms = 120'000;    ///< largest deadline a request may ask for
    std::uint32_t check_timeout_ms = 15'000;    ///< one perspective check (Boulder: 15 s per remote)
    std::uint32_t straggler_grace_ms = 0; ///< after a decision, let running checks finish this long for the record
    std::vector<std::string> caa_issuer_domains{"ca.example"}; ///< our issuer domain names (BR 3.2.2.8, CP/CPS)
    std::size_t max_in_flight_checks = 100'000;                ///< over this a request is refused with errc::queue_full

    // DNS, per perspective resolver
    std::uint32_t dns_timeout_ms = 2'000;
    std::uint32_t dns_tries = 2;
    /// [dns] resolver_validates_dnssec: the perspectives' resolvers validate DNSSEC from the root trust anchor, so
    /// an answer without AD proves "Insecure" (RFC 4035 §4.3), which BR 3.2.2.8 requires before a CAA lookup
    /// failure may count as permission. Default false: fail closed (allow_lookup_failure then never permits).
    bool dns_resolver_validates_dnssec = false;
    // HTTP/TLS
    std::size_t http_body_cap = 64 * 1024;
    std::uint32_t http_connect_timeout_ms = 5'000;
    std::uint32_t http_stage_timeout_ms = 10'000;

    /// Lab mode: loopback addresses admitted and ports 80/443 mapped to the lab's. Every response says so.
    std::optional<net::addr::lab_ports> lab;
};

/// Reads an engine configuration from TOML text (sections [engine], [policy], [dns], [http], [lab], [primary] and
/// [[perspective]]; docs/configuration.md); other top-level sections belong to the embedder and are ignored.
/// Unknown keys inside our sections are errors. Keys absent keep the defaults of engine_config. On failure returns
/// errc::invalid_argument and appends one message per problem, each naming its key ("perspective[2].rir: ...").
result<engine_config> engine_config_from_toml(std::string_view toml_text, std::string_view source_name,
                                              std::vector<std::string>& errors);

/// Checks the invariants of engine_config; appends one message per problem (naming the key) and returns false.
bool validate_engine_config(const engine_config& config, std::vector<std::string>& errors);

/// The embedded default: six in-process perspectives with nominal locations in ARIN, RIPE and APNIC, resolving
/// through the system's resolvers (/etc/resolv.conf) from the default source address. One machine is NOT a set
/// of distinct network perspectives, so the development override is on and every response says non-compliant.
engine_config embedded_default_config();

/// Points every in-process perspective at the lab: perspective k (k = 1..n in configuration order, remotes then
/// the primary) gets source address 127.0.0.(k+1) (the lab's convention) and resolver dns_by_perspective[k-1]
/// (the lab's BIND, or its fault responder for a stalled perspective); perspectives beyond that list use the
/// list's first entry. Also sets the lab's port map. Precondition: dns_by_perspective is non-empty.
void apply_lab(engine_config& config, const std::vector<net::dns::server_address>& dns_by_perspective,
               const net::addr::lab_ports& ports);

/// Reads the JSON summary `mpic-lab up` prints (per-perspective DNS endpoints, HTTP/HTTPS/TLS-ALPN ports) and
/// applies it with apply_lab. On a missing file or a malformed summary appends a message (prefixed "--lab: ") and
/// returns false without changing `config`. A scenario without a TLS-ALPN responder maps tls-alpn-01 to the HTTPS
/// port, where it then fails honestly. Each in-process perspective's resolver_validates_dnssec is set to whether
/// its DNS endpoint is one of the summary's `validating_resolvers` (the lab's unbound, only with signed zones);
/// BIND and the fault responder do not validate.
bool apply_lab_summary(const std::string& path, engine_config& config, std::vector<std::string>& errors);

/// The nameservers of /etc/resolv.conf (port 53), or 127.0.0.1 if none can be read.
std::vector<net::dns::server_address> system_resolvers();

} // namespace mpic::quorum
