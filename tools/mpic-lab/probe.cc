// Readiness is proven, not assumed: a DNS probe must get back this lab's nonce, an HTTP probe this lab's body.
// That also catches the port race of pick_free_port (a foreign server on the port answers something else).

#include "tools/mpic-lab/probe.hh"

#include <arpa/inet.h>
#include <cerrno>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace mpic::lab {

namespace {

/// Closes a socket on scope exit.
class fd_guard {
public:
    explicit fd_guard(int fd) : _fd(fd) {}
    ~fd_guard() {
        if (_fd >= 0) {
            close(_fd);
        }
    }
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
    int get() const { return _fd; }

private:
    int _fd;
};

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd p{fd, events, 0};
        int n = poll(&p, 1, static_cast<int>(left.count()));
        if (n > 0) {
            return true;
        }
        if (n < 0 && errno != EINTR) {
            return false;
        }
    }
}

} // namespace

result<std::uint16_t> pick_free_port() {
    for (int attempt = 0; attempt < 20; ++attempt) {
        fd_guard tcp(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (tcp.get() < 0) {
            return std::error_code(errno, std::generic_category());
        }
        sockaddr_in a = loopback(0);
        if (bind(tcp.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            return std::error_code(errno, std::generic_category());
        }
        socklen_t len = sizeof a;
        getsockname(tcp.get(), reinterpret_cast<sockaddr*>(&a), &len);
        // DNS servers need the same number for UDP; check it too before handing it out.
        fd_guard udp(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (udp.get() >= 0 && bind(udp.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
            return static_cast<std::uint16_t>(ntohs(a.sin_port));
        }
    }
    return std::error_code(EADDRINUSE, std::generic_category());
}

bool dns_probe(std::uint16_t port, const std::string& qname, const std::string& expect,
               std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    fd_guard s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (s.get() < 0) {
        return false;
    }
    // RFC 1035 §4.1: 12-byte header (ID, flags 0 = standard query without RD, QDCOUNT 1), then the question.
    std::uint16_t id = static_cast<std::uint16_t>(std::random_device{}());
    std::vector<unsigned char> q = {
        static_cast<unsigned char>(id >> 8), static_cast<unsigned char>(id & 0xff), 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    std::size_t start = 0;
    while (start < qname.size()) {
        std::size_t dot = qname.find('.', start);
        std::size_t end = dot == std::string::npos ? qname.size() : dot;
        q.push_back(static_cast<unsigned char>(end - start));
        q.insert(q.end(), qname.begin() + static_cast<std::ptrdiff_t>(start),
                 qname.begin() + static_cast<std::ptrdiff_t>(end));
        start = end + 1;
    }
    q.insert(q.end(), {0, 0, 16, 0, 1}); // root label, QTYPE TXT (16), QCLASS IN (1)
    sockaddr_in to = loopback(port);
    if (sendto(s.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
        return false;
    }
    unsigned char buf[4096];
    while (wait_for(s.get(), POLLIN, deadline)) {
        ssize_t n = recv(s.get(), buf, sizeof buf, 0);
        if (n < 12) {
            if (n < 0 && errno != EINTR) {
                return false; // e.g. ECONNREFUSED: nothing listens yet
            }
            continue;
        }
        if (buf[0] != q[0] || buf[1] != q[1]) {
            continue;
        }
        std::string reply(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
        return reply.find(expect) != std::string::npos;
    }
    return false;
}

bool http_probe(std::uint16_t port, const std::string& path, const std::string& expect,
                std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    fd_guard s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (s.get() < 0) {
        return false;
    }
    sockaddr_in to = loopback(port);
    if (connect(s.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        return false;
    }
    std::string request = "GET " + path + " HTTP/1.0\r\nHost: mpic-lab.invalid\r\n\r\n";
    if (send(s.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
        return false;
    }
    std::string response;
    char buf[2048];
    while (wait_for(s.get(), POLLIN, deadline)) {
        ssize_t n = recv(s.get(), buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        response.append(buf, static_cast<std::size_t>(n));
    }
    return response.find(expect) != std::string::npos;
}

bool tcp_probe(std::uint16_t port, std::chrono::milliseconds) {
    fd_guard s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in to = loopback(port);
    // Loopback connects complete or fail at once (no SYN retransmission), so a blocking connect is bounded.
    return s.get() >= 0 && connect(s.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
}

std::string random_hex(std::size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    std::ifstream urandom("/dev/urandom", std::ios::binary);
    std::mt19937_64 fallback(static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    for (std::size_t i = 0; i < n; ++i) {
        unsigned char c = 0;
        if (!urandom.read(reinterpret_cast<char*>(&c), 1)) {
            c = static_cast<unsigned char>(fallback());
        }
        out += digits[c & 0xf];
    }
    return out;
}

} // namespace mpic::lab
