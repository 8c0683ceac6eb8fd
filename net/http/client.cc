#include "net/http/client.hh"

#include <uv.h>

#include "core/error.hh"
#include "net/http/client_impl.hh"
#include "net/http/request_wire.hh"

namespace mpic::net::http {
namespace detail {
namespace {

std::chrono::microseconds us_between(std::uint64_t from_ns, std::uint64_t to_ns) noexcept {
    return std::chrono::microseconds(to_ns > from_ns ? (to_ns - from_ns) / 1000 : 0);
}

} // namespace

client_impl::client_impl(uv_loop_t* loop, const tls::client_context* tls_context, client_config config)
    : _loop(loop), _tls(tls_context), _config(std::move(config)) {
    (void)uv_timer_init(_loop, &_defer); // cannot fail on Unix
    _defer.data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(&_defer)); // a client with nothing to do must not keep the loop alive
}

std::shared_ptr<exchange> client_impl::admit(std::shared_ptr<exchange> ex) {
    ex->owner = this;
    uv_update_time(_loop); // fetch() may be called long after the loop last ran
    ex->start_ns = uv_hrtime();
    ex->total_deadline_ms =
        uv_now(_loop) + static_cast<std::uint64_t>(std::max<long long>(ex->req.deadlines.total.count(), 0));
    if (_closed) {
        ex->deferred_error = make_error_code(errc::shutting_down);
    } else if (auto ec = validate_request(ex->req, ex->handshake_only, _tls != nullptr)) {
        ex->deferred_error = ec;
    }
    ex->candidates = pick_candidates(ex->req.addresses);
    _in_flight.push_back(ex);
    ex->self = std::prev(_in_flight.end());
    // Even an immediate failure is delivered from the loop: a caller's completion never runs inside fetch().
    _deferred.push_back(ex);
    uv_ref(reinterpret_cast<uv_handle_t*>(&_defer));
    (void)uv_timer_start(&_defer, &client_impl::on_defer, 0, 0);
    return ex;
}

request_handle client_impl::start_fetch(request req, client::fetch_callback done) {
    auto ex = std::make_shared<exchange>();
    ex->req = std::move(req);
    ex->on_fetch = std::move(done);
    return request_handle(admit(std::move(ex)));
}

request_handle client_impl::start_handshake(handshake_request req, client::handshake_callback done) {
    auto ex = std::make_shared<exchange>();
    ex->handshake_only = true;
    ex->req.addresses = std::move(req.addresses);
    ex->req.port = req.port;
    ex->req.tls = std::move(req.tls);
    ex->req.fallback = req.fallback;
    ex->req.deadlines = req.deadlines;
    ex->on_handshake = std::move(done);
    return request_handle(admit(std::move(ex)));
}

void client_impl::on_defer(uv_timer_t* t) noexcept {
    auto* self = static_cast<client_impl*>(t->data);
    uv_unref(reinterpret_cast<uv_handle_t*>(t));
    self->run_deferred();
}

void client_impl::run_deferred() noexcept {
    std::vector<std::shared_ptr<exchange>> batch;
    batch.swap(_deferred);
    for (auto& ex : batch) {
        if (ex->done) {
            continue; // cancelled before it started
        }
        ex->started = true;
        if (ex->deferred_error) {
            complete(ex.get(), ex->deferred_error, stage::none);
        } else {
            begin_attempt(ex.get());
        }
    }
}

void client_impl::begin_attempt(exchange* ex) noexcept {
    if (ex->candidates.empty()) {
        complete(ex, make_error_code(errc::invalid_argument), stage::connect); // LCOV_EXCL_LINE: validate() ensures
        return;                                                                // LCOV_EXCL_LINE
    }
    pool_key key = key_for(*ex);
    ex->resp.address = key.address;
    ex->resp.port = key.port;
    if (ex->req.keep_alive && !ex->handshake_only && !ex->retried_fresh) {
        if (connection* c = pool_take(key)) {
            c->ex = ex;
            ex->conn = c;
            ex->resp.reused = true;
            ex->resp.alpn = c->tls ? std::string(c->tls->alpn()) : std::string();
            enter(ex, stage::send, static_cast<std::uint64_t>(ex->req.deadlines.send.count()));
            send_request(ex);
            return;
        }
    }
    ex->resp.reused = false;
    // Defence in depth: the validator admitted this address already (addr::address_policy::admit); checking
    // again here means no code path can connect to a refused address, whoever built the request.
    if (auto ok = _config.policy.check_connect(key.address, key.port); !ok) {
        if (ex->current == stage::none) {
            ex->current = stage::connect;
            ex->stage_ns = uv_hrtime();
        }
        complete(ex, ok.error(), stage::connect);
        return;
    }
    auto* c = new connection(this, std::move(key));
    ++_connections;
    ++_connections_opened;
    c->ex = ex;
    ex->conn = c;
    const int rc = c->open(_loop);
    enter(ex, stage::connect, static_cast<std::uint64_t>(ex->req.deadlines.connect.count()));
    if (rc != 0) {
        fail(ex, uv_error(rc), stage::connect);
    }
}

void client_impl::enter(exchange* ex, stage s, std::uint64_t stage_ms) noexcept {
    const std::uint64_t t = uv_hrtime();
    if (ex->current != stage::none) {
        const auto d = us_between(ex->stage_ns, t);
        auto& tm = ex->resp.timings;
        switch (ex->current) {
        case stage::connect:
            tm.connect += d;
            break; // summed over the IPv6 and IPv4 attempts
        case stage::tls:
            tm.tls += d;
            break;
        case stage::send:
            tm.send += d;
            break;
        case stage::head:
            tm.head += d;
            break;
        case stage::body:
            tm.body += d;
            break;
        default:
            break;
        }
    }
    ex->current = s;
    ex->stage_ns = t;
    if (s == stage::done || ex->conn == nullptr) {
        return;
    }
    // One timer per connection, armed for whichever comes first: this stage's deadline or the exchange's total
    // deadline (style.md §13).
    // libuv timers count from the loop's cached time; refresh it so a long callback before this point does not make
    // the deadline fire early (the cache is only updated once per iteration).
    uv_update_time(_loop);
    const std::uint64_t now = uv_now(_loop);
    const std::uint64_t remaining = ex->total_deadline_ms > now ? ex->total_deadline_ms - now : 0;
    ex->stage_timer_is_total = remaining <= stage_ms;
    ex->conn->arm_timer(ex->stage_timer_is_total ? remaining : stage_ms);
}

void client_impl::on_connected(connection* c, int status) noexcept {
    exchange* ex = c->ex;
    if (ex == nullptr) {
        c->close(); // LCOV_EXCL_LINE: DefensiveCoding (a connecting connection always has its exchange)
        return;     // LCOV_EXCL_LINE
    }
    if (status < 0) {
        fail(ex, uv_error(status), stage::connect);
        return;
    }
    if (const int rc = c->start_reading(); rc != 0) {
        fail(ex, uv_error(rc), stage::connect);
        return;
    }
    if (!ex->req.tls) {
        enter(ex, stage::send, static_cast<std::uint64_t>(ex->req.deadlines.send.count()));
        send_request(ex);
        return;
    }
    enter(ex, stage::tls, static_cast<std::uint64_t>(ex->req.deadlines.tls.count()));
    const tls_options& o = *ex->req.tls;
    auto s = tls::session::create(*_tls, tls::session_options{o.sni, o.alpn, o.verify});
    if (!s) {
        fail(ex, s.error(), stage::tls);
        return;
    }
    c->tls.emplace(std::move(*s));
    auto hs = c->tls->handshake(); // produces the ClientHello
    const int rc = c->flush_tls();
    if (!hs) {
        fail(ex, hs.error(), stage::tls);
    } else if (rc != 0) {
        fail(ex, uv_error(rc), stage::tls);
    }
}

void client_impl::on_tls_done(exchange* ex) noexcept {
    connection* c = ex->conn;
    const std::string_view alpn = c->tls->alpn();
    if (ex->handshake_only) {
        // RFC 8737 §3: the handshake is the whole exchange; complete() closes the connection without sending any
        // application data.
        complete(ex, {}, stage::none);
        return;
    }
    ex->resp.alpn = std::string(alpn);
    if (!alpn.empty() && alpn != "http/1.1") {
        fail(ex, make_error_code(errc::malformed), stage::tls); // we speak HTTP/1.1 only
        return;
    }
    enter(ex, stage::send, static_cast<std::uint64_t>(ex->req.deadlines.send.count()));
    send_request(ex);
}

void client_impl::send_request(exchange* ex) noexcept {
    connection* c = ex->conn;
    c->reader.start(reader_limits{_config.max_header_count, _config.max_head_bytes, ex->req.body_cap},
                    ex->req.method == "HEAD");
    std::string wire = serialize_request(ex->req);
    int rc = 0;
    if (c->tls) {
        if (auto w = c->tls->write(wire); !w) {
            fail(ex, w.error(), stage::send);
            return;
        }
        rc = c->flush_tls();
    } else {
        rc = c->send(std::move(wire));
    }
    if (rc != 0) {
        fail(ex, uv_error(rc), stage::send);
        return;
    }
    ex->request_queued = true;
    if (!c->writes_pending()) {
        on_request_sent(ex);
    }
}

void client_impl::on_request_sent(exchange* ex) noexcept {
    ex->request_queued = false;
    if (ex->current == stage::send) {
        enter(ex, stage::head, static_cast<std::uint64_t>(ex->req.deadlines.head.count()));
    }
}

void client_impl::on_writes_drained(connection* c) noexcept {
    exchange* ex = c->ex;
    if (ex != nullptr && ex->request_queued) {
        on_request_sent(ex);
    }
}

void client_impl::on_write_error(connection* c, int status) noexcept {
    if (c->ex != nullptr) {
        fail(c->ex, uv_error(status), c->ex->current);
        return;
    }
    pool_remove(c);
    c->close();
}

void client_impl::on_bytes(connection* c, std::span<const char> bytes) noexcept {
    if (!c->tls) {
        on_plaintext(c, bytes);
        return;
    }
    c->tls->receive(bytes);
    if (!c->tls->handshake_done()) {
        exchange* ex = c->ex;
        if (ex == nullptr) {
            c->close(); // LCOV_EXCL_LINE: DefensiveCoding
            return;     // LCOV_EXCL_LINE
        }
        auto hs = c->tls->handshake();
        const int rc = c->flush_tls();
        if (!hs) {
            fail(ex, hs.error(), stage::tls);
            return;
        }
        if (rc != 0) {
            fail(ex, uv_error(rc), stage::tls);
            return;
        }
        if (!*hs) {
            return;
        }
        on_tls_done(ex);
    }
    // Decrypt every complete record now in the read BIO. Each step may complete the exchange (and pool or close
    // the connection), so the loop re-checks the connection's state every time.
    while (!c->closing()) {
        auto n = c->tls->read({_plain_buf, sizeof _plain_buf});
        const int rc = c->flush_tls();
        if (!n || rc != 0) {
            const std::error_code ec = !n ? n.error() : uv_error(rc);
            if (c->ex != nullptr) {
                fail(c->ex, ec, c->ex->current);
            } else {
                pool_remove(c);
                c->close();
            }
            return;
        }
        if (*n == 0) {
            break;
        }
        on_plaintext(c, {_plain_buf, *n});
    }
    if (!c->closing() && c->tls->peer_closed()) {
        on_read_end(c, UV_EOF);
    }
}

void client_impl::on_plaintext(connection* c, std::span<const char> bytes) noexcept {
    exchange* ex = c->ex;
    if (ex == nullptr || ex->handshake_only ||
        (ex->current != stage::send && ex->current != stage::head && ex->current != stage::body)) {
        // Bytes on an idle pooled connection answer no request of ours: the connection's framing can no longer
        // be trusted, so it is closed rather than reused.
        pool_remove(c);
        c->reusable = false;
        if (ex == nullptr) {
            c->close();
        }
        return;
    }
    if (ex->first_byte_ns == 0) {
        ex->first_byte_ns = uv_hrtime();
        if (ex->current == stage::head) {
            ex->resp.timings.first_byte = us_between(ex->stage_ns, ex->first_byte_ns);
        } else {
            // The server answered before the whole request was written (e.g. an early 4xx): the response head
            // stage starts now.
            enter(ex, stage::head, static_cast<std::uint64_t>(ex->req.deadlines.head.count()));
        }
    }
    const std::size_t used = c->reader.feed(bytes);
    if (used < bytes.size() && c->reader.complete()) {
        c->reusable = false; // pipelined garbage after the response
    }
    check_reader(ex);
}

void client_impl::check_reader(exchange* ex) noexcept {
    const response_reader& r = ex->conn->reader;
    switch (r.current()) {
    case response_reader::state::body:
        if (ex->current == stage::head) {
            enter(ex, stage::body, static_cast<std::uint64_t>(ex->req.deadlines.body.count()));
        }
        break;
    case response_reader::state::complete:
        complete(ex, {}, stage::none);
        break;
    case response_reader::state::failed:
        fail(ex, r.error(), r.failed_stage());
        break;
    default:
        break;
    }
}

void client_impl::on_read_end(connection* c, int status) noexcept {
    exchange* ex = c->ex;
    if (ex == nullptr) {
        pool_remove(c); // the server closed an idle connection: normal keep-alive expiry on its side
        c->close();
        return;
    }
    c->reusable = false;
    const bool reading =
        !ex->handshake_only && (ex->current == stage::send || ex->current == stage::head || ex->current == stage::body);
    if (status == UV_EOF && reading && c->reader.started()) {
        // RFC 9112 §6.3 rule 8: a body without Content-Length or chunking ends at EOF; anything else cut short by
        // EOF is an incomplete response (llhttp HPE_INVALID_EOF_STATE). TLS: an EOF without close_notify is
        // accepted for such bodies as most clients do; the body cap still bounds what is read.
        c->reader.finish();
        if (c->reader.complete()) {
            complete(ex, {}, stage::none);
        } else {
            fail(ex, c->reader.error(), c->reader.failed_stage());
        }
        return;
    }
    fail(ex, uv_error(status), ex->current == stage::none ? stage::connect : ex->current);
}

void client_impl::on_timer(connection* c) noexcept {
    exchange* ex = c->ex;
    if (ex == nullptr) {
        pool_remove(c); // idle expiry (client_config::idle_timeout)
        c->close();
        return;
    }
    fail(ex, make_error_code(errc::timed_out), ex->current);
}

void client_impl::fail(exchange* ex, std::error_code ec, stage where) noexcept {
    if (ex->done) {
        return;
    }
    connection* c = ex->conn;
    const auto detach = [&] {
        if (c != nullptr) {
            c->ex = nullptr;
            ex->conn = nullptr;
            c->close();
        }
    };
    // A pooled connection the server closed while it sat idle fails on first use with EOF/ECONNRESET/EPIPE before
    // any response byte: the request cannot have been processed, so retry once on a fresh connection (what h2o and
    // Go's transport do for idempotent requests; ours are GETs or repeat-safe RPCs).
    if (c != nullptr && ex->resp.reused && !ex->retried_fresh && !c->reader.started() &&
        (where == stage::send || where == stage::head) && ec.category() == uv_category()) {
        detach();
        ex->retried_fresh = true;
        ex->resp.stale_retry = true;
        begin_attempt(ex);
        return;
    }
    const bool total_expired = ec == errc::timed_out && ex->stage_timer_is_total;
    const bool fallback_stage =
        where == stage::connect || (ex->req.fallback == address_fallback::on_any_failure && where != stage::none);
    const bool final_error = ec == errc::cancelled || ec == errc::refused_by_policy || ec == errc::invalid_argument ||
                             ec == errc::limit_exceeded || total_expired;
    if (fallback_stage && !final_error && ex->attempt + 1 < ex->candidates.size()) {
        // standards §5.6: IPv6 first, then IPv4 after a dial error (Boulder fallbackErr); tls-alpn-01 falls back on
        // any error (§5.9).
        detach();
        ++ex->attempt;
        ex->resp.fell_back = true;
        begin_attempt(ex);
        return;
    }
    complete(ex, ec, where);
}

void client_impl::complete(exchange* ex, std::error_code ec, stage where) noexcept {
    if (ex->done) {
        return;
    }
    ex->done = true;
    enter(ex, stage::done, 0);
    const std::uint64_t t = uv_hrtime();
    ex->resp.timings.total = us_between(ex->start_ns, t);
    if (connection* c = ex->conn) {
        c->stop_timer();
        c->ex = nullptr;
        ex->conn = nullptr;
        if (ex->handshake_only) {
            if (c->tls) {
                ex->hs.alpn = std::string(c->tls->alpn());
                ex->hs.verify_result = c->tls->verify_result();
                if (c->tls->handshake_done()) {
                    ex->hs.peer_certificate = c->tls->peer_certificate();
                    ex->hs.tls_version = std::string(c->tls->version());
                }
            }
            c->close();
        } else {
            response_reader& r = c->reader;
            ex->resp.status = r.status();
            ex->resp.http_major = r.http_major();
            ex->resp.http_minor = r.http_minor();
            ex->resp.headers = r.take_headers();
            ex->resp.body = r.take_body();
            // style.md §12: back to the pool only after a complete response the server agreed to keep alive, with
            // nothing stray buffered and nothing still being written.
            const bool poolable = !ec && ex->req.keep_alive && r.complete() && r.keep_alive() && c->reusable &&
                                  !c->writes_pending() && !_closed && _config.pool_capacity > 0 &&
                                  (!c->tls || !c->tls->peer_closed());
            if (poolable) {
                pool_put(c);
            } else {
                c->close();
            }
        }
    }
    std::shared_ptr<exchange> hold = *ex->self; // keeps *ex alive through the callback
    _in_flight.erase(ex->self);
    const stage reported = ec ? where : stage::none;
    if (ex->handshake_only) {
        ex->hs.address = ex->resp.address;
        ex->hs.port = ex->resp.port;
        ex->hs.fell_back = ex->resp.fell_back;
        ex->hs.timings = ex->resp.timings;
        auto cb = std::move(ex->on_handshake);
        if (cb) {
            cb(handshake_result{ec, reported, std::move(ex->hs)});
        }
    } else {
        auto cb = std::move(ex->on_fetch);
        if (cb) {
            cb(exchange_result{ec, reported, std::move(ex->resp)});
        }
    }
}

void client_impl::cancel(exchange* ex) noexcept {
    complete(ex, make_error_code(errc::cancelled), ex->current);
}

void client_impl::on_closed(connection* c) noexcept {
    pool_remove(c);
    --_connections;
    maybe_free();
}

void client_impl::close() noexcept {
    if (_closed) {
        return;
    }
    _closed = true;
    std::vector<std::shared_ptr<exchange>> pending(_in_flight.begin(), _in_flight.end());
    for (auto& ex : pending) {
        if (ex->deferred_error) {
            complete(ex.get(), ex->deferred_error, stage::none);
        } else {
            complete(ex.get(), make_error_code(errc::cancelled), ex->current);
        }
    }
    std::vector<connection*> idle;
    idle.swap(_pool);
    for (connection* c : idle) {
        c->idle = false;
        c->close();
    }
}

void client_impl::release() noexcept {
    close();
    // Exchanges created by completions that ran inside close() are still pending on a closed client: finish them.
    while (!_in_flight.empty()) {
        auto ex = _in_flight.front();
        complete(ex.get(), ex->deferred_error ? ex->deferred_error : make_error_code(errc::shutting_down), stage::none);
    }
    _deferred.clear();
    _released = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&_defer), [](uv_handle_t* h) {
        auto* self = static_cast<client_impl*>(h->data);
        self->_defer_closed = true;
        self->maybe_free();
    });
}

void client_impl::maybe_free() noexcept {
    if (_released && _defer_closed && _connections == 0) {
        delete this;
    }
}

} // namespace detail

void request_handle::cancel() noexcept {
    if (auto ex = _exchange.lock(); ex && !ex->done) {
        ex->owner->cancel(ex.get());
    }
}

bool request_handle::pending() const noexcept {
    auto ex = _exchange.lock();
    return ex && !ex->done;
}

client::client(uv_loop_t* loop, const tls::client_context* tls_context, client_config config)
    : _impl(new detail::client_impl(loop, tls_context, std::move(config))) {}

client::~client() {
    _impl->release();
}

request_handle client::fetch(request req, fetch_callback done) {
    return _impl->start_fetch(std::move(req), std::move(done));
}

request_handle client::handshake(handshake_request req, handshake_callback done) {
    return _impl->start_handshake(std::move(req), std::move(done));
}

void client::close() noexcept {
    _impl->close();
}
std::size_t client::idle_connections() const noexcept {
    return _impl->idle_connections();
}
std::size_t client::in_flight() const noexcept {
    return _impl->in_flight();
}
std::uint64_t client::connections_opened() const noexcept {
    return _impl->connections_opened();
}
const client_config& client::config() const noexcept {
    return _impl->config();
}

} // namespace mpic::net::http
