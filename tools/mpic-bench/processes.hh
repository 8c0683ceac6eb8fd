#pragma once
// Processes mpic-bench measures or manages: /proc counters of a running daemon, and the setup it can start itself
// (an mpic-lab scenario in-process plus an mpicd child pointed at it), stopped again whatever happens.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "core/result.hh"

namespace mpic::lab {
class lab;
}

namespace mpic::bench {

/// CPU and memory of one process at one moment, from /proc/<pid>/stat and /proc/<pid>/status.
struct proc_sample {
    std::uint64_t cpu_us = 0;  ///< utime + stime (all threads), in µs (clock-tick resolution: 10 ms)
    std::uint64_t rss_kib = 0; ///< VmRSS
    std::uint64_t hwm_kib = 0; ///< VmHWM (peak RSS)
};
/// nullopt when the process does not exist or /proc cannot be read.
std::optional<proc_sample> read_proc(pid_t pid);

/// CPU time on the processor per thread name (comm), summed over the threads of `pid` that share a name, in
/// nanoseconds (/proc/PID/task/TID/schedstat, field 1: ns resolution, unlike stat's 10 ms ticks). Empty when the
/// process is gone. Threads that exit between two samples drop out of the second.
std::map<std::string, std::uint64_t> read_thread_cpu_ns(pid_t pid);

/// Parses a CPU list "0", "0,1", "0-1"; returns false on anything else.
bool parse_cpu_list(const std::string& text, std::vector<int>& cpus);
/// Pins the calling process (pid 0) or `pid` to `cpus`. Returns false (errno set) if the kernel refuses.
bool pin_to_cpus(pid_t pid, const std::vector<int>& cpus);

/// What to start.
struct setup_options {
    std::string scenario_path;    ///< mpic-lab scenario (TOML)
    std::string mpicd_path;       ///< "" = the build tree's mpicd, then next to mpic-bench, then PATH
    std::vector<int> daemon_cpus; ///< pin mpicd here (empty = no pinning)
    unsigned reactors = 0;        ///< mpicd --reactors (0 = its default: one per core)
    bool audit_sync = true;       ///< [audit] sync: fdatasync every batch, as in production
    bool keep_dir = false;        ///< keep the working directory (configs, logs, audit) for inspection
};

/// A running lab + mpicd. The destructor (or stop()) ends mpicd (SIGTERM, then SIGKILL after 5 s) and the lab.
class managed_setup {
public:
    /// Starts the lab, writes mpicd's configuration (the embedded default's six perspectives, per-client limits
    /// raised so the generator is not rate-limited, a random token), starts mpicd and waits for its port file.
    static result<std::unique_ptr<managed_setup>> start(const setup_options& options, std::string& error);
    ~managed_setup();
    managed_setup(const managed_setup&) = delete;
    managed_setup& operator=(const managed_setup&) = delete;

    void stop();
    std::uint16_t port() const noexcept { return _port; }
    const std::string& token() const noexcept { return _token; }
    pid_t daemon_pid() const noexcept { return _pid; }
    /// The lab's server processes (named, nginx, responders), for their CPU share.
    std::vector<pid_t> lab_pids() const;
    const std::string& dir() const noexcept { return _dir; }

private:
    managed_setup() = default;
    std::unique_ptr<lab::lab> _lab;
    std::string _dir;
    std::string _token;
    std::uint16_t _port = 0;
    pid_t _pid = -1;
    bool _keep_dir = false;
};

} // namespace mpic::bench
