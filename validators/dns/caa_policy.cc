#include "validators/dns/caa_policy.hh"

#include <algorithm>
#include <array>
#include <cstdio>

#include "core/ascii.hh"
#include "validators/dns/caa_value.hh"

namespace mpic::validators {
namespace {

constexpr std::array<std::string_view, 7> recognised_tags{
    "issue", "issuewild", "iodef", "issuemail", "issuevmc", "contactemail", "contactphone",
};

/// RFC 1035 §5.1 escaping: `"` and `\\` backslash-escaped, bytes outside printable ASCII as \\DDD.
void append_escaped(std::string& out, std::string_view bytes) {
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u > 0x7E) {
            std::array<char, 5> buf{};
            std::snprintf(buf.data(), buf.size(), "\\%03u", static_cast<unsigned>(u));
            out += buf.data();
        } else {
            out += c;
        }
    }
}

/// Why one restricting property does not authorize this request; empty when it does.
std::string unsatisfied_because(const issue_value& value, const caa_policy_input& input) {
    if (value.issuer_domain.empty()) {
        // RFC 8659 §4.2: an empty (or, via parse_issue_value, malformed) issuer authorizes no one.
        return value.well_formed ? "names no issuer" : "is malformed (treated as naming no issuer)";
    }
    bool ours = false;
    for (const auto& domain : input.issuer_domains) {
        ours = ours || caa_issuer_matches(value.issuer_domain, domain);
    }
    if (!ours) {
        return "names another issuer (" + value.issuer_domain + ")";
    }

    // RFC 8657 §3: "A property without an accounturi parameter matches any account ... A property with multiple
    // accounturi parameters is unsatisfiable." An account URI we were not given cannot be recognised (api.md
    // extensions: absent input ⇒ unsatisfiable). Comparison is exact: the URI identifies one account.
    const auto account_uris = value.parameter_values("accounturi");
    if (account_uris.size() > 1) {
        return "has several accounturi parameters (RFC 8657 §3: unsatisfiable)";
    }
    if (account_uris.size() == 1) {
        if (!input.account_uri) {
            return "requires an accounturi but the request gave no account_uri";
        }
        if (account_uris.front() != *input.account_uri) {
            return "is restricted to another account (accounturi)";
        }
    }

    // RFC 8657 §4: only the listed methods may be used. RFC 8657 is silent on repeated parameters; like Boulder we
    // treat more than one as unsatisfiable rather than guess which one the domain owner meant.
    const auto method_lists = value.parameter_values("validationmethods");
    if (method_lists.size() > 1) {
        return "has several validationmethods parameters (unsatisfiable)";
    }
    if (method_lists.size() == 1) {
        const auto labels = parse_validation_methods(method_lists.front());
        if (!labels) {
            return "has a malformed validationmethods value";
        }
        if (!input.validation_method) {
            return "requires validationmethods but the request gave no validation_method";
        }
        bool listed = false;
        for (const auto label : *labels) {
            listed = listed || label == *input.validation_method;
        }
        if (!listed) {
            return "does not list validation method " + std::string(*input.validation_method);
        }
    }
    return {};
}

} // namespace

bool is_recognised_caa_tag(std::string_view tag) noexcept {
    for (const auto known : recognised_tags) {
        if (core::ascii_iequals(tag, known)) {
            return true;
        }
    }
    return false;
}

caa_evaluation evaluate_caa_rrset(std::span<const caa_property> rrset, const caa_policy_input& input) {
    // 1. RFC 8659 §4.1.1 / BR 3.2.2.8: an unknown critical property forbids issuance for any name. Only flag bit 128
    // counts (standards §7.3, RFC 8659 §4.1.1 "MUST ignore the value of all reserved flag bits"); Boulder also
    // treats bit 1 as critical (va/caa.go 215–222), so `0x01 tbs "x"` forbids there and does not here (case C8).
    for (const auto& property : rrset) {
        if (property.critical() && !is_recognised_caa_tag(property.tag)) {
            return {false, "unrecognised critical CAA property: " + caa_presentation(property), std::nullopt};
        }
    }

    // 2. Which tag restricts this request.
    std::string_view tag = "issue";
    if (input.cert_type == certificate_type::s_mime) {
        tag = "issuemail"; // RFC 9495 §4: issue/issuewild do not restrict S/MIME; only issuemail does
    } else if (input.wildcard) {
        for (const auto& property : rrset) {
            if (core::ascii_iequals(property.tag, "issuewild")) {
                tag = "issuewild"; // RFC 8659 §4.3: any issuewild overrides every issue for a wildcard
                break;
            }
        }
    }
    // (For a non-wildcard name issuewild is ignored, RFC 8659 §4.3, simply by never being selected.)

    // 3–4. Authorizations are additive (RFC 8659 §4.2): one satisfied property is enough.
    std::string refusals;
    bool restricted = false;
    for (std::size_t i = 0; i < rrset.size(); ++i) {
        if (!core::ascii_iequals(rrset[i].tag, tag)) {
            continue;
        }
        restricted = true;
        const auto value = parse_issue_value(rrset[i].value);
        auto why = unsatisfied_because(value, input);
        if (why.empty()) {
            return {true, "authorized by " + caa_presentation(rrset[i]), i};
        }
        if (!refusals.empty()) {
            refusals += "; ";
        }
        refusals += caa_presentation(rrset[i]) + " " + why;
    }
    if (!restricted) {
        // RFC 8659 §3: an RRset with only iodef / unknown non-critical / other-purpose tags does not restrict.
        return {true, "CAA present but no " + std::string(tag) + " property restricts issuance", std::nullopt};
    }
    return {false, "CAA forbids issuance: " + refusals, std::nullopt};
}

std::vector<std::string> caa_contacts(std::span<const caa_property> rrset, std::string_view tag) {
    std::vector<std::string> contacts;
    for (const auto& property : rrset) {
        if (!core::ascii_iequals(property.tag, tag)) {
            continue;
        }
        std::string_view value = property.value;
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
            value.remove_prefix(1);
        }
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
            value.remove_suffix(1);
        }
        contacts.emplace_back(value);
    }
    return contacts;
}

std::chrono::seconds caa_result_lifetime(std::uint32_t min_ttl_seconds) noexcept {
    constexpr std::chrono::seconds eight_hours{8 * 3600};
    return std::max(std::chrono::seconds{min_ttl_seconds}, eight_hours);
}

bool caa_result_usable(std::chrono::seconds age, std::uint32_t min_ttl_seconds) noexcept {
    return age >= std::chrono::seconds{0} && age <= caa_result_lifetime(min_ttl_seconds);
}

std::string caa_presentation(const caa_property& property) {
    std::string out = std::to_string(property.flags);
    out += ' ';
    append_escaped(out, property.tag); // a tag should be alphanumeric, but the wire may carry anything
    out += " \"";
    append_escaped(out, property.value);
    out += '"';
    return out;
}

} // namespace mpic::validators
