#include "bench/agent/agent_fleet.hh"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <net/if.h>
#include <sched.h>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace mpic::bench {
namespace {

std::string read_all(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Runs a shell command, stdout+stderr captured; (exit status, output), -1 if it could not run.
std::pair<int, std::string> run_command(const std::string& command) {
    std::string output;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) {
        return {-1, {}};
    }
    std::array<char, 4096> buf{};
    while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) {
        output += buf.data();
    }
    const int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

} // namespace

scratch_dir::scratch_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mpic-agentbench.XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) {
        _path = pattern;
    }
}

scratch_dir::~scratch_dir() {
    if (!_path.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(_path, ec);
    }
}

std::optional<mtls_files> make_mtls_pki(const std::string& dir, std::string& error) {
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    std::ofstream(dir + "/server.ext") << "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                       << "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n";
    std::ofstream(dir + "/client.ext") << "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                       << "extendedKeyUsage=clientAuth\n";
    std::vector<std::string> steps = {
        "openssl req -x509 " + ec + " -keyout " + dir + "/ca.key -out " + dir +
            "/ca.pem -days 2 -subj /CN=agentbench-ca -addext basicConstraints=critical,CA:TRUE -addext "
            "keyUsage=critical,keyCertSign,cRLSign",
    };
    int serial = 100;
    for (const char* leaf : {"server", "client"}) {
        const std::string base = dir + "/" + leaf;
        steps.push_back("openssl req " + ec + " -keyout " + base + ".key -out " + base + ".csr -subj /CN=" + leaf);
        steps.push_back("openssl x509 -req -in " + base + ".csr -CA " + dir + "/ca.pem -CAkey " + dir +
                        "/ca.key -set_serial " + std::to_string(++serial) + " -days 2 -out " + base + ".pem -extfile " +
                        base + ".ext");
    }
    for (const auto& step : steps) {
        auto [status, output] = run_command(step);
        if (status != 0) {
            error = step + ": " + output;
            return std::nullopt;
        }
    }
    return mtls_files{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key", dir + "/client.pem",
                      dir + "/client.key"};
}

std::string agent_toml(const agent_setup& a, const mtls_files& pki) {
    std::ostringstream s;
    s << "[engine]\nreactors = 1\ncaa_issuer_domains = [\"ca.example\"]\ncheck_timeout_ms = " << a.check_timeout_ms
      << "\n[dns]\ntimeout_ms = " << a.dns_timeout_ms << "\ntries = " << a.dns_tries << "\n"
      << "[policy]\n# one perspective per agent process: below the BR minimum by construction\n"
      << "development_override = true\n"
      << "[lab]\nenabled = true\nhttp_port = " << a.lab.http << "\nhttps_port = " << a.lab.https
      << "\ntls_alpn_port = " << a.lab.tls_alpn << "\n"
      << "[api]\nrole = \"perspective\"\nperspective_code = \"" << a.code << "\"\nlisten = \"127.0.0.1:0\"\n"
      << "tls_cert_file = \"" << pki.server_cert << "\"\ntls_key_file = \"" << pki.server_key
      << "\"\nclient_ca_file = \"" << pki.ca_cert << "\"\n"
      << "[auth]\nallow_client_certificates = true\n"
      << "[log]\nlevel = \"warn\"\n"
      << "[[perspective]]\ncode = \"" << a.code << "\"\nrir = \"" << a.rir << "\"\nlocation = [" << a.lat << ", "
      << a.lon << "]\nsource_ipv4 = \"" << a.source_ipv4 << "\"\nresolvers = [\"" << a.resolver << "\"]\n";
    return s.str();
}

agent_child::~agent_child() {
    kill_now();
}

bool agent_child::start(const std::string& mpicd, const std::string& toml, const std::string& dir,
                        const std::string& name, std::string& error, std::chrono::milliseconds bound) {
    const std::string config = dir + "/" + name + ".toml";
    const std::string port_file = dir + "/" + name + ".port";
    const std::string out = dir + "/" + name + ".out";
    _stderr_path = dir + "/" + name + ".err";
    std::ofstream(config) << toml;
    std::vector<std::string> args = {mpicd, "--role", "perspective", "--config", config, "--port-file", port_file};
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);

    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        error = std::string("fork: ") + std::strerror(errno);
        return false;
    }
    if (pid == 0) {
        // The child dies with the benchmark (SIGKILL when the forking thread exits), whatever ends it.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int e = ::open(_stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o >= 0) {
            ::dup2(o, 1);
        }
        if (e >= 0) {
            ::dup2(e, 2);
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    _pid = pid;
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(_pid, &status, WNOHANG) == _pid) {
            _pid = -1;
            error = name + " exited before listening: " + read_all(_stderr_path);
            return false;
        }
        const std::string text = read_all(port_file);
        if (!text.empty() && text.back() == '\n') {
            _port = static_cast<std::uint16_t>(std::stoul(text));
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    error = name + " did not listen within " + std::to_string(bound.count()) + " ms: " + read_all(_stderr_path);
    kill_now();
    return false;
}

void agent_child::kill_now() {
    if (_pid <= 0) {
        return;
    }
    ::kill(_pid, SIGKILL);
    int status = 0;
    while (::waitpid(_pid, &status, 0) < 0 && errno == EINTR) {
    }
    _pid = -1;
}

bool agent_child::alive() const {
    int status = 0;
    return _pid > 0 && ::waitpid(_pid, &status, WNOHANG) == 0;
}

double process_cpu_us(pid_t pid) {
    // schedstat's first field is the time the thread spent on a CPU, in ns (user and system together).
    double total_ns = 0;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream in(task.path() / "schedstat");
        double ns = 0;
        if (in >> ns) {
            total_ns += ns;
        }
    }
    return total_ns / 1e3;
}

double self_cpu_us() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

tcp_opens read_tcp_opens() {
    // Two "Tcp:" lines: the field names, then the values. RFC 1213 tcpActiveOpens / tcpPassiveOpens.
    std::ifstream in("/proc/net/snmp");
    std::string line, names;
    tcp_opens out;
    while (std::getline(in, line)) {
        if (!line.starts_with("Tcp:")) {
            continue;
        }
        if (names.empty()) {
            names = line;
            continue;
        }
        std::istringstream n(names), v(line);
        std::string name, value;
        while (n >> name && v >> value) {
            if (name == "ActiveOpens") {
                out.active = std::stoull(value);
            } else if (name == "PassiveOpens") {
                out.passive = std::stoull(value);
            }
        }
        break;
    }
    return out;
}

std::size_t established_to(const std::vector<std::uint16_t>& ports) {
    std::ifstream in("/proc/net/tcp");
    std::string line;
    std::getline(in, line); // header
    std::size_t count = 0;
    while (std::getline(in, line)) {
        // "  sl  local_address rem_address   st ...": local "0100007F:1F90", state 01 = ESTABLISHED.
        std::istringstream f(line);
        std::string sl, local, remote, state;
        if (!(f >> sl >> local >> remote >> state) || state != "01") {
            continue;
        }
        const auto colon = local.find(':');
        if (colon == std::string::npos) {
            continue;
        }
        const auto port = static_cast<std::uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16));
        for (auto p : ports) {
            count += p == port ? 1 : 0;
        }
    }
    return count;
}

int isolate_network(std::string& error) {
    if (::unshare(CLONE_NEWNET) != 0) {
        error = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
        return 0;
    }
    // A new namespace has only `lo`, and it is down: bring it up (127.0.0.0/8 is then local, as the lab needs).
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    bool ok = fd >= 0 && ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
    if (ok) {
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
        ok = ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
    }
    if (!ok) {
        error = std::string("bringing lo up: ") + std::strerror(errno);
    }
    if (fd >= 0) {
        ::close(fd);
    }
    return ok ? 1 : -1;
}

} // namespace mpic::bench
