// Text around the DNS message reader: mnemonics, presentation form (what api.md's `records_seen` shows) and the
// CNAME/DNAME chain walk validators report as `cname_chain`.

#include <algorithm>
#include <arpa/inet.h>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/ascii.hh"
#include "net/dns/message.hh"

namespace mpic::net::dns {
namespace {

class alias_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "dns-alias"; }
    std::string message(int code) const override {
        switch (static_cast<alias_error>(code)) {
        case alias_error::loop:
            return "CNAME/DNAME chain loops";
        case alias_error::too_long:
            return "CNAME/DNAME chain longer than the cap";
        case alias_error::name_too_long:
            return "DNAME substitution yields a name longer than 255 octets";
        }
        return "unknown alias error " + std::to_string(code);
    }
};

void append_decimal_escape(std::string& out, std::uint8_t c) {
    out.push_back('\\');
    out.push_back(static_cast<char>('0' + c / 100));
    out.push_back(static_cast<char>('0' + (c / 10) % 10));
    out.push_back(static_cast<char>('0' + c % 10));
}

/// Octets of a text name in wire form (length bytes + labels + root), counting "\DDD" as one octet.
std::size_t wire_length(std::string_view text) {
    if (text.empty()) {
        return 1;
    }
    std::size_t octets = 2; // first length byte + root
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size()) {
            i += 3; // "\DDD" is one octet
        }
        ++octets; // one label octet, or for '.' the next label's length byte
    }
    return octets;
}

/// True if `ancestor` is a proper ancestor of `name` (both text names). The root ("") is everyone's ancestor.
bool is_proper_ancestor(std::string_view ancestor, std::string_view name) {
    if (ancestor.empty()) {
        return !name.empty();
    }
    return name.size() > ancestor.size() + 1 && name.ends_with(ancestor) &&
           name[name.size() - ancestor.size() - 1] == '.';
}

} // namespace

const std::error_category& alias_category() noexcept {
    static const alias_error_category category;
    return category;
}

std::string type_name(std::uint16_t type) {
    switch (static_cast<rr_type>(type)) {
    case rr_type::a:
        return "A";
    case rr_type::ns:
        return "NS";
    case rr_type::cname:
        return "CNAME";
    case rr_type::soa:
        return "SOA";
    case rr_type::ptr:
        return "PTR";
    case rr_type::mx:
        return "MX";
    case rr_type::txt:
        return "TXT";
    case rr_type::aaaa:
        return "AAAA";
    case rr_type::dname:
        return "DNAME";
    case rr_type::opt:
        return "OPT";
    case rr_type::ds:
        return "DS";
    case rr_type::rrsig:
        return "RRSIG";
    case rr_type::caa:
        return "CAA";
    }
    return "TYPE" + std::to_string(type); // RFC 3597 §5
}

std::string rcode_name(std::uint16_t code) {
    switch (static_cast<rcode>(code)) {
    case rcode::noerror:
        return "NOERROR";
    case rcode::formerr:
        return "FORMERR";
    case rcode::servfail:
        return "SERVFAIL";
    case rcode::nxdomain:
        return "NXDOMAIN";
    case rcode::notimp:
        return "NOTIMP";
    case rcode::refused:
        return "REFUSED";
    case rcode::yxdomain:
        return "YXDOMAIN";
    case rcode::yxrrset:
        return "YXRRSET";
    case rcode::nxrrset:
        return "NXRRSET";
    case rcode::notauth:
        return "NOTAUTH";
    case rcode::notzone:
        return "NOTZONE";
    case rcode::badvers:
        return "BADVERS";
    case rcode::badcookie:
        return "BADCOOKIE";
    }
    return "RCODE" + std::to_string(code);
}

std::string_view extended_error_name(std::uint16_t info_code) {
    // RFC 8914 §4 (0-24) and the IANA "Extended DNS Error Codes" registry additions (25-29).
    static constexpr std::string_view names[] = {
        "Other Error",
        "Unsupported DNSKEY Algorithm",
        "Unsupported DS Digest Type",
        "Stale Answer",
        "Forged Answer",
        "DNSSEC Indeterminate",
        "DNSSEC Bogus",
        "Signature Expired",
        "Signature Not Yet Valid",
        "DNSKEY Missing",
        "RRSIGs Missing",
        "No Zone Key Bit Set",
        "NSEC Missing",
        "Cached Error",
        "Not Ready",
        "Blocked",
        "Censored",
        "Filtered",
        "Prohibited",
        "Stale NXDOMAIN Answer",
        "Not Authoritative",
        "Not Supported",
        "No Reachable Authority",
        "Network Error",
        "Invalid Data",
        "Signature Expired before Valid",
        "Too Early",
        "Unsupported NSEC3 Iterations Value",
        "Unable to conform to policy",
        "Synthesized",
    };
    return info_code < std::size(names) ? names[info_code] : std::string_view("Unknown");
}

std::string extended_error::to_string() const {
    std::string out(extended_error_name(info_code));
    out += " (" + std::to_string(info_code) + ")";
    if (!extra_text.empty()) {
        out += ": ";
        for (unsigned char c : extra_text) {
            if (c >= 0x20 && c < 0x7F && c != '\\') {
                out.push_back(static_cast<char>(c));
            } else {
                append_decimal_escape(out, c); // network text: never let control bytes reach logs verbatim
            }
        }
    }
    return out;
}

std::string canonical_name(std::string_view text) {
    if (!text.empty() && text.back() == '.') {
        text.remove_suffix(1);
    }
    return core::ascii_lower(text);
}

std::string quote_string(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() + 2);
    out.push_back('"');
    for (unsigned char c : bytes) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c >= 0x20 && c < 0x7F) {
            out.push_back(static_cast<char>(c));
        } else {
            append_decimal_escape(out, c); // RFC 1035 §5.1 \DDD
        }
    }
    out.push_back('"');
    return out;
}

std::string rdata_to_string(const record& rr) {
    if (const auto* a = rr.as<a_rdata>()) {
        char buf[INET_ADDRSTRLEN];
        return inet_ntop(AF_INET, a->address.data(), buf, sizeof buf) ? buf : "";
    }
    if (const auto* a = rr.as<aaaa_rdata>()) {
        char buf[INET6_ADDRSTRLEN]; // glibc's inet_ntop follows RFC 5952 §4 (lowercase, longest run, no lone ::)
        return inet_ntop(AF_INET6, a->address.data(), buf, sizeof buf) ? buf : "";
    }
    if (const auto* n = rr.as<name_rdata>()) {
        return n->target + ".";
    }
    if (const auto* t = rr.as<txt_rdata>()) {
        std::string out;
        for (const auto& s : t->strings) {
            if (!out.empty()) {
                out.push_back(' ');
            }
            out += quote_string(s);
        }
        return out;
    }
    if (const auto* caa = rr.as<caa_rdata>()) {
        // RFC 8659 §4.1.1: "<flags> <tag> <value>"; the tag is alphanumeric when well formed, escaped otherwise.
        std::string out = std::to_string(caa->flags) + " ";
        for (unsigned char c : caa->tag) {
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
                out.push_back(static_cast<char>(c));
            } else {
                append_decimal_escape(out, c);
            }
        }
        return out + " " + quote_string(caa->value);
    }
    // RFC 3597 §5: the generic encoding for a type we do not decode.
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\\# " + std::to_string(rr.rdata.size());
    if (!rr.rdata.empty()) {
        out.push_back(' ');
        for (unsigned char c : rr.rdata) {
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0x0F]);
        }
    }
    return out;
}

std::string to_string(const record& rr) {
    const std::string klass = rr.rr_class == class_in ? "IN" : "CLASS" + std::to_string(rr.rr_class);
    return rr.name + ". " + std::to_string(rr.ttl) + " " + klass + " " + type_name(rr.type) + " " + rdata_to_string(rr);
}

std::vector<std::string> alias_chain::names(std::string_view qname) const {
    std::vector<std::string> out;
    out.push_back(canonical_name(qname));
    for (const auto& s : steps) {
        out.push_back(s.to);
    }
    return out;
}

result<alias_chain> follow_aliases(const message& msg, std::string_view qname, std::size_t max_steps) {
    // Fast path, the common case: no alias in the answer at all, so nothing to index.
    const bool any_alias = std::any_of(msg.answers.begin(), msg.answers.end(),
                                       [](const record& rr) { return rr.is(rr_type::cname) || rr.is(rr_type::dname); });
    if (!any_alias) {
        alias_chain chain;
        chain.final_name = canonical_name(qname);
        return chain;
    }
    // Index once so a hostile answer with thousands of records costs O(n), not O(n * steps).
    struct alias_rr {
        const std::string* owner;
        const std::string* target;
    };
    std::unordered_map<std::string_view, const std::string*> cnames;
    std::vector<alias_rr> dnames;
    for (const auto& rr : msg.answers) {
        const auto* data = rr.as<name_rdata>();
        if (rr.rr_class != class_in || data == nullptr) {
            continue;
        }
        if (rr.is(rr_type::cname)) {
            // First wins: two CNAMEs at one owner are illegal (RFC 1034 §3.6.2), so which one we take is moot.
            cnames.emplace(rr.name, &data->target);
        } else if (rr.is(rr_type::dname)) {
            dnames.push_back({&rr.name, &data->target});
        }
    }

    alias_chain chain;
    chain.final_name = canonical_name(qname);
    std::unordered_set<std::string> seen{chain.final_name};
    for (;;) {
        alias_step step;
        step.from = chain.final_name;
        if (auto it = cnames.find(chain.final_name); it != cnames.end()) {
            step.to = *it->second;
            step.via = rr_type::cname;
        } else {
            // RFC 6672 §3.2: a DNAME at a proper ancestor redirects the whole subtree; the closest ancestor wins.
            const alias_rr* best = nullptr;
            for (const auto& d : dnames) {
                if (is_proper_ancestor(*d.owner, chain.final_name) &&
                    (!best || d.owner->size() > best->owner->size())) {
                    best = &d;
                }
            }
            if (best == nullptr) {
                return chain;
            }
            const std::string& owner = *best->owner;
            const std::string& target = *best->target;
            std::string prefix = chain.final_name.substr(0, owner.empty() ? chain.final_name.size()
                                                                          : chain.final_name.size() - owner.size() - 1);
            step.to = target.empty() ? prefix : prefix + "." + target;
            step.via = rr_type::dname;
            if (wire_length(step.to) > 255) {
                return alias_error::name_too_long;
            }
        }
        if (chain.steps.size() >= max_steps) {
            return alias_error::too_long;
        }
        if (!seen.insert(step.to).second) {
            return alias_error::loop;
        }
        chain.final_name = step.to;
        chain.steps.push_back(std::move(step));
    }
}

std::vector<const record*> records_at(const message& msg, std::string_view owner, std::uint16_t type) {
    // Canonicalise only when needed (the usual caller passes chain.final_name, already canonical).
    const bool canonical = (owner.empty() || owner.back() != '.') &&
                           std::none_of(owner.begin(), owner.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    std::string copy;
    if (!canonical) {
        copy = canonical_name(owner);
        owner = copy;
    }
    std::vector<const record*> out;
    for (const auto& rr : msg.answers) {
        if (rr.rr_class == class_in && rr.type == type && rr.name == owner) {
            out.push_back(&rr);
        }
    }
    return out;
}

} // namespace mpic::net::dns
