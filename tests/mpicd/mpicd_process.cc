#include "tests/mpicd/mpicd_process.hh"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace mpic::test {

using namespace std::chrono_literals;

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

pid_t mpicd_process::spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
    std::vector<std::string> argv_storage;
    argv_storage.push_back(MPICD_BINARY);
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid != 0) {
        return pid;
    }
    // Child: only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
        ::_exit(127);
    }
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) {
        ::_exit(127);
    }
    ::dup2(o, 1);
    ::dup2(e, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        ::dup2(devnull, 0);
    }
    // Unblock every signal the test runner may have blocked; the daemon sets up its own.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
}

mpicd_process::~mpicd_process() {
    kill_now();
}

bool mpicd_process::start(const std::vector<std::string>& args, std::chrono::milliseconds bound) {
    const std::string port_file = _dir + "/mpicd.port";
    ::unlink(port_file.c_str());
    auto all = args;
    all.push_back("--port-file");
    all.push_back(port_file);
    _pid = spawn(all, _dir + "/mpicd.out", _dir + "/mpicd.err");
    if (_pid < 0) {
        _failure = "fork failed";
        return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
        auto text = read_text(port_file);
        if (!text.empty() && text.back() == '\n') {
            _port = static_cast<std::uint16_t>(std::stoul(text));
            return true;
        }
        int status = 0;
        if (::waitpid(_pid, &status, WNOHANG) == _pid) {
            _pid = -1;
            _failure = "mpicd exited during start-up (status " + std::to_string(status) + "):\n" + stderr_text();
            return false;
        }
        std::this_thread::sleep_for(20ms);
    }
    _failure = "mpicd did not listen within the bound:\n" + stderr_text();
    kill_now();
    return false;
}

void mpicd_process::signal(int sig) const {
    if (_pid > 0) {
        ::kill(_pid, sig);
    }
}

std::optional<int> mpicd_process::wait_exit(std::chrono::milliseconds bound) {
    if (_pid <= 0) {
        return std::nullopt;
    }
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        pid_t r = ::waitpid(_pid, &status, WNOHANG);
        if (r == _pid) {
            _pid = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
}

void mpicd_process::kill_now() {
    if (_pid > 0) {
        ::kill(_pid, SIGKILL);
        int status = 0;
        ::waitpid(_pid, &status, 0);
        _pid = -1;
    }
}

std::string mpicd_process::stdout_text() const {
    return read_text(_dir + "/mpicd.out");
}
std::string mpicd_process::stderr_text() const {
    return read_text(_dir + "/mpicd.err");
}

mpicd_run mpicd_process::run(const std::vector<std::string>& args, const std::string& dir,
                             std::chrono::milliseconds bound) {
    mpicd_run result;
    const std::string out = dir + "/run.out";
    const std::string err = dir + "/run.err";
    pid_t pid = spawn(args, out, err);
    const auto deadline = std::chrono::steady_clock::now() + bound;
    for (;;) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    result.out = read_text(out);
    result.err = read_text(err);
    return result;
}

} // namespace mpic::test
