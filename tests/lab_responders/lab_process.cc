#include "tests/lab_responders/lab_process.hh"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <random>
#include <regex>
#include <signal.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace mpic::lab::test {

responder_process::responder_process(const std::string& binary, const std::filesystem::path& config,
                                     const std::filesystem::path& stderr_file) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        return;
    }
    const std::string cfg = config.string();
    const std::string err = stderr_file.string();
    _pid = fork();
    if (_pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (e >= 0) {
            dup2(e, STDERR_FILENO);
        }
        execl(binary.c_str(), binary.c_str(), "--config", cfg.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    close(out[1]);
    _stdout = out[0];
}

responder_process::~responder_process() {
    if (_pid > 0) {
        stop();
    }
    if (_stdout >= 0) {
        close(_stdout);
    }
}

std::string responder_process::wait_ready(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (_buffer.find('\n') == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0 || _stdout < 0) {
            return {};
        }
        pollfd p{_stdout, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        char buf[256];
        const ssize_t n = read(_stdout, buf, sizeof buf);
        if (n <= 0) {
            return {};
        }
        _buffer.append(buf, static_cast<std::size_t>(n));
    }
    const auto nl = _buffer.find('\n');
    std::string line = _buffer.substr(0, nl);
    _buffer.erase(0, nl + 1);
    return line;
}

std::string responder_process::extra_stdout() {
    std::string out = std::move(_buffer);
    _buffer.clear();
    if (_stdout < 0) {
        return out;
    }
    for (int i = 0; i < 100; ++i) {
        pollfd p{_stdout, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0) {
            break;
        }
        char buf[256];
        const ssize_t n = read(_stdout, buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

int responder_process::wait_exit(std::chrono::milliseconds timeout) {
    if (_pid <= 0) {
        return -1;
    }
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = waitpid(_pid, &status, WNOHANG);
        if (r == _pid) {
            _pid = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (std::chrono::steady_clock::now() >= end) {
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

int responder_process::stop(std::chrono::milliseconds timeout) {
    if (_pid <= 0) {
        return -1;
    }
    kill(_pid, SIGTERM);
    const int r = wait_exit(timeout);
    if (r == -1 && _pid > 0) {
        kill(_pid, SIGKILL);
        waitpid(_pid, nullptr, 0);
        _pid = -1;
    }
    return r;
}

command_result run_command(const std::string& command, int seconds) {
    command_result r;
    const std::string full = "timeout -k 2 " + std::to_string(seconds) + " sh -c '" +
                             std::regex_replace(command, std::regex("'"), "'\\''") + "' 2>&1";
    const auto start = std::chrono::steady_clock::now();
    FILE* p = popen(full.c_str(), "r");
    if (p == nullptr) {
        return r;
    }
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        if (r.output.size() < (std::size_t{16} << 20)) {
            r.output.append(buf, n);
        }
    }
    const int status = pclose(p);
    r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

temp_dir::temp_dir() {
    std::random_device rd;
    _path = std::filesystem::temp_directory_path() /
            ("mpic-lab-responders-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(_path);
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(_path, ec);
}

std::filesystem::path temp_dir::write(const std::string& name, const std::string& text) const {
    const auto p = _path / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
}

int port_from_ready(const std::string& line) {
    std::smatch m;
    static const std::regex plain("^ready ([0-9]{1,5})$");
    static const std::regex dns("^ready udp=([0-9]{1,5}) tcp=([0-9]{1,5})$");
    if (std::regex_match(line, m, plain)) {
        return std::stoi(m[1]);
    }
    if (std::regex_match(line, m, dns) && m[1] == m[2]) {
        return std::stoi(m[2]);
    }
    return 0;
}

} // namespace mpic::lab::test
