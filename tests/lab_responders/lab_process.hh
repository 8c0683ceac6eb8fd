#pragma once
// Test helpers: start a lab responder binary, wait for its "ready" line, stop it by PID; run a shell command with a
// time bound and capture its output. Everything here is bounded so a broken responder fails a test instead of
// hanging it.

#include <chrono>
#include <filesystem>
#include <string>
#include <sys/types.h>

namespace mpic::lab::test {

/// A responder child process. Invariant: pid > 0 while running; the destructor stops it (SIGTERM, then SIGKILL
/// after 5 s) and reaps it.
class responder_process {
public:
    /// Starts `binary --config config`. stdout is a pipe read by wait_ready(); stderr goes to `stderr_file`.
    responder_process(const std::string& binary, const std::filesystem::path& config,
                      const std::filesystem::path& stderr_file);
    ~responder_process();
    responder_process(const responder_process&) = delete;
    responder_process& operator=(const responder_process&) = delete;

    /// Reads the first stdout line within `timeout`; "" if none (EOF or timeout).
    std::string wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// Sends SIGTERM and waits up to `timeout`; returns the exit status (WEXITSTATUS), 128+signal if killed by a
    /// signal, or -1 if it did not exit in time (then it is killed).
    int stop(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// Waits for the process to exit on its own within `timeout` (same return values as stop()).
    int wait_exit(std::chrono::milliseconds timeout);
    /// Anything on stdout after the ready line, read without blocking.
    std::string extra_stdout();
    pid_t pid() const noexcept { return _pid; }

private:
    pid_t _pid = -1;
    int _stdout = -1;
    std::string _buffer;
};

/// Result of a shell command.
struct command_result {
    int status = -1;    ///< exit status of `sh -c`, 124 if timeout(1) killed it
    std::string output; ///< stdout and stderr interleaved
    std::chrono::milliseconds elapsed{0};
};

/// Runs `sh -c command` under timeout(1) with `seconds` as the bound.
command_result run_command(const std::string& command, int seconds = 20);

/// A fresh directory for one test (removed by the destructor).
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const noexcept { return _path; }
    /// Writes `text` to path()/name and returns the full path.
    std::filesystem::path write(const std::string& name, const std::string& text) const;

private:
    std::filesystem::path _path;
};

/// Port from "ready <port>" or from "ready udp=<p> tcp=<p>" (the tcp one); 0 if the line does not parse.
int port_from_ready(const std::string& line);

} // namespace mpic::lab::test
