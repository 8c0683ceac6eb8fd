// CAA check (BR 3.2.2.8, RFC 8659, RFC 8657, RFC 9495): find the Relevant RRset with the RFC 8659 §3 climb on this
// perspective's resolver, then evaluate it for our issuer domains and the request's RFC 8657 inputs.
//
// Result (see dns_check.hh for the conventions):
//   IP target            passed; no query at all (BR 3.2.2.8: CAA is processed for dNSNames only; conformance C38).
//   no CAA at any level  passed, caa_record_present=false (RFC 8659 §3 "Empty").
//   set found, permits   passed, caa_record_present=true, found_at, records_seen.
//   set found, forbids   completed, not passed, mpic_error:caa_checker:prohibited with the reason per property.
//   lookup failure       not completed, mpic_error:caa_checker:lookup (deny by default, standards §7.2). Under
//                        allow_lookup_failure the message and `notes` also say which BR 3.2.2.8 condition failed.
//   tolerated failure    passed, caa_record_present=false, found_at = the failing name, response_code = its RCODE,
//                        and `notes` listing the BR 3.2.2.8 conditions established (outside the CA's
//                        infrastructure, retried, "Insecure" per RFC 4035 §4.3): the BR §5.4.1 evidence of why a
//                        failure counted as permission. See caa_climb.hh for how each is established.

#include "validators/dns/caa_policy.hh"
#include "validators/dns/dns_check.hh"
#include "validators/methods.hh"

namespace mpic::validators {
namespace {

class caa_check final : public climbing_check {
public:
    using climbing_check::climbing_check;

private:
    void run() override {
        const auto& target = _request->target;
        if (target.is_ip()) {
            // BR 3.2.2.8 (line 1154): CAA applies to dNSNames only; Boulder's RA skips it for IP identifiers too.
            // Open MPIC queried nonsense names here (api.md "weak"); we send nothing.
            _result.details.caa_record_present = false;
            finish_passed();
            return;
        }
        if (_request->caa.caa_domains.empty()) {
            finish_parameter_error("no issuer domain names to check CAA against (caa_domains is empty)");
            return;
        }
        // RFC 8659 §3: "*.X" is looked up at X; the identifier already holds X with `wildcard` set.
        start_climb(target.name, {.allow_lookup_failure = _request->caa.allow_lookup_failure,
                                  .primary = _request->primary,
                                  .validating_resolver = resolver_validates_dnssec()});
    }

    void on_climb_done() override {
        auto& details = _result.details;
        switch (_climb->current_state()) {
        case caa_climb::state::querying:
        case caa_climb::state::probing:
        case caa_climb::state::confirming:
            return; // unreachable: on_climb_done() runs only when done
        case caa_climb::state::empty:
            details.caa_record_present = false;
            details.records_seen.clear();
            finish_passed();
            return;
        case caa_climb::state::failed:
            // Under the opt-in the notes are the record of why this failure is not permission (BR §5.4.1).
            details.notes.insert(details.notes.end(), _climb->notes().begin(), _climb->notes().end());
            if (_climb->denial().empty()) {
                finish_lookup_error(_failure_text);
            } else {
                finish_lookup_error(_failure_text +
                                    "; not permission under allow_lookup_failure (BR 3.2.2.8): " + _climb->denial());
            }
            return;
        case caa_climb::state::failure_tolerated:
            // BR 3.2.2.8: a lookup failure treated as permission, all three conditions established by the climb.
            // response_code and found_at show the failure; the notes show the evidence for each condition.
            details.caa_record_present = false;
            details.found_at = _climb->found_at();
            details.notes.insert(details.notes.end(), _climb->notes().begin(), _climb->notes().end());
            finish_passed();
            return;
        case caa_climb::state::found:
            break;
        }
        details.caa_record_present = true;
        details.found_at = _climb->found_at();

        caa_policy_input input;
        input.cert_type = _request->caa.cert_type;
        input.wildcard = _request->target.wildcard;
        input.issuer_domains = _request->caa.caa_domains;
        if (_request->caa.account_uri) {
            input.account_uri = *_request->caa.account_uri;
        }
        if (_request->caa.validation_method) {
            input.validation_method = *_request->caa.validation_method;
        }
        const auto verdict = evaluate_caa_rrset(_climb->relevant_rrset(), input);
        if (verdict.permitted) {
            finish_passed();
        } else {
            finish_negative("prohibited", "CAA at " + _climb->found_at() + ": " + verdict.reason);
        }
    }
};

} // namespace

std::shared_ptr<check_operation> make_caa_check(perspective_runtime& runtime,
                                                std::shared_ptr<const check_request> request, check_callback callback) {
    return std::make_shared<caa_check>(runtime, std::move(request), std::move(callback));
}

} // namespace mpic::validators
