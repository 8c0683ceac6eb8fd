#pragma once
// A bounds-checked reader for DNS messages (RFC 1035 §4), written for hostile input: every count, length and
// compression pointer in the wire data is treated as a claim to be checked, never as a fact. c-ares 1.18 has no
// record API we could rely on (ares_dns_record_* arrived in 1.22), and validators need things its legacy
// ares_parse_*_reply functions drop (AD, extended RCODE, RFC 8914 EDE text, TXT strings per RR as bytes, DNAME).
//
// Names in this API are "text names": labels joined with '.', no trailing dot (the root is ""), ASCII letters
// lowercased (RFC 4343: DNS names compare case-insensitively, so one canonical spelling makes comparisons plain
// string compares), and any octet that is not a letter, digit, '-', '_' or '*' written as "\DDD" (RFC 1035 §5.1), with
// a
// '.' inside a label written as "\046". The mapping is injective, so two different wire names never collide.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "core/result.hh"

namespace mpic::net::dns {

/// Resource record types the reader decodes (IANA "Resource Record (RR) TYPEs"). Other values are valid too: the
/// record then keeps raw rdata. Use as a plain number with `static_cast<std::uint16_t>`.
enum class rr_type : std::uint16_t {
    a = 1,
    ns = 2,
    cname = 5,
    soa = 6,
    ptr = 12,
    mx = 15,
    txt = 16,
    aaaa = 28,
    dname = 39,
    opt = 41,
    ds = 43,
    rrsig = 46,
    caa = 257,
};
/// The mnemonic of a type ("TXT", "CAA", ...), or "TYPEnnn" (RFC 3597 §5) for one without a name here.
std::string type_name(std::uint16_t type);

/// The class IN (RFC 1035 §3.2.4); the only class the engine queries.
inline constexpr std::uint16_t class_in = 1;

/// Response codes, including the EDNS0 extended ones (RFC 6891 §6.1.3: 12 bits, the upper 8 from the OPT RR).
enum class rcode : std::uint16_t {
    noerror = 0,
    formerr = 1,
    servfail = 2,
    nxdomain = 3,
    notimp = 4,
    refused = 5,
    yxdomain = 6,
    yxrrset = 7,
    nxrrset = 8,
    notauth = 9,
    notzone = 10,
    badvers = 16,
    badcookie = 23,
};
/// The mnemonic of an RCODE ("NOERROR", "NXDOMAIN", ...), or "RCODEnnn" for an unassigned value.
std::string rcode_name(std::uint16_t code);

/// Why a message was refused by the reader. Each names the first rule the bytes broke.
enum class message_error {
    truncated = 1,    ///< the data ended inside the header, a name, a fixed field or an rdata
    bad_label_type,   ///< a label length byte with the reserved 0b10 prefix (RFC 6891 §5)
    bad_pointer,      ///< a compression pointer that does not point strictly backwards into the message
    pointer_loop,     ///< more compression pointers in one name than the hop limit allows
    label_too_long,   ///< a length byte of 64..127: more than 63 octets (RFC 1035 §2.3.4; the 0b01 extended
                      ///< label type of RFC 2671 is retired by RFC 6891 §5)
    name_too_long,    ///< a name of more than 255 octets in wire form (RFC 1035 §2.3.4)
    bad_rdata,        ///< an rdata whose content does not fit its type (A not 4 octets, CAA tag length 0, ...)
    too_many_records, ///< more records than parse_limits allows
    not_a_response,   ///< QR=0 (RFC 8659 §6.2 lists such replies among broken middlebox behaviour)
    bad_opt,          ///< more than one OPT RR, an OPT outside the additional section, or a bad option
};
const std::error_category& message_category() noexcept;
inline std::error_code make_error_code(message_error e) noexcept {
    return {static_cast<int>(e), message_category()};
}

/// Header fields (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD/CD). `rcode` is the 4-bit header value only; see
/// message::extended_rcode() for the full one.
struct header {
    std::uint16_t id = 0;
    bool qr = false; ///< response
    std::uint8_t opcode = 0;
    bool aa = false; ///< authoritative answer
    bool tc = false; ///< truncated: never act on such an answer (the resolver retries over TCP)
    bool rd = false; ///< recursion desired
    bool ra = false; ///< recursion available
    bool ad = false; ///< authentic data: the (validating) resolver says the answer was DNSSEC-validated
    bool cd = false; ///< checking disabled
    std::uint8_t rcode = 0;
    std::uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0; ///< as claimed on the wire
};

/// One entry of the question section (RFC 1035 §4.1.2).
struct question {
    std::string name; ///< text name (see top of file)
    std::uint16_t type = 0;
    std::uint16_t qclass = 0;
};

/// A (RFC 1035 §3.4.1): exactly 4 octets, network order.
struct a_rdata {
    std::array<std::uint8_t, 4> address{};
};
/// AAAA (RFC 3596 §2.2): exactly 16 octets, network order.
struct aaaa_rdata {
    std::array<std::uint8_t, 16> address{};
};
/// CNAME, DNAME, PTR, NS: one domain name (compression allowed for CNAME/PTR/NS, tolerated for DNAME).
struct name_rdata {
    std::string target; ///< text name
};
/// TXT (RFC 1035 §3.3.14): the character-strings of ONE record, in order, as raw bytes (not necessarily UTF-8).
/// Invariant: every string is at most 255 octets; an RR has at least one string.
struct txt_rdata {
    std::vector<std::string> strings;
    /// The strings concatenated: what RFC 8555 §8.4 and Boulder compare (one RR = one value).
    std::string joined() const;
};
/// CAA (RFC 8659 §4.1): flags, tag and value as raw bytes. Invariant: 1 <= tag.size() <= 255. The tag is NOT
/// lowercased or validated here; that is the CAA validator's job (RFC 8659 §4.1: "Tag ... case-insensitive").
struct caa_rdata {
    std::uint8_t flags = 0;
    std::string tag;
    std::string value;
    bool critical() const noexcept { return (flags & 0x80) != 0; } ///< RFC 8659 §4.1 Issuer Critical Flag
};
/// Any other type: rdata kept as bytes (names inside are NOT decompressed, so do not interpret them).
struct raw_rdata {};

using rdata_variant = std::variant<raw_rdata, a_rdata, aaaa_rdata, name_rdata, txt_rdata, caa_rdata>;

/// One resource record. `data` holds the decoded form for A, AAAA, CNAME, DNAME, PTR, NS, TXT and CAA (and raw_rdata
/// for the rest); `rdata` always holds the bytes as they were on the wire.
struct record {
    std::string name; ///< owner, text name
    std::uint16_t type = 0;
    std::uint16_t rr_class = 0;
    std::uint32_t ttl = 0;
    std::string rdata; ///< the wire rdata, verbatim (compression pointers in it are not expanded)
    rdata_variant data;

    bool is(rr_type t) const noexcept { return type == static_cast<std::uint16_t>(t); }
    /// The decoded rdata, or nullptr if this record's type decodes to something else.
    template <class T>
    const T* as() const noexcept {
        return std::get_if<T>(&data);
    }
};

/// RFC 8914 Extended DNS Error option (EDNS option code 15).
struct extended_error {
    std::uint16_t info_code = 0;
    std::string extra_text; ///< raw bytes (the RFC says UTF-8, but it comes from the network)
    /// "<INFO-CODE name> (<code>): <extra text>", e.g. "DNSSEC Bogus (6): signature expired"; printable ASCII only.
    std::string to_string() const;
};
/// The name of an RFC 8914 §4 INFO-CODE ("DNSSEC Bogus"), or "Unknown" for an unassigned one.
std::string_view extended_error_name(std::uint16_t info_code);

/// The OPT pseudo-RR (RFC 6891 §6.1).
struct edns {
    std::uint16_t udp_payload_size = 0;
    std::uint8_t extended_rcode_high = 0; ///< upper 8 bits of the 12-bit RCODE
    std::uint8_t version = 0;
    bool dnssec_ok = false;
    std::vector<extended_error> extended_errors; ///< RFC 8914; a message may carry several
};

/// Caps the reader enforces on top of the wire format's own limits.
struct parse_limits {
    std::size_t max_records = 4096;    ///< total RRs over all sections
    std::size_t max_pointer_hops = 32; ///< compression pointers followed while reading one name
    bool require_response = true;      ///< refuse QR=0
};

/// A parsed message. Invariant: every field was read within the bounds of the input; counts in `hdr` were honoured
/// exactly (a message whose claimed counts exceed its data is refused, not partially read).
struct message {
    header hdr;
    std::vector<question> questions;
    std::vector<record> answers;
    std::vector<record> authority;
    std::vector<record> additional; ///< without the OPT RR (that is `opt`)
    std::optional<edns> opt;

    /// The full RCODE: header RCODE plus the OPT RR's upper bits (RFC 6891 §6.1.3).
    std::uint16_t extended_rcode() const noexcept;
    /// All EDE options joined with "; " (empty when none), for problem messages.
    std::string extended_error_text() const;
};

/// Parses one DNS message (without the TCP length prefix). Compression pointers may only point strictly backwards
/// (to an offset before the one being read), at most `limits.max_pointer_hops` per name; names are at most 255
/// octets in wire form. Trailing bytes after the last counted record are ignored (some middleboxes pad).
result<message> parse_message(std::span<const std::uint8_t> wire, const parse_limits& limits = {});

// ---- alias (CNAME/DNAME) chains --------------------------------------------------------------------------------

/// One step of an alias chain.
struct alias_step {
    std::string from;             ///< the name that was aliased
    std::string to;               ///< its target
    rr_type via = rr_type::cname; ///< cname, or dname (RFC 6672 §2.2 substitution of `from`'s suffix)
};

/// Why following aliases stopped early.
enum class alias_error {
    loop = 1,     ///< a name repeated: the chain is circular
    too_long,     ///< more than the cap of steps
    name_too_long ///< a DNAME substitution produced a name of more than 255 octets (RFC 6672 §2.2 YXDOMAIN case)
};
const std::error_category& alias_category() noexcept;
inline std::error_code make_error_code(alias_error e) noexcept {
    return {static_cast<int>(e), alias_category()};
}

/// The chain from a query name to the name whose records answer it, within ONE message's answer section.
struct alias_chain {
    std::vector<alias_step> steps; ///< in order; empty when the qname was not aliased
    std::string final_name;        ///< the last target (the qname when steps is empty)
    /// The names in order as api.md's `cname_chain` reports them: the qname then every target.
    std::vector<std::string> names(std::string_view qname) const;
};

/// Follows CNAME and DNAME records in `msg.answers` from `qname` (a text name or ordinary dotted name, any case,
/// optional trailing dot). A CNAME owned by the current name wins; otherwise a DNAME owned by a proper ancestor of
/// it is applied (RFC 6672 §3.2). Stops at the first name with neither. At most `max_steps` steps; a repeated name
/// is a loop. Only records of class IN count.
result<alias_chain> follow_aliases(const message& msg, std::string_view qname, std::size_t max_steps = 16);

/// The answer records owned by `owner` with type `type` (class IN), in message order. `owner` as in follow_aliases.
std::vector<const record*> records_at(const message& msg, std::string_view owner, std::uint16_t type);

/// `text` as a text name: lowercase ASCII, no trailing dot. Text names and ordinary LDH names pass through.
std::string canonical_name(std::string_view text);

// ---- presentation form (RFC 1035 §5.1) -------------------------------------------------------------------------

/// A character-string in presentation form: quoted, with '"' and '\' backslash-escaped and every octet outside
/// 0x20..0x7E written as "\DDD". Bytes are bytes: invalid UTF-8 is escaped, never rejected or replaced.
std::string quote_string(std::string_view bytes);

/// The rdata of a record in presentation form, as zone files and `dig +short` show it:
///   A "192.0.2.1"; AAAA RFC 5952 text; CNAME/DNAME/PTR/NS "target." (fully qualified);
///   TXT `"s1" "s2"` (one quoted string per character-string); CAA `0 issue "ca.example"` (RFC 8659 §4.1.1);
///   anything else RFC 3597 §5 `\# <len> <hex>`.
std::string rdata_to_string(const record& rr);

/// The whole record: "<owner>. <ttl> IN <TYPE> <rdata>".
std::string to_string(const record& rr);

} // namespace mpic::net::dns

template <>
struct std::is_error_code_enum<mpic::net::dns::message_error> : std::true_type {};
template <>
struct std::is_error_code_enum<mpic::net::dns::alias_error> : std::true_type {};
