// quorum/decision under concurrency: many threads report at once (and a deadline races them); the decision fires
// exactly once, the audit record is consistent with its counts, and the verdict is the one the pure rule gives.
// Built and run in the TSan pass as well (CONCURRENCY).

#include <atomic>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "tests/quorum/fixtures.hh"

namespace mpic::quorum {
namespace {

using test::fail;
using test::incomplete;
using test::pass;

#if defined(__SANITIZE_THREAD__)
constexpr int k_iterations = 300;
#else
constexpr int k_iterations = 2000;
#endif

/// Spin until `go` is set, so every thread starts reporting at the same moment.
void wait_for(const std::atomic<bool>& go) {
    while (!go.load(std::memory_order_acquire)) {
        std::this_thread::yield();
    }
}

validators::check_result result_of(report_state s) {
    return s == report_state::passed ? pass() : s == report_state::failed ? fail() : incomplete();
}

void check_record(const quorum_outcome& o, const decision_config& c) {
    ASSERT_EQ(o.passed + o.failed + o.pending, o.perspective_count);
    ASSERT_EQ(o.passed_perspectives.size() + o.failed_perspectives.size(), c.remotes.size());
    ASSERT_EQ(o.perspectives.size(), c.remotes.size());
    EXPECT_EQ(o.quorum_result, std::to_string(o.passed) + "/" + std::to_string(o.perspective_count));
    int passed = 0;
    std::vector<report_state> states;
    for (const perspective_record& r : o.perspectives) {
        states.push_back(r.state);
        passed += r.state == report_state::passed;
        EXPECT_EQ(r.result != nullptr, r.state != report_state::pending);
    }
    EXPECT_EQ(passed, o.passed);
    // What was counted at the decision fixes the verdict: the pure rule on the same record agrees.
    const quorum_outcome again = evaluate(c, o.primary, states);
    EXPECT_EQ(again.decision, o.decision);
}

struct scenario {
    decision_config config;
    std::vector<report_state> states;
    primary_state primary = primary_state::absent;
};

scenario random_scenario(std::mt19937& rng, int iteration) {
    scenario s;
    const int n = 3 + static_cast<int>(rng() % 8); // 3..10
    std::vector<rir> regions;
    for (int i = 0; i < n; ++i) {
        regions.push_back(static_cast<rir>(rng() % 3));
        const unsigned k = rng() % 10;
        s.states.push_back(k < 7 ? report_state::passed : k < 9 ? report_state::failed : report_state::not_completed);
    }
    const bool primary_mode = iteration % 2 == 0;
    s.config =
        test::br_config(regions, primary_mode ? corroboration_mode::primary_decides : corroboration_mode::all_remote,
                        iteration % 7 == 0 ? "2025-04-01" : "2027-01-01");
    if (primary_mode) {
        s.primary = rng() % 6 == 0 ? primary_state::failed : primary_state::passed;
    }
    return s;
}

TEST(QuorumDecisionConcurrency, FiresExactlyOnceWithManyReporters) {
    std::mt19937 rng(2026);
    constexpr int k_threads = 4;
    for (int it = 0; it < k_iterations; ++it) {
        scenario s = random_scenario(rng, it);
        const quorum_outcome expected = evaluate(s.config, s.primary, s.states);
        std::atomic<int> fired{0};
        std::atomic<bool> go{false};
        auto created = quorum_decision::create(s.config, [&](const quorum_outcome&) { fired.fetch_add(1); });
        ASSERT_TRUE(created.has_value());
        quorum_decision& decision = **created;
        std::atomic<int> decided_effects{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < k_threads; ++t) {
            threads.emplace_back([&, t] {
                wait_for(go);
                // Thread t reports remotes t, t + k_threads, ...; thread 0 also reports the primary.
                if (t == 0 && s.primary != primary_state::absent) {
                    if (decision.report_primary(s.primary == primary_state::passed ? pass() : fail()) ==
                        report_effect::decided) {
                        decided_effects.fetch_add(1);
                    }
                }
                for (std::size_t i = static_cast<std::size_t>(t); i < s.states.size(); i += k_threads) {
                    if (decision.report_remote(i, result_of(s.states[i])) == report_effect::decided) {
                        decided_effects.fetch_add(1);
                    }
                }
            });
        }
        go.store(true, std::memory_order_release);
        for (std::thread& t : threads) {
            t.join();
        }
        ASSERT_EQ(fired.load(), 1) << "iteration " << it;
        ASSERT_EQ(decided_effects.load(), 1) << "iteration " << it;
        ASSERT_NE(decision.outcome(), nullptr);
        EXPECT_EQ(decision.outcome()->decision, expected.decision) << "iteration " << it;
        check_record(*decision.outcome(), s.config);
        EXPECT_FALSE(decision.expire());
    }
}

TEST(QuorumDecisionConcurrency, DeadlineRacesReporters) {
    std::mt19937 rng(77);
    constexpr int k_threads = 3;
    int expired_first = 0;
    for (int it = 0; it < k_iterations; ++it) {
        scenario s = random_scenario(rng, it);
        std::atomic<int> fired{0};
        std::atomic<bool> go{false};
        auto created = quorum_decision::create(s.config, [&](const quorum_outcome&) { fired.fetch_add(1); });
        ASSERT_TRUE(created.has_value());
        quorum_decision& decision = **created;
        std::atomic<bool> expire_won{false};
        std::atomic<int> settlers{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < k_threads; ++t) {
            threads.emplace_back([&, t] {
                wait_for(go);
                if (t == 0 && s.primary != primary_state::absent) {
                    if (decision.report_primary(s.primary == primary_state::passed ? pass() : fail()) ==
                        report_effect::decided) {
                        settlers.fetch_add(1);
                    }
                }
                for (std::size_t i = static_cast<std::size_t>(t); i < s.states.size(); i += k_threads) {
                    if (decision.report_remote(i, result_of(s.states[i])) == report_effect::decided) {
                        settlers.fetch_add(1);
                    }
                }
            });
        }
        threads.emplace_back([&] {
            wait_for(go);
            const bool settled = decision.expire();
            expire_won.store(settled);
            if (settled) {
                settlers.fetch_add(1);
            }
        });
        go.store(true, std::memory_order_release);
        for (std::thread& t : threads) {
            t.join();
        }
        ASSERT_EQ(fired.load(), 1) << "iteration " << it;
        ASSERT_EQ(settlers.load(), 1) << "iteration " << it; // exactly one call reports having settled
        const quorum_outcome* o = decision.outcome();
        ASSERT_NE(o, nullptr);
        check_record(*o, s.config);
        if (expire_won.load()) {
            ++expired_first;
            EXPECT_EQ(o->reason == decided_by::deadline || o->reason == decided_by::primary_failed ||
                          o->reason == decided_by::quorum_reached,
                      true);
        }
        // Late results are stored for the record, never lost.
        for (std::size_t i = 0; i < s.states.size(); ++i) {
            EXPECT_NE(decision.stored_result(i), nullptr);
        }
    }
    RecordProperty("expire_won", expired_first);
}

TEST(QuorumDecisionConcurrency, CallbackSeesCompleteOutcomeOnAnyThread) {
    // The callback runs on whichever thread settles; it must see the published outcome.
    for (int it = 0; it < k_iterations / 4; ++it) {
        decision_config c = test::br_config({rir::arin, rir::ripe, rir::apnic, rir::lacnic, rir::afrinic, rir::arin},
                                            corroboration_mode::all_remote);
        std::atomic<int> fired{0};
        std::atomic<bool> saw_outcome{false};
        quorum_decision* self = nullptr;
        auto created = quorum_decision::create(c, [&](const quorum_outcome& o) {
            fired.fetch_add(1);
            saw_outcome.store(self->outcome() == &o && o.decision == verdict::valid);
        });
        ASSERT_TRUE(created.has_value());
        self = created->get();
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < 6; ++i) {
            threads.emplace_back([&, i] {
                wait_for(go);
                self->report_remote(i, pass());
            });
        }
        go.store(true, std::memory_order_release);
        for (std::thread& t : threads) {
            t.join();
        }
        ASSERT_EQ(fired.load(), 1);
        EXPECT_TRUE(saw_outcome.load());
    }
}

} // namespace
} // namespace mpic::quorum
