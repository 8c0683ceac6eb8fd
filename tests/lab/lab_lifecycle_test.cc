// Start-up time, teardown (no process, no file left), failure paths, and the CLI: `up` prints JSON and stops on
// SIGINT, servers die with a SIGKILLed lab (PR_SET_PDEATHSIG), `check` names the bad key.

#include <arpa/inet.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/lab/command.hh"
#include "tools/mpic-lab/lab_environment.hh"
#include "tools/mpic-lab/probe.hh"
#include "tools/mpic-lab/process.hh"

namespace mpic::lab {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool all_gone(const std::vector<pid_t>& pids, std::chrono::milliseconds within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    for (;;) {
        bool any = false;
        for (pid_t p : pids) {
            any = any || process_exists(p);
        }
        if (!any) {
            return true;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(10ms);
    }
}

TEST(lab_lifecycle, demo_starts_in_under_two_seconds) {
    auto l = start_lab_or_fail(scenario_file("demo.toml"), false);
    ASSERT_NE(l, nullptr);
    EXPECT_LT(l->startup_time(), 2000ms);
    RecordProperty("startup_ms", static_cast<int>(l->startup_time().count()));
    std::cout << "demo.toml start-up: " << l->startup_time().count() << " ms\n";
    EXPECT_GE(l->servers().size(), 3u); // named, nginx, alpn
}

TEST(lab_lifecycle, stop_leaves_no_process_and_no_file) {
    auto l = start_lab_or_fail(scenario_file("stalled-perspective.toml"), false);
    ASSERT_NE(l, nullptr);
    // Serve some traffic first: named is slower to stop after it has answered queries.
    testing::dig("127.0.0.2", l->dns_port(), "slow.test", "A");
    std::vector<pid_t> pids = l->all_pids();
    ASSERT_GE(pids.size(), 4u); // named, nginx master + worker, faultdns
    std::string dir = l->dir();
    ASSERT_TRUE(fs::exists(dir));
    auto t0 = std::chrono::steady_clock::now();
    l->stop();
    auto took = std::chrono::steady_clock::now() - t0;
    std::cout << "stop took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
    EXPECT_TRUE(all_gone(pids, 0ms));
    EXPECT_FALSE(fs::exists(dir));
    EXPECT_TRUE(l->servers().empty());
    l->stop(); // idempotent
    l.reset();
}

TEST(lab_lifecycle, dnssec_lab_starts_in_under_two_seconds_and_stops_cleanly) {
    // Key generation, signing every view, BIND, nginx and 6 unbound resolvers (5 perspectives + default).
    auto l = start_lab_or_fail(scenario_file("dnssec.toml"), false);
    ASSERT_NE(l, nullptr);
    EXPECT_LT(l->startup_time(), 2000ms);
    std::cout << "dnssec.toml start-up: " << l->startup_time().count() << " ms\n";
    EXPECT_EQ(l->servers().size(), 8u);
    std::vector<pid_t> pids = l->all_pids();
    std::string dir = l->dir();
    l->stop();
    EXPECT_TRUE(all_gone(pids, 0ms));
    EXPECT_FALSE(fs::exists(dir));
}

TEST(lab_lifecycle, destructor_stops_everything) {
    std::vector<pid_t> pids;
    std::string dir;
    {
        auto l = start_lab_or_fail(scenario_file("clean.toml"), false);
        ASSERT_NE(l, nullptr);
        pids = l->all_pids();
        dir = l->dir();
    }
    EXPECT_TRUE(all_gone(pids, 0ms));
    EXPECT_FALSE(fs::exists(dir));
}

TEST(lab_lifecycle, failed_start_cleans_up_and_explains) {
    parse_result s = load_scenario(scenario_file("clean.toml"));
    ASSERT_TRUE(s.has_value());
    fs::path root = fs::temp_directory_path() / ("mpic-lab-test-" + std::to_string(getpid()));
    fs::create_directories(root);
    options o;
    o.temp_root = root.string();
    o.start_timeout = 1ms; // far too short for any server
    std::string log;
    o.log = [&](std::string_view m) { log += m; };
    auto r = lab::start(s.value(), o);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), make_error_code(errc::timed_out));
    EXPECT_NE(log.find("not ready within 1 ms"), std::string::npos) << log;
    EXPECT_TRUE(fs::is_empty(root)) << "the lab's temporary directory was left behind";
    fs::remove_all(root);
}

TEST(lab_lifecycle, zone_bind_refuses_fails_the_start_with_its_log_line) {
    // Raw rdata is passed through to BIND unchecked; BIND refusing the zone must fail the start, not leave a lab
    // that silently lacks the zone.
    parse_result s = parse_scenario(R"(
[lab]
perspectives = 1
[zones."broken.test"]
records = [ { name = "@", type = "MX", rdata = "not-a-number mail.broken.test." } ]
)");
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    std::string log;
    options o;
    o.log = [&](std::string_view m) { log += m; };
    auto r = lab::start(s.value(), o);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(log.find("broken.test"), std::string::npos) << log;
    EXPECT_NE(log.find("not loaded"), std::string::npos) << log;
}

TEST(lab_lifecycle, a_taken_port_is_replaced_by_a_free_one) {
    // Occupy a port for TCP and UDP, and make it the first one the lab is offered for each server: BIND and nginx
    // must both notice (their logs say "address in use") and be relaunched elsewhere.
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(tcp, reinterpret_cast<sockaddr*>(&a), &len);
    ASSERT_EQ(listen(tcp, 1), 0);
    ASSERT_EQ(bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::uint16_t taken = ntohs(a.sin_port);

    parse_result s = load_scenario(scenario_file("clean.toml"));
    ASSERT_TRUE(s.has_value());
    options o;
    int offered_taken = 0;
    // Offer the taken port on calls 1 and 3: nginx's HTTP port and BIND's port (nginx is launched first, BIND
    // after the zones are written; call 2 is nginx's HTTPS port).
    o.pick_port = [&, calls = 0]() mutable -> result<std::uint16_t> {
        ++calls;
        if (calls == 1 || calls == 3) {
            ++offered_taken;
            return taken;
        }
        return pick_free_port();
    };
    std::string log;
    o.log = [&](std::string_view m) { log += m; };
    auto l = lab::start(s.value(), o);
    ASSERT_TRUE(l.has_value()) << log;
    EXPECT_EQ(offered_taken, 2);
    EXPECT_NE((*l)->dns_port(), taken);
    EXPECT_NE((*l)->http_port(), taken);
    EXPECT_EQ(testing::dig("127.0.0.2", (*l)->dns_port(), "_acme-challenge.clean.test", "TXT").out,
              "\"dns01-digest-for-clean-test\"\n");
    std::cout << "start-up with two port clashes: " << (*l)->startup_time().count() << " ms\n";
    close(tcp);
    close(udp);
}

// --- CLI ---------------------------------------------------------------------------------------------------------

struct cli_run {
    pid_t pid = -1;
    int out_fd = -1;
};

cli_run spawn_cli(const std::string& scenario) {
    int p[2];
    if (pipe(p) != 0) {
        return {};
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        close(p[0]);
        close(p[1]);
        execl(MPIC_LAB_BINARY, MPIC_LAB_BINARY, "up", scenario.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    close(p[1]);
    return {pid, p[0]};
}

/// Reads the first line the CLI prints (its JSON summary), waiting at most `within`.
std::string read_line(int fd, std::chrono::milliseconds within) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + within;
    char c;
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd pfd{fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0) {
            continue;
        }
        if (read(fd, &c, 1) != 1 || c == '\n') {
            break;
        }
        line += c;
    }
    return line;
}

int wait_exit(pid_t pid, std::chrono::milliseconds within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        std::this_thread::sleep_for(10ms);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

std::vector<pid_t> pids_of(const nlohmann::json& summary) {
    std::vector<pid_t> out;
    for (const auto& s : summary["servers"]) {
        out.push_back(s["pid"].get<pid_t>());
    }
    return out;
}

TEST(lab_cli, up_prints_json_and_sigint_stops_everything) {
    cli_run cli = spawn_cli(scenario_file("dns-poisoning.toml"));
    ASSERT_GT(cli.pid, 0);
    std::string line = read_line(cli.out_fd, 10s);
    close(cli.out_fd);
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    unsigned port = j["dns"]["port"].get<unsigned>();
    ASSERT_EQ(j["perspectives"].size(), 5u);
    EXPECT_EQ(j["perspectives"][2]["source"], "127.0.0.4");
    EXPECT_EQ(testing::dig("127.0.0.4", port, "_acme-challenge.poisoned.test", "TXT").out,
              "\"attacker-dns01-digest\"\n");
    std::string dir = j["dir"];
    std::vector<pid_t> pids = pids_of(j);
    kill(cli.pid, SIGINT);
    EXPECT_EQ(wait_exit(cli.pid, 10s), 0);
    EXPECT_TRUE(all_gone(pids, 0ms));
    EXPECT_FALSE(fs::exists(dir));
}

TEST(lab_cli, servers_die_with_a_killed_lab) {
    cli_run cli = spawn_cli(scenario_file("demo.toml"));
    ASSERT_GT(cli.pid, 0);
    std::string line = read_line(cli.out_fd, 10s);
    close(cli.out_fd);
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    std::vector<pid_t> pids = pids_of(j);
    ASSERT_EQ(pids.size(), 3u);
    // SIGKILL: the lab cannot clean up; PR_SET_PDEATHSIG must still take its servers down.
    kill(cli.pid, SIGKILL);
    EXPECT_EQ(wait_exit(cli.pid, 5s), 128 + SIGKILL);
    EXPECT_TRUE(all_gone(pids, 5s));
    fs::remove_all(j["dir"].get<std::string>()); // a killed lab leaves its directory; this test cleans it
}

TEST(lab_cli, check_names_the_bad_key) {
    fs::path f = fs::temp_directory_path() / ("mpic-lab-bad-" + std::to_string(getpid()) + ".toml");
    {
        std::ofstream out(f);
        out << "[lab]\nperspectives = 2\n[zones.\"a.test\"]\nrecords = [\n  { type = \"CAA\", tag = \"issue\" },\n]\n";
    }
    auto r = testing::run(std::string(MPIC_LAB_BINARY) + " check " + f.string() + " 2>&1");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.out.find(":5:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("zones.\"a.test\".records[0].value: required key is missing"), std::string::npos) << r.out;
    fs::remove(f);
    auto ok = testing::run(std::string(MPIC_LAB_BINARY) + " check " + scenario_file("demo.toml"));
    EXPECT_EQ(ok.status, 0);
    EXPECT_EQ(ok.out.rfind("ok: ", 0), 0u) << ok.out;
}

} // namespace
} // namespace mpic::lab
