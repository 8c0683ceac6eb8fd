// Faults the other suites do not cover (issue #10), against the real mpicd:
//   - the resolver gone: every perspective's resolver is a closed port (ICMP port unreachable), a socket that never
//     answers, or the lab's BIND killed while the daemon runs. Every check must end with a typed lookup error by
//     its deadline (no hang), and each decision must be the one the standards table gives (standards §7.2:
//     allow_lookup_failure never tolerates an unreachable or a silent resolver of our own: BR 3.2.2.8 (1));
//   - a stalled perspective combined with the request's deadline_ms, through the daemon: the deadline decides, the
//     pending perspective counts as a failure, and the answer arrives by the deadline, not the stall;
// Each test prints the table of the faults it tried and what happened.

#include <chrono>
#include <csignal>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/hardening/hardening_support.hh"
#include "tests/mpicd/mpicd_process.hh"
#include "tests/net/server/server_harness.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::test::hardening {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

/// One request's decision as the client saw it.
struct decision {
    int status = 0;
    bool is_valid = false;
    double client_ms = 0;
    double decided_after_ms = 0;
    std::set<std::string> error_types; ///< every perspective's error_type
    int perspectives = 0;
    int with_errors = 0;
    std::string body;
};

decision ask(std::uint16_t port, const json& body, std::chrono::milliseconds bound = 20s) {
    decision d;
    const auto start = std::chrono::steady_clock::now();
    client_conn c(port, bound);
    if (c.ok() && c.send(post_request("/mpic", body.dump(),
                                      std::string("Authorization: Bearer ") + token_a +
                                          "\r\nContent-Type: application/json\r\n"))) {
        if (auto r = c.read_reply()) {
            d.status = r->status;
            d.body = r->body;
        }
    }
    d.client_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    auto j = json::parse(d.body, nullptr, false);
    if (!j.is_object()) {
        return d;
    }
    d.is_valid = j.value("is_valid", false);
    d.decided_after_ms = j.value("decided_after_ms", 0.0);
    for (const auto& p : j.value("perspectives", json::array())) {
        ++d.perspectives;
        const auto& errors = p["check_response"]["errors"];
        if (errors.is_array() && !errors.empty()) {
            ++d.with_errors;
            for (const auto& e : errors) {
                d.error_types.insert(e.value("error_type", ""));
            }
        }
    }
    return d;
}

std::string join(const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s) {
        out += (out.empty() ? "" : ",") + x;
    }
    return out.empty() ? "-" : out;
}

std::string describe(const decision& d) {
    return std::to_string(d.status) + (d.is_valid ? " valid" : " invalid") + " in " +
           std::to_string(static_cast<int>(d.client_ms)) + " ms, " + std::to_string(d.with_errors) + "/" +
           std::to_string(d.perspectives) + " with errors " + join(d.error_types);
}

/// True when every perspective reported an error, at least one error names one of the `allowed` kinds
/// (`mpic_error:<checker>:<kind>`, matched on the suffix), and every other error is one of those or `cancelled`
/// (once the decision is certain the engine cancels the perspectives still running; api.md).
bool all_typed(const decision& d, std::initializer_list<std::string_view> allowed) {
    if (d.perspectives == 0 || d.with_errors != d.perspectives) {
        return false;
    }
    bool any_allowed = false;
    for (const auto& type : d.error_types) {
        bool ok = false;
        for (auto kind : allowed) {
            ok = ok || type.ends_with(kind);
        }
        any_allowed = any_allowed || ok;
        if (!ok && !type.ends_with(":cancelled")) {
            return false;
        }
    }
    return any_allowed;
}

json caa(const std::string& target, bool allow_lookup_failure, int deadline_ms) {
    return {{"check_type", "caa"},
            {"domain_or_ip_target", target},
            {"caa_check_parameters", {{"allow_lookup_failure", allow_lookup_failure}}},
            {"orchestration_parameters", {{"deadline_ms", deadline_ms}}}};
}

json dns01(const std::string& target, const std::string& digest, int deadline_ms) {
    return {{"check_type", "dcv"},
            {"domain_or_ip_target", target},
            {"dcv_check_parameters", {{"validation_method", "acme-dns-01"}, {"key_authorization_hash", digest}}},
            {"orchestration_parameters", {{"deadline_ms", deadline_ms}}}};
}

json http01(const std::string& target, const std::string& token, int deadline_ms) {
    return {{"check_type", "dcv"},
            {"domain_or_ip_target", target},
            {"dcv_check_parameters",
             {{"validation_method", "acme-http-01"}, {"token", token}, {"key_authorization", token + ".thumbprint"}}},
            {"orchestration_parameters", {{"deadline_ms", deadline_ms}}}};
}

class resolver_gone : public ::testing::Test {
protected:
    bool start(const std::string& resolver, const std::vector<std::string>& extra_args = {}) {
        // Short DNS timers so the whole table runs in seconds; the request deadline is the outer bound.
        const auto config = _dir.write("mpicd.toml", daemon_config(_dir.path() + "/audit.jsonl",
                                                                   "[engine]\nreactors = 2\n"
                                                                   "[dns]\ntimeout_ms = 300\ntries = 2\n",
                                                                   resolver));
        std::vector<std::string> args{"--config", config, "--listen", "127.0.0.1:0"};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        _mpicd = std::make_unique<mpicd_process>(_dir.path());
        const bool ok = _mpicd->start(args);
        EXPECT_TRUE(ok) << _mpicd->failure();
        return ok;
    }
    void TearDown() override {
        if (_mpicd) {
            _mpicd->kill_now();
        }
        if (HasFailure()) {
            _dir.keep();
        }
    }
    temp_dir _dir;
    std::unique_ptr<mpicd_process> _mpicd;
};

TEST_F(resolver_gone, closed_port_gives_typed_lookup_errors_at_once_and_deny) {
    ASSERT_TRUE(start("127.0.0.1:" + std::to_string(closed_udp_port())));
    const auto caa_deny = ask(_mpicd->port(), caa("example.com", false, 5000));
    const auto caa_opt_in = ask(_mpicd->port(), caa("example.com", true, 5000));
    const auto dns = ask(_mpicd->port(), dns01("example.com", "digest", 5000));
    const auto http = ask(_mpicd->port(), http01("example.com", "tok", 5000));
    const bool alive = ::kill(_mpicd->pid(), 0) == 0;
    std::vector<fault_row> rows{
        {"resolver port closed: CAA", "200 invalid, every perspective caa lookup error, < 5 s", describe(caa_deny),
         caa_deny.status == 200 && !caa_deny.is_valid && all_typed(caa_deny, {":lookup"}) && caa_deny.client_ms < 5000},
        {"resolver port closed: CAA allow_lookup_failure", "200 invalid (unreachable is never tolerated, std 7.2)",
         describe(caa_opt_in),
         caa_opt_in.status == 200 && !caa_opt_in.is_valid && all_typed(caa_opt_in, {":lookup"}) &&
             caa_opt_in.client_ms < 5000},
        {"resolver port closed: dns-01", "200 invalid, typed lookup errors, < 5 s", describe(dns),
         dns.status == 200 && !dns.is_valid && all_typed(dns, {":lookup", ":timeout"}) && dns.client_ms < 5000},
        {"resolver port closed: http-01", "200 invalid, typed errors (address lookup), < 5 s", describe(http),
         http.status == 200 && !http.is_valid && http.with_errors == http.perspectives && http.perspectives > 0 &&
             http.client_ms < 5000},
        {"daemon after the table", "alive", alive ? "alive" : "DEAD", alive},
    };
    EXPECT_TRUE(print_fault_table("resolver gone: closed port", rows));
}

TEST_F(resolver_gone, silent_resolver_times_out_by_the_deadline_and_is_never_permission) {
    silent_udp silent;
    ASSERT_TRUE(start("127.0.0.1:" + std::to_string(silent.port())));
    const auto caa_deny = ask(_mpicd->port(), caa("example.com", false, 5000));
    const auto caa_opt_in = ask(_mpicd->port(), caa("example.com", true, 5000));
    const auto dns = ask(_mpicd->port(), dns01("example.com", "digest", 5000));
    // A request deadline shorter than the resolver's retries: the deadline decides, by itself.
    const auto short_deadline = ask(_mpicd->port(), dns01("example.com", "digest", 400));
    const bool alive = ::kill(_mpicd->pid(), 0) == 0;
    std::vector<fault_row> rows{
        {"resolver silent: CAA", "200 invalid, lookup errors after the DNS timeouts, < 5 s", describe(caa_deny),
         caa_deny.status == 200 && !caa_deny.is_valid && all_typed(caa_deny, {":lookup", ":timeout"}) &&
             caa_deny.client_ms < 5000},
        {"resolver silent: CAA allow_lookup_failure",
         "200 invalid (our resolver is silent to the liveness probe too: inside the CA, BR 3.2.2.8)",
         describe(caa_opt_in),
         caa_opt_in.status == 200 && !caa_opt_in.is_valid && all_typed(caa_opt_in, {":lookup", ":timeout"}) &&
             caa_opt_in.client_ms < 5000},
        {"resolver silent: dns-01", "200 invalid, lookup/timeout errors, < 5 s", describe(dns),
         dns.status == 200 && !dns.is_valid && all_typed(dns, {":lookup", ":timeout"}) && dns.client_ms < 5000},
        {"resolver silent: dns-01, deadline_ms 400", "200 invalid decided by the deadline (< 1.5 s)",
         describe(short_deadline),
         short_deadline.status == 200 && !short_deadline.is_valid && short_deadline.client_ms < 1500 &&
             short_deadline.with_errors == short_deadline.perspectives},
        {"daemon after the table", "alive", alive ? "alive" : "DEAD", alive},
    };
    EXPECT_TRUE(print_fault_table("resolver gone: silent", rows));
}

TEST_F(resolver_gone, lab_dns_killed_while_the_daemon_runs) {
    auto lab = mpic::lab::start_lab_or_fail(mpic::lab::scenario_file("demo.toml"), false);
    ASSERT_NE(lab, nullptr);
    const auto summary = _dir.write("lab.json", lab->summary_json());
    ASSERT_TRUE(start("127.0.0.1", {"--lab", summary}));
    const auto before = ask(_mpicd->port(), dns01("good.test", "good-dns01-digest", 5000));
    pid_t named = -1;
    for (const auto& s : lab->servers()) {
        if (s.name == "named") {
            named = s.pid;
        }
    }
    ASSERT_GT(named, 0);
    // BIND is the lab's process-group leader for its own children; kill the group and reap nothing of ours.
    ASSERT_EQ(::kill(-named, SIGKILL) == 0 || ::kill(named, SIGKILL) == 0, true);
    // Not reaped here: the lab owns its children (a zombie answers no DNS either).
    std::this_thread::sleep_for(300ms);
    const auto after_dns = ask(_mpicd->port(), dns01("good.test", "good-dns01-digest", 5000));
    const auto after_caa = ask(_mpicd->port(), caa("good.test", false, 5000));
    const auto after_http = ask(_mpicd->port(), http01("good.test", "tok-good", 5000));
    const bool alive = ::kill(_mpicd->pid(), 0) == 0;
    std::vector<fault_row> rows{
        {"lab BIND up: dns-01 good.test", "200 valid", describe(before), before.status == 200 && before.is_valid},
        {"BIND killed: dns-01 good.test", "200 invalid, typed lookup errors, < 5 s", describe(after_dns),
         after_dns.status == 200 && !after_dns.is_valid && all_typed(after_dns, {":lookup", ":timeout"}) &&
             after_dns.client_ms < 5000},
        {"BIND killed: CAA good.test", "200 invalid (deny on lookup failure), < 5 s", describe(after_caa),
         after_caa.status == 200 && !after_caa.is_valid && all_typed(after_caa, {":lookup", ":timeout"}) &&
             after_caa.client_ms < 5000},
        {"BIND killed: http-01 good.test", "200 invalid (address lookup fails), < 5 s", describe(after_http),
         after_http.status == 200 && !after_http.is_valid && after_http.with_errors == after_http.perspectives &&
             after_http.client_ms < 5000},
        {"daemon after the table", "alive", alive ? "alive" : "DEAD", alive},
    };
    EXPECT_TRUE(print_fault_table("resolver gone: lab BIND killed", rows));
    _mpicd->kill_now();
    lab.reset(); // stops nginx and the responders; BIND is already gone
}

struct stalled {
    static std::string file() { return mpic::lab::scenario_file("stalled-perspective.toml"); }
};

class stalled_deadline : public mpic::lab::lab_fixture<stalled> {
protected:
    void TearDown() override {
        if (_mpicd) {
            _mpicd->kill_now();
        }
        if (HasFailure()) {
            _dir.keep();
        }
    }
    temp_dir _dir;
    std::unique_ptr<mpicd_process> _mpicd;
};

TEST_F(stalled_deadline, the_request_deadline_decides_when_the_stall_is_longer) {
    // stalled-perspective.toml: 5 perspectives; 4's DNS answers after 3 s, 5's never. mpicd --lab maps the six
    // configured perspectives onto the lab's five (the sixth reuses perspective 1's resolver). With 6 perspectives
    // the BR quorum is 4: the 4 healthy ones decide at once; ask for all 6 to agree (quorum 6) and only the deadline
    // or the stall can end it.
    const auto summary = _dir.write("lab.json", lab().summary_json());
    const auto config =
        _dir.write("mpicd.toml", daemon_config(_dir.path() + "/audit.jsonl", "[engine]\nreactors = 2\n"
                                                                             "[dns]\ntimeout_ms = 5000\ntries = 1\n"));
    _mpicd = std::make_unique<mpicd_process>(_dir.path());
    ASSERT_TRUE(_mpicd->start({"--config", config, "--lab", summary, "--listen", "127.0.0.1:0"})) << _mpicd->failure();
    auto with = [](json body, json orchestration) {
        body["orchestration_parameters"] = std::move(orchestration);
        return body;
    };
    const json base = dns01("slow.test", "slow-dns01-digest", 0);
    const auto quorum_reachable = ask(_mpicd->port(), with(base, {{"deadline_ms", 2000}}));
    const auto deadline_first =
        ask(_mpicd->port(), with(base, {{"perspective_count", 6}, {"quorum_count", 6}, {"deadline_ms", 800}}));
    const auto stall_within =
        ask(_mpicd->port(), with(base, {{"perspective_count", 6}, {"quorum_count", 5}, {"deadline_ms", 6000}}));
    std::vector<fault_row> rows{
        {"2 of 6 stalled, BR quorum 4, deadline 2 s", "200 valid well before the deadline (< 1.5 s)",
         describe(quorum_reachable),
         quorum_reachable.status == 200 && quorum_reachable.is_valid && quorum_reachable.client_ms < 1500},
        {"2 of 6 stalled, quorum 6, deadline 800 ms", "200 invalid at the deadline (0.7-2 s), pending = failures",
         describe(deadline_first),
         deadline_first.status == 200 && !deadline_first.is_valid && deadline_first.client_ms >= 700 &&
             deadline_first.client_ms < 2000 && deadline_first.with_errors >= 2},
        {"2 of 6 stalled, quorum 5, deadline 6 s", "200 valid once the 3 s stall answers (2.5-5.5 s)",
         describe(stall_within),
         stall_within.status == 200 && stall_within.is_valid && stall_within.client_ms >= 2500 &&
             stall_within.client_ms < 5500},
    };
    EXPECT_TRUE(print_fault_table("stalled perspective + request deadline", rows));
}

} // namespace
} // namespace mpic::test::hardening
