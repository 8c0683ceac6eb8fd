#include "net/http/connection.hh"

#include <sys/socket.h>

#include "net/http/client_impl.hh"

namespace mpic::net::http::detail {

// Handles carry `data = this`: connection is not standard-layout (it holds std::optional and std::string), so a
// container_of over it would rely on conditionally-supported offsetof; the data pointer is libuv's own mechanism.

connection::connection(client_impl* owner_, pool_key key_) noexcept : owner(owner_), key(std::move(key_)) {}

int connection::open(uv_loop_t* loop) noexcept {
    int rc = uv_timer_init(loop, &_timer);
    if (rc != 0) {
        return rc; // LCOV_EXCL_LINE: DefensiveCoding (uv_timer_init cannot fail on Unix)
    }
    _timer.data = this;
    _timer_initialised = true;
    ++_open_handles;

    // uv_tcp_init_ex creates the socket now, so a family the host lacks (no IPv6) fails here, as a connect error
    // that the exchange may fall back from (standards §5.6).
    rc = uv_tcp_init_ex(loop, &_tcp, key.address.is_v4() ? AF_INET : AF_INET6);
    if (rc != 0) {
        return rc;
    }
    _tcp.data = this;
    _tcp_initialised = true;
    ++_open_handles;
    (void)uv_tcp_nodelay(&_tcp, 1); // one small request, then wait: Nagle only adds latency

    if (key.source) {
        // design.md "Perspectives": each perspective's traffic leaves from its own source address, so a lab (or a
        // real network) can answer each perspective differently. Port 0: the kernel picks the source port.
        sockaddr_storage src{};
        key.source->to_sockaddr(0, src);
        rc = uv_tcp_bind(&_tcp, reinterpret_cast<const sockaddr*>(&src), 0);
        if (rc != 0) {
            return rc;
        }
    }
    sockaddr_storage dst{};
    key.address.to_sockaddr(key.port, dst);
    _connect_req.data = this;
    return uv_tcp_connect(&_connect_req, &_tcp, reinterpret_cast<const sockaddr*>(&dst), &connection::on_connect);
}

int connection::start_reading() noexcept {
    return uv_read_start(reinterpret_cast<uv_stream_t*>(&_tcp), &connection::on_alloc, &connection::on_read);
}

void connection::on_connect(uv_connect_t* req, int status) noexcept {
    auto* c = static_cast<connection*>(req->data);
    if (c->_closing) {
        return; // UV_ECANCELED from our own close
    }
    c->connected = status == 0;
    c->owner->on_connected(c, status);
}

void connection::on_alloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf) noexcept {
    (void)suggested;
    auto* c = static_cast<connection*>(h->data);
    // One read buffer per client (uSockets' per-loop buffer): libuv calls on_read right after on_alloc and the
    // bytes are consumed (parsed or copied into the TLS read BIO) before returning, so connections can share it.
    auto span = c->owner->read_buffer();
    *buf = uv_buf_init(span.data(), static_cast<unsigned>(span.size()));
}

void connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* c = static_cast<connection*>(s->data);
    if (c->_closing || nread == 0) {
        return;
    }
    if (nread < 0) {
        c->owner->on_read_end(c, static_cast<int>(nread));
        return;
    }
    c->owner->on_bytes(c, {buf->base, static_cast<std::size_t>(nread)});
}

int connection::send(std::string data) noexcept {
    if (_closing) {
        return UV_ECANCELED;
    }
    auto* stream = reinterpret_cast<uv_stream_t*>(&_tcp);
    if (_pending_writes == 0) {
        // Most requests fit the socket buffer: try_write sends them without allocating a write request.
        uv_buf_t b = uv_buf_init(data.data(), static_cast<unsigned>(data.size()));
        const int n = uv_try_write(stream, &b, 1);
        if (n == static_cast<int>(data.size())) {
            return 0;
        }
        if (n < 0 && n != UV_EAGAIN) {
            return n;
        }
        if (n > 0) {
            data.erase(0, static_cast<std::size_t>(n));
        }
    }
    auto* w = new write_req{};
    w->conn = this;
    w->data = std::move(data);
    w->req.data = w;
    uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    const int rc = uv_write(&w->req, stream, &b, 1, &connection::on_write);
    if (rc != 0) {
        delete w;
        return rc;
    }
    ++_pending_writes;
    return 0;
}

void connection::on_write(uv_write_t* req, int status) noexcept {
    auto* w = static_cast<write_req*>(req->data);
    connection* c = w->conn;
    delete w;
    --c->_pending_writes;
    if (c->_closing) {
        return; // UV_ECANCELED from our own close; the close callback frees c after this
    }
    if (status < 0) {
        c->owner->on_write_error(c, status);
        return;
    }
    if (c->_pending_writes == 0) {
        c->owner->on_writes_drained(c);
    }
}

int connection::flush_tls() noexcept {
    if (!tls || !tls->has_output()) {
        return 0;
    }
    return send(tls->take_output());
}

void connection::arm_timer(std::uint64_t ms) noexcept {
    if (_timer_initialised && !_closing) {
        (void)uv_timer_start(&_timer, &connection::on_timer, ms, 0);
    }
}

void connection::stop_timer() noexcept {
    if (_timer_initialised && !_closing) {
        (void)uv_timer_stop(&_timer);
    }
}

void connection::on_timer(uv_timer_t* t) noexcept {
    auto* c = static_cast<connection*>(t->data);
    if (!c->_closing) {
        c->owner->on_timer(c);
    }
}

void connection::close() noexcept {
    if (_closing) {
        return;
    }
    _closing = true;
    if (_open_handles == 0) {
        // Nothing was initialised (uv_timer_init failed); no close callback will come.
        owner->on_closed(this); // LCOV_EXCL_LINE: DefensiveCoding
        delete this;            // LCOV_EXCL_LINE
        return;                 // LCOV_EXCL_LINE
    }
    if (_tcp_initialised) {
        uv_close(reinterpret_cast<uv_handle_t*>(&_tcp), &connection::on_close);
    }
    if (_timer_initialised) {
        uv_close(reinterpret_cast<uv_handle_t*>(&_timer), &connection::on_close);
    }
}

void connection::on_close(uv_handle_t* h) noexcept {
    auto* c = static_cast<connection*>(h->data);
    if (--c->_open_handles == 0) {
        // libuv design.rst: the memory of a handle may be reclaimed only in or after its close callback; both
        // handles live in *c, so *c goes when the second one is closed.
        c->owner->on_closed(c);
        delete c;
    }
}

} // namespace mpic::net::http::detail
