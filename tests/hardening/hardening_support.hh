#pragma once
// Support for the hardening suites (issue #10): the real mpicd under faults and overload. A closed-loop load driver
// of blocking clients (one connection per request, so connection handling is exercised too), the daemon's resource
// use from /proc, the configuration the suites start mpicd with, and the table of faults each test prints.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace mpic::test::hardening {

/// How one request ended, from the client's side.
enum class ending : std::uint8_t {
    answered,  ///< a whole HTTP response arrived (status in the sample)
    refused,   ///< the connection could not be opened (ECONNREFUSED: nobody listening any more)
    closed,    ///< the server closed or reset the connection before a whole response
    timed_out, ///< no whole response within the client's bound
};

/// One request's outcome.
struct sample {
    ending how = ending::answered;
    int status = 0;
    bool has_retry_after = false;
    std::string error; ///< the body's `error` for 4xx/5xx
    double latency_ms = 0;
    bool started_after_stop = false;             ///< sent after the test asked the daemon to stop (SIGTERM tests)
    std::chrono::steady_clock::time_point ended; ///< when the answer (or the failure) arrived
    std::uint64_t sequence = 0;                  ///< the driver's request number (body_for's argument)
};

/// Counts by outcome, and percentiles of the admitted (200) requests' latencies.
struct load_summary {
    std::map<std::string, int> outcomes; ///< "200", "429 too-many-concurrent-requests", "closed", ...
    int total = 0;
    int ok = 0;
    int shed = 0; ///< 429 and 503
    int shed_without_retry_after = 0;
    std::vector<double> ok_latency_ms; ///< sorted
    double percentile(double p) const;
    std::string describe() const;
};

/// What the driver sends: a body chooser (by sequence number) and the Authorization header line.
struct load_plan {
    std::uint16_t port = 0;
    int connections = 64; ///< concurrent client threads, each one request at a time
    std::chrono::milliseconds duration{3000};
    std::chrono::milliseconds read_bound{20000};        ///< per request
    std::vector<std::string> tokens;                    ///< client i uses tokens[i % size]
    std::vector<std::string> bodies;                    ///< request i uses bodies[i % size] ...
    std::function<std::string(std::uint64_t)> body_for; ///< ... unless set: request i sends body_for(i)
};

/// Runs the plan: `connections` threads send requests back to back until `duration` ends or `stop` becomes true;
/// returns every sample. `stop_flag` (optional) marks later samples as started_after_stop once it is set.
std::vector<sample> run_load(const load_plan& plan, const std::atomic<bool>* stop_flag = nullptr);

load_summary summarise(const std::vector<sample>& samples);

/// One request, answered or not, with the same classification as the driver.
sample request_once(std::uint16_t port, const std::string& token, const std::string& body,
                    std::chrono::milliseconds bound = std::chrono::seconds(20));

/// /proc/PID/status VmRSS in KiB (0 when the process is gone).
std::uint64_t rss_kib(pid_t pid);
/// Entries of /proc/PID/fd (-1 when the process is gone).
int open_fds(pid_t pid);

/// mpicd's TOML: six in-process perspectives (the embedded default's codes and RIRs) resolving at `resolver`
/// ("127.0.0.1" when the lab overrides it), plus `extra` sections. Tokens are `token_a`, `token_b` below.
std::string daemon_config(const std::string& audit_path, const std::string& extra,
                          const std::string& resolver = "127.0.0.1");

inline constexpr const char* token_a = "hardening-client-a-0123456789";
inline constexpr const char* token_b = "hardening-client-b-0123456789";

/// A row of the fault table a test prints: what was done, what was expected, what happened.
struct fault_row {
    std::string fault;
    std::string expected;
    std::string observed;
    bool ok = false;
};
/// Prints the rows as a table on stdout (ctest --output-on-failure and -V show it) and returns false if any failed.
bool print_fault_table(const std::string& title, const std::vector<fault_row>& rows);

/// A UDP port on 127.0.0.1 where nothing listens (bound, its number taken, then closed: ICMP port unreachable).
std::uint16_t closed_udp_port();
/// A bound UDP socket that never answers (a resolver that went silent). Closed by the destructor.
class silent_udp {
public:
    silent_udp();
    ~silent_udp();
    silent_udp(const silent_udp&) = delete;
    silent_udp& operator=(const silent_udp&) = delete;
    std::uint16_t port() const { return _port; }

private:
    int _fd = -1;
    std::uint16_t _port = 0;
};

/// A fresh directory under /tmp; removed by the destructor unless keep() was called.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return _path; }
    std::string write(const std::string& name, const std::string& text) const;
    void keep() { _keep = true; }

private:
    std::string _path;
    bool _keep = false;
};

} // namespace mpic::test::hardening
