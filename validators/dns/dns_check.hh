#pragma once
// The shared machinery of the DNS-based checks (validators/dns/*_check.cc): querying through the perspective's own
// resolver, reporting what was seen in api.md's details, and the result conventions below.
//
// Result conventions of every DNS check (api.md "Errors"):
//   passed                      completed=true,  passed=true,  errors empty.
//   definite negative answer    completed=true,  passed=false, one problem saying what was seen:
//       mpic_error:caa_checker:prohibited   the Relevant RRset does not authorize us (a CAA prohibition is a
//                                           determination, not a lookup error: BR 3.2.2.9 "CAA ... prohibition");
//       mpic_error:dcv_checker:not_found    NXDOMAIN / NODATA where the record must be ("No TXT record found");
//       mpic_error:dcv_checker:mismatch     records exist but none carries the expected value.
//   no determination            completed=false, passed=false, one problem:
//       mpic_error:caa_checker:lookup / mpic_error:dcv_checker:lookup
//                                           SERVFAIL, REFUSED, other RCODE, timeout, truncated, malformed,
//                                           network error (RFC 8659 §5.4/§6; BR 3.2.2.4 DNSSEC);
//       mpic_error:caa_checker:parameter / mpic_error:dcv_checker:parameter
//                                           the request cannot be checked this way (dns-01 on an IP, RFC 8738 §7;
//                                           a missing input; a bad dns_name_prefix);
//       ...:timeout / ...:cancelled         from check_operation (deadline, cancel).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/timer.hh"
#include "net/dns/resolver.hh"
#include "validators/check_operation.hh"
#include "validators/dns/caa_climb.hh"

namespace mpic::validators {

/// True for every outcome that is not an answer about the name's data: SERVFAIL, REFUSED, other RCODEs, timeout,
/// truncated, malformed, network error, cancelled. (answer, nodata and nxdomain are determinations.)
bool is_lookup_failure(const net::dns::query_result& result) noexcept;

/// True when the reply carries an RFC 8914 Extended DNS Error that reports a DNSSEC validation failure: 5–12
/// (Indeterminate, Bogus, Signature Expired / Not Yet Valid, DNSKEY / RRSIGs / NSEC Missing, No Zone Key Bit Set),
/// 25 (Signature Expired before Valid) or 27 (Unsupported NSEC3 Iterations Value, RFC 9276): never an "Insecure"
/// zone (BR 3.2.2.8, 3.2.2.8.1).
bool is_dnssec_failure(const net::dns::query_result& result) noexcept;

/// What the reply's RFC 8914 EDEs say about a failure's cause (failure_cause in caa_climb.hh). With several EDEs
/// the most damning wins: dnssec, then internal, then upstream; unknown without any EDE that names a cause.
failure_cause classify_ede(const net::dns::query_result& result) noexcept;

/// "SERVFAIL for CAA example.com (DNSSEC Bogus (6): ...)" — the outcome, type, name and any EDE text.
std::string describe_failure(const net::dns::query_result& result);

/// The character-strings of every TXT RR in `result.records` joined per RR (RFC 8555 §8.4 as Boulder reads it).
std::vector<std::string> joined_txt_values(const net::dns::query_result& result);

/// One reply as the RFC 8659 §3 climb sees it (caa_climb.hh): answer ⇒ records (the CAA RRs at the end of the
/// alias chain, i.e. CAA(X); an answer of another type, to the probe or the SOA proof, has none and is no_data),
/// nodata / nxdomain ⇒ empty, refused and other RCODEs ⇒ refused, network error and cancelled ⇒ unreachable;
/// `cause` from classify_ede(), `ad` and `rcode` from the message.
caa_lookup to_caa_lookup(const net::dns::query_result& result);

/// Base of every DNS check. Invariants: at most one query is in flight; while it is, the pending callback holds a
/// strong reference to the check, so the check outlives its I/O; abort() detaches it so a late answer is dropped.
class dns_check : public check_operation {
public:
    dns_check(perspective_runtime& runtime, std::shared_ptr<const check_request> request, check_callback callback);

protected:
    using query_then = std::function<void(net::dns::query_result&&)>;

    /// Queries (name, type) on `_runtime.dns`; `then` runs later on the loop thread unless the check finished first.
    /// Adds the query's time to timings.dns_us. Without a resolver the check ends with a lookup problem.
    void send(std::string_view name, std::uint16_t type, query_then then);
    void abort() override;
    /// Drops the query in flight, if any: its callback will never run. Safe when that callback held the last
    /// reference to the check (the check stays alive until this returns).
    void drop_pending_query();
    /// True when this perspective's resolver is declared DNSSEC-validating (resolver_config::validates_dnssec) and
    /// asks with EDNS and DO set, so the AD bit of its replies is evidence (RFC 4035 §3.2.3, RFC 6840 §5.7).
    bool resolver_validates_dnssec() const noexcept;

    problem_component component() const noexcept;
    /// Fills response_code, ad_flag, cname_chain and records_seen (presentation form) from one reply.
    void describe(const net::dns::query_result& result);

    void finish_passed();
    /// completed=true, passed=false with mpic_error:<component>:<kind> (prohibited / not_found / mismatch).
    void finish_negative(std::string_view kind, std::string message);
    /// completed=false with mpic_error:<component>:lookup.
    void finish_lookup_error(const net::dns::query_result& result);
    void finish_lookup_error(std::string message);
    /// completed=false with mpic_error:<component>:parameter.
    void finish_parameter_error(std::string message);

    check_result _result; ///< accumulated details; finish_* hand it to check_operation::finish

private:
    void deliver(bool completed, bool passed, std::string_view kind, std::string message);

    net::dns::query_handle _pending;
    std::uint32_t _dns_us = 0;
};

/// The RFC 8555 §8.4 shape shared by acme-dns-01 and dns-account-01 (BR 3.2.2.4.7 / 3.2.2.4.21): TXT at one name;
/// each RR's strings joined; any RR equal (case-sensitive) to the expected value passes; none ⇒ not_found
/// ("No TXT record found") or mismatch.
class txt_exact_check : public dns_check {
public:
    using dns_check::dns_check;

protected:
    void query_and_match(std::string name, std::string expected);
};

/// A DNS check that walks the RFC 8659 §3 climb (CAA and the contact-*-caa methods): start_climb() runs the queries
/// one after the other (CAA, and under the allow_lookup_failure opt-in the BR §3.2.2.8 liveness probe and SOA
/// proof) and then calls on_climb_done() with the terminal state in `_climb`. The liveness probe gets one per-try
/// timeout of the resolver (resolver_config::timeout_ms), enforced by its own timer: a reply after that is silence.
class climbing_check : public dns_check {
public:
    using dns_check::dns_check;

protected:
    /// Starts the climb at `name` (lowercase, no trailing dot, no wildcard label).
    void start_climb(std::string_view name, caa_climb_options options);
    /// Called once, when `_climb->done()`. The details of the deciding CAA reply are already in `_result` (the
    /// probe's and the proof's replies never overwrite them).
    virtual void on_climb_done() = 0;
    void abort() override;

    std::optional<caa_climb> _climb;
    std::string _failure_text; ///< describe_failure() of the latest CAA reply when it was a lookup failure

private:
    void step();
    void probe();

    std::optional<core::timer> _probe_timer; ///< the liveness probe's one-try bound; stopped by abort()
};

} // namespace mpic::validators
