// Shared plumbing of the lab responders (see lab_server.hh). Signals go through a self-pipe so that poll() loops
// wake up on SIGTERM; nothing else is done in the handler (async-signal-safe: write(2) only).

#include "tools/mpic-lab/responders/lab_server.hh"

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <thread>
#include <unistd.h>

#include <CLI/CLI.hpp>

namespace mpic::lab::responders {
namespace {

int g_stop_pipe[2] = {-1, -1};
std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) {
    g_stop.store(true);
    const int saved = errno;
    const char byte = 1;
    [[maybe_unused]] ssize_t n = write(g_stop_pipe[1], &byte, 1);
    errno = saved;
}

bool fill_sockaddr(const std::string& address, std::uint16_t port, sockaddr_storage& ss, socklen_t& len) {
    std::memset(&ss, 0, sizeof ss);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof(sockaddr_in);
        return true;
    }
    if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

} // namespace

unique_fd& unique_fd::operator=(unique_fd&& o) noexcept {
    if (this != &o) {
        if (_fd >= 0) {
            ::close(_fd);
        }
        _fd = o.release();
    }
    return *this;
}

unique_fd::~unique_fd() {
    if (_fd >= 0) {
        ::close(_fd);
    }
}

void install_stop_handlers() {
    if (pipe2(g_stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        std::perror("pipe2");
        exit_now(1);
    }
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

int stop_fd() noexcept {
    return g_stop_pipe[0];
}

bool stop_requested() noexcept {
    return g_stop.load();
}

bool sleep_unless_stopped(std::chrono::milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    for (;;) {
        if (stop_requested()) {
            return false;
        }
        const auto now = std::chrono::steady_clock::now();
        if (now >= end) {
            return true;
        }
        // Short slices: a stop signal is noticed within 50 ms without sharing the pipe between threads.
        std::this_thread::sleep_for(
            std::min<std::chrono::steady_clock::duration>(end - now, std::chrono::milliseconds(50)));
    }
}

unique_fd bind_socket(const std::string& address, std::uint16_t port, int type, std::string* error) {
    sockaddr_storage ss;
    socklen_t len = 0;
    if (!fill_sockaddr(address, port, ss, len)) {
        *error = "listen address '" + address + "' is not an IP literal";
        return {};
    }
    unique_fd fd(::socket(ss.ss_family, type | SOCK_CLOEXEC, 0));
    if (!fd) {
        *error = std::string("socket: ") + std::strerror(errno);
        return {};
    }
    const int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        *error = "bind " + address + ":" + std::to_string(port) + ": " + std::strerror(errno);
        return {};
    }
    if (type == SOCK_STREAM && ::listen(fd.get(), 128) != 0) {
        *error = std::string("listen: ") + std::strerror(errno);
        return {};
    }
    return fd;
}

std::uint16_t local_port(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        return 0;
    }
    if (ss.ss_family == AF_INET) {
        return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
    return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

std::string address_string(const sockaddr_storage& addr) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, buf, sizeof buf);
    } else if (addr.ss_family == AF_INET6) {
        const in6_addr& a6 = reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            inet_ntop(AF_INET, &a6.s6_addr[12], buf, sizeof buf);
        } else {
            inet_ntop(AF_INET6, &a6, buf, sizeof buf);
        }
    }
    return buf;
}

void set_timeouts(int fd, std::chrono::milliseconds recv, std::chrono::milliseconds send) {
    auto tv = [](std::chrono::milliseconds ms) {
        timeval t{};
        t.tv_sec = static_cast<time_t>(ms.count() / 1000);
        t.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
        return t;
    };
    const timeval r = tv(recv);
    const timeval s = tv(send);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &r, sizeof r);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &s, sizeof s);
}

bool send_all(int fd, const void* data, std::size_t len) {
    const auto* p = static_cast<const char*>(data);
    while (len > 0) {
        const ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        p += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

void accept_loop(int listen_fd, const connection_handler& handler, int max_connections) {
    // Shared with detached threads: must outlive them, hence static storage (the process exits via exit_now).
    static std::atomic<int> active{0};
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {stop_fd(), POLLIN, 0}};
    while (!stop_requested()) {
        const int n = ::poll(fds, 2, 1000);
        if (n < 0 && errno != EINTR) {
            std::perror("poll");
            return;
        }
        if (n <= 0 || (fds[0].revents & POLLIN) == 0) {
            continue;
        }
        sockaddr_storage peer{};
        socklen_t len = sizeof peer;
        unique_fd conn(::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
        if (!conn) {
            continue; // EMFILE, ECONNABORTED...: keep serving
        }
        if (active.load() >= max_connections) {
            continue; // closes conn: the lab never needs more, and a flood must not exhaust threads
        }
        ++active;
        try {
            std::thread([handler, fd = std::move(conn), who = address_string(peer)]() mutable {
                handler(std::move(fd), who);
                --active;
            }).detach();
        } catch (const std::system_error& e) {
            --active;
            std::fprintf(stderr, "thread: %s\n", e.what());
        }
    }
}

std::optional<std::string> parse_command_line(int argc, char** argv, const char* description, int* exit_code) {
    CLI::App app{description};
    std::string config;
    app.add_option("--config", config, "responder config (TOML); see tools/mpic-lab/responders/README.md")->required();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        *exit_code = app.exit(e) == 0 ? 0 : 2;
        return std::nullopt;
    }
    return config;
}

void announce_ready(const std::string& line) {
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void exit_now(int code) {
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(code);
}

} // namespace mpic::lab::responders
