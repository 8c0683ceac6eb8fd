#include "net/http/client_impl.hh"

// The keep-alive pool of one client (style.md §12, h2o socketpool): a short list of idle connections, oldest
// first, each with its idle timer armed. Small by design: validations rarely reuse (Boulder DisableKeepAlives), so
// the pool serves redirects to the same origin, perspective RPC and benchmarks.

namespace mpic::net::http::detail {

pool_key client_impl::key_for(const exchange& ex) const {
    pool_key k;
    k.address = ex.candidates[ex.attempt];
    k.port = ex.req.port;
    k.source = k.address.is_v4() ? _config.source_v4 : _config.source_v6;
    if (ex.req.tls) {
        k.tls = true;
        k.sni = ex.req.tls->sni;
        k.alpn = ex.req.tls->alpn;
        k.verify = ex.req.tls->verify.enabled;
        k.verify_host = ex.req.tls->verify.host;
    }
    return k;
}

connection* client_impl::pool_take(const pool_key& key) noexcept {
    // Newest first: the most recently used connection is the least likely to have been closed by the server.
    for (auto it = _pool.rbegin(); it != _pool.rend(); ++it) {
        connection* c = *it;
        if (c->key == key && !c->closing()) {
            _pool.erase(std::next(it).base());
            c->idle = false;
            c->stop_timer();
            return c;
        }
    }
    return nullptr;
}

void client_impl::pool_put(connection* c) noexcept {
    if (_pool.size() >= _config.pool_capacity) {
        connection* oldest = _pool.front();
        _pool.erase(_pool.begin());
        oldest->idle = false;
        oldest->close();
    }
    c->idle = true;
    _pool.push_back(c);
    c->arm_timer(static_cast<std::uint64_t>(_config.idle_timeout.count()));
}

void client_impl::pool_remove(connection* c) noexcept {
    if (!c->idle) {
        return;
    }
    c->idle = false;
    std::erase(_pool, c);
}

} // namespace mpic::net::http::detail
