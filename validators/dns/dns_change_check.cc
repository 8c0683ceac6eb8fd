// DNS Change (BR 3.2.2.4.7): the Random Value or Request Token in a TXT, CNAME or CAA record at the ADN, or at the
// ADN prefixed with a label beginning with an underscore (`dns_name_prefix`). api.md: require_exact_match compares
// the whole value (default: the value must contain the challenge); require_exact_case applies to TXT only.
//
// What "the value" is per type: TXT = one RR's strings joined; CNAME = the alias target (asked with QTYPE=CNAME,
// so the resolver does not chase it); CAA = the property value bytes (tag and flags are not part of it).

#include "validators/dns/dcv_match.hh"
#include "validators/dns/dns_check.hh"
#include "validators/methods.hh"

namespace mpic::validators {
namespace {

class dns_change_check final : public dns_check {
public:
    using dns_check::dns_check;

private:
    void run() override {
        const auto& dcv = _request->dcv;
        if (_request->target.is_ip()) {
            finish_parameter_error("dns-change validates domain names, not IP addresses (BR 3.2.2.4.7)");
            return;
        }
        if (dcv.challenge_value.empty()) {
            finish_parameter_error("dns-change needs a non-empty challenge_value");
            return;
        }
        net::dns::rr_type type = net::dns::rr_type::txt;
        switch (dcv.record_type) {
        case dns_record_type::txt:
            type = net::dns::rr_type::txt;
            break;
        case dns_record_type::cname:
            type = net::dns::rr_type::cname;
            break;
        case dns_record_type::caa:
            type = net::dns::rr_type::caa;
            break;
        default:
            finish_parameter_error("dns-change accepts dns_record_type TXT, CNAME or CAA, not " +
                                   std::string(to_string(dcv.record_type)));
            return;
        }
        auto name = prefixed_query_name(dcv.dns_name_prefix, _request->target.name, true);
        if (!name.error.empty()) {
            finish_parameter_error(std::move(name.error));
            return;
        }
        _name = std::move(name.name);
        send(_name, static_cast<std::uint16_t>(type), [this](net::dns::query_result&& result) { judge(result); });
    }

    void judge(const net::dns::query_result& result) {
        if (is_lookup_failure(result)) {
            finish_lookup_error(result);
            return;
        }
        describe(result);
        const auto& dcv = _request->dcv;
        std::size_t seen = 0;
        for (const auto& rr : result.records) {
            std::string value;
            if (const auto* txt = rr.as<net::dns::txt_rdata>()) {
                value = txt->joined();
            } else if (const auto* alias = rr.as<net::dns::name_rdata>()) {
                value = alias->target;
            } else if (const auto* caa = rr.as<net::dns::caa_rdata>()) {
                value = caa->value;
            } else {
                continue;
            }
            ++seen;
            if (dns_change_matches(value, dcv.challenge_value, dcv.record_type, dcv.require_exact_match,
                                   dcv.require_exact_case)) {
                _result.details.found_at = result.chain.final_name;
                finish_passed();
                return;
            }
        }
        const std::string type_text(to_string(dcv.record_type));
        if (seen == 0) {
            finish_negative("not_found", "No " + type_text + " record found at " + _name);
            return;
        }
        finish_negative("mismatch", "none of the " + std::to_string(seen) + " " + type_text + " records at " + _name +
                                        (dcv.require_exact_match ? " equals" : " contains") + " the challenge value");
    }

    std::string _name;
};

} // namespace

std::shared_ptr<check_operation> make_dns_change_check(perspective_runtime& runtime,
                                                       std::shared_ptr<const check_request> request,
                                                       check_callback callback) {
    return std::make_shared<dns_change_check>(runtime, std::move(request), std::move(callback));
}

} // namespace mpic::validators
