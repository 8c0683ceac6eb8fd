// /proc reading, CPU pinning and the managed lab + mpicd. mpicd is fork/exec'd with PR_SET_PDEATHSIG so that it
// dies with mpic-bench even on SIGKILL (the lab's servers do the same, docs/lab.md "Processes").

#include "tools/mpic-bench/processes.hh"

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <sched.h>
#include <signal.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "quorum/engine/config.hh"
#include "tools/mpic-lab/lab.hh"

#ifndef MPIC_BENCH_MPICD_BINARY
#define MPIC_BENCH_MPICD_BINARY ""
#endif

namespace mpic::bench {
namespace {

std::string random_hex(std::size_t bytes) {
    std::random_device rd;
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes; ++i) {
        const auto b = rd() & 0xFFU;
        out.push_back(hex[b >> 4U]);
        out.push_back(hex[b & 0x0FU]);
    }
    return out;
}

std::string find_mpicd(const std::string& given) {
    namespace fs = std::filesystem;
    if (!given.empty()) {
        return given;
    }
    std::error_code ec;
    if (const std::string built = MPIC_BENCH_MPICD_BINARY; !built.empty() && fs::exists(built, ec)) {
        return built;
    }
    const auto self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        for (const auto& candidate :
             {self.parent_path() / "mpicd", self.parent_path().parent_path() / "mpicd" / "mpicd"}) {
            if (fs::exists(candidate, ec)) {
                return candidate.string();
            }
        }
    }
    return "mpicd"; // execvp searches PATH
}

// The daemon's configuration for a bench: the embedded default's perspectives (mpicd --lab then points them at
// the lab), per-client limits out of the way (the generator is one client), logging quiet.
std::string daemon_toml(const std::string& dir, const std::string& token, const setup_options& options) {
    std::ostringstream t;
    t << "[engine]\n";
    if (options.reactors != 0) {
        t << "reactors = " << options.reactors << "\n";
    }
    t << "[policy]\ndevelopment_override = true\n"
      << "[api]\nlisten = \"127.0.0.1:0\"\n"
      << "[auth]\ntokens = [{ name = \"bench\", token = \"" << token << "\" }]\n"
      << "[limits]\nrequests_per_second_per_client = 10000000\nburst_per_client = 10000000\n"
      << "concurrent_requests_per_client = 1000000\n"
      << "[audit]\npath = \"" << dir << "/audit.jsonl\"\nsync = " << (options.audit_sync ? "true" : "false") << "\n"
      << "[log]\nlevel = \"warn\"\n";
    for (const auto& p : quorum::embedded_default_config().perspectives) {
        t << "[[perspective]]\ncode = \"" << p.info.code << "\"\nrir = \"" << quorum::to_string(p.info.region)
          << "\"\nlocation = [" << p.info.location.lat_deg << ", " << p.info.location.lon_deg << "]\n"
          << "resolvers = [\"127.0.0.1\"]\n";
    }
    return t.str();
}

} // namespace

std::optional<proc_sample> read_proc(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) {
        return std::nullopt;
    }
    // proc(5): the command name (field 2) is in parentheses and may hold spaces; fields resume after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    // Field 3 is state; utime and stime are fields 14 and 15.
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) {
            utime = std::stoull(field);
        } else if (i == 15) {
            stime = std::stoull(field);
        }
    }
    proc_sample s;
    const auto ticks = static_cast<unsigned long long>(sysconf(_SC_CLK_TCK));
    s.cpu_us = (utime + stime) * 1'000'000ULL / ticks;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    while (std::getline(status, line)) {
        if (line.starts_with("VmRSS:")) {
            s.rss_kib = std::stoull(line.substr(6));
        } else if (line.starts_with("VmHWM:")) {
            s.hwm_kib = std::stoull(line.substr(6));
        }
    }
    return s;
}

std::map<std::string, std::uint64_t> read_thread_cpu_ns(pid_t pid) {
    std::map<std::string, std::uint64_t> out;
    std::error_code ec;
    namespace fs = std::filesystem;
    const fs::path tasks = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& task : fs::directory_iterator(tasks, ec)) {
        std::ifstream comm(task.path() / "comm");
        std::ifstream schedstat(task.path() / "schedstat");
        std::string name;
        std::uint64_t on_cpu_ns = 0;
        if (std::getline(comm, name) && (schedstat >> on_cpu_ns)) {
            out[name] += on_cpu_ns;
        }
    }
    return out;
}

bool parse_cpu_list(const std::string& text, std::vector<int>& cpus) {
    cpus.clear();
    std::istringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        const auto dash = item.find('-');
        try {
            std::size_t used = 0;
            const int first = std::stoi(item.substr(0, dash), &used);
            int last = first;
            if (dash != std::string::npos) {
                last = std::stoi(item.substr(dash + 1));
            } else if (used != item.size()) {
                return false;
            }
            if (first < 0 || last < first || last >= CPU_SETSIZE) {
                return false;
            }
            for (int c = first; c <= last; ++c) {
                cpus.push_back(c);
            }
        } catch (const std::exception&) {
            return false;
        }
    }
    return !cpus.empty();
}

bool pin_to_cpus(pid_t pid, const std::vector<int>& cpus) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : cpus) {
        CPU_SET(c, &set);
    }
    return sched_setaffinity(pid, sizeof(set), &set) == 0;
}

result<std::unique_ptr<managed_setup>> managed_setup::start(const setup_options& options, std::string& error) {
    auto parsed = lab::load_scenario(options.scenario_path);
    if (!parsed) {
        error = parsed.error().to_string();
        return errc::invalid_argument;
    }
    std::unique_ptr<managed_setup> setup(new managed_setup());
    setup->_keep_dir = options.keep_dir;
    lab::options lab_options;
    lab_options.log = [](std::string_view line) {
        std::fprintf(stderr, "mpic-lab: %.*s\n", static_cast<int>(line.size()), line.data());
    };
    auto started = lab::lab::start(parsed.value(), lab_options);
    if (!started) {
        error = "the lab did not start: " + started.error().message();
        return started.error();
    }
    setup->_lab = std::move(*started);

    char dir_template[] = "/tmp/mpic-bench.XXXXXX";
    if (mkdtemp(dir_template) == nullptr) {
        error = "mkdtemp failed";
        return errc::io_error;
    }
    setup->_dir = dir_template;
    setup->_token = random_hex(16);
    {
        std::ofstream(setup->_dir + "/lab.json") << setup->_lab->summary_json() << "\n";
        std::ofstream(setup->_dir + "/mpicd.toml") << daemon_toml(setup->_dir, setup->_token, options);
    }
    const std::string binary = find_mpicd(options.mpicd_path);
    const std::string port_file = setup->_dir + "/port";
    const std::string log_file = setup->_dir + "/mpicd.log";
    std::vector<std::string> args{
        binary, "--config", setup->_dir + "/mpicd.toml", "--lab", setup->_dir + "/lab.json", "--port-file", port_file};
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
        error = "fork failed";
        return errc::io_error;
    }
    if (pid == 0) {
        // Child: die with the bench (even on SIGKILL), own process group, output to the log file.
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) {
            _exit(127);
        }
        setpgid(0, 0);
        if (!options.daemon_cpus.empty()) {
            pin_to_cpus(0, options.daemon_cpus);
        }
        const int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        execvp(argv[0], argv.data());
        _exit(127);
    }
    setup->_pid = pid;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream in(port_file);
        unsigned port = 0;
        if (in >> port && port != 0 && port < 65536) {
            setup->_port = static_cast<std::uint16_t>(port);
            return setup;
        }
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            setup->_pid = -1;
            std::ifstream log(log_file);
            std::stringstream text;
            text << log.rdbuf();
            error = "mpicd (" + binary + ") exited at start-up:\n" + text.str();
            return errc::io_error;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    error = "mpicd did not write its port file within 15 s (log: " + log_file + ")";
    return errc::timed_out;
}

std::vector<pid_t> managed_setup::lab_pids() const {
    std::vector<pid_t> pids;
    if (_lab) {
        for (const auto& s : _lab->servers()) {
            pids.push_back(s.pid);
        }
    }
    return pids;
}

void managed_setup::stop() {
    if (_pid > 0) {
        kill(_pid, SIGTERM);
        int status = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (waitpid(_pid, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                kill(_pid, SIGKILL);
                waitpid(_pid, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        _pid = -1;
    }
    if (_lab) {
        _lab->stop();
        _lab.reset();
    }
    if (!_dir.empty() && !_keep_dir) {
        std::error_code ec;
        std::filesystem::remove_all(_dir, ec);
        _dir.clear();
    }
}

managed_setup::~managed_setup() {
    stop();
}

} // namespace mpic::bench
