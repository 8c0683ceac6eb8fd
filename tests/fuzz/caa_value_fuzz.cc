// libFuzzer target for the RFC 8659 §4.2 issue-value parser and the RRset evaluation that consumes it: arbitrary
// bytes as a CAA property value must never crash, and the parser's invariants must hold for every input:
//   - a malformed value carries no issuer and no parameters (RFC 8659 §4.2: treated as an empty issuer);
//   - a well-formed value's issuer and parameters re-serialize canonically and parse back to the same thing;
//   - issuer and tags contain only LDH bytes, parameter values only %x21-3A / %x3C-7E.
// Built only with -DMPIC_FUZZ=ON (clang).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "validators/dns/caa_policy.hh"
#include "validators/dns/caa_value.hh"

namespace {

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

bool ldh_or_dot(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mpic::validators;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);

    const auto value = parse_issue_value(bytes);
    if (!value.well_formed) {
        require(value.issuer_domain.empty() && value.parameters.empty());
    } else {
        for (const char c : value.issuer_domain) {
            require(ldh_or_dot(c));
        }
        require(value.issuer_domain.empty() || value.issuer_domain.back() != '.');
        std::string canonical = value.issuer_domain;
        for (std::size_t i = 0; i < value.parameters.size(); ++i) {
            const auto& parameter = value.parameters[i];
            require(is_caa_label(parameter.tag));
            for (const char c : parameter.value) {
                const auto u = static_cast<unsigned char>(c);
                require((u >= 0x21 && u <= 0x3A) || (u >= 0x3C && u <= 0x7E));
            }
            canonical += "; ";
            canonical += parameter.tag + "=" + parameter.value;
        }
        const auto again = parse_issue_value(canonical);
        require(again.well_formed);
        require(again.issuer_domain == value.issuer_domain);
        require(again.parameters == value.parameters);
    }

    (void)parse_validation_methods(bytes);

    // The evaluation over an RRset built from the input must give a verdict with a reason for every tag kind.
    const std::vector<std::string> issuers{"ourca.example"};
    caa_policy_input input;
    input.issuer_domains = issuers;
    input.account_uri = "https://ourca.example/acct/1";
    input.validation_method = "dns-01";
    for (const char* tag : {"issue", "issuewild", "issuemail", "unknown"}) {
        const std::vector<caa_property> rrset{{static_cast<std::uint8_t>(size), tag, std::string(bytes)}};
        for (const bool wildcard : {false, true}) {
            input.wildcard = wildcard;
            require(!evaluate_caa_rrset(rrset, input).reason.empty());
        }
        require(!caa_presentation(rrset[0]).empty());
    }
    return 0;
}
