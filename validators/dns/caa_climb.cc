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

bool caa_climb::tolerable(const caa_lookup& outcome) const noexcept {
    // Standards §7.2: the opt-in covers only SERVFAIL and timeout (BR 3.2.2.8 "lookup failure"), never REFUSED /
    // malformed / truncated (those say the path is broken, RFC 8659 §6.2), never "unreachable" (a failure of our
    // own resolver path: BR 3.2.2.8 allows only failures "outside the CA's infrastructure"), and never a DNSSEC
    // validation failure at the primary (BR 3.2.2.8.1 from 2026-03-15; RFC 8659 §6.4: bogus may be an attack).
    if (!_options.allow_lookup_failure) {
        return false;
    }
    if (outcome.status != caa_lookup_status::servfail && outcome.status != caa_lookup_status::timeout) {
        return false;
    }
    if (!_options.primary) {
        return true; // BR 3.2.2.8.1: remotes MAY skip DNSSEC validation for CAA
    }
    if (outcome.status == caa_lookup_status::timeout) {
        return true; // a validating resolver answers bogus data with SERVFAIL, never with silence
    }
    // BR 3.2.2.8.1: a DNSSEC validation error at the primary is never permission. A bare SERVFAIL may be one (a
    // resolver that sends no RFC 8914 EDE reports bogus data exactly so), so only a SERVFAIL whose EDE shows a
    // non-DNSSEC cause is tolerated here. Found by tests/integration (checks_dnssec, unbound without `ede: yes`).
    return !outcome.dnssec_failure && outcome.non_dnssec_cause;
}

void caa_climb::feed(caa_lookup outcome) {
    if (_state != state::querying) {
        return;
    }
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
        if (tolerable(outcome)) {
            if (!_retrying) {
                // BR 3.2.2.8: the failure may count as permission only once "the lookup has been retried".
                _retrying = true;
                _queried.push_back(_name);
                return;
            }
            _state = state::failure_tolerated;
        } else {
            _state = state::failed;
        }
        _found_at = _name;
        _last = std::move(outcome);
        return;
    }
}

} // namespace mpic::validators
