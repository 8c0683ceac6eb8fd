#include "validators/check.hh"

#include <array>

namespace mpic::validators {
namespace {

struct method_name {
    validation_method method;
    std::string_view name;
};

// The API spellings of api.md (Open MPIC 3.9.0 names).
constexpr std::array<method_name, 13> method_names{{
    {validation_method::website_change, "website-change"},
    {validation_method::acme_http_01, "acme-http-01"},
    {validation_method::acme_dns_01, "acme-dns-01"},
    {validation_method::acme_tls_alpn_01, "acme-tls-alpn-01"},
    {validation_method::dns_change, "dns-change"},
    {validation_method::dns_persistent, "dns-persistent"},
    {validation_method::dns_account_01, "dns-account-01"},
    {validation_method::contact_email_txt, "contact-email-txt"},
    {validation_method::contact_phone_txt, "contact-phone-txt"},
    {validation_method::contact_email_caa, "contact-email-caa"},
    {validation_method::contact_phone_caa, "contact-phone-caa"},
    {validation_method::ip_address, "ip-address"},
    {validation_method::reverse_address_lookup, "reverse-address-lookup"},
}};

} // namespace

std::string_view to_string(validation_method method) noexcept {
    for (const auto& entry : method_names) {
        if (entry.method == method) {
            return entry.name;
        }
    }
    return "unknown";
}

std::optional<validation_method> parse_validation_method(std::string_view text) noexcept {
    for (const auto& entry : method_names) {
        if (entry.name == text) {
            return entry.method;
        }
    }
    return std::nullopt;
}

std::string_view to_string(dns_record_type type) noexcept {
    switch (type) {
    case dns_record_type::txt:
        return "TXT";
    case dns_record_type::cname:
        return "CNAME";
    case dns_record_type::caa:
        return "CAA";
    case dns_record_type::a:
        return "A";
    case dns_record_type::aaaa:
        return "AAAA";
    case dns_record_type::ptr:
        return "PTR";
    }
    return "unknown";
}

} // namespace mpic::validators
