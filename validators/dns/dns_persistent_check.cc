// Persistent DCV TXT record (BR 3.2.2.4.22): TXT at `_validation-persist.<ADN>` — the ADN itself, never a CNAME
// target's name, though the resolver may follow CNAMEs to read it — whose RDATA is an RFC 8659 issue-value naming
// one of issuer_domain_names, with accounturi equal to expected_account_uri and an optional persistUntil (Unix
// seconds) not yet passed; for a wildcard request `policy=wildcard` is required (draft-ietf-acme-dns-persist scope
// rule); unknown parameters are ignored. Any one usable RR passes.

#include <chrono>

#include "validators/dns/dcv_match.hh"
#include "validators/dns/dns_check.hh"
#include "validators/methods.hh"

namespace mpic::validators {
namespace {

class dns_persistent_check final : public dns_check {
public:
    using dns_check::dns_check;

private:
    void run() override {
        const auto& dcv = _request->dcv;
        auto name = persistent_query_name(_request->target);
        if (!name.error.empty()) {
            finish_parameter_error(std::move(name.error));
            return;
        }
        if (dcv.issuer_domain_names.empty() || dcv.expected_account_uri.empty()) {
            finish_parameter_error("dns-persistent needs issuer_domain_names and expected_account_uri");
            return;
        }
        _name = std::move(name.name);
        send(_name, static_cast<std::uint16_t>(net::dns::rr_type::txt),
             [this](net::dns::query_result&& result) { judge(result); });
    }

    void judge(const net::dns::query_result& result) {
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
        const auto now =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        const persistent_expectation expected{_request->dcv.issuer_domain_names, _request->dcv.expected_account_uri,
                                              now, _request->target.wildcard};
        std::string reasons;
        for (const auto& value : values) {
            const auto verdict = evaluate_persistent_record(value, expected);
            if (verdict.usable) {
                _result.details.found_at = result.chain.final_name;
                finish_passed();
                return;
            }
            reasons += reasons.empty() ? "" : "; ";
            reasons += verdict.reason;
        }
        finish_negative("mismatch", "no usable persistent record at " + _name + ": " + reasons);
    }

    std::string _name;
};

} // namespace

std::shared_ptr<check_operation> make_dns_persistent_check(perspective_runtime& runtime,
                                                           std::shared_ptr<const check_request> request,
                                                           check_callback callback) {
    return std::make_shared<dns_persistent_check>(runtime, std::move(request), std::move(callback));
}

} // namespace mpic::validators
