// mpic-lab-faulthttp: programmable HTTP/1.1 responder (one request per connection, Connection: close). Each
// connection runs on its own thread with blocking sockets and send/receive timeouts, so every wait is bounded.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <poll.h>

#include "tools/mpic-lab/responders/faulthttp.hh"
#include "tools/mpic-lab/responders/lab_server.hh"

namespace mpic::lab::responders::http {
namespace {

constexpr auto io_timeout = std::chrono::seconds(10);
constexpr auto hold_limit = std::chrono::seconds(600); // no_response: longest we keep a connection open

// Reads up to the end of the request head (CRLF CRLF). 0 = EOF/timeout/error/30 s deadline, otherwise the
// head's length; max_request_head + 1 if the head is too long.
std::size_t read_head(int fd, std::string& buf) {
    char chunk[4096];
    // The per-recv timeout alone would let a client trickle one byte every 9 s for days; cap the whole head.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (buf.size() <= max_request_head && std::chrono::steady_clock::now() < deadline) {
        if (const auto end = buf.find("\r\n\r\n"); end != std::string::npos) {
            return end + 4;
        }
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return 0;
        }
        buf.append(chunk, static_cast<std::size_t>(n));
    }
    return buf.size() > max_request_head ? max_request_head + 1 : 0;
}

// Sends `data` one byte at a time, `interval` apart.
bool dribble(int fd, std::string_view data, std::chrono::milliseconds interval) {
    for (char c : data) {
        if (!send_all(fd, &c, 1) || !sleep_unless_stopped(interval)) {
            return false;
        }
    }
    return true;
}

// Streams `n` bytes of 'x' from one fixed 64 KiB buffer: a 1 GB body never exists in memory.
bool stream_filler(int fd, std::uint64_t n) {
    static const std::string block(64 * 1024, 'x');
    while (n > 0 && !stop_requested()) {
        const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, block.size()));
        if (!send_all(fd, block.data(), k)) {
            return false;
        }
        n -= k;
    }
    return n == 0;
}

bool send_text(int fd, const std::string& s) {
    return send_all(fd, s.data(), s.size());
}

// Waits until the client closes (or hold_limit / stop), discarding whatever it sends.
void hold_until_closed(int fd) {
    const auto end = std::chrono::steady_clock::now() + hold_limit;
    char buf[4096];
    while (!stop_requested() && std::chrono::steady_clock::now() < end) {
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, 200);
        if (r < 0 && errno != EINTR) {
            return;
        }
        if (r > 0) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                return;
            }
        }
    }
}

// Graceful end: FIN, then drain briefly so unread request bytes do not turn our close into a reset.
void finish(int fd) {
    ::shutdown(fd, SHUT_WR);
    set_timeouts(fd, std::chrono::seconds(2), std::chrono::seconds(2));
    char buf[4096];
    for (int i = 0; i < 256 && ::recv(fd, buf, sizeof buf, 0) > 0; ++i) {
    }
}

void reset(int fd) {
    // SO_LINGER {on, 0}: close() sends RST instead of FIN (RFC 9293 §3.10.7.1 abort).
    const linger lg{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

// Returns true if the connection should end gracefully (finish), false if it has been reset or failed.
bool run_rule(int fd, const http_rule& r) {
    if (r.delay_ms > 0 && !sleep_unless_stopped(std::chrono::milliseconds(r.delay_ms))) {
        return false;
    }
    switch (r.behaviour) {
    case http_behaviour::respond:
    case http_behaviour::slow_headers:
        return send_text(fd, response_head(r.status, &r, r.body.size(), false) + r.body);
    case http_behaviour::dribble:
        return dribble(fd, response_head(r.status, &r, r.body.size(), false) + r.body,
                       std::chrono::milliseconds(r.dribble_interval_ms));
    case http_behaviour::oversized:
        return send_text(fd, response_head(r.status, &r, r.declared_length, false)) &&
               stream_filler(fd, r.actual_length);
    case http_behaviour::reset_mid_body: {
        // Announce more than is sent, send reset_after bytes (body, padded with 'x'), then abort the connection.
        const std::uint64_t announced =
            r.declared_length.value_or(std::max<std::uint64_t>(r.body.size(), r.reset_after + 1));
        std::string sent =
            r.body.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(r.body.size(), r.reset_after)));
        bool ok = send_text(fd, response_head(r.status, &r, announced, false) + sent) &&
                  stream_filler(fd, r.reset_after - sent.size());
        // Let the bytes reach the client before the RST, so it sees a body cut short rather than no response.
        sleep_unless_stopped(std::chrono::milliseconds(100));
        (void)ok;
        reset(fd);
        return false;
    }
    case http_behaviour::no_response:
        hold_until_closed(fd);
        return false;
    case http_behaviour::chunked: {
        // RFC 9112 §7.1: chunk = chunk-size (hex) CRLF chunk-data CRLF; last-chunk = "0" CRLF; then CRLF.
        if (!send_text(fd, response_head(r.status, &r, std::nullopt, true))) {
            return false;
        }
        for (std::size_t at = 0; at < r.body.size(); at += r.chunk_size) {
            const std::string part = r.body.substr(at, r.chunk_size);
            char size[32];
            std::snprintf(size, sizeof size, "%zx\r\n", part.size());
            if (!send_text(fd, size + part + "\r\n")) {
                return false;
            }
        }
        return send_text(fd, "0\r\n\r\n");
    }
    case http_behaviour::redirect:
        return send_text(fd, response_head(r.status == 200 ? 302 : r.status, &r, 0, false, r.location));
    }
    return false;
}

void serve(const http_config& config, unique_fd fd, const std::string& peer) {
    set_timeouts(fd.get(), io_timeout, io_timeout);
    std::string buf;
    const std::size_t head_len = read_head(fd.get(), buf);
    if (head_len == 0) {
        return;
    }
    if (head_len > max_request_head) {
        send_text(fd.get(), response_head(431, nullptr, 0, false));
        finish(fd.get());
        return;
    }
    const auto req = parse_request_head(std::string_view(buf).substr(0, head_len));
    if (!req) {
        std::fprintf(stderr, "mpic-lab-faulthttp: %s bad request -> 400\n", peer.c_str());
        send_text(fd.get(), response_head(400, nullptr, 0, false));
        finish(fd.get());
        return;
    }
    const http_rule* rule = match_rule(config, *req, peer);
    std::fprintf(stderr, "mpic-lab-faulthttp: %s %s %s host=%s -> %s\n", peer.c_str(), req->method.c_str(),
                 req->target.c_str(), req->host.c_str(),
                 rule != nullptr ? std::string(to_string(rule->behaviour)).c_str() : "404");
    if (rule == nullptr) {
        send_text(fd.get(), response_head(404, nullptr, 0, false));
        finish(fd.get());
        return;
    }
    if (run_rule(fd.get(), *rule)) {
        finish(fd.get());
    }
}

int run(int argc, char** argv) {
    int code = 0;
    auto path =
        parse_command_line(argc, argv, "mpic-lab-faulthttp: programmable HTTP/1.1 responder for the lab", &code);
    if (!path) {
        return code;
    }
    auto cfg = read_http_config(*path);
    if (!cfg) {
        std::fprintf(stderr, "error: %s\n", cfg.error.c_str());
        return 2;
    }
    install_stop_handlers();
    static const http_config config = std::move(*cfg.config); // lives until exit_now; threads refer to it
    std::string err;
    unique_fd listener = bind_socket(config.listen.address, config.listen.port, SOCK_STREAM, &err);
    if (!listener) {
        std::fprintf(stderr, "error: %s\n", err.c_str());
        return 1;
    }
    announce_ready("ready " + std::to_string(local_port(listener.get())));
    accept_loop(listener.get(), [](unique_fd fd, const std::string& peer) { serve(config, std::move(fd), peer); });
    return 0;
}

} // namespace
} // namespace mpic::lab::responders::http

int main(int argc, char** argv) {
    mpic::lab::responders::exit_now(mpic::lab::responders::http::run(argc, argv));
}
