// Remote perspectives as separate processes (issue #6, item 4): four `mpicd --role perspective` agents on
// loopback, each the lab's perspective k (its own source address and DNS view), reached by an in-process
// coordinator engine over mutual TLS (BR.md 1207: "authenticated and encrypted channel").
//  - requests are corroborated through the agents, and the decision follows the table for n = 4 (1 allowed);
//  - an agent killed mid-request is a non-corroboration with mpic_error:coordinator:remote_check at once;
//  - a hung agent (SIGSTOP) is bounded by check_timeout_ms, never a hang;
//  - an agent presenting a certificate from another CA is refused by the coordinator;
//  - a client without the coordinator's certificate gets no answer from an agent.

#include <csignal>
#include <thread>

#include "tests/quorum_e2e/agent_support.hh"
#include "tests/quorum_e2e/e2e_support.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::quorum::e2e {
namespace {

using ms = std::chrono::milliseconds;
constexpr int agents = 4;

/// Perspectives 1–4 are the agents' normal views; perspective 5 is a stalled view (DNS 5 s late) for an agent that
/// must be busy when it is killed.
struct agent_scenario {
    static std::string toml() {
        return R"([lab]
perspectives = 5

[zones."e2e.test"]
records = [
  { name = "_acme-challenge.good", type = "TXT", value = "good-dns01-digest" },
  { name = "good", type = "A", value = "127.0.0.1" },
  { name = "good", type = "CAA", tag = "issue", value = "ca.example" },
  { name = "_acme-challenge.poison3", type = "TXT", value = "good-dns01-digest" },
  { name = "_acme-challenge.poison23", type = "TXT", value = "good-dns01-digest" },
]

[[http]]
host = "good.e2e.test"
path = "/.well-known/acme-challenge/tok"
body = "tok.thumbprint"

[[override]]
perspectives = [3]
records = [ { name = "_acme-challenge.poison3.e2e.test", type = "TXT", value = "attacker-dns01-digest" } ]

[[override]]
perspectives = [2, 3]
records = [ { name = "_acme-challenge.poison23.e2e.test", type = "TXT", value = "attacker-dns01-digest" } ]

[[override]]
perspectives = [5]
dns = "stalled"
stall_ms = 5000
)";
    }
};

class remote_agents : public lab::lab_fixture<agent_scenario> {
protected:
    void SetUp() override {
        lab_fixture::SetUp();
        ASSERT_FALSE(_dir.path().empty());
        std::string error;
        auto made = make_pki(_dir.path(), {"127.0.0.1"}, error);
        ASSERT_TRUE(made) << error;
        _pki = *made;
    }

    /// Starts agent i (1-based) as lab perspective `lab_view` (default i) with the given server certificate.
    void start_agent(int i, int lab_view = 0, bool rogue_certificate = false) {
        agent_spec spec;
        spec.perspective = site_perspective(i);
        const int view = lab_view > 0 ? lab_view : i;
        spec.perspective.transport.source_ipv4 = lab().perspective_address(view);
        const auto dns = lab().dns_for(view);
        spec.perspective.transport.resolvers = {{dns.address, dns.port}};
        spec.cert = rogue_certificate ? _pki.rogue_agent_cert : _pki.agent_cert;
        spec.key = rogue_certificate ? _pki.rogue_agent_key : _pki.agent_key;
        spec.client_ca = _pki.ca_cert;
        spec.lab = {lab().http_port(), lab().https_port(), lab().tls_alpn_port().value_or(lab().https_port())};
        std::string error;
        ASSERT_TRUE(_agents[i - 1].start(spec, _dir.path(), "agent" + std::to_string(i), error)) << error;
    }

    void start_agents() {
        for (int i = 1; i <= agents; ++i) {
            start_agent(i);
        }
    }

    std::string url(int i) const { return "https://127.0.0.1:" + std::to_string(_agents[i - 1].port()); }

    /// A coordinator engine with the four agents as its remote perspectives.
    void start_coordinator(std::uint32_t check_timeout_ms = 4'000, bool rogue_client = false,
                           std::uint32_t grace_ms = 1'000) {
        engine_config c;
        c.reactors = 1;
        c.date_override = date_of("2026-07-01"); // 4 remotes in 3 RIRs: BR-compliant on that date
        c.check_timeout_ms = check_timeout_ms;
        c.straggler_grace_ms = grace_ms;
        c.cohort_secret = "e2e-agents";
        for (int i = 1; i <= agents; ++i) {
            c.perspectives.push_back(agent_perspective(i, url(i), _pki.ca_cert,
                                                       rogue_client ? _pki.rogue_client_cert : _pki.client_cert,
                                                       rogue_client ? _pki.rogue_client_key : _pki.client_key));
        }
        std::vector<std::string> errors;
        auto created = engine::create(c, errors);
        ASSERT_TRUE(created) << ::testing::PrintToString(errors);
        _coordinator = std::move(*created);
        EXPECT_TRUE(_coordinator->compliant());
    }

    void TearDown() override {
        if (_coordinator) {
            EXPECT_TRUE(_coordinator->shutdown(ms(3000)).clean());
        }
        for (auto& a : _agents) {
            a.continue_process();
            a.kill_now();
        }
    }

    mpic_response run(mpic_request r, ms bound = ms(15000)) {
        auto f = _coordinator->submit(std::move(r));
        auto o = wait_outcome(f, bound);
        if (!o || !o->response) {
            ADD_FAILURE() << "no response" << (o ? ": " + o->error.message() : std::string());
            return {};
        }
        return std::move(*o->response);
    }

    temp_dir _dir;
    pki _pki;
    agent_process _agents[agents];
    std::unique_ptr<engine> _coordinator;
};

TEST_F(remote_agents, requests_are_corroborated_through_the_agents_and_follow_the_table) {
    start_agents();
    start_coordinator();
    struct row {
        mpic_request request;
        const char* what;
        bool valid;
        int attacked;
    };
    std::vector<row> rows;
    rows.push_back({dns01_request("good.e2e.test"), "dns-01, no attack", true, 0});
    rows.push_back({http01_request("good.e2e.test"), "http-01, no attack", true, 0});
    rows.push_back({caa_request("good.e2e.test"), "caa, no attack", true, 0});
    rows.push_back({dns01_request("poison3.e2e.test"), "dns-01, agent 3 poisoned", true, 1});
    rows.push_back({dns01_request("poison23.e2e.test"), "dns-01, agents 2+3 poisoned", false, 2});
    for (auto& r : rows) {
        const auto response = run(std::move(r.request));
        ASSERT_FALSE(response.targets.empty());
        const auto& o = only_outcome(response);
        SCOPED_TRACE(std::string(r.what) + ":" + describe(o.perspectives));
        EXPECT_EQ(o.is_valid, r.valid);
        EXPECT_FALSE(response.non_compliant);
        ASSERT_EQ(o.perspectives.size(), static_cast<std::size_t>(agents));
        int passed = 0;
        for (const auto& p : o.perspectives) {
            passed += p.result.passed ? 1 : 0;
            const bool attacked =
                (r.attacked >= 1 && p.code == sites[2].code) || (r.attacked >= 2 && p.code == sites[1].code);
            if (attacked) {
                // The agent's own determination crossed the wire intact.
                EXPECT_EQ(problem_of(o.perspectives, p.code), "mpic_error:dcv_checker:mismatch") << p.code;
            } else {
                EXPECT_TRUE(p.result.passed) << p.code << " (stragglers are recorded within the grace period)";
            }
        }
        EXPECT_EQ(passed, agents - r.attacked);
        std::cout << "agents: " << r.what << " -> " << (o.is_valid ? "valid " : "invalid ") << o.quorum_result
                  << describe(o.perspectives) << "\n";
    }
}

TEST_F(remote_agents, an_agent_killed_mid_request_is_a_remote_check_failure_at_once) {
    // Agent 4 runs on the stalled view, so it is still working on the request when it is killed.
    for (int i = 1; i <= 3; ++i) {
        start_agent(i);
    }
    start_agent(4, 5);
    start_coordinator(8'000, false, 0);
    const auto t0 = std::chrono::steady_clock::now();
    auto f = _coordinator->submit(dns01_request("poison3.e2e.test"));
    std::this_thread::sleep_for(ms(500));
    ASSERT_EQ(f.wait_for(ms(0)), std::future_status::timeout) << "the decision must be waiting for agent 4";
    _agents[3].kill_now();
    auto outcome = wait_outcome(f, ms(5000));
    const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(outcome && outcome->response);
    const auto& o = only_outcome(*outcome->response);
    SCOPED_TRACE(describe(o.perspectives));
    // 2 corroborations of 4 (agent 3 poisoned, agent 4 dead): 4 - 2 = 2 > 1 allowed.
    EXPECT_FALSE(o.is_valid);
    EXPECT_EQ(o.quorum_result, "2/4");
    EXPECT_EQ(problem_of(o.perspectives, sites[3].code), "mpic_error:coordinator:remote_check");
    EXPECT_LT(wall, 2500.0) << "the kill must end agent 4's check at once (stall 5 s, check timeout 8 s)";
    std::cout << "agent 4 killed at 500 ms: invalid " << o.quorum_result << " after " << wall << " ms"
              << describe(o.perspectives) << "\n";

    // With agent 4 gone, a clean name still corroborates 3 of 4 (1 allowed) and records agent 4's failure.
    const auto again = run(dns01_request("good.e2e.test"));
    ASSERT_FALSE(again.targets.empty());
    const auto& g = only_outcome(again);
    EXPECT_TRUE(g.is_valid) << describe(g.perspectives);
    EXPECT_EQ(g.quorum_result, "3/4");
    EXPECT_EQ(problem_of(g.perspectives, sites[3].code), "mpic_error:coordinator:remote_check");
}

TEST_F(remote_agents, a_hung_agent_is_bounded_by_the_check_timeout) {
    start_agents();
    start_coordinator(1'500, false, 0);
    _agents[3].stop_process();
    const auto t0 = std::chrono::steady_clock::now();
    const auto response = run(dns01_request("poison3.e2e.test"), ms(6000));
    const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    _agents[3].continue_process();
    ASSERT_FALSE(response.targets.empty());
    const auto& o = only_outcome(response);
    SCOPED_TRACE(describe(o.perspectives));
    EXPECT_FALSE(o.is_valid);
    EXPECT_EQ(o.quorum_result, "2/4");
    EXPECT_EQ(problem_of(o.perspectives, sites[3].code), "mpic_error:coordinator:remote_check");
    EXPECT_GE(wall, 1400.0);
    EXPECT_LT(wall, 3500.0);
    std::cout << "agent 4 stopped (SIGSTOP), check_timeout_ms 1500: invalid " << o.quorum_result << " after " << wall
              << " ms" << describe(o.perspectives) << "\n";
}

TEST_F(remote_agents, an_agent_with_a_certificate_from_another_ca_is_refused) {
    for (int i = 1; i <= 3; ++i) {
        start_agent(i);
    }
    start_agent(4, 0, true);
    start_coordinator();
    const auto response = run(dns01_request("good.e2e.test"));
    ASSERT_FALSE(response.targets.empty());
    const auto& o = only_outcome(response);
    SCOPED_TRACE(describe(o.perspectives));
    EXPECT_TRUE(o.is_valid);
    EXPECT_EQ(o.quorum_result, "3/4");
    EXPECT_EQ(problem_of(o.perspectives, sites[3].code), "mpic_error:coordinator:remote_check");
    for (const auto& p : o.perspectives) {
        if (p.code == sites[3].code) {
            ASSERT_FALSE(p.result.errors.empty());
            std::cout << "rogue agent refused: " << p.result.errors.front().message << "\n";
        }
    }
    // And with the rogue agent the table still decides: one more non-corroboration fails the request.
    const auto poisoned = run(dns01_request("poison3.e2e.test"));
    ASSERT_FALSE(poisoned.targets.empty());
    EXPECT_FALSE(only_outcome(poisoned).is_valid) << describe(only_outcome(poisoned).perspectives);
}

TEST_F(remote_agents, a_client_without_the_coordinators_certificate_gets_no_answer) {
    start_agent(1);
    const std::string body = "-H 'Content-Type: application/json' --data '{\"domain_or_ip_target\":\"good.e2e.test\"}'";
    const std::string base = "curl -sS --max-time 5 -o /dev/null -w '%{http_code}' --cacert " + _pki.ca_cert + " " +
                             body + " " + url(1) + "/caa";
    auto [s_none, out_none] = run_command(base);
    EXPECT_NE(s_none, 0) << out_none;
    // TLS 1.3: the server's handshake verdict reaches curl as an alert on its first read; no HTTP status (000).
    EXPECT_NE(out_none.find("certificate required"), std::string::npos) << out_none;
    EXPECT_TRUE(out_none.ends_with("000")) << "no HTTP answer without a client certificate: " << out_none;
    auto [s_rogue, out_rogue] =
        run_command(base + " --cert " + _pki.rogue_client_cert + " --key " + _pki.rogue_client_key);
    EXPECT_NE(s_rogue, 0) << out_rogue;
    EXPECT_NE(out_rogue.find("unknown ca"), std::string::npos) << out_rogue;
    EXPECT_TRUE(out_rogue.ends_with("000")) << "no HTTP answer to a certificate from another CA: " << out_rogue;
    // Control: the coordinator's certificate gets an answer, so the refusals above are about the certificate.
    auto [s_ok, out_ok] = run_command(base + " --cert " + _pki.client_cert + " --key " + _pki.client_key);
    EXPECT_EQ(s_ok, 0) << out_ok;
    EXPECT_EQ(out_ok, "200") << _agents[0].log();

    // The engine side: a coordinator holding the rogue client certificate gets nothing from any agent.
    for (int i = 2; i <= agents; ++i) {
        start_agent(i);
    }
    start_coordinator(4'000, true);
    const auto response = run(dns01_request("good.e2e.test"));
    ASSERT_FALSE(response.targets.empty());
    const auto& o = only_outcome(response);
    EXPECT_FALSE(o.is_valid);
    EXPECT_EQ(o.quorum_result, "0/4");
    for (const auto& p : o.perspectives) {
        EXPECT_EQ(problem_of(o.perspectives, p.code), "mpic_error:coordinator:remote_check") << p.code;
    }
    std::cout << "coordinator with a rogue client certificate: invalid " << o.quorum_result << describe(o.perspectives)
              << "\n";
}

} // namespace
} // namespace mpic::quorum::e2e
