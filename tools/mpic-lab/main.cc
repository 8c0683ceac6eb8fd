// mpic-lab: bring a scenario up on loopback (`up`), or check a scenario file (`check`).
//
//   mpic-lab check scenario.toml      exit 0 and a one-line summary, or exit 2 and "file:line:col: key: message"
//   mpic-lab up scenario.toml         start the servers, print one JSON line (where everything listens), run until
//                                     SIGINT/SIGTERM/SIGHUP, stop every server and remove the temporary directory
//
// Exit codes: 0 success, 1 a server failed (at start-up or later), 2 bad usage or bad scenario.

#include <cstdio>
#include <iostream>
#include <signal.h>

// CLI11 2.1's string helpers trip g++ 12's -Wnull-dereference at -O2 (a false positive inside the library).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop

#include "tools/mpic-lab/lab.hh"
#include "tools/mpic-lab/scenario.hh"

namespace {

int check(const std::string& path) {
    mpic::lab::parse_result parsed = mpic::lab::load_scenario(path);
    if (!parsed) {
        std::cerr << parsed.error().to_string() << "\n";
        return 2;
    }
    const mpic::lab::scenario& s = parsed.value();
    std::size_t records = 0;
    for (const auto& z : s.zones) {
        records += z.records.size();
    }
    std::cout << "ok: " << path << ": " << s.perspectives << " perspectives, " << s.zones.size() << " zones ("
              << records << " records), " << s.http.size() << " HTTP rules, " << s.tls_alpn.size()
              << " TLS-ALPN certificates, " << s.overrides.size() << " overrides\n";
    return 0;
}

int up(const std::string& path, mpic::lab::options opts) {
    mpic::lab::parse_result parsed = mpic::lab::load_scenario(path);
    if (!parsed) {
        std::cerr << parsed.error().to_string() << "\n";
        return 2;
    }
    // Signals are taken synchronously with sigtimedwait; children get an unblocked mask (process.cc).
    sigset_t wanted;
    sigemptyset(&wanted);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) {
        sigaddset(&wanted, sig);
    }
    sigprocmask(SIG_BLOCK, &wanted, nullptr);

    auto started = mpic::lab::lab::start(parsed.value(), std::move(opts));
    if (!started) {
        std::cerr << "mpic-lab: start-up failed: " << started.error().message() << "\n";
        return 1;
    }
    std::unique_ptr<mpic::lab::lab> lab = std::move(*started);
    std::cout << lab->summary_json() << std::endl;

    for (;;) {
        timespec tick{1, 0};
        int sig = sigtimedwait(&wanted, nullptr, &tick);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            std::cerr << "mpic-lab: signal " << sig << ", stopping\n";
            lab->stop();
            return 0;
        }
        // SIGCHLD or the periodic tick: a server that died makes the lab a lie; stop everything and say so.
        auto dead = lab->exited_servers();
        if (!dead.empty()) {
            std::cerr << "mpic-lab: server exited: " << dead.front() << "; stopping the lab\n";
            lab->stop();
            return 1;
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"mpic-lab: real DNS, HTTP(S) and TLS-ALPN servers on loopback, shaped by a scenario file"};
    app.require_subcommand(1);
    std::string path;
    mpic::lab::options opts;
    long timeout_ms = 10000;

    CLI::App* check_cmd = app.add_subcommand("check", "validate a scenario file");
    check_cmd->add_option("scenario", path, "scenario TOML file")->required();

    CLI::App* up_cmd = app.add_subcommand("up", "start the scenario's servers and run until SIGINT/SIGTERM");
    up_cmd->add_option("scenario", path, "scenario TOML file")->required();
    up_cmd->add_flag("--keep", opts.keep_dir, "keep the temporary directory (configs, logs) after stopping");
    up_cmd->add_option("--responders-dir", opts.responders_dir, "directory of the mpic-lab-* responder binaries");
    up_cmd->add_option("--temp-root", opts.temp_root, "parent of the lab's temporary directory");
    up_cmd->add_option("--start-timeout-ms", timeout_ms, "bound on start-up")->check(CLI::Range(100L, 600000L));

    CLI11_PARSE(app, argc, argv);
    if (check_cmd->parsed()) {
        return check(path);
    }
    opts.start_timeout = std::chrono::milliseconds(timeout_ms);
    return up(path, std::move(opts));
}
