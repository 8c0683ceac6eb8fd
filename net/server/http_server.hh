#pragma once
// HTTP/1.1 server for the API and the perspective agents, on one libuv loop per reactor (style.md §4): llhttp
// request parsing, keep-alive, optional TLS (mutual TLS for agents), and hard limits on everything a client
// controls: head size, header count, body size, time to send the head and the body (slowloris), idle time,
// connections. One request per connection is processed at a time; pipelined requests wait, unread, until the
// response to the previous one is written (so a pipelining flood costs one buffer, not unbounded memory).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hh"
#include "net/http/message.hh"
#include "net/server/tls_server.hh"

typedef struct uv_loop_s uv_loop_t;

namespace mpic::net::server {

/// Limits of one server. Every one is enforced while reading, before memory is committed.
struct server_limits {
    std::size_t max_head_bytes = 16 * 1024;          ///< request line + headers; over it: 431, close
    std::size_t max_headers = 64;                    ///< over it: 431, close
    std::size_t max_body_bytes = 1 << 20;            ///< over it: 413, close
    std::chrono::milliseconds head_timeout{10'000};  ///< first byte of a request → end of head; over it: 408, close
    std::chrono::milliseconds body_timeout{10'000};  ///< end of head → end of body; over it: 408, close
    std::chrono::milliseconds idle_timeout{30'000};  ///< keep-alive wait for the next request; then close
    std::chrono::milliseconds write_timeout{30'000}; ///< a response not drained by then: close
    std::size_t max_connections = 4096;              ///< per server (per reactor); beyond it new connections are closed
};

/// One parsed request.
struct request {
    std::string method;
    std::string target; ///< request-target as sent (origin form "/path?query")
    std::string path;   ///< target without the query
    std::vector<http::header> headers;
    std::string body;
    std::string peer_address;   ///< the client's IP (text)
    std::string client_subject; ///< verified client certificate subject under mutual TLS, else empty
    bool tls = false;

    /// The first header named `name` (case-insensitive), or nullptr.
    const std::string* header(std::string_view name) const noexcept;
};

/// A response to send.
struct response {
    int status = 200;
    std::vector<http::header> headers; ///< Content-Length, Connection and Date are added by the server
    std::string body;
    bool close = false; ///< close the connection after this response
};

class connection;

/// The way back to one request's connection. Copyable; send() works exactly once per request and is a no-op if
/// the connection already died (the client went away). Use on the server's loop thread only.
class responder {
public:
    responder() = default;
    void send(response r) const;
    /// False once the connection is gone (a handler may stop work it no longer needs).
    bool connected() const noexcept;

private:
    friend class connection;
    struct link;
    explicit responder(std::shared_ptr<link> l) : _link(std::move(l)) {}
    std::shared_ptr<link> _link;
};

/// Receives each request on the loop thread. It may answer synchronously or later.
using request_handler = std::function<void(request&&, responder)>;

/// A bound listening socket that several reactors' servers share (each takes its own dup of the descriptor;
/// the kernel hands each new connection to one of them).
class listener {
public:
    /// Binds host:port (port 0 = an ephemeral port) and listens. Errors: uv_category / generic errno codes.
    static result<listener> bind(const std::string& host, std::uint16_t port, int backlog = 1024);
    ~listener();
    listener(listener&& other) noexcept;
    listener& operator=(listener&&) = delete;
    int fd() const noexcept { return _fd; }
    /// Closes this descriptor (the servers keep their own dups). Idempotent.
    void close() noexcept;
    std::uint16_t port() const noexcept { return _port; }

private:
    listener(int fd, std::uint16_t port) : _fd(fd), _port(port) {}
    int _fd = -1;
    std::uint16_t _port = 0;
};

/// The server of one reactor over a shared listener.
class http_server {
public:
    /// Starts accepting on a dup of `listen_fd` on `loop`. With `tls` set, every connection is TLS (and mutual
    /// TLS when the context requires a client certificate).
    static result<std::unique_ptr<http_server>> start(uv_loop_t* loop, int listen_fd, server_limits limits,
                                                      std::shared_ptr<const tls_server_context> tls,
                                                      request_handler handler);
    /// Equivalent to close().
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    /// Stops accepting and closes every connection (pending responders become no-ops). The loop must run
    /// afterwards for the handles' close callbacks. Idempotent.
    void close() noexcept;
    /// Stops accepting new connections but lets open ones finish their current request (graceful shutdown).
    void stop_accepting() noexcept;

    std::size_t connections() const noexcept;
    std::uint64_t requests_served() const noexcept;

    struct impl;

private:
    explicit http_server(impl* i) : _impl(i) {}
    impl* _impl; ///< frees itself once every handle is closed
};

/// Reason phrase for a status code ("OK", "Bad Request", ...).
std::string_view reason_phrase(int status) noexcept;

} // namespace mpic::net::server
