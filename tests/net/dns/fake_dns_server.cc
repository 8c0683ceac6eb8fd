#include "tests/net/dns/fake_dns_server.hh"

#include <arpa/inet.h>
#include <cerrno>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include "net/dns/message.hh"

namespace mpic::test::dns {
namespace {

void write_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
            return; // the client went away; nothing to do in a test server
        }
        off += static_cast<std::size_t>(n);
    }
}

std::string peer_text(const sockaddr_in& sa) {
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &sa.sin_addr, buf, sizeof buf);
    return buf;
}

} // namespace

packet response_to(const request& r) {
    packet p;
    p.id = r.id;
    p.rd = r.rd;
    p.ra = true;
    p.questions = {{r.qname, r.qtype}};
    p.edns = r.edns;
    p.do_bit = r.do_bit;
    return p;
}

fake_dns_server::fake_dns_server() {
    // UDP first on port 0, then TCP on the same port; retry if another process holds that TCP port.
    for (int attempt = 0; attempt < 50 && _port == 0; ++attempt) {
        _udp = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = 0;
        if (::bind(_udp, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
            throw std::runtime_error("fake_dns_server: udp bind failed");
        }
        socklen_t len = sizeof sa;
        ::getsockname(_udp, reinterpret_cast<sockaddr*>(&sa), &len);
        _tcp = ::socket(AF_INET, SOCK_STREAM, 0);
        const int one = 1;
        ::setsockopt(_tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(_tcp, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(_tcp, 16) == 0) {
            _port = ntohs(sa.sin_port);
        } else {
            ::close(_udp);
            ::close(_tcp);
            _udp = _tcp = -1;
        }
    }
    if (_port == 0 || ::pipe(_wake) != 0) {
        throw std::runtime_error("fake_dns_server: no port");
    }
    _thread = std::thread([this] { serve(); });
}

fake_dns_server::~fake_dns_server() {
    const char c = 'x';
    (void)!::write(_wake[1], &c, 1);
    _thread.join();
    ::close(_wake[0]);
    ::close(_wake[1]);
    ::close(_udp);
    ::close(_tcp);
}

void fake_dns_server::set_handler(handler h) {
    std::lock_guard lock(_mutex);
    _handler = std::move(h);
}

std::vector<request> fake_dns_server::requests() const {
    std::lock_guard lock(_mutex);
    return _requests;
}

std::size_t fake_dns_server::request_count() const {
    std::lock_guard lock(_mutex);
    return _requests.size();
}

void fake_dns_server::handle(const std::string& wire, bool tcp, const std::string& peer, std::uint16_t peer_port,
                             std::vector<std::string>& out) {
    net::dns::parse_limits as_server;
    as_server.require_response = false;
    auto m =
        net::dns::parse_message(std::span(reinterpret_cast<const std::uint8_t*>(wire.data()), wire.size()), as_server);
    request r;
    r.wire = wire;
    r.tcp = tcp;
    r.peer = peer;
    r.peer_port = peer_port;
    if (m) {
        r.id = m->hdr.id;
        r.rd = m->hdr.rd;
        if (!m->questions.empty()) {
            r.qname = m->questions[0].name;
            r.qtype = m->questions[0].type;
        }
        if (m->opt) {
            r.edns = true;
            r.do_bit = m->opt->dnssec_ok;
            r.udp_size = m->opt->udp_payload_size;
        }
    }
    handler h;
    {
        std::lock_guard lock(_mutex);
        _requests.push_back(r);
        h = _handler;
    }
    if (!m || !h) {
        return;
    }
    reply rep = h(r);
    for (auto& msg : rep.messages) {
        if (!rep.keep_id && msg.size() >= 2) {
            msg[0] = static_cast<char>(r.id >> 8);
            msg[1] = static_cast<char>(r.id & 0xFF);
        }
        out.push_back(std::move(msg));
    }
}

void fake_dns_server::serve() {
    std::map<int, std::string> clients; // TCP connections and their unread bytes
    for (;;) {
        std::vector<pollfd> fds = {{_wake[0], POLLIN, 0}, {_udp, POLLIN, 0}, {_tcp, POLLIN, 0}};
        for (const auto& [fd, buf] : clients) {
            fds.push_back({fd, POLLIN, 0});
        }
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (fds[0].revents != 0) {
            break;
        }
        if (fds[1].revents & POLLIN) {
            std::string buf(65536, '\0');
            sockaddr_in from{};
            socklen_t len = sizeof from;
            const ssize_t n = ::recvfrom(_udp, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n > 0) {
                buf.resize(static_cast<std::size_t>(n));
                std::vector<std::string> out;
                handle(buf, false, peer_text(from), ntohs(from.sin_port), out);
                for (const auto& msg : out) {
                    ::sendto(_udp, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
                }
            }
        }
        if (fds[2].revents & POLLIN) {
            const int c = ::accept(_tcp, nullptr, nullptr);
            if (c >= 0) {
                clients.emplace(c, std::string());
            }
        }
        for (std::size_t i = 3; i < fds.size(); ++i) {
            if (fds[i].revents == 0) {
                continue;
            }
            const int fd = fds[i].fd;
            char chunk[4096];
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                ::close(fd);
                clients.erase(fd);
                continue;
            }
            std::string& buf = clients[fd];
            buf.append(chunk, static_cast<std::size_t>(n));
            // RFC 1035 §4.2.2: each message is preceded by a two-octet length.
            while (buf.size() >= 2) {
                const std::size_t len = (static_cast<std::uint8_t>(buf[0]) << 8) | static_cast<std::uint8_t>(buf[1]);
                if (buf.size() < 2 + len) {
                    break;
                }
                const std::string msg = buf.substr(2, len);
                buf.erase(0, 2 + len);
                sockaddr_in from{};
                socklen_t flen = sizeof from;
                ::getpeername(fd, reinterpret_cast<sockaddr*>(&from), &flen);
                std::vector<std::string> out;
                handle(msg, true, peer_text(from), ntohs(from.sin_port), out);
                for (const auto& o : out) {
                    write_all(fd, u16(static_cast<std::uint16_t>(o.size())) + o);
                }
            }
        }
    }
    for (const auto& [fd, buf] : clients) {
        ::close(fd);
    }
}

} // namespace mpic::test::dns
