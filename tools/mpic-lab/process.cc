// fork/exec rather than posix_spawn: the child has to set PR_SET_PDEATHSIG (so servers die with the lab even when
// the lab is SIGKILLed), drop privileges, and start its own process group, and posix_spawn can do only the last.
// Between fork and exec the child calls only async-signal-safe functions (the lab may be multi-threaded).

#include "tools/mpic-lab/process.hh"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <signal.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "core/error.hh"

namespace mpic::lab {

namespace {

std::error_code errno_code(int e) {
    return {e, std::generic_category()};
}

[[noreturn]] void child_fail(int pipe_fd, int err) {
    // The parent reads this errno; a short write is impossible for 4 bytes on a fresh pipe.
    ssize_t ignored = write(pipe_fd, &err, sizeof err);
    (void)ignored;
    _exit(127);
}

/// PATH lookup in the parent (execvp may allocate, which a forked child of a threaded process must not do).
std::string resolve_program(const std::string& program) {
    if (program.find('/') != std::string::npos) {
        return program;
    }
    const char* path = std::getenv("PATH");
    std::string dirs = path != nullptr ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    std::istringstream in(dirs);
    std::string dir;
    while (std::getline(in, dir, ':')) {
        std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
        if (access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return "";
}

} // namespace

result<child_process> child_process::spawn(const spawn_options& o) {
    // Everything the child needs is prepared before fork: no allocation happens after it.
    const std::string program = resolve_program(o.program);
    if (program.empty()) {
        return errno_code(ENOENT);
    }
    std::vector<std::string> argv_store;
    argv_store.push_back(program);
    argv_store.insert(argv_store.end(), o.args.begin(), o.args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_store) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);

    int log_fd = open(o.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        return errno_code(errno);
    }
    int out_fd = log_fd;
    if (!o.stdout_path.empty()) {
        out_fd = open(o.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out_fd < 0) {
            int e = errno;
            close(log_fd);
            return errno_code(e);
        }
    }
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int status_pipe[2];
    if (null_fd < 0 || pipe2(status_pipe, O_CLOEXEC) != 0) {
        int e = errno;
        close(log_fd);
        if (out_fd != log_fd) {
            close(out_fd);
        }
        if (null_fd >= 0) {
            close(null_fd);
        }
        return errno_code(e);
    }
    const pid_t parent = getpid();

    pid_t pid = fork();
    if (pid == 0) {
        close(status_pipe[0]);
        setpgid(0, 0);
        // The lab may block SIGINT/SIGTERM for sigwait; the mask and ignored dispositions survive exec, so reset.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD}) {
            signal(sig, SIG_DFL);
        }
        if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0) {
            child_fail(status_pipe[1], errno);
        }
        if (o.gid && (setgroups(0, nullptr) != 0 || setgid(*o.gid) != 0)) {
            child_fail(status_pipe[1], errno);
        }
        if (o.uid && setuid(*o.uid) != 0) {
            child_fail(status_pipe[1], errno);
        }
        // After the credential change: changing them clears the parent-death signal (prctl(2)).
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) {
            child_fail(status_pipe[1], errno);
        }
        if (getppid() != parent) { // the lab died before prctl took effect
            _exit(127);
        }
        if (!o.working_dir.empty() && chdir(o.working_dir.c_str()) != 0) {
            child_fail(status_pipe[1], errno);
        }
        execv(argv[0], argv.data());
        child_fail(status_pipe[1], errno);
    }
    int fork_errno = errno;
    close(status_pipe[1]);
    close(null_fd);
    close(log_fd);
    if (out_fd != log_fd) {
        close(out_fd);
    }
    if (pid < 0) {
        close(status_pipe[0]);
        return errno_code(fork_errno);
    }
    setpgid(pid, pid); // also from the parent, so the group exists before we might signal it
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(status_pipe[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    close(status_pipe[0]);
    if (n > 0) {
        int status = 0;
        waitpid(pid, &status, 0);
        return errno_code(child_errno != 0 ? child_errno : ECHILD);
    }
    return child_process(pid, o.log_path);
}

child_process::child_process(child_process&& other) noexcept
    : _pid(std::exchange(other._pid, -1)), _log_path(std::move(other._log_path)) {}

child_process& child_process::operator=(child_process&& other) noexcept {
    if (this != &other) {
        stop();
        _pid = std::exchange(other._pid, -1);
        _log_path = std::move(other._log_path);
    }
    return *this;
}

child_process::~child_process() {
    stop();
}

bool child_process::running() const {
    if (_pid <= 0) {
        return false;
    }
    siginfo_t info{};
    // WNOWAIT: look without reaping, so the PID (and the process group ID) stays ours until stop().
    if (waitid(P_PID, static_cast<id_t>(_pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        return false;
    }
    return info.si_pid == 0;
}

std::optional<int> child_process::exit_code() const {
    if (_pid <= 0) {
        return std::nullopt;
    }
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(_pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) {
        return std::nullopt;
    }
    return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

result<void> run_all(const std::vector<spawn_options>& commands, std::chrono::milliseconds timeout,
                     std::string& failure) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<child_process> running;
    for (const spawn_options& c : commands) {
        auto p = child_process::spawn(c);
        if (!p) {
            failure = c.program + ": " + p.error().message();
            return p.error();
        }
        running.push_back(std::move(*p));
    }
    for (std::size_t i = 0; i < running.size(); ++i) {
        std::optional<int> code;
        while (!(code = running[i].exit_code()) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        if (!code || *code != 0) {
            failure = commands[i].program + " " + (code ? "exited with " + std::to_string(*code) : "timed out") +
                      ":\n" + tail_of_file(commands[i].log_path);
            return make_error_code(code ? errc::io_error : errc::timed_out);
        }
    }
    return {}; // the destructors reap the (exited) children
}

std::chrono::milliseconds child_process::stop(std::chrono::milliseconds grace) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    if (_pid <= 0) {
        return std::chrono::milliseconds(0);
    }
    kill(_pid, SIGTERM);
    const auto deadline = start + grace;
    while (running() && clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    // The leader is exited (a zombie) or overdue. Either way its PID is still reserved, so the group ID cannot
    // belong to anybody else: sweep the group, then reap.
    kill(-_pid, SIGKILL);
    int status = 0;
    while (waitpid(_pid, &status, 0) < 0 && errno == EINTR) {
    }
    _pid = -1;
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
}

std::vector<pid_t> child_process::group_members() const {
    std::vector<pid_t> out;
    if (_pid <= 0) {
        return out;
    }
    DIR* d = opendir("/proc");
    if (d == nullptr) {
        return out;
    }
    while (dirent* e = readdir(d)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '\0') {
            continue;
        }
        if (getpgid(static_cast<pid_t>(pid)) == _pid) {
            out.push_back(static_cast<pid_t>(pid));
        }
    }
    closedir(d);
    return out;
}

std::string tail_of_file(const std::string& path, std::size_t max_bytes) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    std::string s = buf.str();
    return s.size() > max_bytes ? "..." + s.substr(s.size() - max_bytes) : s;
}

bool process_exists(pid_t pid) {
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

} // namespace mpic::lab
