// acme-http-01: BR 3.2.2.4.19, RFC 8555 §8.3, RFC 8738 §5 for IP identifiers.
#include "validators/http/body_match.hh"
#include "validators/http/http_validation.hh"
#include "validators/methods.hh"

namespace mpic::validators {
namespace {

class http01_check final : public http::http_validation {
public:
    using http_validation::http_validation;

private:
    void run() override {
        const auto& target = _request->target;
        const auto& p = _request->dcv;
        // BR 3.2.2.4.19 Note: "This method is NOT suitable for validating Wildcard Domain Names" (H17).
        if (target.wildcard) {
            fail_parameter("acme-http-01 cannot validate a wildcard name (BR 3.2.2.4.19)");
            return;
        }
        const auto path = http::http01_path(p.token);
        if (!path) {
            fail_parameter("token must be non-empty unpadded base64url (RFC 8555 §8.3)");
            return;
        }
        // RFC 8555 §8.1: keyAuthorization = token || '.' || base64url(JWK_Thumbprint(accountKey)).
        if (p.key_authorization.size() <= p.token.size() + 1 || !p.key_authorization.starts_with(p.token) ||
            p.key_authorization[p.token.size()] != '.') {
            fail_parameter("key_authorization must be token '.' thumbprint (RFC 8555 §8.1)");
            return;
        }
        // RFC 8555 §8.3: "http://{domain}/.well-known/acme-challenge/{token}", TCP port 80, over HTTP not HTTPS.
        // RFC 8738 §5: for an IP the Host is the address, bracketed for IPv6 in the URL.
        auto start = http::make_url("http", target.name, target.is_ip(), *path);
        if (!start) {
            fail_parameter("target cannot form a URL: " + std::string(http::to_string(start.error)));
            return;
        }
        begin(std::move(*start.value));
    }

    std::optional<problem> judge_body(std::string_view body) override {
        if (http::http01_body_matches(body, _request->dcv.key_authorization)) {
            return std::nullopt;
        }
        return problem::make(problem_component::dcv_checker, "mismatch",
                             "body is not the expected key authorization (RFC 8555 §8.3)");
    }
};

} // namespace

std::shared_ptr<check_operation>
make_http01_check(perspective_runtime& runtime, std::shared_ptr<const check_request> request, check_callback callback) {
    return std::make_shared<http01_check>(runtime, std::move(request), std::move(callback));
}

} // namespace mpic::validators
