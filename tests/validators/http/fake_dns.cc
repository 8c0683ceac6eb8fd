#include "tests/validators/http/fake_dns.hh"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/net/dns/dns_packet.hh"

namespace mpic::test {

fake_dns::fake_dns() {
    _fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (_fd < 0 || ::bind(_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        throw std::runtime_error("fake_dns bind");
    }
    socklen_t len = sizeof addr;
    ::getsockname(_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    _port = ntohs(addr.sin_port);
    _thread = std::thread([this] { loop(); });
}

fake_dns::~fake_dns() {
    _stop = true;
    _thread.join();
    ::close(_fd);
}

void fake_dns::set(const std::string& name, dns_entry entry) {
    std::lock_guard lock(_mutex);
    _entries[name] = std::move(entry);
}

std::vector<std::string> fake_dns::queries() const {
    std::lock_guard lock(_mutex);
    return _queries;
}

void fake_dns::loop() {
    unsigned char buf[4096];
    while (!_stop) {
        pollfd p{_fd, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) {
            continue;
        }
        sockaddr_storage peer{};
        socklen_t peer_len = sizeof peer;
        const auto n = ::recvfrom(_fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &peer_len);
        if (n < 17) {
            continue;
        }
        const auto size = static_cast<std::size_t>(n);
        // Header (12 bytes), then one question: labels, type, class. Names are read lowercased.
        std::string name;
        std::size_t pos = 12;
        while (pos < size && buf[pos] != 0) {
            const std::size_t len = buf[pos];
            if (len > 63 || pos + 1 + len >= size) {
                pos = size;
                break;
            }
            if (!name.empty()) {
                name += '.';
            }
            for (std::size_t i = 0; i < len; ++i) {
                const auto c = static_cast<char>(buf[pos + 1 + i]);
                name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
            }
            pos += 1 + len;
        }
        if (pos + 5 > size) {
            continue;
        }
        const auto qtype = static_cast<std::uint16_t>((buf[pos + 1] << 8) | buf[pos + 2]);
        const bool has_opt = (buf[10] << 8 | buf[11]) > 0;
        dns::packet reply;
        reply.id = static_cast<std::uint16_t>((buf[0] << 8) | buf[1]);
        reply.questions.push_back({name, qtype, 1});
        reply.edns = has_opt;
        {
            std::lock_guard lock(_mutex);
            _queries.push_back(name + "/" + std::to_string(qtype));
            const auto it = _entries.find(name);
            if (it == _entries.end()) {
                reply.rcode = 3;
            } else {
                reply.rcode = it->second.rcode;
                if (qtype == 1) {
                    for (const auto& a : it->second.a) {
                        reply.answers.push_back(dns::a(name, a));
                    }
                } else if (qtype == 28) {
                    for (const auto& aaaa : it->second.aaaa) {
                        reply.answers.push_back(dns::aaaa(name, aaaa));
                    }
                }
            }
        }
        const auto wire = reply.build();
        ::sendto(_fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&peer), peer_len);
    }
}

} // namespace mpic::test
