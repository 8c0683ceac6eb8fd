// Reverse Address Lookup (BR 3.2.2.5.3, sunset 2027-03-15): the PTR of the IP target's reverse name
// (in-addr.arpa / ip6.arpa) names the FQDN given as challenge_value; names compare ASCII case-insensitively and a
// trailing dot is ignored (RFC 4343). MPIC: every perspective must observe the same FQDN (BR 3.2.2.9).

#include "net/name/identifier.hh"
#include "validators/dns/dcv_match.hh"
#include "validators/dns/dns_check.hh"
#include "validators/methods.hh"

namespace mpic::validators {
namespace {

class reverse_lookup_check final : public dns_check {
public:
    using dns_check::dns_check;

private:
    void run() override {
        const auto& dcv = _request->dcv;
        if (!_request->target.is_ip()) {
            finish_parameter_error("reverse-address-lookup validates an IP address; the target is a domain name");
            return;
        }
        if (dcv.dns_name_prefix && !dcv.dns_name_prefix->empty()) {
            finish_parameter_error("dns_name_prefix has no meaning for a reverse (PTR) lookup");
            return;
        }
        if (dcv.challenge_value.empty()) {
            finish_parameter_error("reverse-address-lookup needs the expected FQDN as challenge_value");
            return;
        }
        const auto address = parse_ip(_request->target.name);
        if (!address) {
            finish_parameter_error("target is not an IP address: " + _request->target.name);
            return;
        }
        // RFC 1035 §3.5 / RFC 3596 §2.5: the same reverse name net:: derives for RFC 8738 SNI.
        _name = net::reverse_name(_request->target);
        if (_name.empty() || address->v6 != _request->target.is_ipv6) {
            finish_parameter_error("target is not an IP address: " + _request->target.name);
            return;
        }
        send(_name, static_cast<std::uint16_t>(net::dns::rr_type::ptr),
             [this](net::dns::query_result&& result) { judge(result); });
    }

    void judge(const net::dns::query_result& result) {
        if (is_lookup_failure(result)) {
            finish_lookup_error(result);
            return;
        }
        describe(result);
        std::size_t seen = 0;
        for (const auto& rr : result.records) {
            if (const auto* ptr = rr.as<net::dns::name_rdata>()) {
                ++seen;
                if (same_dns_name(ptr->target, _request->dcv.challenge_value)) {
                    _result.details.found_at = result.chain.final_name;
                    finish_passed();
                    return;
                }
            }
        }
        if (seen == 0) {
            finish_negative("not_found", "No PTR record found at " + _name);
            return;
        }
        finish_negative("mismatch", "none of the " + std::to_string(seen) + " PTR records at " + _name + " names " +
                                        _request->dcv.challenge_value);
    }

    std::string _name;
};

} // namespace

std::shared_ptr<check_operation> make_reverse_lookup_check(perspective_runtime& runtime,
                                                           std::shared_ptr<const check_request> request,
                                                           check_callback callback) {
    return std::make_shared<reverse_lookup_check>(runtime, std::move(request), std::move(callback));
}

} // namespace mpic::validators
