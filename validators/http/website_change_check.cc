// website-change: BR 3.2.2.4.18 (Agreed-Upon Change to Website v2) and BR 3.2.2.5.1 for IP addresses.
#include "validators/http/body_match.hh"
#include "validators/http/http_validation.hh"
#include "validators/methods.hh"

namespace mpic::validators {
namespace {

class website_change_check final : public http::http_validation {
public:
    using http_validation::http_validation;

private:
    void run() override {
        const auto& target = _request->target;
        const auto& p = _request->dcv;
        // BR 3.2.2.4.18: "This method is NOT suitable for validating Wildcard Domain Names."
        if (target.wildcard) {
            fail_parameter("website-change cannot validate a wildcard name (BR 3.2.2.4.18)");
            return;
        }
        if (p.url_scheme != "http" && p.url_scheme != "https") {
            fail_parameter("url_scheme must be http or https (BR 3.2.2.4.18)");
            return;
        }
        if (p.challenge_value.empty()) {
            fail_parameter("challenge_value is empty");
            return;
        }
        const auto path = http::website_change_path(p.http_token_path);
        if (!path) {
            fail_parameter("http_token_path must be a relative path under /.well-known/pki-validation/");
            return;
        }
        // BR 3.2.2.4.18: the Request Token or Random Value "MUST NOT appear in the request used to retrieve the
        // file". Refused up front rather than sent: once sent, the server could echo it back and pass.
        if (http::website_change_request_leaks(p.challenge_value, *path, p.http_headers)) {
            fail_parameter("challenge_value appears in the request (BR 3.2.2.4.18 forbids it)");
            return;
        }
        if (p.match_regex &&
            http::website_change_body_matches(p.challenge_value, p.challenge_value, p.match_regex,
                                              p.require_exact_case) == http::website_match::bad_regex) {
            fail_parameter("match_regex is not a valid ECMAScript regular expression of at most " +
                           std::to_string(http::regex_pattern_cap_bytes) + " bytes");
            return;
        }
        auto start = http::make_url(p.url_scheme, target.name, target.is_ip(), *path);
        if (!start) {
            fail_parameter("target cannot form a URL: " + std::string(http::to_string(start.error)));
            return;
        }
        begin(std::move(*start.value));
    }

    std::optional<problem> judge_body(std::string_view body) override {
        const auto& p = _request->dcv;
        switch (http::website_change_body_matches(body, p.challenge_value, p.match_regex, p.require_exact_case)) {
        case http::website_match::matched:
            return std::nullopt;
        case http::website_match::bad_regex:
            return problem::make(problem_component::dcv_checker, "parameter", "match_regex could not be evaluated");
        case http::website_match::not_found:
            break;
        }
        return problem::make(problem_component::dcv_checker, "mismatch",
                             p.match_regex ? "challenge_value or match_regex not found in the file"
                                           : "challenge_value not found in the file");
    }
};

} // namespace

std::shared_ptr<check_operation> make_website_change_check(perspective_runtime& runtime,
                                                           std::shared_ptr<const check_request> request,
                                                           check_callback callback) {
    return std::make_shared<website_change_check>(runtime, std::move(request), std::move(callback));
}

} // namespace mpic::validators
