// ACME dns-01 (BR 3.2.2.4.7 via RFC 8555 §8.4): TXT at `_acme-challenge.<name>` (wildcard "*." removed, RFC 8555
// §7.1.3) must hold base64url(SHA-256(keyAuthorization)) — the request's key_authorization_hash — in one RR, the
// RR's strings joined, compared exactly. CNAMEs are chased by the resolver (BR 1.6.1 ADN allows the CNAME result).
// IP identifiers are refused: RFC 8738 §7 "dns-01 MUST NOT be used to validate IP identifiers" (conformance D8).

#include "validators/dns/dcv_match.hh"
#include "validators/dns/dns_check.hh"
#include "validators/methods.hh"

namespace mpic::validators {
namespace {

class dns01_check final : public txt_exact_check {
public:
    using txt_exact_check::txt_exact_check;

private:
    void run() override {
        auto name = dns01_query_name(_request->target);
        if (!name.error.empty()) {
            finish_parameter_error(std::move(name.error));
            return;
        }
        if (_request->dcv.key_authorization_hash.empty()) {
            finish_parameter_error("acme-dns-01 needs key_authorization_hash");
            return;
        }
        query_and_match(std::move(name.name), _request->dcv.key_authorization_hash);
    }
};

} // namespace

std::shared_ptr<check_operation>
make_dns01_check(perspective_runtime& runtime, std::shared_ptr<const check_request> request, check_callback callback) {
    return std::make_shared<dns01_check>(runtime, std::move(request), std::move(callback));
}

} // namespace mpic::validators
