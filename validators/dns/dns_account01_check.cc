// dns-account-01 (BR 3.2.2.4.21, draft-ietf-acme-dns-account-label): like dns-01, but the TXT lives at
// `_<lower(base32(SHA-256(accountURI)[0:10]))>._acme-challenge.<name>` (standards §2.6), so several ACME accounts
// can validate the same name side by side. The account URI is dcv_parameters::expected_account_uri; the expected
// value is key_authorization_hash, exactly as for dns-01.

#include "validators/dns/dcv_match.hh"
#include "validators/dns/dns_check.hh"
#include "validators/methods.hh"

namespace mpic::validators {
namespace {

class dns_account01_check final : public txt_exact_check {
public:
    using txt_exact_check::txt_exact_check;

private:
    void run() override {
        auto name = dns_account01_query_name(_request->target, _request->dcv.expected_account_uri);
        if (!name.error.empty()) {
            finish_parameter_error(std::move(name.error));
            return;
        }
        if (_request->dcv.key_authorization_hash.empty()) {
            finish_parameter_error("dns-account-01 needs key_authorization_hash");
            return;
        }
        query_and_match(std::move(name.name), _request->dcv.key_authorization_hash);
    }
};

} // namespace

std::shared_ptr<check_operation> make_dns_account01_check(perspective_runtime& runtime,
                                                          std::shared_ptr<const check_request> request,
                                                          check_callback callback) {
    return std::make_shared<dns_account01_check>(runtime, std::move(request), std::move(callback));
}

} // namespace mpic::validators
