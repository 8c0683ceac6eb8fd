// Timing and retries end to end (issue #6, items 2 and 3):
//  - a stalled perspective (its DNS answers after 5 s, through the lab's fault DNS responder) does not delay the
//    decision when the quorum is reached without it (BR 3.2.2.9: 4 of 5 corroborate; early decision, standards §5.3);
//  - a request deadline (orchestration deadline_ms) turns the pending perspective into a non-corroboration (Q10)
//    and decides at the deadline, whereas without the deadline the same perspective eventually corroborates;
//  - a retry (max_attempts = 2) runs the next cohort with fresh results: the first attempt is kept for the record
//    (previous_attempts) and nothing from it is counted (BR.md 1211, standards §7 decision 1).

#include <set>
#include <thread>

#include "quorum/cohort.hh"
#include "tests/quorum_e2e/e2e_support.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::quorum::e2e {
namespace {

using ms = std::chrono::milliseconds;

double elapsed_ms(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

// ---------------------------------------------------------------------------------------------------------------
// Stalled perspective and request deadline

/// Five perspectives; perspective 5's DNS stalls 5 s (every name); perspective 4 also sees a forged TXT for
/// deadline.e2e.test, so that name's decision depends on the stalled perspective.
struct stalled_scenario {
    static std::string toml() {
        return R"([lab]
perspectives = 5
description = "e2e: perspective 5 stalls 5 s; perspective 4 poisoned for deadline.e2e.test"

[zones."e2e.test"]
records = [
  { name = "_acme-challenge.quick", type = "TXT", value = "good-dns01-digest" },
  { name = "quick", type = "CAA", tag = "issue", value = "ca.example" },
  { name = "_acme-challenge.deadline", type = "TXT", value = "good-dns01-digest" },
]

[[override]]
perspectives = [4]
records = [ { name = "_acme-challenge.deadline.e2e.test", type = "TXT", value = "attacker-dns01-digest" } ]

[[override]]
perspectives = [5]
dns = "stalled"
stall_ms = 5000
)";
    }
};

class stalled_perspective : public lab::lab_fixture<stalled_scenario> {
protected:
    void SetUp() override {
        lab_fixture::SetUp();
        // The resolver waits for the whole stall (one 8 s try), so only the quorum rule or the request deadline
        // can stop waiting for perspective 5.
        auto config = in_process_config(5, date_of("2026-12-15"), 1);
        config.dns_timeout_ms = 8'000;
        config.dns_tries = 1;
        config.check_timeout_ms = 10'000;
        point_at_lab(config, lab());
        ASSERT_NE(lab().dns_for(5), lab().dns_for(1)) << "perspective 5 must resolve through the fault DNS responder";
        std::vector<std::string> errors;
        auto created = engine::create(config, errors);
        ASSERT_TRUE(created) << ::testing::PrintToString(errors);
        _engine = std::move(*created);
    }
    void TearDown() override {
        if (_engine) {
            EXPECT_TRUE(_engine->shutdown(ms(3000)).clean());
        }
    }
    std::unique_ptr<engine> _engine;
};

TEST_F(stalled_perspective, quorum_is_reached_without_it_and_the_decision_arrives_quickly) {
    for (auto request : {dns01_request("quick.e2e.test"), caa_request("quick.e2e.test")}) {
        const auto t0 = std::chrono::steady_clock::now();
        auto f = _engine->submit(std::move(request));
        auto outcome = wait_outcome(f, ms(4000));
        const double wall = elapsed_ms(t0);
        ASSERT_TRUE(outcome && outcome->response);
        const auto& o = only_outcome(*outcome->response);
        SCOPED_TRACE(describe(o.perspectives));
        EXPECT_TRUE(o.is_valid);
        EXPECT_EQ(o.quorum_result, "4/5");
        EXPECT_LT(wall, 2000.0) << "the decision waited for the stalled perspective";
        EXPECT_LT(o.decided_after_ms, 2000.0);
        // eu-central (site 5) was still waiting when the decision fired: recorded, not counted, not passed.
        for (const auto& p : o.perspectives) {
            if (p.code == sites[4].code) {
                EXPECT_FALSE(p.result.passed);
                EXPECT_FALSE(p.result.completed);
            } else {
                EXPECT_TRUE(p.result.passed) << p.code;
            }
        }
        std::cout << "stalled perspective: " << (o.type == validators::check_type::dcv ? "dns-01" : "caa") << " valid "
                  << o.quorum_result << " decided after " << o.decided_after_ms << " ms (stall 5000 ms)"
                  << describe(o.perspectives) << "\n";
    }
}

TEST_F(stalled_perspective, request_deadline_turns_the_pending_perspective_into_a_failure) {
    // Control: without a deadline the decision waits for eu-central, which answers correctly after the stall.
    auto slow = dns01_request("deadline.e2e.test");
    auto f_slow = _engine->submit(std::move(slow));
    // With deadline_ms = 1500 the pending perspective is a non-corroboration at 1.5 s: 3 of 5 < 4 required.
    auto bounded = dns01_request("deadline.e2e.test");
    bounded.orchestration = orchestration_request{};
    bounded.orchestration->deadline_ms = 1500;
    const auto t0 = std::chrono::steady_clock::now();
    auto f_bounded = _engine->submit(std::move(bounded));

    auto outcome = wait_outcome(f_bounded, ms(4000));
    const double wall = elapsed_ms(t0);
    ASSERT_TRUE(outcome && outcome->response);
    {
        const auto& o = only_outcome(*outcome->response);
        SCOPED_TRACE(describe(o.perspectives));
        EXPECT_FALSE(o.is_valid);
        EXPECT_EQ(o.quorum_result, "3/5");
        EXPECT_GE(o.decided_after_ms, 1498.0) << "the deadline fired before 1500 ms";
        EXPECT_LT(o.decided_after_ms, 2500.0);
        EXPECT_GE(wall, 1498.0);
        EXPECT_LT(wall, 3000.0);
        EXPECT_FALSE(problem_of(o.perspectives, sites[3].code).empty()) << "the poisoned perspective reports a problem";
        for (const auto& p : o.perspectives) {
            if (p.code == sites[4].code) {
                EXPECT_FALSE(p.result.completed) << "the stalled perspective had not answered by the deadline";
                EXPECT_FALSE(p.result.errors.empty());
            }
        }
        std::cout << "deadline 1500 ms: invalid " << o.quorum_result << " decided after " << o.decided_after_ms << " ms"
                  << describe(o.perspectives) << "\n";
    }
    auto control = wait_outcome(f_slow, ms(9000));
    ASSERT_TRUE(control && control->response);
    const auto& c = only_outcome(*control->response);
    SCOPED_TRACE(describe(c.perspectives));
    EXPECT_TRUE(c.is_valid) << "without a deadline the stalled perspective corroborates after its stall";
    EXPECT_EQ(c.quorum_result, "4/5");
    EXPECT_GE(c.decided_after_ms, 4500.0);
    std::cout << "no deadline: valid " << c.quorum_result << " decided after " << c.decided_after_ms << " ms"
              << describe(c.perspectives) << "\n";
}

TEST_F(stalled_perspective, a_deadline_counts_from_the_request_start_even_after_a_busy_loop_iteration) {
    // Regression: libuv timers count from the loop's cached time. A request started late in a busy loop iteration
    // (here: after a 300 ms task in the same mailbox drain) got a deadline -- and check timeouts -- that fired up to
    // that much early, turning perspectives that still had time into non-corroborations.
    std::promise<void> busy_started;
    auto started = busy_started.get_future();
    ASSERT_TRUE(_engine->reactors().post(0, [&busy_started] {
        busy_started.set_value();
        std::this_thread::sleep_for(ms(300));
    }));
    started.wait();
    auto bounded = dns01_request("deadline.e2e.test");
    bounded.orchestration = orchestration_request{};
    bounded.orchestration->deadline_ms = 1000;
    auto f = _engine->submit(std::move(bounded)); // runs right after the busy task, in the same iteration
    auto outcome = wait_outcome(f, ms(4000));
    ASSERT_TRUE(outcome && outcome->response);
    const auto& o = only_outcome(*outcome->response);
    SCOPED_TRACE(describe(o.perspectives));
    EXPECT_FALSE(o.is_valid);
    EXPECT_GE(o.decided_after_ms, 998.0) << "the deadline fired early";
    EXPECT_LT(o.decided_after_ms, 1800.0);
    std::cout << "deadline 1000 ms after a 300 ms busy task: decided after " << o.decided_after_ms << " ms\n";
}

TEST_F(stalled_perspective, an_agent_role_check_timeout_counts_from_its_start_even_after_a_busy_loop_iteration) {
    // The same regression on the perspective-agent path (engine::run_check, what `mpicd --role perspective` serves):
    // a 1000 ms check timeout armed after a 300 ms task in the same loop iteration must still give the stalled
    // perspective 1000 ms.
    auto config = in_process_config(5, date_of("2026-12-15"), 1);
    config.dns_timeout_ms = 8'000;
    config.dns_tries = 1;
    config.check_timeout_ms = 1'000;
    point_at_lab(config, lab());
    std::vector<std::string> errors;
    auto created = engine::create(config, errors);
    ASSERT_TRUE(created) << ::testing::PrintToString(errors);
    auto& agent = **created;
    std::promise<void> busy_started;
    auto started = busy_started.get_future();
    ASSERT_TRUE(agent.reactors().post(0, [&busy_started] {
        busy_started.set_value();
        std::this_thread::sleep_for(ms(300));
    }));
    started.wait();
    validators::check_request check;
    check.type = validators::check_type::dcv;
    check.target = identifier_of("quick.e2e.test");
    check.dcv.method = validators::validation_method::acme_dns_01;
    check.dcv.key_authorization_hash = good_digest;
    auto result = std::make_shared<std::promise<validators::check_result>>();
    auto f = result->get_future();
    const auto t0 = std::chrono::steady_clock::now();
    agent.run_check(sites[4].code, std::move(check), [result](validators::check_result&& r) { result->set_value(r); });
    ASSERT_EQ(f.wait_for(ms(4000)), std::future_status::ready);
    const double wall = elapsed_ms(t0);
    const auto r = f.get();
    EXPECT_FALSE(r.completed) << "the stalled perspective cannot answer within 1000 ms";
    // Measured from the start of the 300 ms task: the check starts after it and must run its full 1000 ms.
    EXPECT_GE(wall, 1250.0) << "the check timeout fired early";
    EXPECT_LT(wall, 2500.0);
    std::cout << "agent-role check, timeout 1000 ms after a 300 ms busy task: result after " << wall << " ms\n";
    EXPECT_TRUE(agent.shutdown(ms(3000)).clean());
}

// ---------------------------------------------------------------------------------------------------------------
// Retries

constexpr int retry_n = 6;      ///< configured perspectives
constexpr int retry_cohort = 3; ///< perspectives per attempt: two disjoint cohorts
constexpr const char* retry_date = "2025-10-01";

/// The cohorts the engine will use for `target` (same pure function, same secret, same perspectives).
cohort_plan plan_for(const std::string& target) {
    std::vector<perspective_info> remotes;
    for (int k = 1; k <= retry_n; ++k) {
        remotes.push_back(site_perspective(k).info);
    }
    return make_cohorts(remotes, too_close_relation(remotes), {retry_cohort, true},
                        selection_seed(in_process_config(retry_n, date_of(retry_date)).cohort_secret, target));
}

/// What each name's attack poisons (remote indices, 0-based): retry-pass: all of cohort 1; retry-split: two of
/// each cohort, leaving one corroborator per cohort in different RIRs.
struct retry_plan {
    cohort first_pass, second_pass, first_split, second_split;
    std::vector<std::size_t> poisoned_pass, poisoned_split;
    std::size_t split_keep_1 = 0, split_keep_2 = 0;

    static const retry_plan& get() {
        static const retry_plan plan = [] {
            retry_plan p;
            auto pass = plan_for("retry-pass.e2e.test");
            auto split = plan_for("retry-split.e2e.test");
            if (pass.cohorts.size() < 2 || split.cohorts.size() < 2) {
                return p; // the tests assert on the sizes
            }
            p.first_pass = pass.cohorts[0];
            p.second_pass = pass.cohorts[1];
            p.poisoned_pass = p.first_pass;
            p.first_split = split.cohorts[0];
            p.second_split = split.cohorts[1];
            p.split_keep_1 = p.first_split[0];
            const rir keep_region = site_perspective(static_cast<int>(p.split_keep_1) + 1).info.region;
            p.split_keep_2 = p.second_split[0];
            for (auto i : p.second_split) {
                if (site_perspective(static_cast<int>(i) + 1).info.region != keep_region) {
                    p.split_keep_2 = i;
                    break;
                }
            }
            for (auto i : p.first_split) {
                if (i != p.split_keep_1) {
                    p.poisoned_split.push_back(i);
                }
            }
            for (auto i : p.second_split) {
                if (i != p.split_keep_2) {
                    p.poisoned_split.push_back(i);
                }
            }
            return p;
        }();
        return plan;
    }
};

std::string lab_list(const std::vector<std::size_t>& remote_indices) {
    std::string out;
    for (auto i : remote_indices) {
        out += (out.empty() ? "" : ", ") + std::to_string(i + 1);
    }
    return out;
}

struct retry_scenario {
    static std::string toml() {
        const auto& p = retry_plan::get();
        std::ostringstream s;
        s << "[lab]\nperspectives = " << retry_n << "\n\n[zones.\"e2e.test\"]\nrecords = [\n"
          << "  { name = \"_acme-challenge.retry-pass\", type = \"TXT\", value = \"good-dns01-digest\" },\n"
          << "  { name = \"_acme-challenge.retry-split\", type = \"TXT\", value = \"good-dns01-digest\" },\n]\n";
        if (!p.poisoned_pass.empty()) {
            s << "\n[[override]]\nperspectives = [" << lab_list(p.poisoned_pass) << "]\nrecords = [ { name = "
              << "\"_acme-challenge.retry-pass.e2e.test\", type = \"TXT\", value = \"attacker-dns01-digest\" } ]\n";
        }
        if (!p.poisoned_split.empty()) {
            s << "\n[[override]]\nperspectives = [" << lab_list(p.poisoned_split) << "]\nrecords = [ { name = "
              << "\"_acme-challenge.retry-split.e2e.test\", type = \"TXT\", value = \"attacker-dns01-digest\" } ]\n";
        }
        return s.str();
    }
};

class retries : public lab::lab_fixture<retry_scenario> {
protected:
    void SetUp() override {
        lab_fixture::SetUp();
        const auto& p = retry_plan::get();
        ASSERT_EQ(p.first_pass.size(), static_cast<std::size_t>(retry_cohort)) << "two cohorts of 3 expected";
        ASSERT_EQ(p.first_split.size(), static_cast<std::size_t>(retry_cohort));
        auto config = in_process_config(retry_n, date_of(retry_date), 1);
        config.default_perspective_count = retry_cohort;
        // Stragglers finish for the record (stored, never counted), so the first attempt's corroborator is seen.
        config.straggler_grace_ms = 1000;
        point_at_lab(config, lab());
        std::vector<std::string> errors;
        auto created = engine::create(config, errors);
        ASSERT_TRUE(created) << ::testing::PrintToString(errors);
        _engine = std::move(*created);
    }
    void TearDown() override {
        if (_engine) {
            EXPECT_TRUE(_engine->shutdown(ms(3000)).clean());
        }
    }
    static mpic_request with_attempts(mpic_request r, int attempts) {
        r.orchestration = orchestration_request{};
        r.orchestration->max_attempts = attempts;
        return r;
    }
    static std::set<std::string> codes_of(const cohort& c) {
        std::set<std::string> out;
        for (auto i : c) {
            out.insert(sites[i].code);
        }
        return out;
    }
    static std::set<std::string> codes_of(const std::vector<perspective_result>& results) {
        std::set<std::string> out;
        for (const auto& r : results) {
            out.insert(r.code);
        }
        return out;
    }
    static int passes(const std::vector<perspective_result>& results) {
        int n = 0;
        for (const auto& r : results) {
            n += r.result.passed ? 1 : 0;
        }
        return n;
    }
    std::unique_ptr<engine> _engine;
};

TEST_F(retries, a_failed_cohort_is_followed_by_the_next_and_only_the_last_attempt_counts) {
    const auto& p = retry_plan::get();
    auto f = _engine->submit(with_attempts(dns01_request("retry-pass.e2e.test"), 2));
    auto outcome = wait_outcome(f, ms(10000));
    ASSERT_TRUE(outcome && outcome->response);
    const auto& o = only_outcome(*outcome->response);
    ASSERT_EQ(o.previous_attempts.size(), 1u);
    SCOPED_TRACE("attempt 1:" + describe(o.previous_attempts[0]) + " attempt 2:" + describe(o.perspectives));
    EXPECT_TRUE(o.is_valid);
    EXPECT_EQ(o.attempt_count, 2);
    EXPECT_EQ(o.perspective_count, retry_cohort);
    EXPECT_EQ(codes_of(o.previous_attempts[0]), codes_of(p.first_pass));
    EXPECT_EQ(codes_of(o.perspectives), codes_of(p.second_pass));
    EXPECT_EQ(passes(o.previous_attempts[0]), 0);
    for (const auto& r : o.previous_attempts[0]) {
        EXPECT_EQ(r.result.errors.empty() ? "" : r.result.errors.front().type, "mpic_error:dcv_checker:mismatch")
            << r.code;
    }
    EXPECT_GE(passes(o.perspectives), 2);
    EXPECT_TRUE(o.quorum_result == "2/3" || o.quorum_result == "3/3") << o.quorum_result;
    std::cout << "retry: attempt 1" << describe(o.previous_attempts[0]) << " -> attempt 2" << describe(o.perspectives)
              << ": valid " << o.quorum_result << "\n";

    // The same request with max_attempts = 1 stops at the failed cohort.
    auto f1 = _engine->submit(with_attempts(dns01_request("retry-pass.e2e.test"), 1));
    auto once = wait_outcome(f1, ms(10000));
    ASSERT_TRUE(once && once->response);
    const auto& o1 = only_outcome(*once->response);
    EXPECT_FALSE(o1.is_valid);
    EXPECT_EQ(o1.attempt_count, 1);
    EXPECT_TRUE(o1.previous_attempts.empty());
    EXPECT_EQ(codes_of(o1.perspectives), codes_of(p.first_pass));
}

TEST_F(retries, corroborations_of_an_earlier_attempt_are_never_added_to_the_next) {
    // Each cohort has exactly one corroborator, in different RIRs: two corroborations in two RIRs in total would
    // meet 2-of-3, but no single attempt has them, so the request fails after both attempts.
    const auto& p = retry_plan::get();
    auto f = _engine->submit(with_attempts(dns01_request("retry-split.e2e.test"), 2));
    auto outcome = wait_outcome(f, ms(10000));
    ASSERT_TRUE(outcome && outcome->response);
    const auto& o = only_outcome(*outcome->response);
    ASSERT_EQ(o.previous_attempts.size(), 1u);
    SCOPED_TRACE("attempt 1:" + describe(o.previous_attempts[0]) + " attempt 2:" + describe(o.perspectives));
    EXPECT_FALSE(o.is_valid);
    EXPECT_EQ(o.attempt_count, 2);
    EXPECT_EQ(codes_of(o.previous_attempts[0]), codes_of(p.first_split));
    EXPECT_EQ(codes_of(o.perspectives), codes_of(p.second_split));
    EXPECT_EQ(passes(o.previous_attempts[0]), 1) << "the first attempt's corroborator is recorded";
    EXPECT_EQ(passes(o.perspectives), 1);
    EXPECT_NE(site_perspective(static_cast<int>(p.split_keep_1) + 1).info.region,
              site_perspective(static_cast<int>(p.split_keep_2) + 1).info.region);
    EXPECT_EQ(o.quorum_result.back(), '3');
    EXPECT_NE(o.quorum_result, "2/3");
    std::cout << "retry without carry-over: attempt 1" << describe(o.previous_attempts[0]) << " -> attempt 2"
              << describe(o.perspectives) << ": invalid " << o.quorum_result << "\n";
}

} // namespace
} // namespace mpic::quorum::e2e
