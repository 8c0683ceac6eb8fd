#pragma once
// The fault DNS responder's decision function: query bytes + client address -> what to send and when. Kept free of
// sockets so unit tests can check each behaviour's bytes; faultdns_main.cc does the I/O.

#include <cstdint>
#include <string>

#include "tools/mpic-lab/responders/dns_wire.hh"
#include "tools/mpic-lab/responders/responder_config.hh"

namespace mpic::lab::responders::dns {

/// What to do with one query. Invariant: if drop, message is empty.
struct reply {
    bool drop = false;
    std::uint32_t delay_ms = 0; ///< wait this long before sending
    bytes message;              ///< the reply exactly as it goes on the wire (without the TCP length prefix)
};

/// The rule for (qname, qtype, peer): per-perspective rules first, then default rules; nullptr if none.
const dns_rule* match_rule(const dns_config& config, const query& q, const std::string& peer);

/// Decides the reply to the query in [data, data+len) received from `peer` over UDP (tcp=false) or TCP.
/// Unparseable input: FORMERR if it has a full header and QR=0, else drop. UDP replies larger than the client's
/// limit (512, or its EDNS size) are replaced by TC=1 (RFC 1035 §4.2.1, RFC 6891 §7) except for oversized_txt.
reply respond(const dns_config& config, const std::uint8_t* data, std::size_t len, const std::string& peer, bool tcp);

} // namespace mpic::lab::responders::dns
