#pragma once
// Test harness for net::server::http_server: the server runs on its own libuv loop in a thread; the test talks to
// it with blocking sockets (raw HTTP/1.1, optionally through OpenSSL) on 127.0.0.1, every read bounded in time.
// stop() closes the server and every handle and records uv_loop_close's result (must be 0).

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <openssl/ssl.h>
#include <uv.h>

#include "net/server/http_server.hh"

namespace mpic::test {

/// The server side. The default handler answers 200 with "<method> <target> <body bytes>" and, for a target starting
/// with "/slow", only after 150 ms (a deferred answer from a uv timer). "/subject" answers the client certificate
/// subject; "/big" answers 32 MiB. Every request is counted; `max_outstanding` records the largest number of requests
/// dispatched and not yet answered at once (one connection must never exceed 1).
class server_harness {
public:
    server_harness(net::server::server_limits limits,
                   std::shared_ptr<const net::server::tls_server_context> tls = nullptr);
    ~server_harness();

    /// Starts; false if the listener or the server failed.
    bool start();
    /// Stops the server and the loop, joins the thread; returns uv_loop_close's result. Idempotent.
    int stop();

    std::uint16_t port() const { return _port; }
    int requests() const { return _requests.load(); }
    int max_outstanding() const { return _max_outstanding.load(); }
    std::chrono::milliseconds slow_delay{150};

private:
    void handle(net::server::request&& req, net::server::responder res);
    static void on_async(uv_async_t* handle);

    net::server::server_limits _limits;
    std::shared_ptr<const net::server::tls_server_context> _tls;
    std::optional<net::server::listener> _listener;
    std::uint16_t _port = 0;
    uv_loop_t* _loop = nullptr;
    uv_async_t* _stop_async = nullptr;
    std::unique_ptr<net::server::http_server> _server;
    std::set<uv_timer_t*> _timers;
    std::thread _thread;
    std::atomic<int> _requests{0};
    std::atomic<int> _outstanding{0};
    std::atomic<int> _max_outstanding{0};
    int _loop_close_rc = -1;
    bool _stopped = false;
};

/// A parsed HTTP/1.1 response.
struct http_reply {
    int status = 0;
    std::map<std::string, std::string> headers; ///< names lowercased
    std::string body;
    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

/// A blocking client connection (plain or TLS) with a receive timeout on every read.
class client_conn {
public:
    /// Connects to 127.0.0.1:port; check ok().
    explicit client_conn(std::uint16_t port, std::chrono::milliseconds read_timeout = std::chrono::seconds(5));
    ~client_conn();
    client_conn(const client_conn&) = delete;
    client_conn& operator=(const client_conn&) = delete;
    bool ok() const { return _fd >= 0; }
    int fd() const { return _fd; }

    /// TLS handshake with the given context (client certificate set on it, if any). False on failure.
    bool start_tls(SSL_CTX* ctx);
    /// Sends everything; false on error.
    bool send(std::string_view bytes);
    /// Reads one response (Content-Length framing); nullopt on EOF, error or timeout before a whole response.
    std::optional<http_reply> read_reply();
    /// Reads until the peer closes; true if it closed (EOF or reset) within `bound`.
    bool closed_within(std::chrono::milliseconds bound);
    /// Bytes received but not yet consumed.
    const std::string& buffered() const { return _in; }

private:
    /// One read into _in; >0 bytes, 0 EOF, -1 error/timeout.
    long read_some();
    int _fd = -1;
    SSL* _ssl = nullptr;
    std::string _in;
};

/// "GET <target> HTTP/1.1" with Host and optional extra header lines (each ending in \r\n).
std::string get_request(const std::string& target, const std::string& extra = "");
/// A POST with a Content-Length body.
std::string post_request(const std::string& target, const std::string& body, const std::string& extra = "");

} // namespace mpic::test
