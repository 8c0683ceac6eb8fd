#pragma once
// The remote side of bench_agent: a throw-away mutual-TLS PKI made with the openssl command line, `mpicd --role
// perspective` child processes (one per lab perspective) and the CPU time of any process read from /proc. Same
// recipe as tests/quorum_e2e/agent_support (which links GoogleTest, so a benchmark does not reuse it).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "net/addr/address_policy.hh"

namespace mpic::bench {

/// A private temporary directory, removed (recursively) on destruction. path() is empty if mkdtemp failed.
class scratch_dir {
public:
    scratch_dir();
    ~scratch_dir();
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    const std::string& path() const { return _path; }

private:
    std::string _path;
};

/// The files of the PKI: one CA, the agents' server certificate (iPAddress SAN 127.0.0.1) and the coordinator's
/// client certificate (clientAuth), all ECDSA P-256.
struct mtls_files {
    std::string ca_cert;
    std::string server_cert, server_key;
    std::string client_cert, client_key;
};

/// Runs openssl in `dir`. Empty optional on failure, with the failing command and its output in `error`.
std::optional<mtls_files> make_mtls_pki(const std::string& dir, std::string& error);

/// What one agent runs: one perspective with its lab source address and resolver, its TLS files.
struct agent_setup {
    std::string code, rir;
    double lat = 0, lon = 0;
    std::string source_ipv4;
    std::string resolver; ///< "address:port"
    net::addr::lab_ports lab;
    std::uint32_t dns_timeout_ms = 2'000;
    std::uint32_t dns_tries = 2;
    std::uint32_t check_timeout_ms = 8'000;
};

/// The TOML configuration of an `mpicd --role perspective` serving `a` on 127.0.0.1 (port chosen by the kernel).
std::string agent_toml(const agent_setup& a, const mtls_files& pki);

/// One `mpicd --role perspective` child. It gets PR_SET_PDEATHSIG(SIGKILL): a crashed benchmark leaves none
/// behind. The destructor kills and reaps it.
class agent_child {
public:
    agent_child() = default;
    ~agent_child();
    agent_child(const agent_child&) = delete;
    agent_child& operator=(const agent_child&) = delete;

    /// Writes `toml` to dir/name.toml, starts `mpicd` and waits at most `bound` for its port file. False with the
    /// reason (and the child's stderr) in `error`.
    bool start(const std::string& mpicd, const std::string& toml, const std::string& dir, const std::string& name,
               std::string& error, std::chrono::milliseconds bound = std::chrono::seconds(20));
    /// SIGKILL and reap; no-op when not running.
    void kill_now();
    pid_t pid() const { return _pid; }
    std::uint16_t port() const { return _port; }
    bool alive() const;

private:
    pid_t _pid = -1;
    std::uint16_t _port = 0;
    std::string _stderr_path;
};

/// CPU time (user + system) of every thread of process `pid` so far, in µs, from /proc/PID/task/*/schedstat
/// (nanosecond run time, unlike the 10 ms ticks of /proc/PID/stat). Threads that have exited are not counted.
/// 0 when the process is gone.
double process_cpu_us(pid_t pid);

/// CPU time of this process (all threads, getrusage RUSAGE_SELF), in µs.
double self_cpu_us();

/// The kernel's TCP counters of this network namespace (/proc/net/snmp): connections opened actively and
/// passively (accepted) since the namespace was created.
struct tcp_opens {
    std::uint64_t active = 0;
    std::uint64_t passive = 0;
};
tcp_opens read_tcp_opens();

/// Established TCP connections whose local port is one of `ports` (the server side of the agents' connections),
/// from /proc/net/tcp.
std::size_t established_to(const std::vector<std::uint16_t>& ports);

/// Moves this process into a new network namespace with loopback up, so that read_tcp_opens() counts only what
/// the benchmark and its children open. 1: isolated. 0: not permitted (needs CAP_SYS_ADMIN), nothing changed.
/// -1: the namespace was entered but loopback could not be brought up (the process must not go on).
int isolate_network(std::string& error);

} // namespace mpic::bench
