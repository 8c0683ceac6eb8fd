#include "validators/dns/dcv_match.hh"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>

#include "core/ascii.hh"
#include "core/sha256.hh"
#include "validators/dns/caa_value.hh"

namespace mpic::validators {
namespace {

constexpr std::size_t max_name_octets = 253; // RFC 1035 §2.3.4 in text form without the trailing dot

std::string_view trim_wsp(std::string_view text) noexcept {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

std::string_view strip_dot(std::string_view name) noexcept {
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);
    }
    return name;
}

query_name_or_error join_checked(std::string_view prefix, std::string_view name) {
    std::string full;
    full.reserve(prefix.size() + 1 + name.size());
    full += prefix;
    full += '.';
    full += name;
    if (full.size() > max_name_octets) {
        return {{}, "query name " + full.substr(0, 64) + "... exceeds 253 octets"};
    }
    return {std::move(full), {}};
}

query_name_or_error refuse_ip(std::string_view method) {
    return {{}, std::string(method) + " cannot validate an IP address identifier"};
}

} // namespace

query_name_or_error dns01_query_name(const net::identifier& target) {
    if (target.is_ip()) {
        return refuse_ip("acme-dns-01 (RFC 8738 §7)");
    }
    return join_checked("_acme-challenge", target.name);
}

std::string dns_account01_label(std::string_view account_uri) {
    const auto digest = core::sha256({account_uri});
    // RFC 4648 §6 base32 of digest[0:10]: 80 bits = exactly 16 five-bit groups, so no padding ever arises.
    constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz234567"; // lowercase, per Boulder
    std::string label = "_";
    std::uint64_t bits = 0;
    int pending = 0;
    for (std::size_t i = 0; i < 10; ++i) {
        bits = (bits << 8) | digest[i];
        pending += 8;
        while (pending >= 5) {
            pending -= 5;
            label += alphabet[(bits >> pending) & 0x1FU];
        }
    }
    return label;
}

query_name_or_error dns_account01_query_name(const net::identifier& target, std::string_view account_uri) {
    if (target.is_ip()) {
        return refuse_ip("dns-account-01");
    }
    if (account_uri.empty()) {
        return {{}, "dns-account-01 needs expected_account_uri (the ACME account URL)"};
    }
    return join_checked(dns_account01_label(account_uri) + "._acme-challenge", target.name);
}

query_name_or_error persistent_query_name(const net::identifier& target) {
    if (target.is_ip()) {
        return refuse_ip("dns-persistent");
    }
    // BR 3.2.2.4.22: the record lives at the ADN itself, never at a CNAME target's name (aliases may be followed to
    // read it, which the resolver does).
    return join_checked("_validation-persist", target.name);
}

query_name_or_error prefixed_query_name(const std::optional<std::string>& prefix, std::string_view name,
                                        bool require_underscore) {
    if (!prefix || prefix->empty()) {
        return {std::string(name), {}};
    }
    std::string_view rest = strip_dot(*prefix);
    if (require_underscore && (rest.empty() || rest.front() != '_')) {
        return {{}, "dns_name_prefix must begin with an underscore label (BR 3.2.2.4.7)"};
    }
    while (true) {
        const auto dot = rest.find('.');
        const std::string_view label = rest.substr(0, dot);
        if (label.empty() || label.size() > 63) {
            return {{}, "dns_name_prefix has an empty or over-long label"};
        }
        for (const char c : label) {
            const auto u = static_cast<unsigned char>(c);
            if (u <= 0x20 || u >= 0x7F || c == '\\') {
                return {{}, "dns_name_prefix contains a byte that is not allowed in a query name"};
            }
        }
        if (dot == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(dot + 1);
    }
    return join_checked(core::ascii_lower(strip_dot(*prefix)), name);
}

std::optional<std::size_t> find_exact(std::span<const std::string> values, std::string_view expected) {
    if (expected.empty()) {
        return std::nullopt; // an empty expectation would match an empty TXT string: never demonstrate control
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (values[i] == expected) {
            return i;
        }
    }
    return std::nullopt;
}

bool dns_change_matches(std::string_view record_value, std::string_view challenge, dns_record_type type, bool exact,
                        bool exact_case) {
    if (challenge.empty()) {
        return false;
    }
    const bool fold = type != dns_record_type::txt || !exact_case;
    std::string value_buf;
    std::string challenge_buf;
    if (fold) {
        value_buf = core::ascii_lower(record_value);
        challenge_buf = core::ascii_lower(challenge);
        record_value = value_buf;
        challenge = challenge_buf;
    }
    if (type == dns_record_type::cname) {
        record_value = strip_dot(record_value); // a CNAME target's trailing dot is not part of the value
    }
    return exact ? record_value == challenge : record_value.find(challenge) != std::string_view::npos;
}

persistent_verdict evaluate_persistent_record(std::string_view txt, const persistent_expectation& expected) {
    const auto value = parse_issue_value(txt);
    if (!value.well_formed) {
        return {false, "not an RFC 8659 issue-value"};
    }
    bool ours = false;
    for (const auto& issuer : expected.issuer_domain_names) {
        ours = ours || caa_issuer_matches(value.issuer_domain, issuer);
    }
    if (!ours) {
        return {false,
                value.issuer_domain.empty() ? "names no issuer" : "names another issuer (" + value.issuer_domain + ")"};
    }
    // BR 3.2.2.4.22: the record "MUST contain" accounturi; one value, equal to the Applicant's account.
    const auto accounts = value.parameter_values("accounturi");
    if (accounts.empty()) {
        return {false, "has no accounturi"};
    }
    if (accounts.size() > 1) {
        return {false, "has several accounturi parameters"};
    }
    if (expected.account_uri.empty() || accounts.front() != expected.account_uri) {
        return {false, "accounturi names another account"};
    }
    const auto until = value.parameter_values("persistUntil");
    if (until.size() > 1) {
        return {false, "has several persistUntil parameters"};
    }
    if (until.size() == 1) {
        std::int64_t seconds = 0;
        const auto text = until.front();
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
        if (ec != std::errc{} || end != text.data() + text.size() || text.empty() || text.front() == '-') {
            return {false, "persistUntil is not a Unix time in seconds"};
        }
        if (expected.now_unix > seconds) {
            return {false, "persistUntil " + std::string(text) + " has passed"};
        }
    }
    if (expected.wildcard) {
        // A persistent record authorizes the FQDN itself; the wildcard (and subdomain) scope is opt-in by the
        // domain owner with policy=wildcard, so a record written for one name cannot be stretched to "*.name".
        const auto policies = value.parameter_values("policy");
        bool wildcard_allowed = false;
        for (const auto policy : policies) {
            wildcard_allowed = wildcard_allowed || core::ascii_iequals(policy, "wildcard");
        }
        if (!wildcard_allowed) {
            return {false, "does not allow wildcard issuance (no policy=wildcard)"};
        }
    }
    return {true, "persistent record for " + value.issuer_domain + " and this account"};
}

bool contact_email_matches(std::string_view record_value, std::string_view wanted) {
    record_value = trim_wsp(record_value);
    wanted = trim_wsp(wanted);
    const auto at_record = record_value.rfind('@');
    const auto at_wanted = wanted.rfind('@');
    if (at_record == std::string_view::npos || at_wanted == std::string_view::npos || at_record == 0 ||
        at_wanted == 0) {
        return false;
    }
    return record_value.substr(0, at_record) == wanted.substr(0, at_wanted) &&
           core::ascii_iequals(strip_dot(record_value.substr(at_record + 1)), strip_dot(wanted.substr(at_wanted + 1)));
}

bool contact_phone_matches(std::string_view record_value, std::string_view wanted) {
    auto reduce = [](std::string_view text) -> std::optional<std::string> {
        std::string out;
        bool digit = false;
        for (const char c : trim_wsp(text)) {
            if (c >= '0' && c <= '9') {
                out += c;
                digit = true;
            } else if (c == '+' && out.empty()) {
                out += c;
            } else if (c == '-' || c == '.' || c == '(' || c == ')' || c == ' ' || c == '\t') {
                continue; // RFC 3966 §5.1.1 visual-separator (plus WSP)
            } else {
                return std::nullopt; // anything else (letters, ";ext=", '+' inside) is not a plain global number
            }
        }
        if (!digit) {
            return std::nullopt;
        }
        return out;
    };
    const auto a = reduce(record_value);
    const auto b = reduce(wanted);
    return a && b && *a == *b;
}

std::optional<ip_value> parse_ip(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
    }
    if (text.empty() || text.size() > 45) { // INET6_ADDRSTRLEN - 1
        return std::nullopt;
    }
    std::array<char, 46> buf{}; // NUL-terminated copy for inet_pton
    std::memcpy(buf.data(), text.data(), text.size());
    ip_value out;
    if (inet_pton(AF_INET, buf.data(), out.octets.data()) == 1) {
        return out;
    }
    if (inet_pton(AF_INET6, buf.data(), out.octets.data()) == 1) {
        out.v6 = true;
        return out;
    }
    return std::nullopt;
}

bool same_dns_name(std::string_view a, std::string_view b) noexcept {
    a = strip_dot(a);
    b = strip_dot(b);
    return !a.empty() && core::ascii_iequals(a, b);
}

} // namespace mpic::validators
