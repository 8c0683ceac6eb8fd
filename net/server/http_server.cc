// The API server's connection state machine. Stages per request: head (request line + headers, bounded in bytes,
// count and time) → body (bounded in bytes and time) → dispatched (reading paused; pipelined bytes wait) → write
// (bounded in time) → idle (keep-alive, bounded in time) or close. One uv_timer per connection follows the stage.

#include "net/server/http_server.hh"

#include <cctype>
#include <ctime>
#include <list>
#include <optional>

#include <llhttp.h>
#include <uv.h>

#include "core/uv_util.hh"

namespace mpic::net::server {

std::string_view reason_phrase(int status) noexcept {
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Status";
    }
}

const std::string* request::header(std::string_view name) const noexcept {
    const auto* h = http::find_header(headers, name);
    return h != nullptr ? &h->value : nullptr;
}

struct responder::link {
    connection* conn = nullptr; ///< null once the connection is gone
    bool sent = false;
};

struct http_server::impl {
    uv_loop_t* loop = nullptr;
    uv_tcp_t listen_handle{};
    bool listening = false;   ///< accepting new connections
    bool listen_open = false; ///< the listen handle is not yet fully closed
    bool closing = false;
    server_limits limits;
    std::shared_ptr<const tls_server_context> tls;
    request_handler handler;
    std::list<connection*> connections;
    std::uint64_t served = 0;
    bool owner_gone = false; ///< the http_server object was destroyed; free when the last handle closes

    void maybe_free();
};

class connection {
public:
    connection(http_server::impl& server) : _server(server) {
        llhttp_settings_init(&_settings);
        _settings.on_message_begin = &connection::on_message_begin;
        _settings.on_url = &connection::on_url;
        _settings.on_header_field = &connection::on_header_field;
        _settings.on_header_value = &connection::on_header_value;
        _settings.on_headers_complete = &connection::on_headers_complete;
        _settings.on_body = &connection::on_body;
        _settings.on_message_complete = &connection::on_message_complete;
        llhttp_init(&_parser, HTTP_REQUEST, &_settings);
        _parser.data = this;
    }

    bool start() {
        uv_tcp_init(_server.loop, &_tcp);
        _tcp.data = this;
        uv_timer_init(_server.loop, &_timer);
        _timer.data = this;
        if (uv_accept(reinterpret_cast<uv_stream_t*>(&_server.listen_handle), reinterpret_cast<uv_stream_t*>(&_tcp)) !=
            0) {
            return false;
        }
        uv_tcp_nodelay(&_tcp, 1);
        sockaddr_storage peer{};
        int len = sizeof peer;
        if (uv_tcp_getpeername(&_tcp, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
            char text[64] = {};
            if (peer.ss_family == AF_INET6) {
                uv_ip6_name(reinterpret_cast<sockaddr_in6*>(&peer), text, sizeof text);
            } else {
                uv_ip4_name(reinterpret_cast<sockaddr_in*>(&peer), text, sizeof text);
            }
            _peer = text;
        }
        if (_server.tls) {
            auto session = tls_server_session::create(*_server.tls);
            if (!session) {
                return false;
            }
            _tls.emplace(std::move(*session));
        }
        arm(_server.limits.head_timeout);
        uv_read_start(reinterpret_cast<uv_stream_t*>(&_tcp), &connection::on_alloc, &connection::on_read);
        return true;
    }

    /// Closes both handles; the object is deleted when both close callbacks ran.
    void close() {
        if (_closing) {
            return;
        }
        _closing = true;
        if (_link) {
            _link->conn = nullptr;
        }
        uv_read_stop(reinterpret_cast<uv_stream_t*>(&_tcp));
        uv_timer_stop(&_timer);
        uv_close(reinterpret_cast<uv_handle_t*>(&_tcp), &connection::on_closed);
        uv_close(reinterpret_cast<uv_handle_t*>(&_timer), &connection::on_closed);
    }

    void send(response r);

    std::list<connection*>::iterator self_position;

private:
    enum class stage { head, body, dispatched, writing, idle };

    static connection* from(llhttp_t* p) { return static_cast<connection*>(p->data); }

    void arm(std::chrono::milliseconds timeout) {
        uv_timer_start(&_timer, &connection::on_timeout, static_cast<std::uint64_t>(timeout.count()), 0);
    }

    static void on_closed(uv_handle_t* handle) {
        auto* self = static_cast<connection*>(handle->data);
        if (--self->_open_handles == 0) {
            auto& server = self->_server;
            server.connections.erase(self->self_position);
            delete self;
            server.maybe_free();
        }
    }

    static void on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
        auto* self = static_cast<connection*>(handle->data);
        buf->base = self->_read_buffer;
        buf->len = sizeof self->_read_buffer;
    }

    static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* self = static_cast<connection*>(stream->data);
        if (nread < 0) {
            self->close();
            return;
        }
        if (nread == 0) {
            return;
        }
        std::string_view bytes(buf->base, static_cast<std::size_t>(nread));
        if (self->_tls) {
            self->on_ciphertext(bytes);
        } else {
            self->feed(bytes);
        }
    }

    void on_ciphertext(std::string_view bytes) {
        _tls->receive(bytes);
        if (!_tls->handshake_done()) {
            auto done = _tls->handshake();
            flush_tls();
            if (!done) {
                close(); // failed handshake, including a missing or untrusted client certificate under mTLS
                return;
            }
            if (!*done) {
                return;
            }
            _client_subject = _tls->peer_subject();
        }
        char plain[16384];
        for (;;) {
            auto n = _tls->read(plain);
            if (!n) {
                close();
                return;
            }
            if (*n == 0) {
                break;
            }
            feed(std::string_view(plain, *n));
            if (_closing) {
                return;
            }
        }
        flush_tls();
    }

    void flush_tls() {
        if (_tls && _tls->has_output()) {
            write_raw(_tls->take_output(), false);
        }
    }

    /// Feeds request bytes to the parser; while a request is being answered, bytes wait in _pending.
    void feed(std::string_view bytes) {
        if (_stage == stage::dispatched || _stage == stage::writing) {
            _pending.append(bytes);
            if (_pending.size() > _server.limits.max_head_bytes + _server.limits.max_body_bytes) {
                close(); // a client flooding pipelined requests beyond one request's worth: cut it
            }
            return;
        }
        if (_stage == stage::idle) {
            _stage = stage::head;
            arm(_server.limits.head_timeout);
        }
        auto err = llhttp_execute(&_parser, bytes.data(), bytes.size());
        if (err == HPE_PAUSED) {
            const char* pos = llhttp_get_error_pos(&_parser);
            if (pos != nullptr && pos >= bytes.data() && pos < bytes.data() + bytes.size()) {
                _pending.assign(pos, static_cast<std::size_t>(bytes.data() + bytes.size() - pos));
            }
            dispatch();
            return;
        }
        if (err != HPE_OK) {
            fail(_limit_status != 0 ? _limit_status : 400,
                 _limit_status != 0 ? _limit_message
                                    : std::string("malformed HTTP request: ") + llhttp_errno_name(err));
        }
    }

    void fail(int status, std::string message) {
        response r;
        r.status = status;
        r.close = true;
        r.headers.push_back({"Content-Type", "application/json"});
        std::string escaped;
        for (char c : message) {
            if (c == '"' || c == '\\') {
                escaped += '\\';
                escaped += c;
            } else if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f) {
                escaped += c;
            }
        }
        r.body = "{\"error\":\"" +
                 std::string(status == 408   ? "request-timeout"
                             : status == 413 ? "body-too-large"
                             : status == 431 ? "header-too-large"
                                             : "bad-request") +
                 "\",\"message\":\"" + escaped + "\"}";
        _stage = stage::dispatched;
        uv_read_stop(reinterpret_cast<uv_stream_t*>(&_tcp));
        write_response(std::move(r), false);
    }

    void dispatch() {
        _stage = stage::dispatched;
        uv_timer_stop(&_timer);
        uv_read_stop(reinterpret_cast<uv_stream_t*>(&_tcp));
        _keep_alive = llhttp_should_keep_alive(&_parser) != 0;
        request req = std::move(_request);
        _request = {};
        req.method = llhttp_method_name(static_cast<llhttp_method_t>(_parser.method));
        auto q = req.target.find('?');
        req.path = req.target.substr(0, q);
        req.peer_address = _peer;
        req.client_subject = _client_subject;
        req.tls = _tls.has_value();
        _link = std::make_shared<responder::link>();
        _link->conn = this;
        ++_server.served;
        _server.handler(std::move(req), responder(_link));
    }

    void write_response(response r, bool keep_alive) {
        std::string out;
        out.reserve(256 + r.body.size());
        out += "HTTP/1.1 ";
        out += std::to_string(r.status);
        out += ' ';
        out += reason_phrase(r.status);
        out += "\r\n";
        for (const auto& h : r.headers) {
            out += h.name;
            out += ": ";
            out += h.value;
            out += "\r\n";
        }
        char date[64];
        std::time_t now = std::time(nullptr);
        std::tm tm{};
        gmtime_r(&now, &tm);
        std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        out += "Date: ";
        out += date;
        out += "\r\nContent-Length: ";
        out += std::to_string(r.body.size());
        out += keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
        out += r.body;
        _stage = stage::writing;
        arm(_server.limits.write_timeout);
        if (_tls) {
            if (!_tls->write(out)) {
                close();
                return;
            }
            write_raw(_tls->take_output(), true, keep_alive);
        } else {
            write_raw(std::move(out), true, keep_alive);
        }
    }

    struct write_request {
        uv_write_t req;
        std::string data;
        connection* conn;
        bool response_end;
        bool keep_alive;
    };

    void write_raw(std::string data, bool response_end, bool keep_alive = true) {
        if (_closing) {
            return;
        }
        auto* w = new write_request{{}, std::move(data), this, response_end, keep_alive};
        w->req.data = w;
        uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
        ++_writes_in_flight;
        if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&_tcp), &buf, 1, &connection::on_written) != 0) {
            --_writes_in_flight;
            delete w;
            close();
        }
    }

    static void on_written(uv_write_t* req, int status) {
        std::unique_ptr<write_request> w(static_cast<write_request*>(req->data));
        auto* self = w->conn;
        --self->_writes_in_flight;
        if (self->_closing) {
            return;
        }
        if (status < 0) {
            self->close();
            return;
        }
        if (!w->response_end) {
            return;
        }
        if (!w->keep_alive) {
            self->close();
            return;
        }
        self->next_request();
    }

    void next_request() {
        _stage = stage::idle;
        _link.reset();
        llhttp_resume(&_parser);
        arm(_server.limits.idle_timeout);
        uv_read_start(reinterpret_cast<uv_stream_t*>(&_tcp), &connection::on_alloc, &connection::on_read);
        if (!_pending.empty()) {
            auto pending = std::move(_pending);
            _pending.clear();
            feed(pending);
        }
    }

    static void on_timeout(uv_timer_t* timer) {
        auto* self = static_cast<connection*>(timer->data);
        switch (self->_stage) {
        case stage::head:
        case stage::body:
            // Slowloris: the client did not send a whole request in time.
            self->fail(408, "request not received within the time limit");
            break;
        case stage::idle:
        case stage::writing:
        case stage::dispatched:
            self->close();
            break;
        }
    }

    bool over_head_limit(std::size_t more) {
        _head_bytes += more;
        if (_head_bytes > _server.limits.max_head_bytes) {
            _limit_status = 431;
            _limit_message = "request head exceeds " + std::to_string(_server.limits.max_head_bytes) + " bytes";
            return true;
        }
        return false;
    }

    static int on_message_begin(llhttp_t* p) {
        auto* self = from(p);
        self->_stage = stage::head;
        self->_head_bytes = 0;
        self->_in_value = false;
        self->_request = {};
        return HPE_OK;
    }
    static int on_url(llhttp_t* p, const char* at, std::size_t len) {
        auto* self = from(p);
        if (self->over_head_limit(len)) {
            return HPE_USER;
        }
        self->_request.target.append(at, len);
        return HPE_OK;
    }
    static int on_header_field(llhttp_t* p, const char* at, std::size_t len) {
        auto* self = from(p);
        if (self->over_head_limit(len)) {
            return HPE_USER;
        }
        // RFC 9110 §5.1: a field name is a token; anything else (spaces, controls, separators) is a 400.
        for (std::size_t i = 0; i < len; ++i) {
            const auto c = static_cast<unsigned char>(at[i]);
            if (!std::isalnum(c) &&
                std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) {
                self->_limit_status = 400;
                self->_limit_message = "invalid character in a header field name";
                return HPE_USER;
            }
        }
        auto& headers = self->_request.headers;
        if (self->_in_value || headers.empty()) {
            if (headers.size() >= self->_server.limits.max_headers) {
                self->_limit_status = 431;
                self->_limit_message = "more than " + std::to_string(self->_server.limits.max_headers) + " headers";
                return HPE_USER;
            }
            headers.push_back({});
            self->_in_value = false;
        }
        headers.back().name.append(at, len);
        return HPE_OK;
    }
    static int on_header_value(llhttp_t* p, const char* at, std::size_t len) {
        auto* self = from(p);
        if (self->over_head_limit(len)) {
            return HPE_USER;
        }
        self->_in_value = true;
        if (!self->_request.headers.empty()) {
            self->_request.headers.back().value.append(at, len);
        }
        return HPE_OK;
    }
    static int on_headers_complete(llhttp_t* p) {
        auto* self = from(p);
        if (p->content_length > self->_server.limits.max_body_bytes && (p->flags & F_CONTENT_LENGTH) != 0) {
            self->_limit_status = 413;
            self->_limit_message = "body exceeds " + std::to_string(self->_server.limits.max_body_bytes) + " bytes";
            return -1;
        }
        self->_stage = stage::body;
        self->arm(self->_server.limits.body_timeout);
        return HPE_OK;
    }
    static int on_body(llhttp_t* p, const char* at, std::size_t len) {
        auto* self = from(p);
        if (self->_request.body.size() + len > self->_server.limits.max_body_bytes) {
            self->_limit_status = 413;
            self->_limit_message = "body exceeds " + std::to_string(self->_server.limits.max_body_bytes) + " bytes";
            return HPE_USER;
        }
        self->_request.body.append(at, len);
        return HPE_OK;
    }
    static int on_message_complete(llhttp_t*) {
        // Pause after each request: pipelined requests are parsed only after this one is answered.
        return HPE_PAUSED;
    }

    http_server::impl& _server;
    uv_tcp_t _tcp{};
    uv_timer_t _timer{};
    int _open_handles = 2;
    llhttp_settings_t _settings{};
    llhttp_t _parser{};
    std::optional<tls_server_session> _tls;
    std::string _peer;
    std::string _client_subject;
    request _request;
    std::string _pending;
    std::shared_ptr<responder::link> _link;
    stage _stage = stage::head;
    std::size_t _head_bytes = 0;
    int _limit_status = 0;
    std::string _limit_message;
    int _writes_in_flight = 0;
    bool _in_value = false;
    bool _keep_alive = true;
    bool _closing = false;
    char _read_buffer[16384];

    friend class responder;
};

void connection::send(response r) {
    const bool keep_alive = _keep_alive && !r.close && !_server.closing;
    write_response(std::move(r), keep_alive);
}

void responder::send(response r) const {
    if (!_link || _link->sent || _link->conn == nullptr) {
        return;
    }
    _link->sent = true;
    _link->conn->send(std::move(r));
}

bool responder::connected() const noexcept {
    return _link && _link->conn != nullptr && !_link->sent;
}

void http_server::impl::maybe_free() {
    if (owner_gone && !listen_open && connections.empty()) {
        delete this;
    }
}

result<listener> listener::bind(const std::string& host, std::uint16_t port, int backlog) {
    sockaddr_storage addr{};
    if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
        uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
        return make_error_code(errc::invalid_argument);
    }
    int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::error_code(errno, std::generic_category());
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len = addr.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, backlog) != 0) {
        auto ec = std::error_code(errno, std::generic_category());
        ::close(fd);
        return ec;
    }
    sockaddr_storage bound{};
    socklen_t bound_len = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
    const auto bound_port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                                        : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    return listener(fd, bound_port);
}

listener::~listener() {
    close();
}

void listener::close() noexcept {
    if (_fd >= 0) {
        ::close(_fd);
        _fd = -1;
    }
}

listener::listener(listener&& other) noexcept : _fd(std::exchange(other._fd, -1)), _port(other._port) {}

result<std::unique_ptr<http_server>> http_server::start(uv_loop_t* loop, int listen_fd, server_limits limits,
                                                        std::shared_ptr<const tls_server_context> tls,
                                                        request_handler handler) {
    int fd = ::dup(listen_fd);
    if (fd < 0) {
        return std::error_code(errno, std::generic_category());
    }
    auto* i = new impl;
    i->loop = loop;
    i->limits = limits;
    i->tls = std::move(tls);
    i->handler = std::move(handler);
    uv_tcp_init(loop, &i->listen_handle);
    i->listen_handle.data = i;
    if (int rc = uv_tcp_open(&i->listen_handle, fd); rc != 0) {
        ::close(fd);
        i->owner_gone = true;
        uv_close(reinterpret_cast<uv_handle_t*>(&i->listen_handle),
                 [](uv_handle_t* h) { delete static_cast<impl*>(h->data); });
        return uv_error(rc);
    }
    i->listening = true;
    i->listen_open = true;
    int rc = uv_listen(reinterpret_cast<uv_stream_t*>(&i->listen_handle), 1024, [](uv_stream_t* server, int status) {
        auto* self = static_cast<impl*>(server->data);
        if (status < 0 || self->closing) {
            return;
        }
        auto* conn = new connection(*self);
        self->connections.push_front(conn);
        conn->self_position = self->connections.begin();
        // start() first: it initialises the handles (close() needs them) and accepts the socket, so a connection
        // over the limit is taken off the backlog and closed rather than left there (libuv stops polling the
        // listener while an accepted-but-unclaimed descriptor is pending).
        if (!conn->start() || self->connections.size() > self->limits.max_connections) {
            conn->close();
        }
    });
    auto server = std::unique_ptr<http_server>(new http_server(i));
    if (rc != 0) {
        return uv_error(rc);
    }
    return server;
}

void http_server::stop_accepting() noexcept {
    if (_impl->listening) {
        _impl->listening = false;
        auto* i = _impl;
        uv_close(reinterpret_cast<uv_handle_t*>(&i->listen_handle), [](uv_handle_t* h) {
            auto* self = static_cast<impl*>(h->data);
            self->listen_open = false;
            self->maybe_free();
        });
    }
}

void http_server::close() noexcept {
    _impl->closing = true;
    stop_accepting();
    auto connections = _impl->connections;
    for (auto* c : connections) {
        c->close();
    }
}

http_server::~http_server() {
    close();
    _impl->owner_gone = true;
    _impl->maybe_free();
}

std::size_t http_server::connections() const noexcept {
    return _impl->connections.size();
}
std::uint64_t http_server::requests_served() const noexcept {
    return _impl->served;
}

} // namespace mpic::net::server
