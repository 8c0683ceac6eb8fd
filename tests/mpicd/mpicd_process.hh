#pragma once
// The real mpicd binary as a child process for the integration tests: started with arguments, its port read from
// --port-file (bounded wait), signalled, reaped with a bound (SIGKILL past it). The child gets PR_SET_PDEATHSIG so
// a crashed test never leaves a daemon behind.

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace mpic::test {

/// Result of running mpicd to completion (e.g. --check-config).
struct mpicd_run {
    int exit_code = -1; ///< WEXITSTATUS, or 128 + signal, or -1 when it had to be killed after the bound
    std::string out;
    std::string err;
};

class mpicd_process {
public:
    /// `dir`: where stdout/stderr and the port file go.
    explicit mpicd_process(std::string dir) : _dir(std::move(dir)) {}
    ~mpicd_process();
    mpicd_process(const mpicd_process&) = delete;
    mpicd_process& operator=(const mpicd_process&) = delete;

    /// Starts `mpicd args... --port-file F` and waits until F holds the port. False (with the reason in
    /// failure()) if it exited or did not listen within `bound`.
    bool start(const std::vector<std::string>& args, std::chrono::milliseconds bound = std::chrono::seconds(30));
    std::uint16_t port() const { return _port; }
    pid_t pid() const { return _pid; }
    void signal(int sig) const;
    /// Waits for exit up to `bound`; the exit code (or 128 + signal), nullopt on timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds bound);
    /// SIGKILL and reap (no-op when not running).
    void kill_now();
    std::string stdout_text() const;
    std::string stderr_text() const;
    const std::string& failure() const { return _failure; }

    /// Runs mpicd with `args` to completion (bounded) and captures its output.
    static mpicd_run run(const std::vector<std::string>& args, const std::string& dir,
                         std::chrono::milliseconds bound = std::chrono::seconds(30));

private:
    static pid_t spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err);
    std::string _dir;
    pid_t _pid = -1;
    std::uint16_t _port = 0;
    std::string _failure;
};

/// The whole contents of a file ("" if missing).
std::string read_text(const std::string& path);

} // namespace mpic::test
