#pragma once
// Running the standard tools (dig, curl, openssl) from tests, with a time bound on every call.

#include <cstdio>
#include <string>

namespace mpic::lab::testing {

/// What a shell command printed on stdout and its exit status.
struct command_output {
    int status = -1; ///< exit status, or -1 when it could not run
    std::string out;
};

/// Runs `command` under `timeout <seconds>` (coreutils) with stderr discarded unless the command redirects it.
inline command_output run(const std::string& command, int seconds = 10) {
    command_output r;
    std::string full = "timeout " + std::to_string(seconds) + " " + command;
    FILE* p = popen(full.c_str(), "r");
    if (p == nullptr) {
        return r;
    }
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        r.out.append(buf, n);
    }
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

/// `dig +short` from perspective source `source` against 127.0.0.1:`port`; one try, `seconds` per try.
inline command_output dig(const std::string& source, unsigned port, const std::string& name, const std::string& type,
                          int seconds = 2) {
    return run("dig +short +tries=1 +time=" + std::to_string(seconds) + " -b " + source + " @127.0.0.1 -p " +
                   std::to_string(port) + " " + name + " " + type,
               seconds + 3);
}

} // namespace mpic::lab::testing
