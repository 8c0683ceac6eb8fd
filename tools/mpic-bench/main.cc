// mpic-bench: load generator and latency profiler for mpicd (docs/benchmarks.md "End to end"). Either drives a
// running mpicd (--target, --token, --pid for its CPU) or starts an mpic-lab scenario and an mpicd pointed at it
// (--scenario), measures, and stops everything it started.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "tools/mpic-bench/load_driver.hh"
#include "tools/mpic-bench/processes.hh"
#include "tools/mpic-bench/report.hh"
#include "tools/mpic-bench/request_mix.hh"

namespace {

using namespace mpic::bench;

std::uint64_t self_cpu_us() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto us = [](const timeval& t) {
        return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000ULL + static_cast<std::uint64_t>(t.tv_usec);
    };
    return us(u.ru_utime) + us(u.ru_stime);
}

// The lab's servers and their descendants (nginx workers run the requests; their CPU is not in the master's
// utime while they live).
std::vector<pid_t> with_descendants(const std::vector<pid_t>& roots) {
    std::set<pid_t> all(roots.begin(), roots.end());
    bool grew = true;
    while (grew) {
        grew = false;
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
            const auto name = entry.path().filename().string();
            if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
                continue;
            }
            std::ifstream stat(entry.path() / "stat");
            std::string line;
            if (!std::getline(stat, line)) {
                continue;
            }
            const auto close = line.rfind(')');
            if (close == std::string::npos) {
                continue;
            }
            std::istringstream fields(line.substr(close + 2));
            std::string state;
            pid_t ppid = 0;
            fields >> state >> ppid;
            const pid_t pid = std::stoi(name);
            if (all.contains(ppid) && all.insert(pid).second) {
                grew = true;
            }
        }
    }
    return {all.begin(), all.end()};
}

std::uint64_t group_cpu_us(const std::vector<pid_t>& pids) {
    std::uint64_t sum = 0;
    for (pid_t p : pids) {
        if (auto s = read_proc(p)) {
            sum += s->cpu_us;
        }
    }
    return sum;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"mpic-bench: load generator and latency profiler for mpicd (docs/benchmarks.md)"};
    std::string target;
    std::string token;
    pid_t daemon_pid = -1;
    std::string scenario;
    setup_options setup;
    std::string daemon_cpus, client_cpus;
    bool no_audit_sync = false;
    load_config load;
    std::string mix_spec = "caa";
    std::string domain = "bench.test";
    bool json = false;
    bool no_progress = false;
    std::string plot_path;
    app.add_option("--target", target, "a running mpicd: HOST:PORT (IPv4 literal)");
    app.add_option("--token", token, "bearer secret for --target");
    app.add_option("--pid", daemon_pid, "the running mpicd's PID, for its CPU and RSS (/proc)");
    app.add_option("--scenario", scenario,
                   "start this mpic-lab scenario and an mpicd on it (e.g. tools/mpic-lab/scenarios/bench-clean.toml)");
    app.add_option("--mpicd", setup.mpicd_path, "mpicd binary for --scenario (default: the build tree's)");
    app.add_option("--reactors", setup.reactors, "mpicd --reactors for --scenario (0 = one per core)");
    app.add_option("--daemon-cpus", daemon_cpus, "pin the started mpicd to these CPUs, e.g. 0");
    app.add_option("--client-cpus", client_cpus, "pin mpic-bench (and the lab it starts) to these CPUs, e.g. 1");
    app.add_flag("--no-audit-sync", no_audit_sync, "started mpicd: [audit] sync = false (no fdatasync per batch)");
    app.add_flag("--keep", setup.keep_dir, "keep the started setup's directory (config, logs, audit log)");
    app.add_option("-c,--concurrency", load.concurrency,
                   "closed loop: concurrent requests; open loop: most outstanding (default 16)")
        ->check(CLI::Range(1U, 100000U));
    app.add_option("-r,--rate", load.rate, "open loop at this many requests/s (default: closed loop)")
        ->check(CLI::PositiveNumber);
    app.add_option("-d,--duration", load.duration_s, "measurement window, seconds (default 5)")
        ->check(CLI::PositiveNumber);
    app.add_option("-w,--warmup", load.warmup_s, "warm-up, seconds, not measured (default 1)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--drain-timeout", load.drain_timeout_s, "after the window, wait this long for answers (default 30)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("-m,--mix", mix_spec,
                   "request kinds with weights: caa, dns-01, http-01, tls-alpn-01, dns-change, dcv_with_caa, "
                   "multi-name (e.g. caa=3,dns-01=1)");
    app.add_option("--domain", domain, "the name validated (the lab's bench.test by default)");
    app.add_option("--seed", load.seed, "seed for the mix choice");
    app.add_flag("--profile", load.profile, "per-phase breakdown from the responses' timings, and a waterfall");
    app.add_flag("--json", json, "print one JSON object instead of the table");
    app.add_option("--plot", plot_path, "write an SVG latency plot here");
    app.add_flag("--no-progress", no_progress, "no live progress line (it is shown only on a terminal anyway)");
    CLI11_PARSE(app, argc, argv);

    if (target.empty() == scenario.empty()) {
        std::cerr << "mpic-bench: give exactly one of --target HOST:PORT or --scenario FILE\n";
        return 2;
    }
    std::string error;
    auto mix = request_mix::parse(mix_spec, domain, error);
    if (!mix) {
        std::cerr << "mpic-bench: " << error << "\n";
        return 2;
    }
    load.mode = load.rate > 0 ? load_mode::open : load_mode::closed;
    load.progress = !no_progress && isatty(2) != 0;
    setup.audit_sync = !no_audit_sync;
    if (!daemon_cpus.empty() && !parse_cpu_list(daemon_cpus, setup.daemon_cpus)) {
        std::cerr << "mpic-bench: --daemon-cpus: expected a CPU list like 0 or 0,1\n";
        return 2;
    }
    if (!client_cpus.empty()) {
        std::vector<int> cpus;
        if (!parse_cpu_list(client_cpus, cpus) || !pin_to_cpus(0, cpus)) {
            std::cerr << "mpic-bench: --client-cpus: cannot pin to '" << client_cpus << "'\n";
            return 2;
        }
    }

    std::unique_ptr<managed_setup> managed;
    std::vector<pid_t> lab_pids;
    if (!scenario.empty()) {
        setup.scenario_path = scenario;
        auto started = managed_setup::start(setup, error);
        if (!started) {
            std::cerr << "mpic-bench: " << error << "\n";
            return 1;
        }
        managed = std::move(*started);
        load.port = managed->port();
        load.token = managed->token();
        daemon_pid = managed->daemon_pid();
        lab_pids = with_descendants(managed->lab_pids());
        // For attaching a profiler (docs/benchmarks.md "Flame graph"): perf record -p <this pid>.
        std::cerr << "mpic-bench: mpicd pid " << daemon_pid << " on 127.0.0.1:" << load.port << "\n";
    } else {
        const auto colon = target.rfind(':');
        unsigned port = 0;
        try {
            port = colon == std::string::npos ? 0 : static_cast<unsigned>(std::stoul(target.substr(colon + 1)));
        } catch (const std::exception&) {
            port = 0;
        }
        if (port == 0 || port > 65535) {
            std::cerr << "mpic-bench: --target must be HOST:PORT\n";
            return 2;
        }
        load.host = target.substr(0, colon);
        load.port = static_cast<std::uint16_t>(port);
        load.token = token;
    }

    run_report report;
    report.config = load;
    report.mix = mix->describe();
    report.scenario = scenario.empty() ? "" : std::filesystem::path(scenario).filename().string();
    report.daemon_pid = daemon_pid;
    std::optional<proc_sample> daemon_start;
    std::map<std::string, std::uint64_t> daemon_threads_start;
    std::uint64_t client_start = 0, lab_start = 0;
    load_hooks hooks;
    hooks.window_opened = [&] {
        if (daemon_pid > 0) {
            daemon_start = read_proc(daemon_pid);
            daemon_threads_start = read_thread_cpu_ns(daemon_pid);
        }
        client_start = self_cpu_us();
        lab_start = group_cpu_us(lab_pids);
    };
    hooks.window_closed = [&] {
        if (daemon_start) {
            if (auto end = read_proc(daemon_pid)) {
                report.daemon = {end->cpu_us - daemon_start->cpu_us, true};
                report.daemon_end = end;
            }
            for (const auto& [name, ns] : read_thread_cpu_ns(daemon_pid)) {
                const auto start = daemon_threads_start.find(name);
                const std::uint64_t before = start == daemon_threads_start.end() ? 0 : start->second;
                report.daemon_threads_ns[name] = ns > before ? ns - before : 0;
            }
        }
        report.client = {self_cpu_us() - client_start, true};
        if (!lab_pids.empty()) {
            report.lab = {group_cpu_us(lab_pids) - lab_start, true};
        }
    };
    report.load = run_load(load, *mix, hooks);
    if (managed) {
        managed->stop();
    }

    if (json) {
        std::cout << render_json(report, *mix) << "\n";
    } else {
        std::cout << render_table(report, *mix);
        if (load.profile) {
            std::cout << render_profile(report);
        }
    }
    if (!plot_path.empty()) {
        std::ofstream out(plot_path);
        out << render_svg(report);
        if (!out) {
            std::cerr << "mpic-bench: cannot write " << plot_path << "\n";
            return 1;
        }
    }
    return 0;
}
