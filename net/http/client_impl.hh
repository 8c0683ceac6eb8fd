#pragma once
// Internal to net/http: the state behind http::client — exchanges, the keep-alive pool and the stage machine.

#include <cstdint>
#include <list>
#include <memory>
#include <span>
#include <vector>

#include <uv.h>

#include "net/http/client.hh"
#include "net/http/connection.hh"

namespace mpic::net::http::detail {

/// One fetch() or handshake() from call to completion. Kept alive by client_impl::_in_flight until it completes;
/// request_handle holds a weak_ptr. Invariant: `done` becomes true exactly once, right before the callback runs.
class exchange {
public:
    client_impl* owner = nullptr;
    bool handshake_only = false;
    request req; ///< for handshake(): addresses, port, tls, fallback, deadlines
    client::fetch_callback on_fetch;
    client::handshake_callback on_handshake;
    http::response resp;
    http::handshake_response hs; ///< filled by handshake() exchanges only

    std::vector<addr::ip_address> candidates; ///< first IPv6 then first IPv4 (standards §5.6)
    std::size_t attempt = 0;                  ///< index into candidates
    bool retried_fresh = false;               ///< a reused connection failed before any byte and we retried once
    bool started = false;                     ///< left the deferred queue
    std::error_code deferred_error;           ///< immediate failure, delivered from the loop (never inside fetch())
    stage deferred_stage = stage::none;

    stage current = stage::none;
    std::uint64_t start_ns = 0; ///< uv_hrtime at fetch()/handshake()
    std::uint64_t stage_ns = 0; ///< uv_hrtime at the start of `current`
    std::uint64_t first_byte_ns = 0;
    std::uint64_t total_deadline_ms = 0; ///< in uv_now() time
    bool stage_timer_is_total = false;   ///< the armed timer is the total deadline, not the stage's
    bool request_queued = false;         ///< the request was handed to the connection; waiting for writes
    connection* conn = nullptr;
    bool done = false;
    std::list<std::shared_ptr<exchange>>::iterator self;
};

class client_impl {
public:
    client_impl(uv_loop_t* loop, const tls::client_context* tls_context, client_config config);

    request_handle start_fetch(request req, client::fetch_callback done);
    request_handle start_handshake(handshake_request req, client::handshake_callback done);
    void cancel(exchange* ex) noexcept;
    void close() noexcept;
    /// The client object is gone: close everything, free this once the last handle closed.
    void release() noexcept;

    std::size_t idle_connections() const noexcept { return _pool.size(); }
    std::size_t in_flight() const noexcept { return _in_flight.size(); }
    std::uint64_t connections_opened() const noexcept { return _connections_opened; }
    const client_config& config() const noexcept { return _config; }

    // Events from connection.
    std::span<char> read_buffer() noexcept { return {_read_buf, sizeof _read_buf}; }
    void on_connected(connection* c, int status) noexcept;
    void on_bytes(connection* c, std::span<const char> bytes) noexcept;
    void on_read_end(connection* c, int status) noexcept;
    void on_write_error(connection* c, int status) noexcept;
    void on_writes_drained(connection* c) noexcept;
    void on_timer(connection* c) noexcept;
    void on_closed(connection* c) noexcept;

private:
    std::shared_ptr<exchange> admit(std::shared_ptr<exchange> ex);
    static void on_defer(uv_timer_t* t) noexcept;
    void run_deferred() noexcept;
    void begin_attempt(exchange* ex) noexcept;
    void enter(exchange* ex, stage s, std::uint64_t stage_ms) noexcept;
    void on_tls_done(exchange* ex) noexcept;
    void send_request(exchange* ex) noexcept;
    void on_request_sent(exchange* ex) noexcept;
    void on_plaintext(connection* c, std::span<const char> bytes) noexcept;
    void check_reader(exchange* ex) noexcept;
    void fail(exchange* ex, std::error_code ec, stage where) noexcept;
    void complete(exchange* ex, std::error_code ec, stage where) noexcept;
    connection* pool_take(const pool_key& key) noexcept;
    void pool_put(connection* c) noexcept;
    void pool_remove(connection* c) noexcept;
    pool_key key_for(const exchange& ex) const;
    void maybe_free() noexcept;

    uv_loop_t* _loop;
    const tls::client_context* _tls;
    client_config _config;
    uv_timer_t _defer; ///< runs deferred starts/completions on the next loop iteration
    std::list<std::shared_ptr<exchange>> _in_flight;
    std::vector<std::shared_ptr<exchange>> _deferred;
    std::vector<connection*> _pool; ///< idle connections, oldest first; small (config.pool_capacity)
    std::size_t _connections = 0;   ///< connections not yet closed (their memory is still ours to wait for)
    std::uint64_t _connections_opened = 0;
    bool _closed = false;
    bool _released = false;
    bool _defer_closed = false;
    char _read_buf[64 * 1024];
    char _plain_buf[16 * 1024];
};

} // namespace mpic::net::http::detail
