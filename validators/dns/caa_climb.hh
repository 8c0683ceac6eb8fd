#pragma once
// The RFC 8659 §3 search for the Relevant RRset, as a state machine fed with query outcomes, followed (only when a
// request opted in with allow_lookup_failure and a lookup failed) by the BR §3.2.2.8 proof that the failure may be
// treated as permission. It decides what to ask next and when to stop; it performs no I/O, so every path
// (NXDOMAIN, aliases, failures, retries, the liveness probe, the "Insecure" proof) is unit-testable with scripted
// outcomes. climbing_check (dns_check.cc) drives it with the perspective's resolver.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "validators/dns/caa_policy.hh"

namespace mpic::validators {

/// The outcome of one query for a name X, reduced to what RFC 8659 §3 (and the BR §3.2.2.8 proof) distinguishes.
enum class caa_lookup_status : std::uint8_t {
    records,     ///< NOERROR with RRs of the asked type (CAA: owned by X, or by the end of X's alias chain: "CAA(X)")
    no_data,     ///< NOERROR without such RRs, including an alias chain that ends without them (empty at X)
    nxdomain,    ///< X does not exist: empty at X
    servfail,    ///< SERVFAIL (its cause, if the resolver said, is in `cause`)
    refused,     ///< REFUSED, NOTIMP or any other error rcode (RFC 8659 §6.2)
    timeout,     ///< no answer within the resolver's tries (or, for the liveness probe, within one try)
    malformed,   ///< unparseable reply, or a reply that does not answer the question
    truncated,   ///< TC set and no complete answer obtained over TCP
    unreachable, ///< no server could be reached (socket errors) or the query was never sent: our side
};

/// Text for logs and messages ("SERVFAIL", "timeout", ...).
std::string_view to_string(caa_lookup_status status) noexcept;

/// What the resolver's RFC 8914 Extended DNS Errors say caused a failure (dns_check.cc: classify_ede()).
enum class failure_cause : std::uint8_t {
    unknown,  ///< no EDE, or only codes that name no cause (0 Other, 3 Stale Answer, 13 Cached Error, unassigned)
    upstream, ///< 22 No Reachable Authority, 23 Network Error, 24 Invalid Data: the domain's servers failed
    internal, ///< the resolver itself declined: 4 Forged Answer, 14 Not Ready, 15 Blocked, 16 Censored,
              ///< 17 Filtered, 18 Prohibited, 20 Not Authoritative, 21 Not Supported (the CA's infrastructure)
    dnssec,   ///< a DNSSEC validation failure: 5–12 (Indeterminate … NSEC Missing), 25, 27 (RFC 8914 registry)
};

/// Text for notes ("an upstream cause", ...).
std::string_view to_string(failure_cause cause) noexcept;

/// One query outcome. Invariant: `records` is non-empty only if status == records (and only CAA replies fill it).
struct caa_lookup {
    caa_lookup_status status = caa_lookup_status::no_data;
    std::vector<caa_property> records;
    /// The cause the reply's EDEs name. `dnssec` is never permission (BR 3.2.2.8.1 at the primary; anywhere, a
    /// validation failure proves the name is not "Insecure" as BR 3.2.2.8 requires).
    failure_cause cause = failure_cause::unknown;
    /// The reply's AD bit (RFC 4035 §3.2.3); meaningful only from a validating resolver asked with DO set.
    bool ad = false;
    /// The reply's RCODE name ("SERVFAIL", ...), empty without a reply; for notes only.
    std::string rcode;

    bool dnssec_failure() const noexcept { return cause == failure_cause::dnssec; }
};

/// Options of one climb (check_request fields and the perspective's resolver).
struct caa_climb_options {
    bool allow_lookup_failure = false; ///< standards §7.2 opt-in (caa_parameters::allow_lookup_failure)
    bool primary = false;              ///< check_request::primary
    /// The perspective's resolver is declared to validate DNSSEC from the root trust anchor and is asked with DO
    /// set (net::dns::resolver_config::validates_dnssec and dnssec_ok). Without it "Insecure" cannot be confirmed.
    bool validating_resolver = false;
};

/// The RFC 8659 §3 loop:
///   while X is not ".": if CAA(X) is not Empty return CAA(X); X = Parent(X)
/// Parent() strips the leftmost label of X itself, never of an alias target (RFC 8659 §3 and §7 vs RFC 6844
/// erratum 5065). The TLD is queried, the root is not. Queries are strictly sequential, so a failure above the
/// level where a set is found is never even asked for (Boulder queries in parallel and ignores those errors).
///
/// Lookup failures (SERVFAIL, REFUSED, timeout, malformed, truncated, unreachable) end the climb in `failed` (deny,
/// standards §7.2). With `allow_lookup_failure`, BR §3.2.2.8 lets a failure count as permission only if ALL of
/// "the failure is outside the CA's infrastructure", "the lookup has been retried at least once" and "the CA has
/// confirmed that the domain is 'Insecure' as defined in RFC 4035, Section 4.3"; from 2026-03-15 a DNSSEC
/// validation error at the primary never counts (§3.2.2.8.1). The climb establishes them in this order and stops
/// in `failed` at the first that cannot be proven:
///   - only SERVFAIL and timeout qualify; never a failure whose EDE names a DNSSEC or an internal cause, and at
///     the primary a SERVFAIL only when its EDE names an upstream cause (a bare SERVFAIL may be a bogus answer);
///   - (2) the same name is asked once more (`retrying()`); an answer to the retry is used as usual;
///   - (1) a SERVFAIL is our resolver saying the upstream failed: outside. A timeout is silence from our own
///     resolver, so the climb enters `probing`: the resolver is asked ". NS" (query_type() == 2), which every
///     recursive resolver answers from its cache (RFC 8109 priming); the driver feeds a reply received within one
///     per-try timeout as it is and silence as `timeout`. No reply = our resolver path failed: inside, deny;
///   - (3) `confirming`: SOA is asked at the failing name, then at each parent up to the TLD while the answer is
///     SERVFAIL/timeout. The first NOERROR/NXDOMAIN decides: AD=0 from the validating resolver = Insecure (RFC
///     4035 §4.3: with the root as trust anchor a validating resolver answers Secure data with AD=1 and Bogus data
///     with SERVFAIL, so a not-Secure answer is Insecure, and below an Insecure zone every branch is Insecure);
///     AD=1 = Secure: deny. A DNSSEC EDE, REFUSED and the like, no answer up to the TLD, or no validating
///     resolver: cannot confirm, deny. Then `failure_tolerated`.
/// notes() records each condition established and, on denial, why (the BR §5.4.1 evidence in the check result).
///
/// Invariants: exactly one terminal state is reached after at most 3 × (number of labels) + 1 feeds; query_name()
/// and query_type() are valid only while !done(); feed() after done() is ignored.
class caa_climb {
public:
    enum class state : std::uint8_t {
        querying,          ///< ask CAA at query_name() and feed() the outcome
        probing,           ///< ask the liveness probe (". NS") and feed() the reply, or `timeout` after one try
        confirming,        ///< ask SOA at query_name() (DO set, CD clear) and feed() the outcome
        found,             ///< relevant_rrset() at found_at() decides
        empty,             ///< no CAA at any level: issuance not restricted (RFC 8659 §3)
        failed,            ///< lookup failure at found_at(): deny
        failure_tolerated, ///< lookup failure at found_at() treated as permission (BR §3.2.2.8, all conditions met)
    };

    static constexpr std::uint16_t type_caa = 257;
    static constexpr std::uint16_t type_ns = 2;
    static constexpr std::uint16_t type_soa = 6;

    /// `name`: the FQDN to start at, lowercase, no trailing dot, wildcard label already removed (RFC 8659 §3:
    /// `*.X` starts at X). Precondition: non-empty.
    caa_climb(std::string_view name, caa_climb_options options);

    state current_state() const noexcept { return _state; }
    bool done() const noexcept {
        return _state != state::querying && _state != state::probing && _state != state::confirming;
    }
    /// The name to query next (no trailing dot; "" = the root, for the probe).
    const std::string& query_name() const noexcept { return _name; }
    /// The RR type to query next: CAA (querying), NS (probing) or SOA (confirming).
    std::uint16_t query_type() const noexcept;
    /// True when the pending CAA query is the retry of a failed one.
    bool retrying() const noexcept { return _retrying; }
    /// Feeds the outcome of the query for (query_name(), query_type()).
    void feed(caa_lookup outcome);

    /// The name where the climb stopped (set found, or failure); empty for `empty`.
    const std::string& found_at() const noexcept { return _found_at; }
    /// The Relevant RRset (state found).
    const std::vector<caa_property>& relevant_rrset() const noexcept { return _last.records; }
    /// The CAA outcome that ended the climb (found / failed / failure_tolerated), or the last empty answer. The
    /// probe's and the proof's replies never replace it.
    const caa_lookup& last_outcome() const noexcept { return _last; }
    /// Every CAA name queried, in order, a retried name twice.
    const std::vector<std::string>& names_queried() const noexcept { return _queried; }
    /// The BR §3.2.2.8 evidence: each condition established, then the conclusion ("... treated as permission") or
    /// why the failure is not permission. Empty when no opt-in was involved.
    const std::vector<std::string>& notes() const noexcept { return _notes; }
    /// Why a failure under the opt-in was not permission (the last note); empty otherwise.
    const std::string& denial() const noexcept { return _denial; }

private:
    void feed_caa(caa_lookup&& outcome);
    void feed_probe(const caa_lookup& outcome);
    void feed_proof(const caa_lookup& outcome);
    void on_failure(caa_lookup&& outcome);
    void start_proof();
    void deny(std::string reason);

    caa_climb_options _options;
    state _state = state::querying;
    std::string _name;
    std::string _found_at;
    caa_lookup _last;
    std::vector<std::string> _queried;
    std::vector<std::string> _notes;
    std::string _denial;
    bool _retrying = false;
};

} // namespace mpic::validators
