#include "validators/dns/caa_value.hh"

#include <cstddef>

#include "core/ascii.hh"

namespace mpic::validators {
namespace {

// RFC 5234 core rules, ASCII only: a byte outside US-ASCII is never ALPHA or DIGIT, so UTF-8 in a record cannot
// slip through a locale-dependent isalpha().
constexpr bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
constexpr bool is_alnum(char c) noexcept {
    return is_alpha(c) || is_digit(c);
}
// RFC 5234 WSP = SP / HTAB; RFC 8659 §4.2 uses exactly this (no CR/LF/VT).
constexpr bool is_wsp(char c) noexcept {
    return c == ' ' || c == '\t';
}
// parameter-value = *(%x21-3A / %x3C-7E): visible ASCII except ";".
constexpr bool is_value_char(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return (u >= 0x21 && u <= 0x3A) || (u >= 0x3C && u <= 0x7E);
}

/// A cursor over the value; every consume_* leaves `pos` unchanged on failure.
struct cursor {
    std::string_view text;
    std::size_t pos = 0;

    bool at_end() const noexcept { return pos == text.size(); }
    char peek() const noexcept { return text[pos]; }
    void skip_wsp() noexcept {
        while (!at_end() && is_wsp(peek())) {
            ++pos;
        }
    }
    /// label = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)): alnum first and last, hyphens only inside.
    bool consume_label() noexcept {
        const std::size_t start = pos;
        if (at_end() || !is_alnum(peek())) {
            return false;
        }
        std::size_t last_alnum = pos;
        ++pos;
        while (!at_end() && (is_alnum(peek()) || peek() == '-')) {
            if (is_alnum(peek())) {
                last_alnum = pos;
            }
            ++pos;
        }
        // Hyphens may not end a label: give them back. The caller then sees "-" where it expects "." / WSP / ";"
        // and rejects the value, which is what the ABNF says.
        pos = last_alnum + 1;
        return pos > start;
    }
};

} // namespace

bool is_caa_label(std::string_view text) noexcept {
    cursor c{text};
    return c.consume_label() && c.at_end();
}

std::vector<std::string_view> issue_value::parameter_values(std::string_view tag) const {
    std::vector<std::string_view> values;
    for (const auto& parameter : parameters) {
        // Parameter tags are compared case-insensitively: RFC 8659 leaves parameter semantics to the issuer, and
        // reading "AccountURI" as accounturi can only make a property harder to satisfy, never easier.
        if (core::ascii_iequals(parameter.tag, tag)) {
            values.emplace_back(parameter.value);
        }
    }
    return values;
}

issue_value parse_issue_value(std::string_view bytes) {
    issue_value out;
    const issue_value malformed; // RFC 8659 §4.2: non-matching value = empty issuer-domain-name
    cursor c{bytes};

    c.skip_wsp();
    // [issuer-domain-name *WSP]
    if (!c.at_end() && c.peek() != ';') {
        const std::size_t start = c.pos;
        if (!c.consume_label()) {
            return malformed;
        }
        while (!c.at_end() && c.peek() == '.') {
            ++c.pos;
            if (c.at_end() || is_wsp(c.peek()) || c.peek() == ';') {
                // Standards §7.3: one trailing dot is tolerated (it is dropped below). Two dots fail: ".." never
                // reaches here because the next consume_label() fails.
                break;
            }
            if (!c.consume_label()) {
                return malformed;
            }
        }
        std::string_view issuer = bytes.substr(start, c.pos - start);
        if (!issuer.empty() && issuer.back() == '.') {
            issuer.remove_suffix(1);
        }
        out.issuer_domain.assign(issuer);
        c.skip_wsp();
    }
    // [";" *WSP [parameters *WSP]]
    if (c.at_end()) {
        out.well_formed = true;
        return out;
    }
    if (c.peek() != ';') {
        return malformed; // e.g. "ca.example extra" or "%%%%%"
    }
    ++c.pos;
    c.skip_wsp();
    if (c.at_end()) {
        out.well_formed = true;
        return out;
    }
    // parameters = (parameter *WSP ";" *WSP parameters) / parameter: after a ";" another parameter is required, so a
    // trailing ";" after the last parameter does not match.
    for (;;) {
        const std::size_t tag_start = c.pos;
        if (!c.consume_label()) {
            return malformed;
        }
        caa_parameter parameter;
        parameter.tag.assign(bytes.substr(tag_start, c.pos - tag_start));
        c.skip_wsp();
        if (c.at_end() || c.peek() != '=') {
            return malformed;
        }
        ++c.pos;
        c.skip_wsp();
        const std::size_t value_start = c.pos;
        while (!c.at_end() && is_value_char(c.peek())) {
            ++c.pos;
        }
        parameter.value.assign(bytes.substr(value_start, c.pos - value_start));
        out.parameters.push_back(std::move(parameter));
        c.skip_wsp();
        if (c.at_end()) {
            out.well_formed = true;
            return out;
        }
        if (c.peek() != ';') {
            return malformed; // a byte outside parameter-value (e.g. a control or non-ASCII byte)
        }
        ++c.pos;
        c.skip_wsp();
        if (c.at_end()) {
            return malformed;
        }
    }
}

bool caa_issuer_matches(std::string_view record_issuer, std::string_view configured) noexcept {
    auto strip = [](std::string_view name) {
        if (!name.empty() && name.back() == '.') {
            name.remove_suffix(1);
        }
        return name;
    };
    record_issuer = strip(record_issuer);
    configured = strip(configured);
    // Standards §7.3 (follow the RFC where Boulder is stricter): DNS names compare case-insensitively (RFC 4343), so
    // "OurCA.Example" in a record names the same issuer as the configured "ourca.example" (conformance case C35).
    return !record_issuer.empty() && core::ascii_iequals(record_issuer, configured);
}

std::optional<std::vector<std::string_view>> parse_validation_methods(std::string_view value) {
    // RFC 8657 §4: value = [*(label ",") label]; label = 1*(ALPHA / DIGIT / "-"). An empty value is an empty list.
    std::vector<std::string_view> labels;
    if (value.empty()) {
        return labels;
    }
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = value.find(',', start);
        const std::string_view label =
            value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (label.empty()) {
            return std::nullopt; // ",dns-01", "dns-01,", "a,,b"
        }
        for (const char ch : label) {
            if (!is_alnum(ch) && ch != '-') {
                return std::nullopt;
            }
        }
        labels.push_back(label);
        if (comma == std::string_view::npos) {
            return labels;
        }
        start = comma + 1;
    }
}

} // namespace mpic::validators
