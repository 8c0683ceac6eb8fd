#include "tests/validators/http/fake_dns.hh"

namespace mpic::test {

fake_dns::fake_dns() {
    _server.set_handler([this](const dns::request& request) {
        auto reply = dns::response_to(request);
        std::lock_guard lock(_mutex);
        const auto it = _entries.find(request.qname);
        if (it == _entries.end()) {
            reply.rcode = 3; // NXDOMAIN
            return dns::reply::with(reply.build());
        }
        reply.rcode = it->second.rcode;
        if (request.qtype == 1) {
            for (const auto& a : it->second.a) {
                reply.answers.push_back(dns::a(request.qname, a));
            }
        } else if (request.qtype == 28) {
            for (const auto& aaaa : it->second.aaaa) {
                reply.answers.push_back(dns::aaaa(request.qname, aaaa));
            }
        }
        return dns::reply::with(reply.build());
    });
}

void fake_dns::set(const std::string& name, dns_entry entry) {
    std::lock_guard lock(_mutex);
    _entries[name] = std::move(entry);
}

std::vector<std::string> fake_dns::queries() const {
    std::vector<std::string> out;
    for (const auto& r : _server.requests()) {
        out.push_back(r.qname + "/" + std::to_string(r.qtype));
    }
    return out;
}

} // namespace mpic::test
