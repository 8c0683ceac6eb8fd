#include "validators/dns/caa_climb.hh"

namespace mpic::validators {

std::string_view to_string(caa_lookup_status status) noexcept {
    switch (status) {
    case caa_lookup_status::records:
        return "NOERROR";
    case caa_lookup_status::no_data:
        return "NOERROR/NODATA";
    case caa_lookup_status::nxdomain:
        return "NXDOMAIN";
    case caa_lookup_status::servfail:
        return "SERVFAIL";
    case caa_lookup_status::refused:
        return "REFUSED";
    case caa_lookup_status::timeout:
        return "timeout";
    case caa_lookup_status::malformed:
        return "malformed response";
    case caa_lookup_status::truncated:
        return "truncated response";
    case caa_lookup_status::unreachable:
        return "resolver unreachable";
    }
    return "unknown";
}

std::string_view to_string(failure_cause cause) noexcept {
    switch (cause) {
    case failure_cause::unknown:
        return "no stated cause";
    case failure_cause::upstream:
        return "an upstream cause";
    case failure_cause::internal:
        return "a cause inside the resolver";
    case failure_cause::dnssec:
        return "a DNSSEC validation failure";
    }
    return "unknown";
}

namespace {

bool is_answer(caa_lookup_status status) noexcept {
    return status == caa_lookup_status::records || status == caa_lookup_status::no_data ||
           status == caa_lookup_status::nxdomain;
}

std::string reply_text(const caa_lookup& outcome) {
    return outcome.rcode.empty() ? std::string(to_string(outcome.status)) : outcome.rcode;
}

} // namespace

caa_climb::caa_climb(std::string_view name, caa_climb_options options) : _options(options), _name(name) {
    if (!_name.empty() && _name.back() == '.') {
        _name.pop_back();
    }
    if (_name.empty()) {
        _state = state::empty; // nothing below the root to ask; defensive, the precondition excludes it
        return;
    }
    _queried.push_back(_name);
}

std::uint16_t caa_climb::query_type() const noexcept {
    switch (_state) {
    case state::probing:
        return type_ns;
    case state::confirming:
        return type_soa;
    default:
        return type_caa;
    }
}

void caa_climb::feed(caa_lookup outcome) {
    switch (_state) {
    case state::querying:
        feed_caa(std::move(outcome));
        return;
    case state::probing:
        feed_probe(outcome);
        return;
    case state::confirming:
        feed_proof(outcome);
        return;
    case state::found:
    case state::empty:
    case state::failed:
    case state::failure_tolerated:
        return;
    }
}

void caa_climb::feed_caa(caa_lookup&& outcome) {
    switch (outcome.status) {
    case caa_lookup_status::records:
        if (!outcome.records.empty()) {
            _state = state::found;
            _found_at = _name;
            _last = std::move(outcome);
            return;
        }
        [[fallthrough]]; // "records" without records is an empty answer
    case caa_lookup_status::no_data:
    case caa_lookup_status::nxdomain: {
        // RFC 8659 §3: Empty at X (NODATA, NXDOMAIN, or an alias chain ending without CAA) ⇒ X = Parent(X), where
        // Parent strips X's own leftmost label. Boulder errors on NXDOMAIN for a TLD; we follow the RFC loop, in
        // which an absent TLD is just empty (the identifier layer already refuses names outside the PSL).
        _last = std::move(outcome);
        _retrying = false;
        _found_at.clear(); // a retried failure that then answered empty is no longer where the climb stops
        const auto dot = _name.find('.');
        if (dot == std::string::npos) {
            _state = state::empty; // X was the TLD; the root is not queried
            _name.clear();
            return;
        }
        _name.erase(0, dot + 1);
        _queried.push_back(_name);
        return;
    }
    case caa_lookup_status::servfail:
    case caa_lookup_status::refused:
    case caa_lookup_status::timeout:
    case caa_lookup_status::malformed:
    case caa_lookup_status::truncated:
    case caa_lookup_status::unreachable:
        on_failure(std::move(outcome));
        return;
    }
}

void caa_climb::on_failure(caa_lookup&& outcome) {
    _found_at = _name;
    _last = std::move(outcome);
    const auto status = _last.status;
    const auto cause = _last.cause;
    if (!_options.allow_lookup_failure) {
        _state = state::failed; // standards §7.2: deny by default, at every perspective
        return;
    }
    // The gates below come before the retry: a failure that can never count is not asked again.
    if (status == caa_lookup_status::unreachable) {
        // No reply at all from our resolver (socket error, never sent): BR 3.2.2.8 condition (1) fails.
        deny("our resolver could not be reached: failure inside the CA's infrastructure");
        return;
    }
    if (status != caa_lookup_status::servfail && status != caa_lookup_status::timeout) {
        // Standards §7.2: REFUSED / malformed / truncated say the path is broken (RFC 8659 §6.2), not that a lookup
        // failed; they are never permission.
        deny("allow_lookup_failure covers only SERVFAIL and timeout (standards §7.2), not " +
             std::string(to_string(status)));
        return;
    }
    if (cause == failure_cause::dnssec) {
        // BR 3.2.2.8.1 (primary) and RFC 8659 §6.4 (bogus may be an attack); anywhere, a validation failure means
        // a chain of trust reaches the name, i.e. it is not "Insecure" (RFC 4035 §4.3).
        deny("the resolver reported a DNSSEC validation failure (RFC 8914 EDE): the domain is not Insecure "
             "(BR 3.2.2.8, 3.2.2.8.1)");
        return;
    }
    if (cause == failure_cause::internal) {
        // RFC 8914 codes such as 14 Not Ready, 18 Prohibited, 20 Not Authoritative: our resolver declined.
        deny("the resolver's RFC 8914 EDE names a cause inside the resolver: failure inside the CA's infrastructure");
        return;
    }
    if (_options.primary && status == caa_lookup_status::servfail && cause != failure_cause::upstream) {
        // BR 3.2.2.8.1: a DNSSEC validation error at the primary is never permission. A bare SERVFAIL may be one (a
        // resolver that sends no RFC 8914 EDE reports bogus data exactly so), so only a SERVFAIL whose EDE names an
        // upstream cause is considered here. Found by tests/integration (checks_dnssec, unbound without `ede`).
        deny("a SERVFAIL at the primary whose RFC 8914 EDE names no upstream cause may be a DNSSEC validation "
             "error (BR 3.2.2.8.1)");
        return;
    }
    if (!_retrying) {
        // BR 3.2.2.8 condition (2): the failure may count as permission only once "the lookup has been retried".
        _retrying = true;
        _queried.push_back(_name);
        return;
    }
    _notes.push_back("BR 3.2.2.8 (2) retried: CAA " + _found_at + " failed again (" + reply_text(_last) + ")");
    if (status == caa_lookup_status::timeout) {
        // Condition (1): silence is ambiguous. A recursive resolver normally answers SERVFAIL when the domain's
        // servers do not answer, so no answer at all is more likely our own resolver (or our path to it) failing.
        // Ask it something it answers from its own cache before blaming the domain.
        _state = state::probing;
        _name.clear(); // the root
        return;
    }
    _notes.push_back("BR 3.2.2.8 (1) outside the CA's infrastructure: our resolver answered SERVFAIL, i.e. the "
                     "domain's servers failed (" +
                     std::string(to_string(cause)) + ")");
    start_proof();
}

void caa_climb::feed_probe(const caa_lookup& outcome) {
    // ". NS" (RFC 8109 priming) is answered from the resolver's cache without any server outside the CA. Any
    // reply, whatever its RCODE (a resolver cut off from the root answers SERVFAIL), proves our resolver and our
    // path to it work, so the CAA silence came from further away. A garbled reply does not.
    switch (outcome.status) {
    case caa_lookup_status::records:
    case caa_lookup_status::no_data:
    case caa_lookup_status::nxdomain:
    case caa_lookup_status::servfail:
    case caa_lookup_status::refused:
    case caa_lookup_status::truncated:
        _notes.push_back("BR 3.2.2.8 (1) outside the CA's infrastructure: the CAA query timed out, but our resolver "
                         "answered a liveness probe (. NS: " +
                         reply_text(outcome) + ") within one try");
        start_proof();
        return;
    case caa_lookup_status::timeout:
    case caa_lookup_status::malformed:
    case caa_lookup_status::unreachable:
        deny("resolver did not answer a liveness probe (. NS within one try): failure inside the CA's "
             "infrastructure");
        return;
    }
}

void caa_climb::start_proof() {
    if (!_options.validating_resolver) {
        deny("cannot confirm the domain is 'Insecure' (RFC 4035 §4.3): this perspective's resolver is not declared "
             "DNSSEC-validating (dns.resolver_validates_dnssec)");
        return;
    }
    _state = state::confirming;
    _name = _found_at;
}

void caa_climb::feed_proof(const caa_lookup& outcome) {
    // BR 3.2.2.8 condition (3). SOA is a type every zone answers: at the zone's apex with the SOA RRset, below it
    // with NODATA or NXDOMAIN whose authority section carries the SOA (and, in a signed zone, the NSEC/NSEC3
    // proof). The validating resolver sets AD only when every RRset of answer and authority is Secure (RFC 4035
    // §3.2.3, asked with DO set and CD clear); Bogus data it answers with SERVFAIL (§5.5). So, with the root as its
    // trust anchor, a NOERROR/NXDOMAIN with AD=0 means the zone holding the name is Insecure (§4.3: a delegation
    // point above proved there is no DS), and "subsequent branches in the tree are provably insecure", which
    // covers the failing name below an answering ancestor and any alias leaving an Insecure zone (its CNAME is
    // not authenticated either). AD=1 is Secure: the failing name may still sit under an insecure delegation, but
    // we do not try to prove that from the DS records; we deny.
    if (outcome.dnssec_failure()) {
        deny("SOA " + _name + ": the resolver reported a DNSSEC validation failure, so the domain is not Insecure");
        return;
    }
    if (is_answer(outcome.status)) {
        if (outcome.ad) {
            deny("SOA " + _name + " answered " + reply_text(outcome) +
                 " with AD=1: the zone is Secure, so the domain is not proven Insecure (RFC 4035 §4.3)");
            return;
        }
        std::string note = "BR 3.2.2.8 (3) Insecure (RFC 4035 §4.3): the validating resolver answered SOA " + _name +
                           " with " + reply_text(outcome) + " and AD=0";
        if (_name != _found_at) {
            note += " (" + _found_at + " lies below it; its own SOA query failed)";
        }
        _notes.push_back(std::move(note));
        _notes.push_back("CAA lookup failure at " + _found_at +
                         " treated as permission (allow_lookup_failure; BR 3.2.2.8 conditions 1-3 established)");
        _state = state::failure_tolerated;
        return;
    }
    const bool unanswered =
        outcome.status == caa_lookup_status::servfail || outcome.status == caa_lookup_status::timeout;
    if (!unanswered || outcome.cause == failure_cause::internal) {
        deny("SOA " + _name + ": " + reply_text(outcome) + ", so the domain cannot be confirmed Insecure");
        return;
    }
    // The zone holding the name did not answer either (the usual reason its CAA query failed): ask the parent.
    const auto dot = _name.find('.');
    if (dot == std::string::npos) {
        deny("no SOA answer from " + _found_at + " up to the TLD, so the domain cannot be confirmed Insecure");
        return;
    }
    _name.erase(0, dot + 1);
}

void caa_climb::deny(std::string reason) {
    _state = state::failed;
    _notes.push_back("CAA lookup failure at " + _found_at + " not treated as permission: " + reason);
    _denial = std::move(reason);
}

} // namespace mpic::validators
