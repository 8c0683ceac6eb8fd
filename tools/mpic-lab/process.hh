#pragma once
// A child server process owned by the lab: spawned with fork/exec, its output in a log file, tied to the lab's
// life (PR_SET_PDEATHSIG), and stopped by its own PID. Not thread-safe: one owner drives a child_process.

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "core/result.hh"

namespace mpic::lab {

/// How to start a child. `program` is an absolute path or a name looked up in PATH.
struct spawn_options {
    std::string program;
    std::vector<std::string> args; ///< argv[1..]; argv[0] is `program`
    std::string log_path;          ///< receives the child's stdout and stderr (created, truncated)
    std::string stdout_path;       ///< when non-empty, stdout goes here instead of `log_path`
    std::string working_dir;       ///< "" keeps the lab's working directory
    std::optional<uid_t> uid;      ///< drop to this user (and `gid`, no supplementary groups) before exec
    std::optional<gid_t> gid;
};

/// A running (or finished but not yet reaped) child. Invariants: pid() > 0 until stop() returns; the child is the
/// leader of its own process group (pgid == pid), so stop() can also sweep grandchildren such as nginx workers;
/// the destructor stops a child that is still running.
class child_process {
public:
    /// Forks and execs. Fails with the exec errno when the program cannot be executed (reported through a
    /// close-on-exec pipe, so a missing binary is an error here rather than a dead child later).
    static result<child_process> spawn(const spawn_options& options);

    child_process(child_process&& other) noexcept;
    child_process& operator=(child_process&& other) noexcept;
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    ~child_process();

    pid_t pid() const noexcept { return _pid; }

    /// True while the child has not exited. Never reaps: the PID stays reserved until stop().
    bool running() const;

    /// SIGTERM to the child, wait up to `grace` for it to exit, then SIGKILL to its whole process group; reaps it.
    /// Afterwards no process of the group is left (members are swept with SIGKILL before the leader is reaped, while
    /// its PID cannot yet be reused). Returns how long stopping took. Idempotent.
    std::chrono::milliseconds stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

    /// The exit status once the child has exited (128 + signal number when a signal ended it), without reaping;
    /// nullopt while it runs.
    std::optional<int> exit_code() const;

    /// The PIDs in the child's process group (the child and, e.g., nginx workers), read from /proc.
    std::vector<pid_t> group_members() const;

    const std::string& log_path() const noexcept { return _log_path; }

private:
    child_process(pid_t pid, std::string log_path) : _pid(pid), _log_path(std::move(log_path)) {}
    pid_t _pid = -1;
    std::string _log_path;
};

/// Runs every command at once and waits for all of them, at most `timeout` in total. Succeeds when each exited 0;
/// otherwise fails (errc::io_error, or errc::timed_out with the stragglers killed) and puts the failing command's
/// name and the tail of its log in `failure`.
result<void> run_all(const std::vector<spawn_options>& commands, std::chrono::milliseconds timeout,
                     std::string& failure);

/// The last `max_bytes` of a file, for error messages that quote a server's log.
std::string tail_of_file(const std::string& path, std::size_t max_bytes = 2000);

/// True when a process with this PID exists (zombies count as existing until reaped).
bool process_exists(pid_t pid);

} // namespace mpic::lab
