#pragma once
// Plumbing shared by the three lab responders: the CLI contract (--config, "ready" line, exit on SIGTERM), socket
// set-up, a stop signal usable from poll(), and a bounded thread-per-connection accept loop. Lab tooling, not engine
// code: blocking sockets with timeouts and plain threads keep each responder short and obviously correct.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <sys/socket.h>

#include "tools/mpic-lab/responders/responder_config.hh"

namespace mpic::lab::responders {

/// Owning file descriptor. Invariant: fd is -1 or an open descriptor owned by this object.
class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : _fd(fd) {}
    unique_fd(unique_fd&& o) noexcept : _fd(o.release()) {}
    unique_fd& operator=(unique_fd&& o) noexcept;
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd();
    int get() const noexcept { return _fd; }
    int release() noexcept {
        int fd = _fd;
        _fd = -1;
        return fd;
    }
    explicit operator bool() const noexcept { return _fd >= 0; }

private:
    int _fd = -1;
};

/// Installs SIGTERM/SIGINT handlers writing to a self-pipe and ignores SIGPIPE. Call once, before any thread.
void install_stop_handlers();
/// Read end of the self-pipe: readable once a stop signal arrived.
int stop_fd() noexcept;
/// True once SIGTERM/SIGINT arrived.
bool stop_requested() noexcept;
/// Sleeps up to `d`, returning early (false) if a stop signal arrives; true if the full time elapsed.
bool sleep_unless_stopped(std::chrono::milliseconds d);

/// Socket bound (and for SOCK_STREAM listening) on address:port, SO_REUSEADDR, non-blocking off.
/// On failure returns an empty fd and sets *error.
unique_fd bind_socket(const std::string& address, std::uint16_t port, int type, std::string* error);
/// The local port of a bound socket (0 on error).
std::uint16_t local_port(int fd);
/// Numeric address of a sockaddr ("127.0.0.2", "::1"); IPv4-mapped IPv6 is shown as IPv4.
std::string address_string(const sockaddr_storage& addr);
/// SO_RCVTIMEO and SO_SNDTIMEO.
void set_timeouts(int fd, std::chrono::milliseconds recv, std::chrono::milliseconds send);
/// Sends all of [data, data+len) with MSG_NOSIGNAL; false on error / peer gone / send timeout.
bool send_all(int fd, const void* data, std::size_t len);

/// Called on its own thread for each accepted connection; it owns `fd` (closes it by destroying the unique_fd).
using connection_handler = std::function<void(unique_fd fd, const std::string& peer)>;

/// Accepts on `listen_fd` until a stop signal, running `handler` on a detached thread per connection; at most
/// `max_connections` run at once (further connections are closed at once). Returns when stopped.
void accept_loop(int listen_fd, const connection_handler& handler, int max_connections = 256);

/// The CLI contract of responder_config.hh: parses argv (--config FILE, --help), returns the config path or
/// nullopt after printing usage/error (exit code in *exit_code).
std::optional<std::string> parse_command_line(int argc, char** argv, const char* description, int* exit_code);

/// Prints the "ready ..." line on stdout and flushes it.
void announce_ready(const std::string& line);

/// Ends the process with `code` without running static destructors, so detached connection threads never see
/// torn-down globals (OpenSSL contexts, configs) while the process exits.
[[noreturn]] void exit_now(int code);

} // namespace mpic::lab::responders
