#pragma once
// Remote perspective agents for the end-to-end tests: a throw-away PKI made with the openssl command line (a CA,
// agent server certificates, the coordinator's client certificate, and a second "rogue" CA with the same kinds of
// certificates), agent configuration files, and `mpicd --role perspective` child processes (optionally started
// through `ip netns exec`), each bounded in time and killed with the test.

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "quorum/engine/config.hh"

namespace mpic::quorum::e2e {

/// A private temporary directory, removed (recursively) on destruction.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return _path; }
    std::string file(const std::string& name) const { return _path + "/" + name; }

private:
    std::string _path;
};

/// Runs a shell command with stdout+stderr captured; returns (exit status, output). -1 if it could not run.
std::pair<int, std::string> run_command(const std::string& command);

/// File names of the PKI made by make_pki() inside a directory.
struct pki {
    std::string ca_cert, rogue_ca_cert;
    std::string agent_cert, agent_key;             ///< signed by the CA; SANs = the given IPs
    std::string rogue_agent_cert, rogue_agent_key; ///< same SANs, signed by the rogue CA
    std::string client_cert, client_key;           ///< the coordinator's, signed by the CA (clientAuth)
    std::string rogue_client_cert, rogue_client_key;
};

/// Generates the PKI with openssl (ECDSA P-256, valid 2 days). `ips`: the agents' addresses (iPAddress SANs).
/// Empty optional on failure, with the openssl output in `error`.
std::optional<pki> make_pki(const std::string& dir, const std::vector<std::string>& ips, std::string& error);

/// What one agent runs: its perspective (site, source address, resolver) and its TLS files.
struct agent_spec {
    configured_perspective perspective; ///< code/rir/location; transport.source_ipv4 and resolvers set
    std::string listen = "127.0.0.1:0";
    std::string cert, key, client_ca;
    net::addr::lab_ports lab;
    std::uint32_t check_timeout_ms = 10'000;
    std::uint32_t dns_timeout_ms = 8'000;
    std::string netns; ///< non-empty: run inside this network namespace (ip netns exec)
};

/// The TOML configuration of an `mpicd --role perspective` for `spec`.
std::string agent_config_toml(const agent_spec& spec);

/// One mpicd child process. The child gets PR_SET_PDEATHSIG(SIGKILL), so a crashed test leaves none behind.
class agent_process {
public:
    agent_process() = default;
    ~agent_process();
    agent_process(const agent_process&) = delete;
    agent_process& operator=(const agent_process&) = delete;

    /// Writes the config into `dir`, starts mpicd and waits (at most `bound`) for its port file. False with the
    /// reason (and the agent's stderr) in `error`.
    bool start(const agent_spec& spec, const std::string& dir, const std::string& name, std::string& error,
               std::chrono::milliseconds bound = std::chrono::seconds(20));
    std::uint16_t port() const { return _port; }
    pid_t pid() const { return _pid; }
    bool running() const { return _pid > 0; }
    /// SIGSTOP / SIGCONT (a hung agent).
    void stop_process() const;
    void continue_process() const;
    /// SIGKILL and reap; no-op when not running.
    void kill_now();
    std::string log() const;

private:
    pid_t _pid = -1;
    std::uint16_t _port = 0;
    std::string _stderr_path;
};

/// A coordinator-side perspective reaching an agent over mutual TLS.
configured_perspective agent_perspective(int site, const std::string& url, const std::string& ca_file,
                                         const std::string& client_cert, const std::string& client_key);

} // namespace mpic::quorum::e2e
