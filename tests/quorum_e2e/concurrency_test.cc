// Exactly one outcome per submission under concurrency (issue #6, item 6). The quorum state machine's exactly-once
// firing is proven in tests/quorum (decision_concurrency_test, under TSan); this checks the whole engine: several
// threads submit a mix of valid, invalid and refused requests at once against the lab, and every submission's
// callback runs exactly once -- also when shutdown() races the submitters. Labelled CONCURRENCY: the TSan build runs
// it too.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/quorum_e2e/e2e_support.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::quorum::e2e {
namespace {

using ms = std::chrono::milliseconds;

/// Three perspectives; ok.e2e.test corroborates everywhere, bad.e2e.test is poisoned for perspectives 1 and 2.
struct concurrency_scenario {
    static std::string toml() {
        return R"([lab]
perspectives = 3

[zones."e2e.test"]
records = [
  { name = "_acme-challenge.ok", type = "TXT", value = "good-dns01-digest" },
  { name = "_acme-challenge.bad", type = "TXT", value = "good-dns01-digest" },
  { name = "ok", type = "CAA", tag = "issue", value = "ca.example" },
]

[[override]]
perspectives = [1, 2]
records = [ { name = "_acme-challenge.bad.e2e.test", type = "TXT", value = "attacker-dns01-digest" } ]
)";
    }
};

enum class expect_kind { valid, invalid, refused };

/// Submission i's request and what its one outcome must be.
std::pair<mpic_request, expect_kind> request_for(int i) {
    switch (i % 4) {
    case 0:
        return {dns01_request("ok.e2e.test"), expect_kind::valid};
    case 1:
        return {dns01_request("bad.e2e.test"), expect_kind::invalid};
    case 2: {
        auto r = caa_request("ok.e2e.test");
        return {std::move(r), expect_kind::valid};
    }
    default: {
        auto r = dns01_request("ok.e2e.test");
        r.orchestration = orchestration_request{};
        r.orchestration->perspective_count = 99; // more than configured: refused before any check runs
        return {std::move(r), expect_kind::refused};
    }
    }
}

/// Per-submission outcome counters, and a wait for "every submission answered".
struct tally_board {
    explicit tally_board(int n) : counts(static_cast<std::size_t>(n)), kinds(static_cast<std::size_t>(n)) {}
    std::vector<std::atomic<int>> counts;
    std::vector<std::atomic<int>> kinds; ///< 0 valid, 1 invalid, 2 refused (issues), 3 engine error
    std::atomic<int> total{0};
    std::mutex mutex;
    std::condition_variable cv;

    submit_callback callback_for(int i) {
        return [this, i](submit_outcome&& o) {
            int kind = 3;
            if (o.response) {
                kind = o.response->is_valid() ? 0 : 1;
            } else if (!o.issues.empty()) {
                kind = 2;
            }
            kinds[static_cast<std::size_t>(i)].store(kind);
            counts[static_cast<std::size_t>(i)].fetch_add(1);
            total.fetch_add(1);
            std::lock_guard lock(mutex);
            cv.notify_all();
        };
    }
    bool wait_all(int n, ms bound) {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, bound, [&] { return total.load() >= n; });
    }
};

class engine_concurrency : public lab::lab_fixture<concurrency_scenario> {
protected:
    std::unique_ptr<engine> make_engine() {
        auto config = in_process_config(3, date_of("2025-10-01"), 2);
        point_at_lab(config, lab());
        std::vector<std::string> errors;
        auto created = engine::create(config, errors);
        EXPECT_TRUE(created) << ::testing::PrintToString(errors);
        return created ? std::move(*created) : nullptr;
    }
};

TEST_F(engine_concurrency, every_submission_from_many_threads_gets_exactly_one_outcome) {
    constexpr int threads = 4;
    constexpr int per_thread = 100;
    constexpr int total = threads * per_thread;
    tally_board board(total); // outlives the engine: a late callback must find it
    auto eng = make_engine();
    ASSERT_NE(eng, nullptr);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
        submitters.emplace_back([&, t] {
            for (int j = 0; j < per_thread; ++j) {
                const int i = t * per_thread + j;
                eng->submit(request_for(i).first, board.callback_for(i));
            }
        });
    }
    for (auto& s : submitters) {
        s.join();
    }
    ASSERT_TRUE(board.wait_all(total, ms(60000))) << board.total.load() << " of " << total << " answered";
    const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::this_thread::sleep_for(ms(300)); // a second callback would arrive here
    EXPECT_TRUE(eng->shutdown(ms(3000)).clean());
    int by_kind[4] = {0, 0, 0, 0};
    for (int i = 0; i < total; ++i) {
        EXPECT_EQ(board.counts[static_cast<std::size_t>(i)].load(), 1) << "submission " << i;
        const int kind = board.kinds[static_cast<std::size_t>(i)].load();
        EXPECT_EQ(kind, static_cast<int>(request_for(i).second)) << "submission " << i;
        ++by_kind[kind];
    }
    EXPECT_EQ(board.total.load(), total);
    const auto stats = eng->stats();
    EXPECT_EQ(stats.requests_started, stats.requests_finished);
    EXPECT_EQ(stats.checks_in_flight, 0u);
    std::cout << total << " submissions from " << threads << " threads in " << wall << " ms: " << by_kind[0]
              << " valid, " << by_kind[1] << " invalid, " << by_kind[2] << " refused, " << by_kind[3]
              << " engine errors; each answered exactly once\n";
}

TEST_F(engine_concurrency, submissions_racing_shutdown_each_get_exactly_one_outcome) {
    constexpr int threads = 3;
    constexpr int per_thread = 60;
    constexpr int total = threads * per_thread;
    tally_board board(total); // outlives the engine
    auto eng = make_engine();
    ASSERT_NE(eng, nullptr);
    std::atomic<int> submitted{0};
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
        submitters.emplace_back([&, t] {
            for (int j = 0; j < per_thread; ++j) {
                const int i = t * per_thread + j;
                eng->submit(request_for(i).first, board.callback_for(i));
                submitted.fetch_add(1);
                if (j % 8 == 7) {
                    std::this_thread::sleep_for(ms(2));
                }
            }
        });
    }
    while (submitted.load() < total / 3) {
        std::this_thread::yield();
    }
    const auto report = eng->shutdown(ms(500)); // races the remaining submissions
    for (auto& s : submitters) {
        s.join();
    }
    ASSERT_TRUE(board.wait_all(total, ms(10000))) << board.total.load() << " of " << total << " answered";
    std::this_thread::sleep_for(ms(200));
    int answered = 0, refused_stopping = 0;
    for (int i = 0; i < total; ++i) {
        EXPECT_EQ(board.counts[static_cast<std::size_t>(i)].load(), 1) << "submission " << i;
        const int kind = board.kinds[static_cast<std::size_t>(i)].load();
        if (kind == 3) {
            ++refused_stopping;
        } else {
            ++answered;
        }
    }
    EXPECT_GT(answered, 0);
    EXPECT_GT(refused_stopping, 0) << "shutdown should have refused some of the later submissions";
    EXPECT_TRUE(report.clean());
    std::cout << total << " submissions racing shutdown: " << answered << " decided or refused by validation, "
              << refused_stopping << " refused as shutting down; each answered exactly once\n";
}

} // namespace
} // namespace mpic::quorum::e2e
