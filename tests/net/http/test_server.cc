#include "tests/net/http/test_server.hh"

#include <algorithm>
#include <arpa/inet.h>
#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace mpic::test {

int server_conn::read_some(char* buf, int len) {
    if (ssl != nullptr) {
        const int n = SSL_read(ssl, buf, len);
        return n > 0 ? n : 0;
    }
    const ssize_t n = ::recv(fd, buf, static_cast<std::size_t>(len), 0);
    return n > 0 ? static_cast<int>(n) : 0;
}

std::string server_conn::read_request() {
    char buf[16384];
    std::size_t head_end = std::string::npos;
    while ((head_end = _buffered.find("\r\n\r\n")) == std::string::npos) {
        const int n = read_some(buf, sizeof buf);
        if (n <= 0) {
            return {};
        }
        _buffered.append(buf, static_cast<std::size_t>(n));
    }
    std::size_t total = head_end + 4;
    std::string lower = _buffered.substr(0, head_end);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (auto pos = lower.find("content-length:"); pos != std::string::npos) {
        total += std::stoul(lower.substr(pos + 15));
    }
    while (_buffered.size() < total) {
        const int n = read_some(buf, sizeof buf);
        if (n <= 0) {
            return {};
        }
        _buffered.append(buf, static_cast<std::size_t>(n));
    }
    std::string request = _buffered.substr(0, total);
    _buffered.erase(0, total);
    return request;
}

bool server_conn::write(std::string_view bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
        int n = 0;
        if (ssl != nullptr) {
            n = SSL_write(ssl, bytes.data() + off, static_cast<int>(bytes.size() - off));
        } else {
            n = static_cast<int>(::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL));
        }
        if (n <= 0) {
            return false;
        }
        off += static_cast<std::size_t>(n);
    }
    return true;
}

void server_conn::reset() {
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l); // close() (when the handler returns) now sends RST
}

void server_conn::drain_until_eof() {
    char buf[16384];
    while (read_some(buf, sizeof buf) > 0) {
    }
}

test_server::test_server(handler h, test_server_options options)
    : _handler(std::move(h)), _options(std::move(options)) {
    // Writes to a peer that went away must fail with EPIPE, not kill the test process (OpenSSL's socket BIO uses
    // plain write()). libuv does not ignore SIGPIPE either: binaries that use the client must (tools/ do).
    std::signal(SIGPIPE, SIG_IGN);
    const bool v6 = _options.bind_address.find(':') != std::string::npos;
    _listen_fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (_listen_fd < 0) {
        throw std::runtime_error("socket");
    }
    int one = 1;
    ::setsockopt(_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (v6) {
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        ::inet_pton(AF_INET6, _options.bind_address.c_str(), &a.sin6_addr);
        std::memcpy(&ss, &a, sizeof a);
        len = sizeof a;
    } else {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        ::inet_pton(AF_INET, _options.bind_address.c_str(), &a.sin_addr);
        std::memcpy(&ss, &a, sizeof a);
        len = sizeof a;
    }
    if (::bind(_listen_fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(_listen_fd, 64) != 0) {
        ::close(_listen_fd);
        throw std::runtime_error("bind/listen");
    }
    ::getsockname(_listen_fd, reinterpret_cast<sockaddr*>(&ss), &len);
    _port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    _acceptor = std::thread([this] { accept_loop(); });
}

test_server::~test_server() {
    _stop = true;
    _acceptor.join();
    {
        std::lock_guard lock(_mutex);
        for (int fd : _open_fds) {
            ::shutdown(fd, SHUT_RDWR); // unblocks handlers still reading
        }
    }
    for (auto& t : _threads) {
        t.join();
    }
    ::close(_listen_fd);
}

std::vector<std::string> test_server::peers() const {
    std::lock_guard lock(_mutex);
    return _peers;
}

void test_server::accept_loop() {
    while (!_stop) {
        pollfd p{_listen_fd, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) {
            continue;
        }
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        const int fd = ::accept4(_listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        char text[INET6_ADDRSTRLEN] = {};
        if (ss.ss_family == AF_INET) {
            ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, text, sizeof text);
        } else {
            ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, text, sizeof text);
        }
        timeval tv{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        ++_accepted;
        std::lock_guard lock(_mutex);
        _peers.emplace_back(text);
        _open_fds.push_back(fd);
        _threads.emplace_back([this, fd, peer = std::string(text)] { serve(fd, peer); });
    }
}

void test_server::serve(int fd, std::string peer) {
    server_conn conn;
    conn.fd = fd;
    conn.peer = std::move(peer);
    SSL* ssl = nullptr;
    bool ok = true;
    if (_options.tls != nullptr) {
        ssl = SSL_new(_options.tls);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1) {
            ++_tls_failures;
            ok = false;
        }
        conn.ssl = ssl;
    }
    if (ok) {
        _handler(conn);
    }
    if (ssl != nullptr) {
        SSL_free(ssl);
    }
    {
        std::lock_guard lock(_mutex);
        std::erase(_open_fds, fd);
    }
    ::close(fd);
}

void answer_each(server_conn& conn, const std::string& response) {
    for (;;) {
        std::string req = conn.read_request();
        if (req.empty() || !conn.write(response)) {
            return;
        }
        if (req.find("Connection: close") != std::string::npos) {
            return;
        }
    }
}

} // namespace mpic::test
