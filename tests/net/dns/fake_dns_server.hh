#pragma once
// An in-process DNS server for resolver tests, in the spirit of c-ares's test MockServer: real UDP and TCP sockets
// on 127.0.0.1 with one kernel-chosen port (never a fixed one), a programmable handler deciding each reply, and a
// record of every request with its transport and source address. It runs on its own thread with blocking poll(),
// so the resolver under test keeps its libuv loop to itself.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/net/dns/dns_packet.hh"

namespace mpic::test::dns {

/// One query as the server saw it.
struct request {
    std::string wire;
    std::uint16_t id = 0;
    std::string qname; ///< as parsed by net/dns (lowercase, no trailing dot)
    std::uint16_t qtype = 0;
    bool rd = false;
    bool edns = false;
    bool do_bit = false;
    std::uint16_t udp_size = 0;
    bool tcp = false;
    std::string peer; ///< source address of the query
    std::uint16_t peer_port = 0;
};

/// What to send back: zero or more messages, in order. Each gets the request's ID written into its first two
/// octets unless keep_id is set (to test that answers with a wrong ID are ignored).
struct reply {
    std::vector<std::string> messages;
    bool keep_id = false;

    static reply none() { return {}; }
    static reply with(std::string wire) { return {{std::move(wire)}, false}; }
};

using handler = std::function<reply(const request&)>;

/// A response skeleton for `r`: same ID and question, RD echoed, RA set, EDNS mirrored (with DO echoed).
packet response_to(const request& r);

class fake_dns_server {
public:
    /// Binds UDP and TCP on 127.0.0.1 at the same free port and starts serving. Default handler: no reply.
    fake_dns_server();
    ~fake_dns_server();
    fake_dns_server(const fake_dns_server&) = delete;
    fake_dns_server& operator=(const fake_dns_server&) = delete;

    std::uint16_t port() const noexcept { return _port; }
    void set_handler(handler h);
    std::vector<request> requests() const;
    std::size_t request_count() const;

private:
    void serve();
    void handle(const std::string& wire, bool tcp, const std::string& peer, std::uint16_t peer_port,
                std::vector<std::string>& out);

    int _udp = -1, _tcp = -1, _wake[2] = {-1, -1};
    std::uint16_t _port = 0;
    mutable std::mutex _mutex;
    handler _handler;
    std::vector<request> _requests;
    std::thread _thread;
};

} // namespace mpic::test::dns
