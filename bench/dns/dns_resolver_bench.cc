// DNS check throughput and client CPU: our resolver (net/dns) against a bare c-ares 1.18 + libuv client and against
// dnsperf (DNS-OARC's load generator), in one run, alternating A B C A B C (performance.md "How to measure here",
// target 1; issue #8).
//
//   mpic     resolver::query(TXT): our query builder (EDNS0 + DO), full bounds-checked message parse, alias-chain
//            walk, record copy into query_result; callback compares the joined TXT value (what dns-01 does).
//   bare     ares_query(TXT) on a channel driven by uv_poll + one repeating timer; callback parses with
//            ares_parse_txt_reply_ext and compares the first string. The least a c-ares+libuv DNS check can do.
//   dnsperf  the dnsperf binary (Debian package dnsperf), run as a child process per round with the same query (a
//            one-line datafile: the name and TXT), -D (EDNS0 + DO, as ours), -q = --in-flight, -c 1 (one UDP socket,
//            as bare; ours opens a fresh one every 256 queries: --dnsperf-clients), -T 1 (one send + one receive
//            thread), -t 2 (our per-try timeout), -b 4096 (the others' 4 MiB SO_RCVBUF), -l = --seconds. It sends and
//            counts answers by ID and RCODE only: no parse, no comparison, no retry. Skipped, with a note saying so,
//            when it is not on PATH or does not work; the other two still run.
//
// All three are closed loops with --in-flight queries outstanding for --seconds (then the outstanding ones drain),
// against the same server: by default a built-in UDP responder (recvmmsg/sendmmsg, one canned TXT answer) on its own
// thread pinned to CPU 1, with every client (ours, bare, the dnsperf process) pinned to CPU 0; or --server ip:port
// (e.g. the lab's BIND, with --expect set to the TXT value it serves). Client CPU: ours and bare, the client thread's
// own user+sys time (getrusage RUSAGE_THREAD), so the responder's CPU is not counted; dnsperf, the child's user+sys
// time from wait4 (its send and receive threads together), less its start-up and exit cost measured once by a
// one-query run. Rate: queries answered (any RCODE, any content) per second of the closed loop including the drain;
// for dnsperf its own "Queries per second" (completed / run time, also including the drain). Lost: timeouts (ours
// and bare: after both tries). Failed: answered, but not the expected TXT (ours, bare) or not NOERROR (dnsperf).
// udp_drops: the kernel's UDP receive-buffer overflows (/proc/net/snmp RcvbufErrors, machine-wide) during the side,
// at the server's socket or the client's; a client that retries hides them in its rate, dnsperf reports them lost.
//
// Usage: dns_resolver_bench [--in-flight N] [--seconds S] [--rounds R] [--server 127.0.0.1:5353]
//                           [--expect TXT]          (the TXT value a check must see; default the responder's)
//                           [--dnsperf PATH|none]   (default: dnsperf on PATH)
//                           [--dnsperf-clients N]   (dnsperf -c: its UDP sockets; default 1, as bare)
//                           [--udp-max-queries N]   (our resolver's channel rotation; 0 = off)

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
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

bool can_pin() {
    return std::thread::hardware_concurrency() >= 2;
}

void pin_to_cpu(int cpu) {
    if (!can_pin()) {
        return;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

double us(const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec);
}

double thread_cpu_us() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return us(ru.ru_utime) + us(ru.ru_stime);
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

// ---- the in-process clients ---------------------------------------------------------------------------------------

struct stats {
    std::uint64_t ok = 0, failed = 0, lost = 0; // failed: answered but not the expected TXT; lost: timed out
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
    bare_client(uv_loop_t* loop, const std::string& ip, std::uint16_t port, std::string expect)
        : _loop(loop), _expect(std::move(expect)) {
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
                ok = txt->length == self->_expect.size() &&
                     std::memcmp(txt->txt, self->_expect.data(), txt->length) == 0;
                ares_free_data(txt);
            }
        }
        ++(ok ? self->_s->ok : status == ARES_ETIMEOUT ? self->_s->lost : self->_s->failed);
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
    std::string _expect;
    ares_channel _ch = nullptr;
    uv_timer_t _timer;
    std::unordered_map<ares_socket_t, uv_poll_t*> _polls;
    run_window* _w = nullptr;
    stats* _s = nullptr;
};

/// Our resolver, with the comparison a dns-01 check makes.
class mpic_client {
public:
    mpic_client(uv_loop_t* loop, const std::string& ip, std::uint16_t port, std::size_t udp_max_queries,
                std::string expect)
        : _expect(std::move(expect)) {
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
            const bool ok = res.kind == mpic::net::dns::outcome::answer && txt != nullptr && txt->joined() == _expect;
            ++(ok ? s->ok : res.kind == mpic::net::dns::outcome::timeout ? s->lost : s->failed);
            --w->outstanding;
            if (uv_hrtime() < w->end_ns) {
                start(w, s);
            }
        });
    }

private:
    std::string _expect;
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

// ---- dnsperf, as a child process ----------------------------------------------------------------------------------

/// An executable `name` on PATH, or "" if there is none.
std::string find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        std::size_t end = dirs.find(':', start);
        end = end == std::string::npos ? dirs.size() : end;
        const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
        const std::string candidate = dir + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        start = end + 1;
    }
    return "";
}

struct dnsperf_run {
    std::optional<std::string> error; ///< set when dnsperf failed or printed no statistics; the counts are then 0
    std::uint64_t sent = 0, completed = 0, lost = 0, noerror = 0;
    double qps = 0, run_s = 0, cpu_us = 0; ///< cpu_us: the child's user+sys over its whole life (wait4)
};

/// The value after `label` on the line that starts with it (after leading blanks), or nullopt.
std::optional<double> stat_line(const std::string& out, const std::string& label) {
    std::size_t at = out.find("\n  " + label);
    if (at == std::string::npos) {
        return std::nullopt;
    }
    at += 3 + label.size();
    double v = 0;
    if (std::sscanf(out.c_str() + at, " %lf", &v) != 1) {
        return std::nullopt;
    }
    return v;
}

/// Runs dnsperf with `args` pinned to CPU 0 (every thread of it: the affinity is set before exec and inherited),
/// collects its stdout+stderr and its rusage. Kills it if it outlives `deadline_s`.
dnsperf_run run_dnsperf(const std::string& exe, const std::vector<std::string>& args, double deadline_s) {
    dnsperf_run r;
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        r.error = std::string("pipe: ") + std::strerror(errno);
        return r;
    }
    cpu_set_t cpu0;
    CPU_ZERO(&cpu0);
    CPU_SET(0, &cpu0);
    const bool pin = can_pin();
    const pid_t pid = ::fork();
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec: the parent has other threads (the responder).
        if (pin) {
            ::sched_setaffinity(0, sizeof cpu0, &cpu0);
        }
        ::dup2(out[1], 1);
        ::dup2(out[1], 2);
        ::execv(exe.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(out[1]);
    if (pid < 0) {
        ::close(out[0]);
        r.error = std::string("fork: ") + std::strerror(errno);
        return r;
    }
    std::string text;
    const std::uint64_t kill_at = uv_hrtime() + static_cast<std::uint64_t>(deadline_s * 1e9);
    bool killed = false;
    for (;;) {
        pollfd p{out[0], POLLIN, 0};
        const std::uint64_t now = uv_hrtime();
        const int wait_ms = now >= kill_at ? 0 : static_cast<int>((kill_at - now) / 1'000'000 + 1);
        const int n = ::poll(&p, 1, wait_ms);
        if (n == 0 && !killed) {
            ::kill(pid, SIGKILL);
            killed = true;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        char buf[4096];
        const ssize_t got = n > 0 ? ::read(out[0], buf, sizeof buf) : 0;
        if (got <= 0) {
            break;
        }
        text.append(buf, static_cast<std::size_t>(got));
    }
    ::close(out[0]);
    int status = 0;
    rusage ru{};
    while (::wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    r.cpu_us = us(ru.ru_utime) + us(ru.ru_stime);
    const auto sent = stat_line(text, "Queries sent:");
    const auto completed = stat_line(text, "Queries completed:");
    const auto lost = stat_line(text, "Queries lost:");
    const auto qps = stat_line(text, "Queries per second:");
    const auto run_s = stat_line(text, "Run time (s):");
    if (killed || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !sent || !completed || !lost || !qps || !run_s) {
        const std::size_t tail = text.size() > 600 ? text.size() - 600 : 0;
        r.error = std::string(killed ? "killed after the deadline" : "exit status ") +
                  (killed ? "" : std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status))) +
                  ", output: " + text.substr(tail);
        return r;
    }
    r.sent = static_cast<std::uint64_t>(*sent);
    r.completed = static_cast<std::uint64_t>(*completed);
    r.lost = static_cast<std::uint64_t>(*lost);
    r.qps = *qps;
    const std::size_t codes = text.find("Response codes:");
    const std::size_t noerror = codes == std::string::npos ? codes : text.find("NOERROR ", codes);
    if (noerror != std::string::npos && text.find('\n', codes) > noerror) {
        r.noerror = std::strtoull(text.c_str() + noerror + 8, nullptr, 10);
    }
    r.run_s = *run_s;
    return r;
}

/// The one-query datafile dnsperf reads ("name TYPE" per line), in a temporary file removed by the destructor.
class datafile {
public:
    datafile() {
        char path[] = "/tmp/dns_resolver_bench.XXXXXX";
        const int fd = ::mkstemp(path);
        if (fd < 0) {
            return;
        }
        const std::string line = std::string(qname) + " TXT\n";
        const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
        ::close(fd);
        _path = path;
        if (!written) {
            ::unlink(path);
            _path.clear();
        }
    }
    ~datafile() {
        if (!_path.empty()) {
            ::unlink(_path.c_str());
        }
    }
    const std::string& path() const { return _path; }

private:
    std::string _path;
};

// ---- figures ------------------------------------------------------------------------------------------------------

struct sample {
    double rate = 0;   // queries answered per second
    double lost = 0;   // timed out (ours and bare: after both tries)
    double failed = 0; // answered, but not the expected TXT (ours, bare) or not NOERROR (dnsperf)
    double drops = 0;  // UDP datagrams the kernel dropped for a full receive buffer, machine-wide, during the side
    double cpu_us = 0; // client CPU per answered query
};

/// Udp RcvbufErrors from /proc/net/snmp: every UDP socket's receive-buffer overflows on the machine (the server's
/// and the client's alike, and other processes'), or -1 if unreadable.
double udp_rcvbuf_errors() {
    std::FILE* f = std::fopen("/proc/net/snmp", "r");
    if (f == nullptr) {
        return -1;
    }
    char header[1024], values[1024];
    double found = -1;
    while (std::fgets(header, sizeof header, f) != nullptr) {
        if (std::strncmp(header, "Udp:", 4) != 0 || std::fgets(values, sizeof values, f) == nullptr) {
            continue;
        }
        char *hs = nullptr, *vs = nullptr;
        for (char *h = strtok_r(header, " \n", &hs), *v = strtok_r(values, " \n", &vs); h != nullptr && v != nullptr;
             h = strtok_r(nullptr, " \n", &hs), v = strtok_r(nullptr, " \n", &vs)) {
            if (std::strcmp(h, "RcvbufErrors") == 0) {
                found = std::strtod(v, nullptr);
            }
        }
        break;
    }
    std::fclose(f);
    return found;
}

struct spread {
    double median = 0, min = 0, max = 0;
};

spread summarize(std::vector<double> v) {
    if (v.empty()) {
        return {};
    }
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return {n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v.front(), v.back()};
}

std::string show(const spread& s, const char* fmt) {
    char a[32], b[32], c[32];
    std::snprintf(a, sizeof a, fmt, s.median);
    std::snprintf(b, sizeof b, fmt, s.min);
    std::snprintf(c, sizeof c, fmt, s.max);
    return std::string(a) + " (" + b + "-" + c + ")";
}

} // namespace

int main(int argc, char** argv) {
    std::size_t in_flight = 100;
    double seconds = 2;
    int rounds = 3;
    std::string server_ip = "127.0.0.1";
    std::uint16_t server_port = 0;
    std::size_t udp_max_queries = mpic::net::dns::resolver_config{}.udp_max_queries;
    std::string expect = txt_value;
    std::string dnsperf_opt;
    std::string dnsperf_clients = "1";
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
        } else if (k == "--expect") {
            expect = v;
        } else if (k == "--dnsperf") {
            dnsperf_opt = v;
        } else if (k == "--dnsperf-clients") {
            dnsperf_clients = std::to_string(std::stoul(v));
        } else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (argc % 2 == 0) {
        std::fprintf(stderr, "option %s needs a value\n", argv[argc - 1]);
        return 2;
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
    std::printf("# c-ares %s, libuv %s, server %s:%u (%s), %zu in flight, %.1f s x %d rounds, clients on CPU 0, "
                "mpic udp_max_queries %zu\n",
                ares_version(nullptr), uv_version_string(), server_ip.c_str(), server_port,
                builtin ? "built-in responder on CPU 1" : "external", in_flight, seconds, rounds, udp_max_queries);

    // dnsperf: found, started once to see that it works, and that run's CPU (exec, start-up, one query, exit) taken
    // as the fixed cost to subtract from every round's, so its per-query CPU is comparable with the in-process loops'.
    std::string dnsperf = dnsperf_opt == "none" ? "" : dnsperf_opt.empty() ? find_on_path("dnsperf") : dnsperf_opt;
    datafile data;
    const std::string port_s = std::to_string(server_port);
    // -T 1: one sender and one receiver thread (its default); -c: how many UDP sockets they spread queries over.
    std::vector<std::string> dnsperf_common = {"-s", server_ip, "-p", port_s, "-d", data.path()};
    dnsperf_common.insert(dnsperf_common.end(), {"-c", dnsperf_clients, "-T", "1", "-D", "-t", "2", "-b", "4096"});
    double dnsperf_fixed_us = 0;
    if (dnsperf_opt == "none") {
        std::printf("# dnsperf: skipped (--dnsperf none); comparing ours and bare only\n");
    } else if (dnsperf.empty()) {
        std::printf("# dnsperf: NOT FOUND on PATH (Debian package dnsperf; scripts/setup.sh installs it); comparing "
                    "ours and bare only\n");
    } else if (data.path().empty()) {
        std::printf("# dnsperf: cannot write its datafile in /tmp; comparing ours and bare only\n");
        dnsperf.clear();
    } else {
        auto args = dnsperf_common;
        args.insert(args.end(), {"-n", "1", "-q", "1"});
        const dnsperf_run probe = run_dnsperf(dnsperf, args, 10);
        if (probe.error || probe.completed != 1) {
            std::printf("# dnsperf: %s does not work here (%s); comparing ours and bare only\n", dnsperf.c_str(),
                        probe.error ? probe.error->c_str() : "its one probe query was not answered");
            dnsperf.clear();
        } else {
            dnsperf_fixed_us = probe.cpu_us;
            std::printf("# dnsperf: %s -q %zu -l %.1f", dnsperf.c_str(), in_flight, seconds);
            for (const auto& a : dnsperf_common) {
                std::printf(" %s", a.c_str());
            }
            std::printf(" (pinned to CPU 0; fixed start-up+exit CPU %.0f us, subtracted)\n", dnsperf_fixed_us);
        }
    }
    int sides = dnsperf.empty() ? 2 : 3;
    const char* names[3] = {"mpic", "bare", "dnsperf"};

    std::printf("%-7s %-5s %12s %8s %8s %10s %14s\n", "client", "round", "queries/s", "lost", "failed", "udp_drops",
                "cpu_us/query");
    std::vector<sample> got[3];
    {
        mpic_client ours(&loop, server_ip, server_port, udp_max_queries, expect);
        bare_client bare(&loop, server_ip, server_port, expect);
        run_closed_loop(&loop, ours, in_flight, 0.3); // warm-up: sockets open, caches hot
        run_closed_loop(&loop, bare, in_flight, 0.3);
        for (int r = 0; r < rounds; ++r) {
            for (int which = 0; which < sides; ++which) { // A B C A B C
                sample x;
                const double drops0 = udp_rcvbuf_errors();
                if (which < 2) {
                    const stats s = which == 0 ? run_closed_loop(&loop, ours, in_flight, seconds)
                                               : run_closed_loop(&loop, bare, in_flight, seconds);
                    const double answered = static_cast<double>(s.ok + s.failed);
                    x.rate = answered / s.wall_s;
                    x.lost = static_cast<double>(s.lost);
                    x.failed = static_cast<double>(s.failed);
                    x.cpu_us = s.cpu_us / std::max(1.0, answered);
                } else {
                    auto args = dnsperf_common;
                    args.insert(args.end(), {"-q", std::to_string(in_flight), "-l", std::to_string(seconds)});
                    const dnsperf_run d = run_dnsperf(dnsperf, args, seconds + 15);
                    if (d.error) {
                        std::printf("# dnsperf round %d failed (%s); dropping dnsperf from the comparison\n", r,
                                    d.error->c_str());
                        got[2].clear();
                        sides = 2;
                        break;
                    }
                    x.rate = d.qps;
                    x.lost = static_cast<double>(d.lost);
                    x.failed = static_cast<double>(d.completed - std::min(d.completed, d.noerror));
                    x.cpu_us = std::max(0.0, d.cpu_us - dnsperf_fixed_us) / std::max<double>(1, d.completed);
                }
                x.drops = drops0 < 0 ? -1 : udp_rcvbuf_errors() - drops0;
                std::printf("%-7s %-5d %12.0f %8.0f %8.0f %10.0f %14.2f\n", names[which], r, x.rate, x.lost, x.failed,
                            x.drops, x.cpu_us);
                got[which].push_back(x);
            }
            std::printf("%-7s %-5d rate ours/bare %.2f, cpu ours/bare %.2f", "ratio", r,
                        got[0].back().rate / got[1].back().rate, got[0].back().cpu_us / got[1].back().cpu_us);
            if (sides == 3) {
                std::printf(" | rate ours/dnsperf %.2f, cpu ours/dnsperf %.2f", got[0].back().rate / got[2].back().rate,
                            got[0].back().cpu_us / got[2].back().cpu_us);
            }
            std::printf("\n");
        }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    const int closed = uv_loop_close(&loop);

    // Ratios are taken within a round (the sides ran seconds apart), then summarized like the rest.
    const std::size_t paired = std::min(got[0].size(), got[1].size());
    std::printf("summary over %zu rounds: median (min-max)\n", paired);
    for (int which = 0; which < 3; ++which) {
        if (got[which].empty()) {
            continue;
        }
        std::vector<double> rate, lost, failed, drops, cpu;
        for (const auto& x : got[which]) {
            rate.push_back(x.rate);
            lost.push_back(x.lost);
            failed.push_back(x.failed);
            drops.push_back(x.drops);
            cpu.push_back(x.cpu_us);
        }
        std::printf("%-7s queries/s %s  lost %s  failed %s  udp_drops %s  cpu_us/query %s\n", names[which],
                    show(summarize(rate), "%.0f").c_str(), show(summarize(lost), "%.0f").c_str(),
                    show(summarize(failed), "%.0f").c_str(), show(summarize(drops), "%.0f").c_str(),
                    show(summarize(cpu), "%.2f").c_str());
    }
    for (int other = 1; other < 3; ++other) {
        if (got[other].size() < paired || paired == 0) {
            continue;
        }
        std::vector<double> rate, cpu;
        for (std::size_t r = 0; r < paired; ++r) {
            rate.push_back(got[0][r].rate / got[other][r].rate);
            cpu.push_back(got[0][r].cpu_us / got[other][r].cpu_us);
        }
        std::printf("ours/%-7s rate %s  cpu %s\n", names[other], show(summarize(rate), "%.2f").c_str(),
                    show(summarize(cpu), "%.2f").c_str());
    }
    return closed == 0 ? 0 : 1;
}
