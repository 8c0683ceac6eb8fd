#pragma once
// A table-driven front for the net tests' fake_dns_server (tests/net/dns): answers A/AAAA for the names a check
// test registers, NXDOMAIN for the rest, and records the questions asked ("name/qtype").

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "tests/net/dns/fake_dns_server.hh"

namespace mpic::test {

/// What the responder answers for one name (lowercase, no trailing dot).
struct dns_entry {
    std::uint16_t rcode = 0;
    std::vector<std::string> a;
    std::vector<std::string> aaaa;
};

class fake_dns {
public:
    fake_dns();
    fake_dns(const fake_dns&) = delete;
    fake_dns& operator=(const fake_dns&) = delete;

    /// Sets the answer for `name`. Unknown names get NXDOMAIN.
    void set(const std::string& name, dns_entry entry);
    std::uint16_t port() const { return _server.port(); }
    /// Questions received so far, as "name/qtype".
    std::vector<std::string> queries() const;

private:
    mutable std::mutex _mutex;
    std::map<std::string, dns_entry> _entries;
    dns::fake_dns_server _server; // last: its thread calls the handler, which reads _entries
};

} // namespace mpic::test
