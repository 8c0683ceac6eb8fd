// Runs mpic-bench for 2 seconds (closed loop, 4 concurrent, CAA + dns-01) against the bench lab it starts itself,
// and checks the --json output: requests were made, every one got a valid decision, the latencies are ordered and
// plausible, the daemon's CPU was measured, and the plot was written.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

struct run_output {
    int exit_code = -1;
    std::string stdout_text;
};

run_output run(const std::string& command) {
    run_output out;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        return out;
    }
    char buf[4096];
    std::size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) {
        out.stdout_text.append(buf, n);
    }
    const int status = pclose(pipe);
    out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

TEST(mpic_bench_smoke, two_second_closed_loop_run_reports_requests_and_latencies) {
    const auto plot =
        std::filesystem::temp_directory_path() / ("mpic-bench-smoke-" + std::to_string(getpid()) + ".svg");
    const auto result =
        run(std::string(MPIC_BENCH_BINARY) + " --scenario " + MPIC_BENCH_SCENARIO +
            " -c 4 -d 2 -w 0.5 --mix caa=1,dns-01=1 --profile --json --no-progress --plot " + plot.string());
    ASSERT_EQ(result.exit_code, 0) << result.stdout_text;
    const auto j = nlohmann::json::parse(result.stdout_text, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << result.stdout_text;

    EXPECT_EQ(j["mode"], "closed");
    EXPECT_EQ(j["mix"], "caa=1,dns-01=1");
    const auto requests = j["requests"].get<std::uint64_t>();
    EXPECT_GT(requests, 10U);
    // The bench lab validates both kinds from every perspective: every request is a valid decision.
    EXPECT_EQ(j["outcomes"]["valid"].get<std::uint64_t>(), requests) << j.dump(2);
    EXPECT_EQ(j["outcomes"]["http_error"], 0);
    EXPECT_EQ(j["outcomes"]["transport_error"], 0);
    EXPECT_GT(j["per_kind"]["caa"]["requests"].get<std::uint64_t>(), 0U);
    EXPECT_GT(j["per_kind"]["dns-01"]["requests"].get<std::uint64_t>(), 0U);

    const auto& lat = j["latency_ms"];
    EXPECT_EQ(lat["count"].get<std::uint64_t>(), requests);
    EXPECT_GT(lat["p50"].get<double>(), 0.0);
    EXPECT_LE(lat["p50"].get<double>(), lat["p90"].get<double>());
    EXPECT_LE(lat["p90"].get<double>(), lat["p99"].get<double>());
    EXPECT_LE(lat["p99"].get<double>(), lat["p999"].get<double>());
    EXPECT_LE(lat["p999"].get<double>(), lat["max"].get<double>());
    EXPECT_LT(lat["max"].get<double>(), 5000.0); // a loopback lab answers in milliseconds, never seconds

    ASSERT_TRUE(j["daemon"].is_object());
    EXPECT_GT(j["daemon"]["rss_kib"].get<std::uint64_t>(), 0U);
    EXPECT_GE(j["daemon"]["cpu_us_per_request"].get<double>(), 0.0);
    EXPECT_GT(j["requests_per_s"].get<double>(), 0.0);
    // mpicd's CPU by thread: the reactor did the work, the named audit writer synced the records.
    ASSERT_TRUE(j["daemon"]["threads"].is_object()) << j["daemon"].dump();
    ASSERT_TRUE(j["daemon"]["threads"].contains("audit-writer")) << j["daemon"].dump();
    EXPECT_GT(j["daemon"]["threads"]["audit-writer"]["cpu_s"].get<double>(), 0.0);

    // --profile: six perspective checks per request, each with a dns phase.
    ASSERT_TRUE(j["profile"].is_object());
    EXPECT_EQ(j["profile"]["responses"].get<std::uint64_t>(), requests);
    EXPECT_GE(j["profile"]["checks"].get<std::uint64_t>(), 4 * requests); // at least the quorum answered each time
    EXPECT_GT(j["profile"]["phases"]["dns"]["median_us"].get<double>(), 0.0);
    // mpicd reports its audit wait (Server-Timing): every answer waited for a durable record, and what is left of
    // the engine-added latency without it is smaller.
    EXPECT_GT(j["profile"]["audit_us"]["p50"].get<double>(), 0.0);
    EXPECT_LT(j["profile"]["engine_added_without_audit_us"]["p50"].get<double>(),
              j["profile"]["engine_added_us"]["p50"].get<double>());

    std::ifstream svg(plot);
    std::string first;
    std::getline(svg, first);
    EXPECT_TRUE(first.starts_with("<svg")) << first;
    std::filesystem::remove(plot);
}

TEST(mpic_bench_smoke, open_loop_sends_on_schedule_and_reports_its_own_lag) {
    const auto result = run(std::string(MPIC_BENCH_BINARY) + " --scenario " + MPIC_BENCH_SCENARIO +
                            " -r 50 -c 16 -d 2 -w 0.5 --mix caa --json --no-progress");
    ASSERT_EQ(result.exit_code, 0) << result.stdout_text;
    const auto j = nlohmann::json::parse(result.stdout_text, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << result.stdout_text;
    EXPECT_EQ(j["mode"], "open");
    // 50/s over a 2 s window: the schedule puts exactly 100 intended send times in it, and each is counted.
    EXPECT_EQ(j["requests"].get<std::uint64_t>(), 100U) << j.dump(2);
    EXPECT_EQ(j["outcomes"]["valid"].get<std::uint64_t>(), 100U);
    // The timerfd releases each request at its due time; a generator that fell behind its own schedule (the old
    // 1 ms tick: up to 2 ms per request) would show here. The bound allows for a loaded CI machine.
    ASSERT_TRUE(j["send_lag_us"].is_object());
    EXPECT_LT(j["send_lag_us"]["p50"].get<double>(), 20000.0);
    EXPECT_LE(j["send_lag_us"]["p50"].get<double>(), j["send_lag_us"]["max"].get<double>());
}

TEST(mpic_bench_smoke, refuses_an_unknown_request_kind_without_starting_anything) {
    const auto result = run(std::string(MPIC_BENCH_BINARY) + " --scenario " + MPIC_BENCH_SCENARIO +
                            " --mix caa,bogus=2 --json 2>/dev/null");
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_TRUE(result.stdout_text.empty());
}

} // namespace
