// Closed-loop HTTP checks against a local nginx, alternating with wrk against the same nginx (A B A B), as
// performance.md asks: ratios measured side by side in one run, CPU µs per request, median and MAD over runs.
//
//   http_client_bench [--runs N] [--seconds S] [--conns C] [--mode keepalive|close|tls|both]
//
// nginx (worker_processes 1) is pinned to CPU 0, this process and wrk (-t1) to CPU 1. "keepalive" is the pooled
// path (target 2: ≥ 0.7 × wrk); "close" opens a connection per request (target 7: new-connection path, reported
// separately). Each request is an http-01 style GET of a 30-byte body. "tls" runs full handshakes through
// client::handshake() (the tls-alpn-01 path) against `openssl s_time -new` (target 7: within 1.5x CPU per
// handshake). Needs nginx, wrk and openssl on PATH.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <uv.h>

#include "net/http/client.hh"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using mpic::net::http::client;
using mpic::net::http::exchange_result;
using mpic::net::http::request;

double cpu_seconds(int who) {
    rusage ru{};
    getrusage(who, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

bool port_open(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

pid_t spawn(const std::vector<std::string>& argv, int stdout_fd = -1) {
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (stdout_fd >= 0) {
        posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1);
    }
    pid_t pid = -1;
    if (posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
        pid = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

struct nginx_server {
    std::string dir;
    std::uint16_t port = 0;
    std::uint16_t tls_port = 0;
    pid_t pid = -1;

    bool start() {
        char tmpl[] = "/tmp/mpic-bench-nginx-XXXXXX";
        if (mkdtemp(tmpl) == nullptr) {
            return false;
        }
        dir = tmpl;
        ::chmod(dir.c_str(), 0777); // worker processes run as nobody when we are root
        port = free_port();
        tls_port = free_port();
        // A P-256 self-signed certificate for the TLS listener (environment.md §3 recipe).
        const std::string req = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
                                "-subj /CN=example.test -addext subjectAltName=DNS:example.test -keyout '" +
                                dir + "/key.pem' -out '" + dir + "/cert.pem' 2>/dev/null";
        if (std::system(req.c_str()) != 0) {
            return false;
        }
        std::ofstream conf(dir + "/nginx.conf");
        conf << "worker_processes 1; daemon off; pid " << dir << "/nginx.pid; error_log stderr warn;\n"
             << "events { worker_connections 4096; }\n"
             << "http { access_log off; keepalive_requests 100000000; keepalive_timeout 60s;\n"
             << "  client_body_temp_path " << dir << "/body; proxy_temp_path " << dir << "/proxy;\n"
             << "  fastcgi_temp_path " << dir << "/fcgi; uwsgi_temp_path " << dir << "/uwsgi; scgi_temp_path " << dir
             << "/scgi;\n"
             << "  default_type text/plain;\n"
             << "  server { listen 127.0.0.1:" << port << " backlog=4096;\n"
             << "    location /.well-known/acme-challenge/ { return 200 \"tok123.bench-key-authorization\"; } }\n"
             << "  server { listen 127.0.0.1:" << tls_port << " ssl backlog=4096;\n"
             << "    ssl_certificate " << dir << "/cert.pem; ssl_certificate_key " << dir << "/key.pem;\n"
             << "    ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache off; ssl_session_tickets off;\n"
             << "    location / { return 200 \"tls\"; } } }\n";
        conf.close();
        pid = spawn({"taskset", "-c", "0", "nginx", "-e", "stderr", "-p", dir, "-c", dir + "/nginx.conf"});
        for (int i = 0; i < 300 && pid > 0; ++i) {
            if (port_open(port)) {
                return true;
            }
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }
    void stop() {
        if (pid > 0) {
            ::kill(pid, SIGTERM); // taskset exec'd nginx, so pid is the master
            int status = 0;
            ::waitpid(pid, &status, 0);
            pid = -1;
        }
        if (!dir.empty()) {
            std::string cmd = "rm -rf '" + dir + "'";
            (void)std::system(cmd.c_str());
        }
    }
};

struct sample {
    double rate = 0;   ///< requests per second
    double cpu_us = 0; ///< client CPU µs per request
    std::uint64_t errors = 0;
};

// Our client: `conns` exchanges in flight, each completion starts the next, for `seconds`.
sample run_ours(std::uint16_t port, int conns, double seconds, bool keep_alive) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    mpic::net::http::client_config cfg;
    cfg.policy = mpic::net::addr::address_policy::unrestricted("benchmark against a local nginx");
    cfg.pool_capacity = static_cast<std::size_t>(conns);
    cfg.idle_timeout = 60s;
    std::uint64_t done = 0;
    std::uint64_t errors = 0;
    bool stopping = false;
    sample result;
    {
        client c(&loop, nullptr, cfg);
        request base;
        base.addresses = {mpic::net::addr::ip_address::parse("127.0.0.1").value()};
        base.port = port;
        base.host = "example.test";
        base.target = "/.well-known/acme-challenge/tok123";
        base.headers = {{"User-Agent", "mpic-bench"}, {"Accept", "*/*"}};
        base.body_cap = 128;
        base.keep_alive = keep_alive;
        std::function<void()> issue;
        issue = [&] {
            c.fetch(base, [&](exchange_result&& r) {
                if (r.ok() && r.response.status == 200) {
                    ++done;
                } else {
                    ++errors;
                }
                if (!stopping) {
                    issue();
                }
            });
        };
        // Warm up: open the pool's connections before measuring.
        for (int i = 0; i < conns; ++i) {
            issue();
        }
        uv_timer_t stop;
        uv_timer_init(&loop, &stop);
        const auto run_window = [&](double secs) {
            stop.data = &stopping;
            uv_timer_start(
                &stop, [](uv_timer_t* t) { uv_stop(t->loop); }, static_cast<std::uint64_t>(secs * 1000), 0);
            uv_run(&loop, UV_RUN_DEFAULT);
        };
        run_window(0.3);
        const std::uint64_t done0 = done;
        const double cpu0 = cpu_seconds(RUSAGE_SELF);
        const auto t0 = std::chrono::steady_clock::now();
        run_window(seconds);
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double cpu = cpu_seconds(RUSAGE_SELF) - cpu0;
        const std::uint64_t n = done - done0;
        stopping = true;
        result = sample{static_cast<double>(n) / wall, n != 0 ? cpu * 1e6 / static_cast<double>(n) : 0, errors};
        c.close();
        uv_close(reinterpret_cast<uv_handle_t*>(&stop), nullptr);
    } // ~client: its handles close on the next loop run
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0) {
        std::fprintf(stderr, "warning: loop not clean after the run\n");
    }
    return result;
}

// wrk -t1 on CPU 1 against the same URL; CPU from RUSAGE_CHILDREN (taskset execs wrk, so that is wrk's CPU).
sample run_wrk(std::uint16_t port, int conns, double seconds, bool keep_alive) {
    int pipefd[2];
    if (::pipe(pipefd) != 0) {
        return {};
    }
    std::vector<std::string> argv = {"taskset",
                                     "-c",
                                     "1",
                                     "wrk",
                                     "-t1",
                                     "-c" + std::to_string(conns),
                                     "-d" + std::to_string(static_cast<int>(std::lround(seconds))) + "s"};
    if (!keep_alive) {
        argv.insert(argv.end(), {"-H", "Connection: close"});
    }
    argv.push_back("http://127.0.0.1:" + std::to_string(port) + "/.well-known/acme-challenge/tok123");
    const double cpu0 = cpu_seconds(RUSAGE_CHILDREN);
    const pid_t pid = spawn(argv, pipefd[1]);
    ::close(pipefd[1]);
    std::string out;
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(pipefd[0]);
    int status = 0;
    if (pid > 0) {
        ::waitpid(pid, &status, 0);
    }
    const double cpu = cpu_seconds(RUSAGE_CHILDREN) - cpu0;
    sample s;
    // "  123456 requests in 3.00s, ..." and "Requests/sec: 41152.00"
    double requests = 0;
    if (auto pos = out.find(" requests in "); pos != std::string::npos) {
        auto start = out.rfind('\n', pos);
        requests = std::atof(out.c_str() + (start == std::string::npos ? 0 : start + 1));
    }
    if (auto pos = out.find("Requests/sec:"); pos != std::string::npos) {
        s.rate = std::atof(out.c_str() + pos + 13);
    }
    if (auto pos = out.find("Non-2xx or 3xx responses:"); pos != std::string::npos) {
        s.errors = static_cast<std::uint64_t>(std::atoll(out.c_str() + pos + 25));
    }
    if (auto pos = out.find("Socket errors:"); pos != std::string::npos) {
        s.errors += 1; // connect/read/write/timeout counts are printed; any line means some failed
    }
    s.cpu_us = requests > 0 ? cpu * 1e6 / requests : 0;
    return s;
}

struct stats {
    double median = 0;
    double mad = 0;
};

stats summarize(std::vector<double> v) {
    if (v.empty()) {
        return {};
    }
    std::sort(v.begin(), v.end());
    const double med = v[v.size() / 2];
    std::vector<double> dev;
    for (double x : v) {
        dev.push_back(std::fabs(x - med));
    }
    std::sort(dev.begin(), dev.end());
    return {med, dev[dev.size() / 2]};
}

// Full TLS handshakes with our handshake() (the tls-alpn-01 path), `conns` in flight, for `seconds`.
sample run_ours_tls(std::uint16_t port, int conns, double seconds) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    auto ctx = mpic::net::tls::client_context::create();
    if (!ctx) {
        return {};
    }
    mpic::net::http::client_config cfg;
    cfg.policy = mpic::net::addr::address_policy::unrestricted("benchmark against a local nginx");
    std::uint64_t done = 0;
    std::uint64_t errors = 0;
    bool stopping = false;
    sample result;
    {
        client c(&loop, &*ctx, cfg);
        mpic::net::http::handshake_request base;
        base.addresses = {mpic::net::addr::ip_address::parse("127.0.0.1").value()};
        base.port = port;
        base.tls.sni = "example.test";
        // nginx's http server refuses ALPN it does not speak (fatal alert), so offer http/1.1: same handshake cost.
        base.tls.alpn = {"http/1.1"};
        base.tls.verify = mpic::net::tls::verification::off("benchmark: self-signed, as tls-alpn-01");
        std::function<void()> issue;
        issue = [&] {
            c.handshake(base, [&](mpic::net::http::handshake_result&& r) {
                if (r.ok() && r.response.peer_certificate) {
                    ++done;
                } else {
                    ++errors;
                }
                if (!stopping) {
                    issue();
                }
            });
        };
        for (int i = 0; i < conns; ++i) {
            issue();
        }
        uv_timer_t stop;
        uv_timer_init(&loop, &stop);
        const auto run_window = [&](double secs) {
            uv_timer_start(
                &stop, [](uv_timer_t* t) { uv_stop(t->loop); }, static_cast<std::uint64_t>(secs * 1000), 0);
            uv_run(&loop, UV_RUN_DEFAULT);
        };
        run_window(0.3);
        const std::uint64_t done0 = done;
        const double cpu0 = cpu_seconds(RUSAGE_SELF);
        const auto t0 = std::chrono::steady_clock::now();
        run_window(seconds);
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double cpu = cpu_seconds(RUSAGE_SELF) - cpu0;
        const std::uint64_t n = done - done0;
        stopping = true;
        result = sample{static_cast<double>(n) / wall, n != 0 ? cpu * 1e6 / static_cast<double>(n) : 0, errors};
        c.close();
        uv_close(reinterpret_cast<uv_handle_t*>(&stop), nullptr);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&loop);
    return result;
}

// openssl s_time -new: sequential full handshakes, CPU from RUSAGE_CHILDREN.
sample run_s_time(std::uint16_t port, double seconds) {
    int pipefd[2];
    if (::pipe(pipefd) != 0) {
        return {};
    }
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = cpu_seconds(RUSAGE_CHILDREN);
    const pid_t pid = spawn({"taskset", "-c", "1", "openssl", "s_time", "-connect", "127.0.0.1:" + std::to_string(port),
                             "-new", "-time", std::to_string(static_cast<int>(std::lround(seconds)))},
                            pipefd[1]);
    ::close(pipefd[1]);
    std::string out;
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(pipefd[0]);
    int status = 0;
    if (pid > 0) {
        ::waitpid(pid, &status, 0);
    }
    const double cpu = cpu_seconds(RUSAGE_CHILDREN) - cpu0;
    sample s;
    // "1234 connections in 3.01s; 410.0 connections/user sec, bytes read 0"
    const auto pos = out.find(" connections in ");
    if (pos != std::string::npos) {
        const auto start = out.rfind('\n', pos);
        const double count = std::atof(out.c_str() + (start == std::string::npos ? 0 : start + 1));
        // s_time's own "in X s" is user CPU time, not wall time: use our wall clock around the process.
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        s.rate = wall > 0 ? count / wall : 0;
        s.cpu_us = count > 0 ? cpu * 1e6 / count : 0;
    }
    return s;
}

void bench_tls(std::uint16_t port, int runs, double seconds, int conns) {
    std::printf("\n== full TLS handshake (tls-alpn-01 path), ours %d in flight vs openssl s_time -new, %d runs ==\n",
                conns, runs);
    std::printf("%4s %14s %14s %12s %12s %8s %8s\n", "run", "ours hs/s", "s_time hs/s", "ours us/hs", "s_time us/hs",
                "cpu ratio", "ours err");
    std::vector<double> ours_cpu, ref_cpu, ratio;
    for (int i = 0; i < runs; ++i) {
        const sample a = run_ours_tls(port, conns, seconds);
        const sample b = run_s_time(port, seconds);
        const double r = b.cpu_us > 0 ? a.cpu_us / b.cpu_us : 0;
        std::printf("%4d %14.0f %14.0f %12.1f %12.1f %8.2f %8llu\n", i + 1, a.rate, b.rate, a.cpu_us, b.cpu_us, r,
                    static_cast<unsigned long long>(a.errors));
        ours_cpu.push_back(a.cpu_us);
        ref_cpu.push_back(b.cpu_us);
        ratio.push_back(r);
    }
    const auto so = summarize(ours_cpu);
    const auto sr = summarize(ref_cpu);
    const auto sq = summarize(ratio);
    std::printf("median (MAD): CPU/handshake ours %.1f (%.1f) us, s_time %.1f (%.1f) us, ours/s_time %.2f (%.2f)\n",
                so.median, so.mad, sr.median, sr.mad, sq.median, sq.mad);
}

void bench_mode(std::uint16_t port, int runs, double seconds, int conns, bool keep_alive) {
    std::printf("\n== %s, %d connections, %d runs x %.0f s each side (A B A B) ==\n",
                keep_alive ? "kept-alive" : "new connection per request", conns, runs, seconds);
    std::printf("%4s %14s %14s %8s %12s %12s %8s %8s\n", "run", "ours req/s", "wrk req/s", "ratio", "ours us/req",
                "wrk us/req", "ours err", "wrk err");
    std::vector<double> ratio, ours_cpu, wrk_cpu, ours_rate, wrk_rate;
    for (int i = 0; i < runs; ++i) {
        const sample a = run_ours(port, conns, seconds, keep_alive);
        const sample b = run_wrk(port, conns, seconds, keep_alive);
        const double r = b.rate > 0 ? a.rate / b.rate : 0;
        std::printf("%4d %14.0f %14.0f %8.2f %12.2f %12.2f %8llu %8llu\n", i + 1, a.rate, b.rate, r, a.cpu_us, b.cpu_us,
                    static_cast<unsigned long long>(a.errors), static_cast<unsigned long long>(b.errors));
        ratio.push_back(r);
        ours_cpu.push_back(a.cpu_us);
        wrk_cpu.push_back(b.cpu_us);
        ours_rate.push_back(a.rate);
        wrk_rate.push_back(b.rate);
    }
    const auto sr = summarize(ratio);
    const auto so = summarize(ours_cpu);
    const auto sw = summarize(wrk_cpu);
    const auto qo = summarize(ours_rate);
    const auto qw = summarize(wrk_rate);
    std::printf("median (MAD): ours %.0f (%.0f) req/s, wrk %.0f (%.0f) req/s, ratio %.2f (%.2f); "
                "CPU/req ours %.2f (%.2f) us, wrk %.2f (%.2f) us\n",
                qo.median, qo.mad, qw.median, qw.mad, sr.median, sr.mad, so.median, so.mad, sw.median, sw.mad);
}

} // namespace

int main(int argc, char** argv) {
    int runs = 3;
    double seconds = 3;
    int conns = 64;
    std::string mode = "both";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--runs") {
            runs = std::max(1, std::atoi(argv[i + 1]));
        } else if (k == "--seconds") {
            seconds = std::max(1.0, std::atof(argv[i + 1]));
        } else if (k == "--conns") {
            conns = std::max(1, std::atoi(argv[i + 1]));
        } else if (k == "--mode") {
            mode = argv[i + 1];
        }
    }
    std::signal(SIGPIPE, SIG_IGN); // libuv does not; a peer closing mid-write must be an error, not a death
    pin_to_cpu(1);
    nginx_server nginx;
    if (!nginx.start()) {
        std::fprintf(stderr, "could not start nginx (is it installed?)\n");
        nginx.stop();
        return 1;
    }
    std::printf("nginx 127.0.0.1:%u pinned to CPU 0; client and wrk -t1 pinned to CPU 1\n", nginx.port);
    if (mode == "keepalive" || mode == "both") {
        bench_mode(nginx.port, runs, seconds, conns, true);
    }
    if (mode == "close" || mode == "both") {
        bench_mode(nginx.port, runs, seconds, conns, false);
    }
    if (mode == "tls" || mode == "both") {
        bench_tls(nginx.tls_port, runs, seconds, 8);
    }
    nginx.stop();
    return 0;
}
