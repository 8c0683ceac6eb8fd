// start_check(): picks the method's check (methods.hh) and starts it. The one place that maps a request to code.

#include "validators/methods.hh"

namespace mpic::validators {
namespace {

check_factory factory_for(const check_request& request) {
    if (request.type == check_type::caa) {
        return &make_caa_check;
    }
    switch (request.dcv.method) {
    case validation_method::website_change:
        return &make_website_change_check;
    case validation_method::acme_http_01:
        return &make_http01_check;
    case validation_method::acme_dns_01:
        return &make_dns01_check;
    case validation_method::acme_tls_alpn_01:
        return &make_tls_alpn01_check;
    case validation_method::dns_change:
        return &make_dns_change_check;
    case validation_method::dns_persistent:
        return &make_dns_persistent_check;
    case validation_method::dns_account_01:
        return &make_dns_account01_check;
    case validation_method::contact_email_txt:
    case validation_method::contact_phone_txt:
    case validation_method::contact_email_caa:
    case validation_method::contact_phone_caa:
        return &make_contact_check;
    case validation_method::ip_address:
        return &make_ip_address_check;
    case validation_method::reverse_address_lookup:
        return &make_reverse_lookup_check;
    }
    return nullptr;
}

/// A check that only reports a parameter problem (an enum value no factory knows: a defensive path).
class invalid_check final : public check_operation {
public:
    using check_operation::check_operation;

private:
    void run() override {
        auto result = make_result();
        result.completed = false;
        result.errors.push_back(
            problem::make(problem_component::dcv_checker, "parameter", "unsupported validation method"));
        finish(std::move(result));
    }
};

} // namespace

check_handle start_check(perspective_runtime& runtime, std::shared_ptr<const check_request> request,
                         std::uint64_t timeout_ms, check_callback callback) {
    auto factory = factory_for(*request);
    std::shared_ptr<check_operation> op =
        factory != nullptr ? factory(runtime, std::move(request), std::move(callback))
                           : std::make_shared<invalid_check>(runtime, std::move(request), std::move(callback));
    op->start(timeout_ms);
    return check_handle(op);
}

} // namespace mpic::validators
