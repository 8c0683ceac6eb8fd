#pragma once
// The RFC 8659 §3 search for the Relevant RRset, as a state machine fed with query outcomes. It decides what to ask
// next and when to stop; it performs no I/O, so every path (NXDOMAIN, aliases, failures, retries) is unit-testable
// with scripted outcomes. caa_check.cc drives it with the perspective's resolver.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "validators/dns/caa_policy.hh"

namespace mpic::validators {

/// The outcome of one CAA query for a name X, reduced to what RFC 8659 §3 distinguishes.
enum class caa_lookup_status : std::uint8_t {
    records,     ///< NOERROR with CAA RRs (owned by X, or by the end of X's CNAME/DNAME chain: "CAA(X)")
    no_data,     ///< NOERROR without CAA RRs, including an alias chain that ends without CAA (empty at X)
    nxdomain,    ///< X does not exist: empty at X
    servfail,    ///< SERVFAIL (possibly a DNSSEC validation failure: see `dnssec_failure`)
    refused,     ///< REFUSED, NOTIMP or any other error rcode (RFC 8659 §6.2)
    timeout,     ///< no answer within the resolver's tries
    malformed,   ///< unparseable reply, or a reply that does not answer the question
    truncated,   ///< TC set and no complete answer obtained over TCP
    unreachable, ///< no server could be reached (socket errors) or the query was never sent: our side
};

/// Text for logs and messages ("SERVFAIL", "timeout", ...).
std::string_view to_string(caa_lookup_status status) noexcept;

/// One query outcome. Invariant: `records` is non-empty iff status == records.
struct caa_lookup {
    caa_lookup_status status = caa_lookup_status::no_data;
    std::vector<caa_property> records;
    /// The resolver reported a DNSSEC validation failure (RFC 8914 EDE 5–12, e.g. 6 "DNSSEC Bogus"). Such a failure
    /// at the primary is never treated as permission (BR 3.2.2.8.1, RFC 8659 §6.4).
    bool dnssec_failure = false;
    /// The reply carried an RFC 8914 EDE and none in the DNSSEC range (e.g. only 22 "No Reachable Authority" or
    /// 23 "Network Error"): the failure is known NOT to be a validation failure. A SERVFAIL without any EDE proves
    /// nothing either way (a validating resolver without EDE, e.g. unbound's default `ede: no`, answers bogus data
    /// with a bare SERVFAIL), so at the primary only a SERVFAIL with this evidence may be tolerated.
    bool non_dnssec_cause = false;
};

/// Options of one climb (check_request fields).
struct caa_climb_options {
    bool allow_lookup_failure = false; ///< standards §7.2 opt-in (caa_parameters::allow_lookup_failure)
    bool primary = false;              ///< check_request::primary
};

/// The RFC 8659 §3 loop:
///   while X is not ".": if CAA(X) is not Empty return CAA(X); X = Parent(X)
/// Parent() strips the leftmost label of X itself, never of an alias target (RFC 8659 §3 and §7 vs RFC 6844
/// erratum 5065). The TLD is queried, the root is not. Queries are strictly sequential, so a failure above the
/// level where a set is found is never even asked for (Boulder queries in parallel and ignores those errors).
///
/// Lookup failures (SERVFAIL, REFUSED, timeout, malformed, truncated, unreachable) end the climb in `failed` (deny,
/// BR 3.2.2.8 and standards §7.2) unless `allow_lookup_failure` is set and the failure is a SERVFAIL or timeout that is
/// not a DNSSEC failure seen at the primary (at the primary a SERVFAIL counts as one unless its EDE proves otherwise:
/// caa_lookup::non_dnssec_cause): then the same name is queried once more, and a second SERVFAIL/timeout
/// ends in `failure_tolerated` (BR 3.2.2.8: "retried at least once"). Any other outcome of the retry is used as usual.
///
/// Invariants: exactly one of the terminal states is reached after at most 2 × (number of labels) feeds;
/// query_name() is valid only in `querying`; feed() is only called in `querying`.
class caa_climb {
public:
    enum class state : std::uint8_t {
        querying,          ///< ask query_name() and feed() the outcome
        found,             ///< relevant_rrset() at found_at() decides
        empty,             ///< no CAA at any level: issuance not restricted (RFC 8659 §3)
        failed,            ///< lookup failure at found_at(): deny
        failure_tolerated, ///< lookup failure at found_at() treated as permission (allow_lookup_failure)
    };

    /// `name`: the FQDN to start at, lowercase, no trailing dot, wildcard label already removed (RFC 8659 §3:
    /// `*.X` starts at X). Precondition: non-empty.
    caa_climb(std::string_view name, caa_climb_options options);

    state current_state() const noexcept { return _state; }
    bool done() const noexcept { return _state != state::querying; }
    /// The name to query next (no trailing dot).
    const std::string& query_name() const noexcept { return _name; }
    /// True when the pending query is the retry of a failed one.
    bool retrying() const noexcept { return _retrying; }
    /// Feeds the outcome of the query for query_name().
    void feed(caa_lookup outcome);

    /// The name where the climb stopped (set found, or failure); empty for `empty`.
    const std::string& found_at() const noexcept { return _found_at; }
    /// The Relevant RRset (state found).
    const std::vector<caa_property>& relevant_rrset() const noexcept { return _last.records; }
    /// The outcome that ended the climb (found / failed / failure_tolerated), or the last empty answer.
    const caa_lookup& last_outcome() const noexcept { return _last; }
    /// Every name queried, in order, a retried name twice.
    const std::vector<std::string>& names_queried() const noexcept { return _queried; }

private:
    bool tolerable(const caa_lookup& outcome) const noexcept;

    caa_climb_options _options;
    state _state = state::querying;
    std::string _name;
    std::string _found_at;
    caa_lookup _last;
    std::vector<std::string> _queried;
    bool _retrying = false;
};

} // namespace mpic::validators
