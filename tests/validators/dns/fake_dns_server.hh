#pragma once
// A tiny scripted DNS server on 127.0.0.1:<ephemeral>/UDP, on the test's own libuv loop, for driving the DNS checks
// through the real resolver (c-ares) without any network beyond loopback. A handler maps each question to a reply
// (records, RCODE, AD, EDE) or to silence (a timeout). Every question is logged so tests can assert what was asked.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <uv.h>

namespace mpic::test {

/// One answer RR with ready-made rdata (owner in dotted form).
struct fake_rr {
    std::string owner;
    std::uint16_t type = 1;
    std::string rdata;
    std::uint32_t ttl = 60;
};
fake_rr txt_rr(std::string owner, const std::vector<std::string>& strings);
fake_rr caa_rr(std::string owner, std::uint8_t flags, std::string_view tag, std::string_view value);
fake_rr cname_rr(std::string owner, std::string_view target);
fake_rr ptr_rr(std::string owner, std::string_view target);
fake_rr a_rr(std::string owner, std::string_view dotted_quad);
fake_rr aaaa_rr(std::string owner, std::string_view text);

/// What to send back for one question.
struct fake_reply {
    bool drop = false; ///< send nothing: the client times out
    std::uint8_t rcode = 0;
    bool ad = false;
    std::vector<fake_rr> answers;
    std::optional<std::uint16_t> ede_code; ///< RFC 8914 option in an OPT RR
    std::string ede_text;

    static fake_reply nodata() { return {}; }
    static fake_reply rcode_only(std::uint8_t code) {
        fake_reply reply;
        reply.rcode = code;
        return reply;
    }
    static fake_reply nxdomain() { return rcode_only(3); }
    static fake_reply servfail() { return rcode_only(2); }
    static fake_reply refused() { return rcode_only(5); }
    /// SERVFAIL with RFC 8914 EDE 6 "DNSSEC Bogus", as a validating resolver sends for an expired RRSIG.
    static fake_reply bogus() {
        fake_reply reply = rcode_only(2);
        reply.ede_code = 6;
        reply.ede_text = "signature expired";
        return reply;
    }
    static fake_reply silence() {
        fake_reply reply;
        reply.drop = true;
        return reply;
    }
    static fake_reply with(std::vector<fake_rr> records, bool ad = false) {
        fake_reply reply;
        reply.answers = std::move(records);
        reply.ad = ad;
        return reply;
    }
};

/// Scripted UDP DNS server. Use on the loop's thread; call close() and run the loop before uv_loop_close().
class fake_dns_server {
public:
    /// Receives the lowercase question name (no trailing dot) and QTYPE.
    using handler = std::function<fake_reply(const std::string& qname, std::uint16_t qtype)>;

    fake_dns_server(uv_loop_t* loop, handler on_query);
    ~fake_dns_server();
    fake_dns_server(const fake_dns_server&) = delete;
    fake_dns_server& operator=(const fake_dns_server&) = delete;

    std::uint16_t port() const noexcept { return _port; }
    /// Every question received, in order.
    const std::vector<std::pair<std::string, std::uint16_t>>& questions() const noexcept { return _questions; }
    /// Closes the socket (memory is released in the close callback).
    void close();

private:
    static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
    static void on_recv(uv_udp_t* udp, ssize_t nread, const uv_buf_t* buf, const struct sockaddr* from, unsigned flags);
    void answer(std::string_view query, const struct sockaddr* from);

    uv_udp_t* _udp = nullptr; ///< heap: freed in its close callback
    handler _on_query;
    std::uint16_t _port = 0;
    std::vector<std::pair<std::string, std::uint16_t>> _questions;
    std::array<char, 4096> _buffer{};
};

} // namespace mpic::test
