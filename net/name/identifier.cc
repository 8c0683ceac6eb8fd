// Identifier parsing: the first thing every request meets, so it is strict and says precisely why it refuses.
// RFC 8555 §7.1.4 (identifiers are A-labels), RFC 8738 §3 (IP identifiers in canonical text), RFC 4343 (case),
// RFC 5890/5891 (IDNA2008, via libidn2 with UTS #46 non-transitional mapping), BR §3.2.2.6 (wildcards).

#include "net/name/identifier.hh"

#include <arpa/inet.h>
#include <cstdlib>
#include <memory>
#include <string>

#include <idn2.h>
#include <libpsl.h>

#include "core/ascii.hh"

namespace mpic::net {
namespace {

class identifier_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "identifier"; }
    std::string message(int code) const override {
        switch (static_cast<identifier_error>(code)) {
        case identifier_error::empty:
            return "identifier is empty";
        case identifier_error::too_long:
            return "domain name is longer than 253 octets";
        case identifier_error::label_too_long:
            return "domain name has a label longer than 63 octets";
        case identifier_error::empty_label:
            return "domain name has an empty label";
        case identifier_error::invalid_character:
            return "domain name contains an invalid character";
        case identifier_error::invalid_idna:
            return "domain name is not valid IDNA";
        case identifier_error::bad_wildcard:
            return "'*' is only allowed as the whole leftmost label";
        case identifier_error::wildcard_on_suffix:
            return "wildcard directly on a public suffix";
        case identifier_error::public_suffix:
            return "domain name is a public suffix";
        case identifier_error::invalid_ip:
            return "invalid IP address";
        }
        return "unknown identifier error " + std::to_string(code);
    }
};

constexpr std::size_t max_name = 253; // RFC 1035 §2.3.4 255 octets in wire form = 253 in text without the dot
constexpr std::size_t max_label = 63;

struct psl_deleter {
    void operator()(psl_ctx_t* p) const noexcept { psl_free(p); }
};

/// The PSL, loaded once: Debian's publicsuffix list (MPIC_PSL_FILE) if readable, else libpsl's built-in copy.
/// psl_builtin() returns a static context that must not be freed, hence the raw pointer at the end.
const psl_ctx_t* psl() {
    static const std::unique_ptr<psl_ctx_t, psl_deleter> loaded(psl_load_file(MPIC_PSL_FILE));
    static const psl_ctx_t* ctx = loaded ? loaded.get() : psl_builtin();
    return ctx;
}

/// Strict UTF-8 (RFC 3629 §4): no overlong forms, no surrogates, nothing above U+10FFFF, no NUL.
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == 0) {
            return false;
        }
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false; // continuation byte in lead position, C0/C1 overlong leads, F5..FF
        }
        if (i + n >= s.size()) { // the continuation bytes must all be present
            return false;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
            return false;
        }
        i += n + 1;
    }
    return true;
}

bool looks_like_ipv4(std::string_view s) {
    return s.find_first_of("0123456789") != std::string_view::npos &&
           s.find_first_not_of("0123456789.") == std::string_view::npos;
}

result<identifier> parse_ip(std::string_view text, bool bracketed) {
    const std::string copy(text);
    identifier id;
    id.kind = identifier::kind_t::ip;
    char buf[INET6_ADDRSTRLEN];
    unsigned char addr[16];
    if (!bracketed && inet_pton(AF_INET, copy.c_str(), addr) == 1) {
        // glibc's inet_pton accepts only dotted-quad decimal without leading zeros: already RFC 1123 §2.1 text.
        id.name = inet_ntop(AF_INET, addr, buf, sizeof buf);
        return id;
    }
    if (inet_pton(AF_INET6, copy.c_str(), addr) == 1) {
        id.name = inet_ntop(AF_INET6, addr, buf, sizeof buf); // RFC 5952 §4 canonical text
        id.is_ipv6 = true;
        return id;
    }
    return identifier_error::invalid_ip;
}

/// A-label check for a label with "--" in positions 3-4 (RFC 5891 §4.2.3.1 reserves them): it must be "xn--" and
/// survive decode + re-encode unchanged, which catches bad Punycode, non-NFC and DISALLOWED code points.
bool valid_a_label(const std::string& label) {
    if (label.rfind("xn--", 0) != 0) {
        return false;
    }
    char* unicode = nullptr;
    if (idn2_to_unicode_8z8z(label.c_str(), &unicode, 0) != IDN2_OK) {
        return false;
    }
    std::unique_ptr<char, decltype(&idn2_free)> u(unicode, &idn2_free);
    char* ascii = nullptr;
    if (idn2_to_ascii_8z(u.get(), &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK) {
        return false;
    }
    std::unique_ptr<char, decltype(&idn2_free)> a(ascii, &idn2_free);
    return label == a.get();
}

/// Checks every label of an ASCII name (lowercase already): lengths, LDH (RFC 1123 §2.1), A-labels.
result<void> check_labels(const std::string& name) {
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t dot = name.find('.', start);
        if (dot == std::string::npos) {
            dot = name.size();
        }
        const std::string label = name.substr(start, dot - start);
        if (label.empty()) {
            return identifier_error::empty_label;
        }
        if (label.size() > max_label) {
            return identifier_error::label_too_long;
        }
        for (char c : label) {
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
                return c == '*' ? identifier_error::bad_wildcard : identifier_error::invalid_character;
            }
        }
        if (label.size() >= 4 && label[2] == '-' && label[3] == '-' && !valid_a_label(label)) {
            return identifier_error::invalid_idna;
        }
        if (label.front() == '-' || label.back() == '-') {
            return identifier_error::invalid_character;
        }
        start = dot + 1;
    }
    return {};
}

} // namespace

const std::error_category& identifier_category() noexcept {
    static const identifier_error_category category;
    return category;
}

result<identifier> parse_identifier(std::string_view text) {
    if (text.empty()) {
        return identifier_error::empty;
    }
    if (!valid_utf8(text)) {
        return identifier_error::invalid_character; // includes embedded NUL
    }
    // IP literals first: RFC 8738 §3 identifiers of type "ip"; api.md allows IPv6 in brackets.
    if (text.front() == '[') {
        if (text.size() < 3 || text.back() != ']') {
            return identifier_error::invalid_ip;
        }
        return parse_ip(text.substr(1, text.size() - 2), true);
    }
    if (text.find(':') != std::string_view::npos || looks_like_ipv4(text)) {
        return parse_ip(text, false);
    }

    std::string name(text);
    if (name.back() == '.') {
        name.pop_back(); // one trailing dot: the absolute form of the same name
    }
    identifier id;
    if (name.rfind("*.", 0) == 0) {
        id.wildcard = true;
        name.erase(0, 2);
    }
    if (name.empty()) {
        return id.wildcard ? identifier_error::empty_label : identifier_error::empty;
    }

    bool ascii = true;
    for (char& c : name) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            ascii = false;
        } else {
            c = core::ascii_lower(c); // RFC 4343 §3: ASCII case is not significant
        }
    }
    if (!ascii) {
        // Empty labels and '*' first: libidn2 would report them as generic failures.
        if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string::npos) {
            return identifier_error::empty_label;
        }
        if (name.find('*') != std::string::npos) {
            return identifier_error::bad_wildcard;
        }
        char* out = nullptr;
        const int rc = idn2_to_ascii_8z(name.c_str(), &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        if (rc != IDN2_OK) {
            if (rc == IDN2_TOO_BIG_DOMAIN) {
                return identifier_error::too_long;
            }
            if (rc == IDN2_TOO_BIG_LABEL || rc == IDN2_PUNYCODE_BIG_OUTPUT) { // the A-label would exceed 63
                return identifier_error::label_too_long;
            }
            return identifier_error::invalid_idna;
        }
        std::unique_ptr<char, decltype(&idn2_free)> guard(out, &idn2_free);
        name = out;
        // UTS #46 maps case already; ASCII labels pass through untouched, so fold again.
        name = core::ascii_lower(name);
    }
    if (auto ok = check_labels(name); !ok) {
        return ok.error();
    }
    if (name.size() > max_name) {
        return identifier_error::too_long;
    }
    // BR §3.2.2.6: no wildcard immediately left of a registry-controlled or public suffix (either PSL section).
    if (id.wildcard && is_public_suffix(name, suffix_section::any)) {
        return identifier_error::wildcard_on_suffix;
    }
    // A bare ICANN suffix ("com", "co.uk", an unknown TLD) is not a domain anyone can validate. Private-section
    // suffixes (github.io) are registrable by their operator, so they pass.
    if (is_public_suffix(name, suffix_section::icann)) {
        return identifier_error::public_suffix;
    }
    id.kind = identifier::kind_t::dns;
    id.name = std::move(name);
    return id;
}

std::string reverse_name(const identifier& id) {
    unsigned char addr[16] = {};
    std::string out;
    if (!id.is_ipv6) {
        if (inet_pton(AF_INET, id.name.c_str(), addr) != 1) {
            return out; // precondition violated; an empty name never matches anything
        }
        for (int i = 3; i >= 0; --i) {
            out += std::to_string(addr[i]) + ".";
        }
        return out + "in-addr.arpa"; // RFC 1035 §3.5
    }
    if (inet_pton(AF_INET6, id.name.c_str(), addr) != 1) {
        return out;
    }
    static constexpr char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) { // RFC 3596 §2.5: nibbles, least significant first
        out.push_back(hex[addr[i] & 0x0F]);
        out.push_back('.');
        out.push_back(hex[addr[i] >> 4]);
        out.push_back('.');
    }
    return out + "ip6.arpa";
}

bool is_public_suffix(std::string_view name, suffix_section section) {
    const psl_ctx_t* ctx = psl();
    if (ctx == nullptr) {
        return true; // LCOV_EXCL_LINE: DefensiveCoding. No list at all: fail closed.
    }
    const std::string copy(name);
    return psl_is_public_suffix2(ctx, copy.c_str(), section == suffix_section::icann ? PSL_TYPE_ICANN : PSL_TYPE_ANY) !=
           0;
}

std::string registrable_domain(std::string_view name) {
    const psl_ctx_t* ctx = psl();
    if (ctx == nullptr) {
        return {}; // LCOV_EXCL_LINE: DefensiveCoding
    }
    const std::string copy(name);
    const char* r = psl_registrable_domain(ctx, copy.c_str());
    return r ? std::string(r) : std::string();
}

} // namespace mpic::net
