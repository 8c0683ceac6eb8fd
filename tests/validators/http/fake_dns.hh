#pragma once
// A tiny UDP DNS responder for check tests, bound to 127.0.0.1 port 0: answers A/AAAA from a table, with a chosen
// RCODE per name. One thread, poll() with a short tick, so destruction is prompt and every wait is bounded.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
    ~fake_dns();
    fake_dns(const fake_dns&) = delete;
    fake_dns& operator=(const fake_dns&) = delete;

    /// Sets the answer for `name`. Unknown names get NXDOMAIN.
    void set(const std::string& name, dns_entry entry);
    std::uint16_t port() const { return _port; }
    /// Questions received so far, as "name/type".
    std::vector<std::string> queries() const;

private:
    void loop();

    int _fd = -1;
    std::uint16_t _port = 0;
    std::atomic<bool> _stop{false};
    mutable std::mutex _mutex;
    std::map<std::string, dns_entry> _entries;
    std::vector<std::string> _queries;
    std::thread _thread;
};

} // namespace mpic::test
