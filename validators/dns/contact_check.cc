// Contact lookups for the email / phone methods: find the contact the CA will then use.
//   contact-email-txt (BR 3.2.2.4.14): TXT at `_validation-contactemail.<ADN>`
//   contact-phone-txt (BR 3.2.2.4.17): TXT at `_validation-contactphone.<ADN>`
//   contact-email-caa (BR 3.2.2.4.13): `contactemail` property of the Relevant CAA RRset (RFC 8659 §3 climb)
//   contact-phone-caa (BR 3.2.2.4.16): `contactphone` property of the Relevant CAA RRset
// challenge_value is the contact to find. MPIC (BR 3.2.2.9) asks each perspective to observe the same "selected
// contact address", so the check passes iff the contact appears in what this perspective resolved.
// For the CAA variants, dns_name_prefix (if any) is prepended to the start name, as Open MPIC does; lookup
// failures are never tolerated here (allow_lookup_failure is a CAA-authorization opt-in, not a DCV one).

#include "validators/dns/caa_policy.hh"
#include "validators/dns/dcv_match.hh"
#include "validators/dns/dns_check.hh"
#include "validators/methods.hh"

namespace mpic::validators {
namespace {

bool is_email(validation_method method) {
    return method == validation_method::contact_email_txt || method == validation_method::contact_email_caa;
}

bool contact_matches(validation_method method, std::string_view value, std::string_view wanted) {
    return is_email(method) ? contact_email_matches(value, wanted) : contact_phone_matches(value, wanted);
}

class contact_check final : public climbing_check {
public:
    using climbing_check::climbing_check;

private:
    void run() override {
        const auto method = _request->dcv.method;
        if (_request->target.is_ip()) {
            finish_parameter_error(std::string(to_string(method)) + " validates domain names, not IP addresses");
            return;
        }
        if (_request->dcv.challenge_value.empty()) {
            finish_parameter_error(std::string(to_string(method)) + " needs the contact as challenge_value");
            return;
        }
        if (method == validation_method::contact_email_txt || method == validation_method::contact_phone_txt) {
            const std::string prefix = method == validation_method::contact_email_txt ? "_validation-contactemail"
                                                                                      : "_validation-contactphone";
            _name = prefix + "." + _request->target.name;
            if (_name.size() > 253) {
                finish_parameter_error("query name exceeds 253 octets");
                return;
            }
            send(_name, static_cast<std::uint16_t>(net::dns::rr_type::txt),
                 [this](net::dns::query_result&& result) { judge_txt(result); });
            return;
        }
        if (method != validation_method::contact_email_caa && method != validation_method::contact_phone_caa) {
            finish_parameter_error("not a contact method: " + std::string(to_string(method)));
            return;
        }
        auto start = prefixed_query_name(_request->dcv.dns_name_prefix, _request->target.name, false);
        if (!start.error.empty()) {
            finish_parameter_error(std::move(start.error));
            return;
        }
        _name = std::move(start.name);
        start_climb(_name, {.allow_lookup_failure = false, .primary = _request->primary, .validating_resolver = false});
    }

    void judge_txt(const net::dns::query_result& result) {
        if (is_lookup_failure(result)) {
            finish_lookup_error(result);
            return;
        }
        describe(result);
        const auto values = joined_txt_values(result);
        if (values.empty()) {
            finish_negative("not_found", "No TXT record found at " + _name);
            return;
        }
        for (const auto& value : values) {
            if (contact_matches(_request->dcv.method, value, _request->dcv.challenge_value)) {
                _result.details.found_at = result.chain.final_name;
                finish_passed();
                return;
            }
        }
        finish_negative("mismatch",
                        "the contact is not among the " + std::to_string(values.size()) + " TXT records at " + _name);
    }

    void on_climb_done() override {
        switch (_climb->current_state()) {
        case caa_climb::state::querying:
        case caa_climb::state::probing:
        case caa_climb::state::confirming:
            return;
        case caa_climb::state::failed:
        case caa_climb::state::failure_tolerated: // not reachable: the climb was started without the opt-in
            finish_lookup_error(_failure_text);
            return;
        case caa_climb::state::empty:
            finish_negative("not_found", "No CAA record found at " + _name + " or above");
            return;
        case caa_climb::state::found:
            break;
        }
        const std::string_view tag = is_email(_request->dcv.method) ? "contactemail" : "contactphone";
        _result.details.found_at = _climb->found_at();
        const auto contacts = caa_contacts(_climb->relevant_rrset(), tag);
        for (const auto& contact : contacts) {
            if (contact_matches(_request->dcv.method, contact, _request->dcv.challenge_value)) {
                finish_passed();
                return;
            }
        }
        finish_negative(contacts.empty() ? "not_found" : "mismatch",
                        "the contact is not among the " + std::to_string(contacts.size()) + " " + std::string(tag) +
                            " properties of the CAA RRset at " + _climb->found_at());
    }

    std::string _name;
};

} // namespace

std::shared_ptr<check_operation> make_contact_check(perspective_runtime& runtime,
                                                    std::shared_ptr<const check_request> request,
                                                    check_callback callback) {
    return std::make_shared<contact_check>(runtime, std::move(request), std::move(callback));
}

} // namespace mpic::validators
