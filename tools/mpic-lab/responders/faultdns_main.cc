// mpic-lab-faultdns: programmable DNS responder on UDP and TCP (same port number). UDP is served from one poll()
// loop with a bounded queue of delayed replies; TCP connections each get a thread (RFC 7766 §8 length-prefixed
// messages, several per connection).

#include <cerrno>
#include <cstdio>
#include <poll.h>
#include <queue>
#include <thread>

#include "tools/mpic-lab/responders/faultdns.hh"
#include "tools/mpic-lab/responders/lab_server.hh"

namespace mpic::lab::responders::dns {
namespace {

using clock = std::chrono::steady_clock;

struct pending {
    clock::time_point due;
    sockaddr_storage to;
    socklen_t to_len;
    bytes message;
    bool operator>(const pending& o) const { return due > o.due; }
};

constexpr std::size_t max_pending = 10000;
constexpr int max_tcp_queries = 1000;

void log_query(const char* transport, const std::string& peer, const std::uint8_t* data, std::size_t len,
               const reply& r) {
    auto q = parse_query(data, len);
    std::fprintf(stderr, "mpic-lab-faultdns: %s %s %s %s -> %s%s\n", transport, peer.c_str(),
                 q ? (q->qname.empty() ? "." : q->qname.c_str()) : "(unparseable)",
                 q ? type_to_string(q->qtype).c_str() : "-", r.drop ? "drop" : std::to_string(r.message.size()).c_str(),
                 r.drop ? "" : " bytes");
}

bool read_exact(int fd, std::uint8_t* p, std::size_t n) {
    while (n > 0) {
        const ssize_t got = ::recv(fd, p, n, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return false; // EOF, error or the 10 s idle timeout
        }
        p += got;
        n -= static_cast<std::size_t>(got);
    }
    return true;
}

void serve_tcp(const dns_config& config, unique_fd fd, const std::string& peer) {
    set_timeouts(fd.get(), std::chrono::seconds(10), std::chrono::seconds(10));
    bytes msg;
    // RFC 7766 §6.2.3 lets servers close idle or long-lived connections; 120 s bounds a trickling client.
    const auto deadline = clock::now() + std::chrono::seconds(120);
    for (int i = 0; i < max_tcp_queries && !stop_requested() && clock::now() < deadline; ++i) {
        std::uint8_t len_buf[2];
        if (!read_exact(fd.get(), len_buf, 2)) {
            return;
        }
        msg.resize(read_u16(len_buf));
        if (!read_exact(fd.get(), msg.data(), msg.size())) {
            return;
        }
        reply r = respond(config, msg.data(), msg.size(), peer, true);
        log_query("tcp", peer, msg.data(), msg.size(), r);
        if (r.delay_ms > 0 && !sleep_unless_stopped(std::chrono::milliseconds(r.delay_ms))) {
            return;
        }
        if (r.drop) {
            continue; // a dropped TCP query: the client times out, the connection stays usable
        }
        const std::size_t n = std::min<std::size_t>(r.message.size(), 65535);
        bytes framed{static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n & 0xff)};
        framed.insert(framed.end(), r.message.begin(), r.message.begin() + static_cast<std::ptrdiff_t>(n));
        if (!send_all(fd.get(), framed.data(), framed.size())) {
            return;
        }
    }
}

void serve_udp(const dns_config& config, int fd) {
    std::priority_queue<pending, std::vector<pending>, std::greater<>> queue;
    std::vector<std::uint8_t> buf(65536);
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd(), POLLIN, 0}};
    while (!stop_requested()) {
        int timeout = 1000;
        if (!queue.empty()) {
            const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(queue.top().due - clock::now());
            timeout = static_cast<int>(std::clamp<std::int64_t>(wait.count() + 1, 0, 1000));
        }
        const int n = ::poll(fds, 2, timeout);
        if (n < 0 && errno != EINTR) {
            std::perror("poll");
            return;
        }
        while (!queue.empty() && queue.top().due <= clock::now()) {
            const pending& p = queue.top();
            ::sendto(fd, p.message.data(), p.message.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&p.to),
                     p.to_len);
            queue.pop();
        }
        if (n <= 0 || (fds[0].revents & POLLIN) == 0) {
            continue;
        }
        // Drain what is ready, but bounded so delayed replies are not starved by a flood.
        for (int i = 0; i < 64; ++i) {
            sockaddr_storage from{};
            socklen_t from_len = sizeof from;
            const ssize_t got =
                ::recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &from_len);
            if (got < 0) {
                break;
            }
            const std::string peer = address_string(from);
            const auto len = static_cast<std::size_t>(got);
            reply r = respond(config, buf.data(), len, peer, false);
            log_query("udp", peer, buf.data(), len, r);
            if (r.drop) {
                continue;
            }
            if (r.delay_ms == 0) {
                ::sendto(fd, r.message.data(), r.message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&from),
                         from_len);
            } else if (queue.size() < max_pending) {
                queue.push(
                    {clock::now() + std::chrono::milliseconds(r.delay_ms), from, from_len, std::move(r.message)});
            }
        }
    }
}

int run(int argc, char** argv) {
    int code = 0;
    auto path = parse_command_line(argc, argv, "mpic-lab-faultdns: programmable DNS responder for the lab", &code);
    if (!path) {
        return code;
    }
    auto cfg = read_dns_config(*path);
    if (!cfg) {
        std::fprintf(stderr, "error: %s\n", cfg.error.c_str());
        return 2;
    }
    install_stop_handlers();
    // Lives until exit_now: TCP threads hold references to it.
    static const dns_config config = std::move(*cfg.config);
    std::string err;
    unique_fd tcp, udp;
    // With port 0 the TCP port is chosen first and UDP must get the same number; on a clash, try again.
    for (int attempt = 0; attempt < 20 && !udp; ++attempt) {
        tcp = bind_socket(config.listen.address, config.listen.port, SOCK_STREAM, &err);
        if (!tcp) {
            break;
        }
        udp = bind_socket(config.listen.address, local_port(tcp.get()), SOCK_DGRAM, &err);
        if (config.listen.port != 0) {
            break;
        }
    }
    if (!tcp || !udp) {
        std::fprintf(stderr, "error: %s\n", err.c_str());
        return 1;
    }
    const std::uint16_t port = local_port(tcp.get());
    announce_ready("ready udp=" + std::to_string(port) + " tcp=" + std::to_string(port));
    std::thread([fd = tcp.get()] {
        accept_loop(fd, [](unique_fd c, const std::string& peer) { serve_tcp(config, std::move(c), peer); });
    }).detach();
    serve_udp(config, udp.get());
    return 0;
}

} // namespace
} // namespace mpic::lab::responders::dns

int main(int argc, char** argv) {
    mpic::lab::responders::exit_now(mpic::lab::responders::dns::run(argc, argv));
}
