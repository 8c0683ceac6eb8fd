#pragma once
// A small thread-based HTTP(S) server for client tests, bound to 127.0.0.1 (or 127.0.0.2, ::1) port 0. Each
// accepted connection runs a scripted handler on its own thread with 5 s socket timeouts, so a broken test cannot
// hang: every blocking call is bounded. The server counts connections and records peer addresses, which is how
// tests verify pool reuse and source-address binding from the server side.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <openssl/ssl.h>

namespace mpic::test {

/// One accepted connection as the handler sees it.
class server_conn {
public:
    /// Reads one request head (up to "\r\n\r\n") plus a Content-Length body; empty on EOF, error or timeout.
    std::string read_request();
    /// Writes all bytes; false on error.
    bool write(std::string_view bytes);
    /// Makes the close that follows the handler's return a TCP RST (SO_LINGER 0) instead of a FIN; the handler should
    /// return right after calling it.
    void reset();
    /// Reads and discards until EOF or timeout (used to keep a connection open without answering).
    void drain_until_eof();

    int fd = -1;
    SSL* ssl = nullptr;
    std::string peer; ///< peer IP address text

private:
    int read_some(char* buf, int len);
    std::string _buffered;
};

struct test_server_options {
    std::string bind_address = "127.0.0.1";
    SSL_CTX* tls = nullptr; ///< server context; null = plain HTTP
};

class test_server {
public:
    using handler = std::function<void(server_conn&)>;
    explicit test_server(handler h, test_server_options options = {});
    ~test_server();
    test_server(const test_server&) = delete;
    test_server& operator=(const test_server&) = delete;

    std::uint16_t port() const { return _port; }
    int accepted() const { return _accepted.load(); }
    int tls_failures() const { return _tls_failures.load(); }
    std::vector<std::string> peers() const;

private:
    void accept_loop();
    void serve(int fd, std::string peer);

    handler _handler;
    test_server_options _options;
    int _listen_fd = -1;
    std::uint16_t _port = 0;
    std::atomic<bool> _stop{false};
    std::atomic<int> _accepted{0};
    std::atomic<int> _tls_failures{0};
    mutable std::mutex _mutex;
    std::vector<std::string> _peers;
    std::vector<int> _open_fds;
    std::vector<std::thread> _threads;
    std::thread _acceptor;
};

/// Reads a whole request with `conn.read_request()` and answers with `response`, repeatedly while the request
/// does not say "Connection: close" and the client keeps the connection open.
void answer_each(server_conn& conn, const std::string& response);

} // namespace mpic::test
