#include "tests/net/server/server_harness.hh"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace mpic::test {

namespace {
/// A deferred answer of the "/slow" handler, owned by its timer's data pointer.
struct deferred {
    server_harness* self;
    net::server::responder res;
    net::server::response r;
};
} // namespace

server_harness::server_harness(net::server::server_limits limits,
                               std::shared_ptr<const net::server::tls_server_context> tls)
    : _limits(limits), _tls(std::move(tls)) {}

server_harness::~server_harness() {
    stop();
}

bool server_harness::start() {
    auto bound = net::server::listener::bind("127.0.0.1", 0);
    if (!bound) {
        return false;
    }
    _listener.emplace(std::move(*bound));
    _port = _listener->port();
    std::promise<bool> started;
    auto ready = started.get_future();
    _thread = std::thread([this, &started] {
        uv_loop_t loop;
        uv_loop_init(&loop);
        _loop = &loop;
        auto server = net::server::http_server::start(
            &loop, _listener->fd(), _limits, _tls,
            [this](net::server::request&& req, net::server::responder res) { handle(std::move(req), res); });
        if (!server) {
            started.set_value(false);
            uv_run(&loop, UV_RUN_DEFAULT);
            _loop_close_rc = uv_loop_close(&loop);
            return;
        }
        _server = std::move(*server);
        _stop_async = new uv_async_t;
        _stop_async->data = this;
        uv_async_init(&loop, _stop_async, &server_harness::on_async);
        started.set_value(true);
        uv_run(&loop, UV_RUN_DEFAULT);
        _loop_close_rc = uv_loop_close(&loop);
        _loop = nullptr;
    });
    return ready.get();
}

void server_harness::on_async(uv_async_t* handle) {
    auto* self = static_cast<server_harness*>(handle->data);
    self->_server.reset(); // closes the listener and every connection
    for (auto* t : self->_timers) {
        // A deferred answer still pending: drop it with its timer (its responder is a no-op by now).
        uv_close(reinterpret_cast<uv_handle_t*>(t), [](uv_handle_t* h) {
            delete static_cast<deferred*>(h->data);
            delete reinterpret_cast<uv_timer_t*>(h);
        });
    }
    self->_timers.clear();
    uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
}

int server_harness::stop() {
    if (_stopped || !_thread.joinable()) {
        return _loop_close_rc;
    }
    _stopped = true;
    if (_stop_async != nullptr) {
        uv_async_send(_stop_async);
    }
    _thread.join();
    return _loop_close_rc;
}

void server_harness::handle(net::server::request&& req, net::server::responder res) {
    ++_requests;
    const int now = ++_outstanding;
    int seen = _max_outstanding.load();
    while (now > seen && !_max_outstanding.compare_exchange_weak(seen, now)) {
    }
    net::server::response r;
    r.headers.push_back({"Content-Type", "text/plain"});
    if (req.path == "/big") {
        r.body.assign(32u << 20, 'b'); // larger than any loopback socket buffering
    } else if (req.path == "/subject") {
        r.body = (req.tls ? "tls " : "plain ") + req.client_subject;
    } else {
        r.body = req.method + " " + req.target + " " + std::to_string(req.body.size());
    }
    if (req.path.rfind("/slow", 0) != 0) {
        --_outstanding;
        res.send(std::move(r));
        return;
    }
    auto* timer = new uv_timer_t;
    uv_timer_init(_loop, timer);
    timer->data = new deferred{this, res, std::move(r)};
    _timers.insert(timer);
    uv_timer_start(
        timer,
        [](uv_timer_t* t) {
            std::unique_ptr<deferred> d(static_cast<deferred*>(t->data));
            --d->self->_outstanding;
            d->res.send(std::move(d->r)); // a no-op when the client went away
            d->self->_timers.erase(t);
            uv_close(reinterpret_cast<uv_handle_t*>(t),
                     [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
        },
        static_cast<std::uint64_t>(slow_delay.count()), 0);
}

// --- client --------------------------------------------------------------------------------------------------------

client_conn::client_conn(std::uint16_t port, std::chrono::milliseconds read_timeout) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return;
    }
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(read_timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((read_timeout.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return;
    }
    _fd = fd;
}

client_conn::~client_conn() {
    if (_ssl != nullptr) {
        SSL_free(_ssl);
    }
    if (_fd >= 0) {
        ::close(_fd);
    }
}

bool client_conn::start_tls(SSL_CTX* ctx) {
    _ssl = SSL_new(ctx);
    if (_ssl == nullptr) {
        return false;
    }
    SSL_set_fd(_ssl, _fd);
    return SSL_connect(_ssl) == 1;
}

bool client_conn::send(std::string_view bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        long n = _ssl != nullptr ? SSL_write(_ssl, bytes.data() + sent, static_cast<int>(bytes.size() - sent))
                                 : ::send(_fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            if (_ssl == nullptr && n < 0 && errno == EINTR) {
                continue;
            }
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

long client_conn::read_some() {
    char buf[16384];
    long n = _ssl != nullptr ? SSL_read(_ssl, buf, sizeof buf) : ::recv(_fd, buf, sizeof buf, 0);
    if (n > 0) {
        _in.append(buf, static_cast<std::size_t>(n));
        return n;
    }
    if (_ssl != nullptr) {
        int err = SSL_get_error(_ssl, static_cast<int>(n));
        return err == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
    if (n == 0) {
        return 0;
    }
    return errno == ECONNRESET ? 0 : -1;
}

std::optional<http_reply> client_conn::read_reply() {
    for (;;) {
        auto end = _in.find("\r\n\r\n");
        if (end != std::string::npos) {
            http_reply reply;
            std::string head = _in.substr(0, end);
            auto line_end = head.find("\r\n");
            std::string status_line = head.substr(0, line_end);
            if (status_line.rfind("HTTP/1.1 ", 0) != 0 || status_line.size() < 12) {
                return std::nullopt;
            }
            reply.status = std::atoi(status_line.c_str() + 9);
            std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
            while (pos < head.size()) {
                auto next = head.find("\r\n", pos);
                if (next == std::string::npos) {
                    next = head.size();
                }
                std::string line = head.substr(pos, next - pos);
                auto colon = line.find(':');
                if (colon != std::string::npos) {
                    std::string name = line.substr(0, colon);
                    for (auto& c : name) {
                        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                    }
                    auto value = line.substr(colon + 1);
                    value.erase(0, value.find_first_not_of(' '));
                    reply.headers[name] = value;
                }
                pos = next + 2;
            }
            const std::size_t length = static_cast<std::size_t>(std::atol(reply.header("content-length").c_str()));
            while (_in.size() < end + 4 + length) {
                if (read_some() <= 0) {
                    return std::nullopt;
                }
            }
            reply.body = _in.substr(end + 4, length);
            _in.erase(0, end + 4 + length);
            return reply;
        }
        if (read_some() <= 0) {
            return std::nullopt;
        }
    }
}

bool client_conn::closed_within(std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
        if (_ssl == nullptr) {
            pollfd p{_fd, POLLIN, 0};
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) == 0) {
                return false;
            }
        }
        long n = read_some();
        if (n == 0) {
            return true;
        }
        if (n < 0) {
            if (_ssl != nullptr) {
                return true; // a TLS read error after the peer went away counts as closed
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                return true;
            }
        }
    }
    return false;
}

std::string get_request(const std::string& target, const std::string& extra) {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

std::string post_request(const std::string& target, const std::string& body, const std::string& extra) {
    return "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n" + extra + "\r\n" + body;
}

} // namespace mpic::test
