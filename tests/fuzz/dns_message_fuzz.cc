// libFuzzer target for net/dns/message: arbitrary bytes as a DNS response (c-ares test/ares-test-fuzz.c in
// spirit). The reader must never crash, read out of bounds or loop; whatever it accepts must satisfy the invariants
// message.hh promises, and everything downstream of it (presentation form, alias chains) must cope.
// Built only with -DMPIC_FUZZ=ON (clang). The reader's sources are compiled into this binary so libFuzzer sees their
// coverage.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "net/dns/message.hh"

namespace {

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

/// Text names (message.hh): lowercase, no empty label, at most 255 wire octets -> at most 4 * 253 text characters.
void check_name(const std::string& name) {
    require(name.size() <= 4 * 253);
    for (char c : name) {
        require(!(c >= 'A' && c <= 'Z'));
    }
    require(name.empty() || (name.front() != '.' && name.back() != '.'));
}

void check_records(const std::vector<mpic::net::dns::record>& rrs) {
    using namespace mpic::net::dns;
    for (const auto& rr : rrs) {
        check_name(rr.name);
        require(rr.rdata.size() <= 65535);
        if (const auto* t = rr.as<txt_rdata>()) {
            require(!t->strings.empty());
            for (const auto& s : t->strings) {
                require(s.size() <= 255);
            }
        }
        if (const auto* c = rr.as<caa_rdata>()) {
            require(!c->tag.empty() && c->tag.size() <= 255);
        }
        if (const auto* n = rr.as<name_rdata>()) {
            check_name(n->target);
        }
        const std::string text = to_string(rr);
        for (unsigned char c : rdata_to_string(rr)) {
            require(c >= 0x20 && c < 0x7F);  // presentation form is printable ASCII, whatever the bytes were
        }
        require(!text.empty());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mpic::net::dns;
    const std::span<const std::uint8_t> wire(data, size);
    parse_limits limits;
    limits.require_response = false;
    auto m = parse_message(wire, limits);
    if (!m) {
        require(m.error().category() == message_category());
        return 0;
    }
    require(m->questions.size() == m->hdr.qdcount);
    require(m->answers.size() == m->hdr.ancount);
    require(m->authority.size() == m->hdr.nscount);
    require(m->additional.size() + (m->opt ? 1u : 0u) == m->hdr.arcount);
    for (const auto& q : m->questions) {
        check_name(q.name);
    }
    check_records(m->answers);
    check_records(m->authority);
    check_records(m->additional);
    (void)m->extended_rcode();
    for (unsigned char c : m->extended_error_text()) {
        require(c >= 0x20 && c < 0x7F);
    }
    const std::string qname = m->questions.empty() ? std::string("x") : m->questions[0].name;
    if (auto chain = follow_aliases(*m, qname, 16)) {
        require(chain->steps.size() <= 16);
        (void)records_at(*m, chain->final_name, m->questions.empty() ? 1 : m->questions[0].type);
    } else {
        require(chain.error().category() == alias_category());
    }
    // The same bytes with a tight pointer budget must still terminate with a typed answer.
    parse_limits tight;
    tight.max_pointer_hops = 1;
    tight.max_records = 8;
    (void)parse_message(wire, tight);
    return 0;
}
