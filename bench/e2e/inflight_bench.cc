// Scaling (performance.md target 6): N perspective checks in flight in one process, through the embedding API
// (quorum/engine/engine.hh, no HTTP). A child process answers every CAA query for bench.test only after a delay
// (default 8 s), so the checks pile up; we read RSS once all N are in flight and the process CPU once all have
// completed. The responder is ours rather than the lab's fault DNS responder because that one keeps at most 10,000
// delayed answers and reads its socket with the default receive buffer: a burst of 100,000 queries overflows both
// (docs/benchmarks.md). It runs in a child so that its queue does not count in this process's RSS.
//
//   bench_e2e_inflight CHECKS [REACTORS] [DELAY_MS]   one N per process, so the allocator's retained memory of a
//   previous
//                                              step cannot hide this step's growth (run_inflight.sh loops)
//
// Prints one line of JSON: checks, requests (CHECKS/6 CAA requests, 6 perspectives each), the in-flight count
// reached, RSS before/at peak and KiB per check, CPU µs per check (submission to completion, whole process:
// engine reactors and this thread), and the outcomes.

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "quorum/api/json_codec.hh"
#include "quorum/engine/engine.hh"

using namespace mpic;
using namespace std::chrono_literals;

namespace {

std::uint64_t rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("VmRSS:")) {
            return std::stoull(line.substr(6));
        }
    }
    return 0;
}

double cpu_s() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The reply to one query: the question echoed, and for a CAA question (RFC 8659 §4.1, type 257) one record
// `0 issue "ca.example"`; any other type gets an empty NOERROR answer. Returns empty for an unparseable query.
std::string delayed_reply(const std::uint8_t* q, std::size_t len) {
    if (len < 12) {
        return {};
    }
    std::size_t at = 12;
    while (at < len && q[at] != 0) { // QNAME labels (a query has no compression pointers)
        at += 1 + q[at];
    }
    if (at + 5 > len) {
        return {};
    }
    const std::size_t question_end = at + 5;
    const unsigned qtype = (static_cast<unsigned>(q[at + 1]) << 8U) | q[at + 2];
    std::string out(reinterpret_cast<const char*>(q), question_end);
    out[2] = static_cast<char>(0x84U | (q[2] & 0x01U)); // QR, AA, RD copied
    out[3] = 0;                                         // RA=0, RCODE NOERROR
    out[6] = 0;
    out[7] = qtype == 257 ? 1 : 0; // ANCOUNT
    out[8] = out[9] = out[10] = out[11] = 0;
    if (qtype == 257) {
        static const char rr[] = "\xC0\x0C\x01\x01\x00\x01\x00\x00\x00\x3C\x00\x11\x00\x05issueca.example";
        out.append(rr, sizeof rr - 1);
    }
    return out;
}

// Child process: a UDP responder on 127.0.0.1 that holds every answer for `delay`. Writes its port to `port_fd`.
[[noreturn]] void run_responder(int port_fd, std::chrono::milliseconds delay) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 256 * 1024 * 1024;
    // SO_RCVBUFFORCE passes rmem_max when we may (root in the bench container); otherwise the capped size.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    }
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t alen = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen);
    const std::uint16_t port = ntohs(addr.sin_port);
    (void)!write(port_fd, &port, sizeof port);
    close(port_fd);
    struct pending {
        std::chrono::steady_clock::time_point due;
        sockaddr_in to;
        std::string reply;
    };
    std::deque<pending> queue; // FIFO: every answer has the same delay, so due times are in arrival order
    std::uint8_t buf[1500];
    for (;;) {
        const auto now = std::chrono::steady_clock::now();
        while (!queue.empty() && queue.front().due <= now) {
            const auto& p = queue.front();
            sendto(fd, p.reply.data(), p.reply.size(), 0, reinterpret_cast<const sockaddr*>(&p.to), sizeof p.to);
            queue.pop_front();
        }
        int timeout = 100;
        if (!queue.empty()) {
            timeout = static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(queue.front().due - now).count() + 1);
        }
        pollfd pfd{fd, POLLIN, 0};
        if (poll(&pfd, 1, timeout) <= 0) {
            continue;
        }
        for (int i = 0; i < 1024; ++i) {
            sockaddr_in from{};
            socklen_t flen = sizeof from;
            const ssize_t got = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &flen);
            if (got <= 0) {
                break;
            }
            auto reply = delayed_reply(buf, static_cast<std::size_t>(got));
            if (!reply.empty()) {
                queue.push_back({std::chrono::steady_clock::now() + delay, from, std::move(reply)});
            }
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CHECKS [REACTORS] [DELAY_MS]\n", argv[0]);
        return 2;
    }
    const std::size_t checks = std::stoull(argv[1]);
    const unsigned reactors = argc > 2 ? static_cast<unsigned>(std::stoul(argv[2])) : 1;
    const auto delay = std::chrono::milliseconds(argc > 3 ? std::stoul(argv[3]) : 8000);
    constexpr std::size_t per_request = 6;
    const std::size_t requests = (checks + per_request - 1) / per_request;

    // Fork the responder before any thread exists.
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) {
        return 1;
    }
    const pid_t child = fork();
    if (child == 0) {
        close(pipe_fds[0]);
        run_responder(pipe_fds[1], delay);
    }
    close(pipe_fds[1]);
    std::uint16_t dns_port = 0;
    if (read(pipe_fds[0], &dns_port, sizeof dns_port) != sizeof dns_port) {
        std::fprintf(stderr, "responder did not start\n");
        return 1;
    }
    close(pipe_fds[0]);

    quorum::engine_config config = quorum::embedded_default_config();
    // Perspective k sends from 127.0.0.(k+1), as in the lab; all six ask the delayed responder.
    quorum::apply_lab(config, {{"127.0.0.1", dns_port}}, {8080, 8443, 8443});
    config.reactors = reactors;
    config.max_in_flight_checks = requests * per_request + 1000;
    // Long enough that nothing times out while the answers are held back and then arrive.
    config.dns_timeout_ms = static_cast<std::uint32_t>(delay.count()) * 4 + 10'000;
    config.dns_tries = 1;
    config.check_timeout_ms = config.dns_timeout_ms + 10'000;
    config.default_deadline_ms = config.check_timeout_ms + 10'000;
    std::vector<std::string> errors;
    auto created = quorum::engine::create(config, errors);
    if (!created) {
        for (const auto& e : errors) {
            std::fprintf(stderr, "config: %s\n", e.c_str());
        }
        kill(child, SIGKILL);
        return 1;
    }
    auto& engine = **created;

    auto parsed = quorum::parse_mpic_request(R"({"check_type":"caa","domain_or_ip_target":"bench.test"})");
    const auto request = std::get<quorum::mpic_request>(parsed);

    std::this_thread::sleep_for(200ms); // let the reactors settle before the baseline
    const std::uint64_t rss_before = rss_kib();
    const double cpu_before = cpu_s();
    const auto t0 = std::chrono::steady_clock::now();
    std::atomic<std::size_t> done{0}, valid{0}, refused{0};
    for (std::size_t i = 0; i < requests; ++i) {
        // A submission from outside the reactors goes through a bounded mailbox (errc::queue_full when full):
        // keep at most 4096 not yet picked up.
        while (i - engine.stats().requests_started - refused.load(std::memory_order_relaxed) > 4096) {
            std::this_thread::sleep_for(1ms);
        }
        engine.submit(request, [&](quorum::submit_outcome&& o) {
            if (o.error) {
                refused.fetch_add(1, std::memory_order_relaxed);
            } else if (o.response && o.response->is_valid()) {
                valid.fetch_add(1, std::memory_order_relaxed);
            }
            done.fetch_add(1, std::memory_order_release);
        });
    }
    // Peak: every check in flight and its query sent; read RSS just before the first answers are due.
    std::uint64_t in_flight_peak = 0;
    double all_in_flight_s = -1;
    while (std::chrono::steady_clock::now() - t0 < delay - 300ms) {
        const auto s = engine.stats();
        in_flight_peak = std::max<std::uint64_t>(in_flight_peak, s.checks_in_flight);
        if (all_in_flight_s < 0 && s.checks_in_flight >= requests * per_request) {
            all_in_flight_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }
        std::this_thread::sleep_for(10ms);
    }
    const std::uint64_t rss_peak = rss_kib();
    const double cpu_at_peak = cpu_s() - cpu_before;
    while (done.load(std::memory_order_acquire) < requests && std::chrono::steady_clock::now() - t0 < 120s) {
        std::this_thread::sleep_for(10ms);
    }
    const double cpu_used = cpu_s() - cpu_before;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // CHECKS = 0 measures the idle baseline (this thread's polling, the reactors' timers) over the same period.
    const auto n = std::max(1.0, static_cast<double>(requests * per_request));
    std::printf("{\"checks\":%zu,\"requests\":%zu,\"reactors\":%u,\"delay_ms\":%lld,\"in_flight_peak\":%llu,"
                "\"all_in_flight_after_s\":%.2f,\"rss_before_kib\":%llu,\"rss_peak_kib\":%llu,\"kib_per_check\":%.2f,"
                "\"cpu_us_per_check_to_peak\":%.2f,\"cpu_s\":%.4f,\"cpu_us_per_check\":%.2f,\"elapsed_s\":%.2f,"
                "\"completed\":%zu,"
                "\"valid\":%zu,\"refused\":%zu}\n",
                requests * per_request, requests, reactors, static_cast<long long>(delay.count()),
                static_cast<unsigned long long>(in_flight_peak), all_in_flight_s,
                static_cast<unsigned long long>(rss_before), static_cast<unsigned long long>(rss_peak),
                static_cast<double>(rss_peak - rss_before) / n, cpu_at_peak * 1e6 / n, cpu_used, cpu_used * 1e6 / n,
                elapsed, done.load(), valid.load(), refused.load());
    engine.shutdown(5s);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return 0;
}
