// IP Address (BR 3.2.2.4.8, sunset 2026-03-15): the ADN resolves (A or AAAA, per dns_record_type) to the IP
// address given as challenge_value. Addresses compare as values (parsed, RFC 5952 spellings irrelevant), never as
// strings. MPIC: each perspective must observe the same IP address (BR 3.2.2.9).

#include <algorithm>

#include "validators/dns/dcv_match.hh"
#include "validators/dns/dns_check.hh"
#include "validators/methods.hh"

namespace mpic::validators {
namespace {

class ip_address_check final : public dns_check {
public:
    using dns_check::dns_check;

private:
    void run() override {
        const auto& dcv = _request->dcv;
        if (_request->target.is_ip()) {
            finish_parameter_error("ip-address validates a domain name by its address; the target is an address");
            return;
        }
        if (dcv.record_type != dns_record_type::a && dcv.record_type != dns_record_type::aaaa) {
            finish_parameter_error("ip-address accepts dns_record_type A or AAAA, not " +
                                   std::string(to_string(dcv.record_type)));
            return;
        }
        const auto wanted = parse_ip(dcv.challenge_value);
        if (!wanted) {
            finish_parameter_error("challenge_value is not an IP address");
            return;
        }
        const bool v6 = dcv.record_type == dns_record_type::aaaa;
        if (wanted->v6 != v6) {
            finish_parameter_error("challenge_value is an IPv" + std::string(wanted->v6 ? "6" : "4") +
                                   " address but dns_record_type is " + std::string(to_string(dcv.record_type)));
            return;
        }
        _wanted = *wanted;
        send(_request->target.name, static_cast<std::uint16_t>(v6 ? net::dns::rr_type::aaaa : net::dns::rr_type::a),
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
            ip_value address;
            if (const auto* a = rr.as<net::dns::a_rdata>()) {
                std::copy(a->address.begin(), a->address.end(), address.octets.begin());
            } else if (const auto* aaaa = rr.as<net::dns::aaaa_rdata>()) {
                address.v6 = true;
                address.octets = aaaa->address;
            } else {
                continue;
            }
            ++seen;
            if (address == _wanted) {
                _result.details.found_at = result.chain.final_name;
                finish_passed();
                return;
            }
        }
        const std::string type(to_string(_request->dcv.record_type));
        if (seen == 0) {
            finish_negative("not_found", "No " + type + " record found at " + _request->target.name);
            return;
        }
        finish_negative("mismatch", "none of the " + std::to_string(seen) + " " + type + " records at " +
                                        _request->target.name + " is " + _request->dcv.challenge_value);
    }

    ip_value _wanted;
};

} // namespace

std::shared_ptr<check_operation> make_ip_address_check(perspective_runtime& runtime,
                                                       std::shared_ptr<const check_request> request,
                                                       check_callback callback) {
    return std::make_shared<ip_address_check>(runtime, std::move(request), std::move(callback));
}

} // namespace mpic::validators
