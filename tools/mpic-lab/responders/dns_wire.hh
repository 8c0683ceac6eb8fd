#pragma once
// A minimal DNS wire-format (RFC 1035 §4) query reader and message builder for the lab's fault DNS responder.
// Deliberately independent of net/dns (the engine's reader): the lab must not share bugs with what it tests.
// The builder never compresses names, so every message it emits is easy to reason about byte by byte; the
// hostile shapes (pointer loops, bad counts) are produced explicitly by the responder.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/mpic-lab/responders/responder_config.hh"

namespace mpic::lab::responders::dns {

using bytes = std::vector<std::uint8_t>;

inline constexpr std::uint16_t flag_qr = 0x8000;
inline constexpr std::uint16_t flag_aa = 0x0400;
inline constexpr std::uint16_t flag_tc = 0x0200;
inline constexpr std::uint16_t flag_rd = 0x0100;
inline constexpr std::uint16_t type_opt = 41;
inline constexpr std::uint16_t type_any = 255;
inline constexpr std::size_t header_size = 12;
/// Largest message the builder produces: what a TCP length prefix can carry (RFC 1035 §4.2.2).
inline constexpr std::size_t max_message_size = 65535;

enum rcode : std::uint8_t { noerror = 0, formerr = 1, servfail = 2, nxdomain = 3, notimp = 4, refused = 5 };

/// A parsed query. Invariant: qname is in presentation form without the trailing dot ("" = root), lower case only
/// if the query was; question_end is the offset just past the question section.
struct query {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;
    std::string qname;
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;
    bool edns = false;                 ///< an OPT record was present in the additional section
    std::uint16_t edns_udp_size = 512; ///< the OPT's advertised size (>= 512), else 512
    bytes question;                    ///< the question section exactly as received (QNAME, QTYPE, QCLASS)
};

/// Parses a query: QR=0, QDCOUNT=1, an uncompressed QNAME; reads an OPT from the additional section if it is the
/// first additional record. Never reads outside [data, data+len). nullopt if any of that does not hold.
std::optional<query> parse_query(const std::uint8_t* data, std::size_t len);

/// "A" -> 1 ... for the types the lab serves (A AAAA CNAME NS PTR MX TXT CAA SOA ANY); nullopt otherwise.
std::optional<std::uint16_t> type_from_string(std::string_view name);
/// 1 -> "A"; unknown types as "TYPE<n>" (RFC 3597 §5).
std::string type_to_string(std::uint16_t type);

/// Appends `name` (presentation form, trailing dot optional) as uncompressed labels. False (and `out` unchanged)
/// if a label is empty or > 63 octets or the name is > 255 octets (RFC 1035 §2.3.4).
bool append_name(bytes& out, std::string_view name);

/// RDATA of a configured record (RFC 1035 §3.3/§3.4, RFC 3596, RFC 8659 §4.1); nullopt if the value does not fit.
std::optional<bytes> rdata_for(const dns_record& record);

/// Builds a message section by section, in order: question, then answer, authority, additional records.
class message_builder {
public:
    /// Header with `id` and `flags` (including the RCODE in the low 4 bits); counts start at zero.
    message_builder(std::uint16_t id, std::uint16_t flags);
    /// Precondition: no record added yet. False if the name does not encode.
    bool add_question(std::string_view name, std::uint16_t type, std::uint16_t qclass = 1);
    /// Appends an already-encoded question (query::question). Precondition: no record added yet.
    void add_raw_question(const bytes& question);
    /// Appends a record to section 1 (answer), 2 (authority) or 3 (additional). False (message unchanged) if the
    /// name does not encode or the message would exceed max_message_size.
    bool add_record(int section, std::string_view name, std::uint16_t type, std::uint32_t ttl, const bytes& rdata,
                    std::uint16_t rclass = 1);
    /// Appends an OPT pseudo-record (RFC 6891 §6.1.2) advertising `udp_size`, to the additional section. False
    /// (message unchanged) if it would exceed max_message_size.
    bool add_opt(std::uint16_t udp_size);
    /// Overwrites a header count (0 QD, 1 AN, 2 NS, 3 AR) with an arbitrary value (for hostile messages).
    void set_count(int section, std::uint16_t value);
    /// The message so far.
    const bytes& data() const noexcept { return _buf; }
    bytes take() && { return std::move(_buf); }

private:
    void bump(int section);
    bytes _buf;
};

/// Reads the 16-bit value at offset (caller guarantees offset + 2 <= size).
inline std::uint16_t read_u16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((std::uint16_t{p[0]} << 8) | p[1]);
}

} // namespace mpic::lab::responders::dns
