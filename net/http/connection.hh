#pragma once
// Internal to net/http: one TCP (optionally TLS) connection on the loop. It owns the socket, its timer, the TLS
// session and the response reader, and reports events to its client_impl, which runs the exchange state machine.
// Lifetime (style.md §5): a connection is heap-allocated, embeds its uv handles, and deletes itself from the last
// close callback; nothing else ever deletes it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "net/addr/ip_address.hh"
#include "net/http/response_reader.hh"
#include "net/tls/session.hh"

namespace mpic::net::http::detail {

class client_impl;
class exchange;

/// What a pooled connection may be reused for: same destination, same TLS parameters, same source. A connection
/// set up without certificate verification must never carry a request that asked for it, hence verify/alpn in the
/// key. The source address is in the key although a client has one per family: the key states the rule, the
/// client-per-perspective construction enforces it.
struct pool_key {
    addr::ip_address address;
    std::uint16_t port = 0;
    bool tls = false;
    std::string sni;
    std::vector<std::string> alpn;
    bool verify = false;
    std::string verify_host;
    std::optional<addr::ip_address> source;
    bool operator==(const pool_key&) const = default;
};

/// One connection. All members are driven by client_impl on the loop thread.
class connection {
public:
    connection(client_impl* owner, pool_key key) noexcept;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Initialises the handles, binds to `key.source` if set and starts the TCP connect. Returns a uv status; on
    /// failure the caller closes the connection.
    int open(uv_loop_t* loop) noexcept;
    /// Starts reading (after connect).
    int start_reading() noexcept;
    /// Sends bytes: uv_try_write first, uv_write for what is left (style.md §11). Returns a uv status.
    int send(std::string data) noexcept;
    /// Sends whatever the TLS session has produced. Returns a uv status.
    int flush_tls() noexcept;
    /// (Re)arms the timer to fire after `ms` milliseconds.
    void arm_timer(std::uint64_t ms) noexcept;
    void stop_timer() noexcept;
    /// Closes both handles; the object deletes itself from the last close callback. Idempotent.
    void close() noexcept;

    bool closing() const noexcept { return _closing; }
    bool writes_pending() const noexcept { return _pending_writes != 0; }

    client_impl* const owner;
    const pool_key key;
    std::optional<tls::session> tls; ///< present once the TLS stage started
    response_reader reader;
    exchange* ex = nullptr; ///< the exchange using the connection; null while idle in the pool
    bool idle = false;      ///< in the pool
    bool connected = false;
    bool reusable = true; ///< false once bytes arrived that belong to no request (never pooled then)

private:
    struct write_req {
        uv_write_t req;
        connection* conn;
        std::string data;
    };
    static void on_connect(uv_connect_t* req, int status) noexcept;
    static void on_alloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf) noexcept;
    static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept;
    static void on_write(uv_write_t* req, int status) noexcept;
    static void on_timer(uv_timer_t* t) noexcept;
    static void on_close(uv_handle_t* h) noexcept;

    uv_tcp_t _tcp;
    uv_timer_t _timer;
    uv_connect_t _connect_req;
    int _open_handles = 0;
    bool _tcp_initialised = false;
    bool _timer_initialised = false;
    bool _closing = false;
    std::size_t _pending_writes = 0;
};

} // namespace mpic::net::http::detail
