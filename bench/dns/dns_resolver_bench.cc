// DNS check throughput and client CPU: our resolver (net/dns) against a bare c-ares 1.18 + libuv client, side by
// side in one run, alternating A B A B (performance.md "How to measure here", target 1).
//
//   bare  ares_query(TXT) on a channel driven by uv_poll + one repeating timer; callback parses with
//         ares_parse_txt_reply_ext and compares the first string. The least a c-ares+libuv DNS check can do.
//   mpic  resolver::query(TXT): our query builder (EDNS0 + DO), full bounds-checked message parse, alias-chain walk,
//         record copy into query_result; callback compares the joined TXT value (what dns-01 does).
//
// Both are closed loops with --in-flight queries outstanding for --seconds, against the same server: by default a
// built-in UDP responder (recvmmsg/sendmmsg, one canned TXT answer) on its own thread, pinned to CPU 1 while the
// client loop is pinned to CPU 0; or --server ip:port (e.g. a lab named/nsd). Client CPU is the client thread's own
// user+sys time (getrusage RUSAGE_THREAD), so the responder's CPU is not counted.
//
// Usage: dns_resolver_bench [--in-flight N] [--seconds S] [--rounds R] [--server 127.0.0.1:5353]
//                           [--udp-max-queries N]   (our resolver's channel rotation; 0 = off)

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include <ares.h>
#include <ares_nameser.h>
#include <uv.h>

#include "net/dns/resolver.hh"

namespace {

constexpr const char* qname = "_acme-challenge.bench.test";
constexpr const char* txt_value = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

void pin_to_cpu(int cpu) {
    if (std::thread::hardware_concurrency() < 2) {
        return;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

double thread_cpu_us() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

// ---- built-in responder -------------------------------------------------------------------------------------------

/// Answers every query with the question echoed, one TXT RR (owner = pointer to the question) and, if the query had
/// an OPT RR, an OPT RR back. Batches with recvmmsg/sendmmsg so it outruns one client core.
class responder {
public:
    responder() {
        _fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(_fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        socklen_t len = sizeof sa;
        ::getsockname(_fd, reinterpret_cast<sockaddr*>(&sa), &len);
        _port = ntohs(sa.sin_port);
        const int buf = 8 << 20;
        ::setsockopt(_fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        ::setsockopt(_fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
        timeval tv{0, 100'000};
        ::setsockopt(_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        _thread = std::thread([this] { run(); });
    }
    ~responder() {
        _stop = true;
        _thread.join();
        ::close(_fd);
    }
    std::uint16_t port() const { return _port; }

private:
    static std::size_t answer(const unsigned char* q, std::size_t n, unsigned char* out) {
        if (n < 17) {
            return 0;
        }
        std::size_t p = 12;
        while (p < n && q[p] != 0) {
            p += 1 + q[p];
        }
        p += 5; // root + qtype + qclass
        if (p > n) {
            return 0;
        }
        const bool edns = q[11] == 1;
        std::memcpy(out, q, p);
        out[2] = static_cast<unsigned char>(0x80 | (q[2] & 0x01)); // QR, RD echoed
        out[3] = 0x80;                                             // RA
        out[6] = 0;
        out[7] = 1; // ANCOUNT
        out[10] = 0;
        out[11] = edns ? 1 : 0;
        std::size_t o = p;
        const std::size_t vlen = std::strlen(txt_value);
        const unsigned char rr[] = {0xC0,
                                    0x0C,
                                    0,
                                    16,
                                    0,
                                    1,
                                    0,
                                    0,
                                    0,
                                    60,
                                    0,
                                    static_cast<unsigned char>(vlen + 1),
                                    static_cast<unsigned char>(vlen)};
        std::memcpy(out + o, rr, sizeof rr);
        o += sizeof rr;
        std::memcpy(out + o, txt_value, vlen);
        o += vlen;
        if (edns) {
            const unsigned char opt[] = {0, 0, 41, 0x04, 0xD0, 0, 0, 0x80, 0, 0, 0};
            std::memcpy(out + o, opt, sizeof opt);
            o += sizeof opt;
        }
        return o;
    }

    void run() {
        pin_to_cpu(1);
        constexpr int batch = 64;
        static unsigned char in[batch][512], out[batch][512];
        mmsghdr rx[batch]{}, tx[batch]{};
        iovec riov[batch], tiov[batch];
        sockaddr_in from[batch];
        while (!_stop) {
            for (int i = 0; i < batch; ++i) {
                riov[i] = {in[i], sizeof in[i]};
                rx[i].msg_hdr = {};
                rx[i].msg_hdr.msg_iov = &riov[i];
                rx[i].msg_hdr.msg_iovlen = 1;
                rx[i].msg_hdr.msg_name = &from[i];
                rx[i].msg_hdr.msg_namelen = sizeof from[i];
            }
            const int got = ::recvmmsg(_fd, rx, batch, MSG_WAITFORONE, nullptr);
            if (got <= 0) {
                continue;
            }
            int k = 0;
            for (int i = 0; i < got; ++i) {
                const std::size_t len = answer(in[i], rx[i].msg_len, out[k]);
                if (len == 0) {
                    continue;
                }
                tiov[k] = {out[k], len};
                tx[k].msg_hdr = {};
                tx[k].msg_hdr.msg_iov = &tiov[k];
                tx[k].msg_hdr.msg_iovlen = 1;
                tx[k].msg_hdr.msg_name = &from[i];
                tx[k].msg_hdr.msg_namelen = rx[i].msg_hdr.msg_namelen;
                ++k;
            }
            ::sendmmsg(_fd, tx, static_cast<unsigned>(k), 0);
        }
    }

    int _fd = -1;
    std::uint16_t _port = 0;
    std::atomic<bool> _stop{false};
    std::thread _thread;
};

// ---- the two clients ------------------------------------------------------------------------------------------

struct stats {
    std::uint64_t ok = 0, failed = 0;
    double wall_s = 0, cpu_us = 0;
};

/// The measuring window. Its end is checked against uv_hrtime(), not the loop's cached uv_now(): the bare client runs
/// its callbacks (and sends the next query) inside ares_process_fd, whose read loop may not return to libuv for a
/// long time under load, so the cached time would stand still.
struct run_window {
    std::uint64_t end_ns = 0;
    std::size_t outstanding = 0;
};

/// The bare client: Node's cares_wrap pattern at its leanest (no per-event ares_timeout).
class bare_client {
public:
    bare_client(uv_loop_t* loop, const std::string& ip, std::uint16_t port) : _loop(loop) {
        ares_options o{};
        o.sock_state_cb = on_sock_state;
        o.sock_state_cb_data = this;
        o.timeout = 2000;
        o.tries = 2;
        o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_EDNS;
        o.ednspsz = 1232;
        o.socket_receive_buffer_size = 4 << 20;
        ares_init_options(&_ch, &o,
                          ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS |
                              ARES_OPT_EDNSPSZ | ARES_OPT_SOCK_RCVBUF);
        ares_addr_port_node s{};
        s.family = AF_INET;
        inet_pton(AF_INET, ip.c_str(), &s.addr.addr4);
        s.udp_port = s.tcp_port = port;
        ares_set_servers_ports(_ch, &s);
        uv_timer_init(loop, &_timer);
        _timer.data = this;
        uv_timer_start(
            &_timer,
            [](uv_timer_t* t) {
                ares_process_fd(static_cast<bare_client*>(t->data)->_ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            },
            100, 100);
    }
    ~bare_client() {
        ares_destroy(_ch);
        uv_close(reinterpret_cast<uv_handle_t*>(&_timer), nullptr);
    }

    void start(run_window* w, stats* s) {
        _w = w;
        _s = s;
        ++_w->outstanding;
        ares_query(_ch, qname, ns_c_in, ns_t_txt, on_answer, this);
    }

private:
    static void on_answer(void* arg, int status, int, unsigned char* abuf, int alen) {
        auto* self = static_cast<bare_client*>(arg);
        bool ok = false;
        if (status == ARES_SUCCESS) {
            ares_txt_ext* txt = nullptr;
            if (ares_parse_txt_reply_ext(abuf, alen, &txt) == ARES_SUCCESS && txt != nullptr) {
                ok = txt->length == std::strlen(txt_value) && std::memcmp(txt->txt, txt_value, txt->length) == 0;
                ares_free_data(txt);
            }
        }
        ++(ok ? self->_s->ok : self->_s->failed);
        --self->_w->outstanding;
        if (uv_hrtime() < self->_w->end_ns) {
            self->start(self->_w, self->_s);
        }
    }
    static void on_sock_state(void* data, ares_socket_t fd, int rd, int wr) {
        auto* self = static_cast<bare_client*>(data);
        auto it = self->_polls.find(fd);
        if (rd || wr) {
            uv_poll_t* p = it != self->_polls.end() ? it->second : nullptr;
            if (p == nullptr) {
                p = new uv_poll_t;
                uv_poll_init_socket(self->_loop, p, fd);
                p->data = self;
                self->_polls[fd] = p;
            }
            uv_poll_start(p, (rd ? UV_READABLE : 0) | (wr ? UV_WRITABLE : 0), [](uv_poll_t* h, int st, int ev) {
                auto* c = static_cast<bare_client*>(h->data);
                uv_os_fd_t f;
                uv_fileno(reinterpret_cast<uv_handle_t*>(h), &f);
                ares_process_fd(c->_ch, (st < 0 || (ev & UV_READABLE)) ? f : ARES_SOCKET_BAD,
                                (st < 0 || (ev & UV_WRITABLE)) ? f : ARES_SOCKET_BAD);
            });
        } else if (it != self->_polls.end()) {
            uv_poll_stop(it->second);
            uv_close(reinterpret_cast<uv_handle_t*>(it->second),
                     [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
            self->_polls.erase(it);
        }
    }

    uv_loop_t* _loop;
    ares_channel _ch = nullptr;
    uv_timer_t _timer;
    std::unordered_map<ares_socket_t, uv_poll_t*> _polls;
    run_window* _w = nullptr;
    stats* _s = nullptr;
};

/// Our resolver, with the comparison a dns-01 check makes.
class mpic_client {
public:
    mpic_client(uv_loop_t* loop, const std::string& ip, std::uint16_t port, std::size_t udp_max_queries) {
        mpic::net::dns::resolver_config c;
        c.perspective = "bench";
        c.servers = {{ip, port}};
        c.timeout_ms = 2000;
        c.tries = 2;
        c.udp_max_queries = udp_max_queries;
        auto r = mpic::net::dns::resolver::create(loop, c);
        if (!r) {
            std::fprintf(stderr, "resolver: %s\n", r.error().message().c_str());
            std::exit(1);
        }
        _r = std::move(*r);
    }
    void start(run_window* w, stats* s) {
        ++w->outstanding;
        (void)_r->query(qname, mpic::net::dns::rr_type::txt, [this, w, s](mpic::net::dns::query_result&& res) {
            const auto* txt = res.records.empty() ? nullptr : res.records[0].as<mpic::net::dns::txt_rdata>();
            const bool ok = res.kind == mpic::net::dns::outcome::answer && txt != nullptr && txt->joined() == txt_value;
            ++(ok ? s->ok : s->failed);
            --w->outstanding;
            if (uv_hrtime() < w->end_ns) {
                start(w, s);
            }
        });
    }

private:
    std::unique_ptr<mpic::net::dns::resolver> _r;
};

template <class Client>
stats run_closed_loop(uv_loop_t* loop, Client& client, std::size_t in_flight, double seconds) {
    stats s;
    run_window w;
    w.end_ns = uv_hrtime() + static_cast<std::uint64_t>(seconds * 1e9);
    const double cpu0 = thread_cpu_us();
    const std::uint64_t t0 = uv_hrtime();
    for (std::size_t i = 0; i < in_flight; ++i) {
        client.start(&w, &s);
    }
    while (w.outstanding > 0) {
        uv_run(loop, UV_RUN_ONCE);
    }
    s.wall_s = static_cast<double>(uv_hrtime() - t0) / 1e9;
    s.cpu_us = thread_cpu_us() - cpu0;
    return s;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
}

} // namespace

int main(int argc, char** argv) {
    std::size_t in_flight = 100;
    double seconds = 2;
    int rounds = 3;
    std::string server_ip = "127.0.0.1";
    std::uint16_t server_port = 0;
    std::size_t udp_max_queries = mpic::net::dns::resolver_config{}.udp_max_queries;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--in-flight") {
            in_flight = std::stoul(v);
        } else if (k == "--seconds") {
            seconds = std::stod(v);
        } else if (k == "--rounds") {
            rounds = std::stoi(v);
        } else if (k == "--udp-max-queries") {
            udp_max_queries = std::stoul(v);
        } else if (k == "--server") {
            server_ip = v.substr(0, v.rfind(':'));
            server_port = static_cast<std::uint16_t>(std::stoul(v.substr(v.rfind(':') + 1)));
        } else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }
    std::unique_ptr<responder> builtin;
    if (server_port == 0) {
        builtin = std::make_unique<responder>();
        server_port = builtin->port();
    }
    pin_to_cpu(0);
    ares_library_init(ARES_LIB_INIT_ALL);
    uv_loop_t loop;
    uv_loop_init(&loop);
    std::printf("# c-ares %s, libuv %s, server %s:%u (%s), %zu in flight, %.1f s x %d rounds, client on CPU 0, "
                "mpic udp_max_queries %zu\n",
                ares_version(nullptr), uv_version_string(), server_ip.c_str(), server_port,
                builtin ? "built-in responder on CPU 1" : "external", in_flight, seconds, rounds, udp_max_queries);
    std::printf("%-6s %-5s %12s %12s %10s\n", "client", "round", "checks/s", "cpu_us/check", "failed");
    std::vector<double> rate[2], cpu[2];
    {
        bare_client bare(&loop, server_ip, server_port);
        mpic_client ours(&loop, server_ip, server_port, udp_max_queries);
        run_closed_loop(&loop, bare, in_flight, 0.3); // warm-up: sockets open, caches hot
        run_closed_loop(&loop, ours, in_flight, 0.3);
        for (int r = 0; r < rounds; ++r) {
            for (int which = 0; which < 2; ++which) { // A B A B
                const stats s = which == 0 ? run_closed_loop(&loop, bare, in_flight, seconds)
                                           : run_closed_loop(&loop, ours, in_flight, seconds);
                const double done = static_cast<double>(s.ok + s.failed);
                rate[which].push_back(done / s.wall_s);
                cpu[which].push_back(s.cpu_us / std::max(1.0, done));
                std::printf("%-6s %-5d %12.0f %12.2f %10llu\n", which == 0 ? "bare" : "mpic", r, rate[which].back(),
                            cpu[which].back(), static_cast<unsigned long long>(s.failed));
            }
        }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    const int closed = uv_loop_close(&loop);
    const double rb = median(rate[0]), rm = median(rate[1]), cb = median(cpu[0]), cm = median(cpu[1]);
    std::printf("median bare %.0f/s %.2f us | mpic %.0f/s %.2f us | rate ratio mpic/bare %.2f | cpu ratio %.2f\n", rb,
                cb, rm, cm, rm / rb, cm / cb);
    return closed == 0 ? 0 : 1;
}
