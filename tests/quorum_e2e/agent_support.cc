#include "tests/quorum_e2e/agent_support.hh"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "tests/quorum_e2e/e2e_support.hh"

namespace mpic::quorum::e2e {

temp_dir::temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mpic-e2e.XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) {
        _path = pattern;
    }
}

temp_dir::~temp_dir() {
    if (!_path.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(_path, ec);
    }
}

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

namespace {

std::string read_all(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// openssl steps for one CA and its three leaf kinds; "" on success, else the failing command and its output.
std::string make_ca_and_leaves(const std::string& dir, const std::string& prefix, const std::string& san) {
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    const std::string ca = dir + "/" + prefix + "ca";
    {
        std::ofstream(dir + "/" + prefix + "server.ext")
            << "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
            << "extendedKeyUsage=serverAuth\nsubjectAltName=" << san << "\n";
        std::ofstream(dir + "/" + prefix + "client.ext")
            << "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
            << "extendedKeyUsage=clientAuth\n";
    }
    std::vector<std::string> steps = {
        "openssl req -x509 " + ec + " -keyout " + ca + ".key -out " + ca + ".pem -days 2 -subj /CN=" + prefix +
            "e2e-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
    };
    for (const char* leaf : {"server", "client"}) {
        const std::string base = dir + "/" + prefix + leaf;
        steps.push_back("openssl req " + ec + " -keyout " + base + ".key -out " + base + ".csr -subj /CN=" + prefix +
                        leaf);
        steps.push_back("openssl x509 -req -in " + base + ".csr -CA " + ca + ".pem -CAkey " + ca +
                        ".key -set_serial 0x" + std::to_string(100 + (leaf[0] == 's' ? 1 : 2)) + " -days 2 -out " +
                        base + ".pem -extfile " + base + ".ext");
    }
    for (const auto& step : steps) {
        auto [status, output] = run_command(step);
        if (status != 0) {
            return step + ": " + output;
        }
    }
    return {};
}

} // namespace

std::optional<pki> make_pki(const std::string& dir, const std::vector<std::string>& ips, std::string& error) {
    std::string san;
    for (const auto& ip : ips) {
        san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
    }
    for (const char* prefix : {"", "rogue-"}) {
        if (auto failed = make_ca_and_leaves(dir, prefix, san); !failed.empty()) {
            error = failed;
            return std::nullopt;
        }
    }
    pki p;
    p.ca_cert = dir + "/ca.pem";
    p.rogue_ca_cert = dir + "/rogue-ca.pem";
    p.agent_cert = dir + "/server.pem";
    p.agent_key = dir + "/server.key";
    p.rogue_agent_cert = dir + "/rogue-server.pem";
    p.rogue_agent_key = dir + "/rogue-server.key";
    p.client_cert = dir + "/client.pem";
    p.client_key = dir + "/client.key";
    p.rogue_client_cert = dir + "/rogue-client.pem";
    p.rogue_client_key = dir + "/rogue-client.key";
    return p;
}

std::string agent_config_toml(const agent_spec& spec) {
    const auto& p = spec.perspective;
    std::ostringstream s;
    s << "[engine]\nreactors = 1\ncaa_issuer_domains = [\"ca.example\"]\ncheck_timeout_ms = " << spec.check_timeout_ms
      << "\n[dns]\ntimeout_ms = " << spec.dns_timeout_ms << "\ntries = 1\n"
      << "[policy]\n# one perspective per agent process: below the BR minimum by construction\n"
      << "development_override = true\n"
      << "[lab]\nenabled = true\nhttp_port = " << spec.lab.http << "\nhttps_port = " << spec.lab.https
      << "\ntls_alpn_port = " << spec.lab.tls_alpn << "\n"
      << "[api]\nrole = \"perspective\"\nperspective_code = \"" << p.info.code << "\"\nlisten = \"" << spec.listen
      << "\"\ntls_cert_file = \"" << spec.cert << "\"\ntls_key_file = \"" << spec.key << "\"\nclient_ca_file = \""
      << spec.client_ca << "\"\n"
      << "[auth]\nallow_client_certificates = true\n"
      << "[log]\nlevel = \"warn\"\n"
      << "[[perspective]]\ncode = \"" << p.info.code << "\"\nrir = \"" << to_string(p.info.region) << "\"\nlocation = ["
      << p.info.location.lat_deg << ", " << p.info.location.lon_deg << "]\n";
    if (p.transport.source_ipv4) {
        s << "source_ipv4 = \"" << *p.transport.source_ipv4 << "\"\n";
    }
    s << "resolvers = [";
    for (std::size_t i = 0; i < p.transport.resolvers.size(); ++i) {
        s << (i ? ", " : "") << "\"" << p.transport.resolvers[i].address << ":" << p.transport.resolvers[i].port
          << "\"";
    }
    s << "]\n";
    return s.str();
}

agent_process::~agent_process() {
    kill_now();
}

bool agent_process::start(const agent_spec& spec, const std::string& dir, const std::string& name, std::string& error,
                          std::chrono::milliseconds bound) {
    const std::string config = dir + "/" + name + ".toml";
    const std::string port_file = dir + "/" + name + ".port";
    const std::string out = dir + "/" + name + ".out";
    _stderr_path = dir + "/" + name + ".err";
    std::ofstream(config) << agent_config_toml(spec);
    std::filesystem::remove(port_file);

    std::vector<std::string> args;
    if (!spec.netns.empty()) {
        args = {"/usr/sbin/ip", "netns", "exec", spec.netns};
    }
    for (const char* a : {MPIC_MPICD_BINARY, "--role", "perspective", "--config"}) {
        args.emplace_back(a);
    }
    args.push_back(config);
    args.emplace_back("--port-file");
    args.push_back(port_file);
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);

    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        error = "fork failed";
        return false;
    }
    if (pid == 0) {
        // Child: die with the test; stdout/stderr to files.
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

void agent_process::stop_process() const {
    if (_pid > 0) {
        ::kill(_pid, SIGSTOP);
    }
}

void agent_process::continue_process() const {
    if (_pid > 0) {
        ::kill(_pid, SIGCONT);
    }
}

void agent_process::kill_now() {
    if (_pid <= 0) {
        return;
    }
    ::kill(_pid, SIGKILL);
    int status = 0;
    while (::waitpid(_pid, &status, 0) < 0 && errno == EINTR) {
    }
    _pid = -1;
}

std::string agent_process::log() const {
    return read_all(_stderr_path);
}

configured_perspective agent_perspective(int site, const std::string& url, const std::string& ca_file,
                                         const std::string& client_cert, const std::string& client_key) {
    auto p = site_perspective(site);
    p.info.kind = perspective_kind::remote;
    p.transport.agent_url = url;
    p.transport.agent_ca_file = ca_file;
    p.transport.client_cert_file = client_cert;
    p.transport.client_key_file = client_key;
    return p;
}

} // namespace mpic::quorum::e2e
