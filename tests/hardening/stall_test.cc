// The soak's invalid decisions, reproduced and bounded (issue #10; docs/reliability.md "Soak"): the real mpicd on a
// lab where perspective 6's DNS is stalled (slow, not failed: it answers within the DNS retry budget) and the other
// five resolve through the lab's BIND, under a steady load, while BIND is frozen with SIGSTOP for longer than the
// DNS retry budget and then resumed. That is the soak's starved minute made deterministic. What must hold:
//   - every decision is valid with its quorum (>= quorum_count corroborations from >= 2 RIRs), or invalid because
//     the quorum could no longer be met: each perspective that did not corroborate either timed out in DNS (both
//     tries) or was cancelled once the decision was certain -- fail-closed, never any other error;
//   - no approval without quorum, no check cancelled while the quorum was still reachable;
//   - requests that arrive after BIND resumed are valid again (an answer is matched to the query it answers, never
//     to an older identical one still waiting: net/dns draws a random, unique query ID per channel).

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/hardening/hardening_support.hh"
#include "tests/mpicd/mpicd_process.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::test::hardening {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// bench/soak/soak.toml's shape, on its own name: six perspectives, the sixth's DNS answering after 2 s through the
// lab's fault DNS responder (after the first try's 1 s timeout but within the 1 s + 2 s retry budget the daemon gets
// below, as the soak's 3 s is within its 2 s + 4 s), the first five through BIND.
constexpr const char* scenario = R"(
[lab]
perspectives = 6
description = "stall.test valid everywhere; perspective 6's DNS answers after 2 s; BIND is frozen by the test"

[zones."stall.test"]
records = [
  { name = "@", type = "A", value = "127.0.0.1" },
  { name = "@", type = "CAA", tag = "issue", value = "ca.example" },
  { name = "_acme-challenge", type = "TXT", value = "stall-dns01-digest" },
]

[[http]]
host = "stall.test"
path = "/.well-known/acme-challenge/stall-tok"
body = "stall-tok.thumbprint"

[[override]]
perspectives = [6]
dns = "stalled"
stall_ms = 2000
)";

// c-ares 1.18 doubles the per-try timeout after each round: 1 s + 2 s before a lookup times out.
constexpr auto first_try = 1000ms;
constexpr auto dns_budget = 3000ms;
constexpr auto before_freeze = 2000ms;
constexpr auto freeze = 4000ms; // longer than the budget: lookups sent early in it time out whatever BIND does next
constexpr auto after_freeze = 3000ms;

std::string body_for(std::uint64_t i) {
    const std::string trace = "stall-" + std::to_string(i);
    switch (i % 3) {
    case 0:
        return json{{"check_type", "caa"}, {"domain_or_ip_target", "stall.test"}, {"trace_identifier", trace}}.dump();
    case 1:
        return json{{"check_type", "dcv"},
                    {"domain_or_ip_target", "stall.test"},
                    {"trace_identifier", trace},
                    {"dcv_check_parameters",
                     {{"validation_method", "acme-dns-01"}, {"key_authorization_hash", "stall-dns01-digest"}}}}
            .dump();
    default:
        return json{{"check_type", "dcv"},
                    {"domain_or_ip_target", "stall.test"},
                    {"trace_identifier", trace},
                    {"dcv_check_parameters",
                     {{"validation_method", "acme-http-01"},
                      {"token", "stall-tok"},
                      {"key_authorization", "stall-tok.thumbprint"}}}}
            .dump();
    }
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool contains_timeout(const std::string& s) {
    return s.find("timeout") != std::string::npos || s.find("Timeout") != std::string::npos;
}

/// A steady load well under the daemon's limits (the soak runs at half its capacity): `clients` threads, each
/// sending one request (a new connection) every `period`, or at once when the previous one took longer.
std::vector<sample> paced_load(std::uint16_t port, std::chrono::milliseconds duration, int clients = 32,
                               std::chrono::milliseconds period = 200ms) {
    std::mutex m;
    std::vector<sample> all;
    std::atomic<std::uint64_t> sequence{0};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            auto next = start + period * c / clients;
            std::vector<sample> mine;
            while (next < start + duration) {
                std::this_thread::sleep_until(next);
                const auto i = sequence.fetch_add(1);
                mine.push_back(request_once(port, token_a, body_for(i), 20s));
                next = std::max(next + period, std::chrono::steady_clock::now());
            }
            std::lock_guard lock(m);
            all.insert(all.end(), mine.begin(), mine.end());
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    return all;
}

/// Resumes a stopped process when it goes out of scope, so no failure path leaves the lab's BIND frozen.
struct resume_on_exit {
    pid_t pid;
    ~resume_on_exit() { ::kill(pid, SIGCONT); }
};

/// What the audit log says about the decisions of one phase of the run.
struct tally {
    int valid = 0;
    int invalid = 0;
    int valid_without_quorum = 0;        ///< must stay 0: an approval without enough corroborations
    int invalid_not_fail_closed = 0;     ///< must stay 0: an invalid unit with an error other than a DNS timeout
    int cancelled_while_reachable = 0;   ///< must stay 0: the decision fired (and cancelled) before it was certain
    int count_mismatch = 0;              ///< must stay 0: quorum_result's count differs from the passes recorded
    std::map<std::string, int> timeouts; ///< DNS timeouts by perspective, over the invalid units
    int cancelled = 0;                   ///< perspectives cancelled once an invalid decision was certain
    int stalled_passed = 0;              ///< invalid units in which the stalled perspective 6 corroborated
    double slowest_ms = 0;
    double slowest_invalid_ms = 0;
    double fastest_invalid_ms = 1e9;
    std::string first_problem;

    std::string describe() const {
        std::ostringstream out;
        out << valid << " valid, " << invalid << " invalid, slowest " << static_cast<int>(slowest_ms) << " ms";
        if (invalid > 0) {
            out << " (decided after " << static_cast<int>(fastest_invalid_ms) << "-"
                << static_cast<int>(slowest_invalid_ms) << " ms)";
        }
        return out.str();
    }
};

/// daemon_config()'s sixth perspective: the lab's perspective 6, the stalled one.
constexpr const char* stalled = "ap-southeast";

/// Checks one audit record's units against the rule and adds it to `t`.
void classify(const json& record, tally& t) {
    const bool valid = record.value("is_valid", false);
    (valid ? t.valid : t.invalid) += 1;
    auto problem = [&](const std::string& what) {
        if (t.first_problem.empty()) {
            t.first_problem = record.value("trace_identifier", "?") + ": " + what;
        }
    };
    for (const auto& unit : record.value("results", json::array())) {
        const auto& attempts = unit.value("attempts", json::array());
        if (attempts.empty()) {
            ++t.count_mismatch;
            problem("a unit without attempts");
            continue;
        }
        const int n = unit.value("perspective_count", 0);
        const int q = unit.value("quorum_count", 0);
        int passes = 0, cancelled = 0;
        std::set<std::string> rirs, running_rirs;
        bool only_timeouts = true;
        for (const auto& p : attempts.back()) {
            const auto result = p.value("result", "");
            if (result == "pass" || result == "permission") {
                ++passes;
                rirs.insert(p.value("rir", ""));
                t.stalled_passed += !unit.value("is_valid", false) && p.value("perspective", "") == stalled ? 1 : 0;
                continue;
            }
            const auto& errors = p.value("errors", json::array());
            const std::string type = errors.empty() ? result : errors[0].value("type", "");
            const std::string message = errors.empty() ? "" : errors[0].value("message", "");
            if (type.ends_with(":cancelled")) {
                ++cancelled;
                running_rirs.insert(p.value("rir", ""));
            } else if (!(type.ends_with(":timeout") || (type.ends_with(":lookup") && contains_timeout(message)))) {
                only_timeouts = false;
            }
            if (!unit.value("is_valid", false)) {
                if (type.ends_with(":cancelled")) {
                    ++t.cancelled;
                } else {
                    ++t.timeouts[p.value("perspective", "?")];
                }
            }
        }
        t.slowest_ms = std::max(t.slowest_ms, unit.value("decided_after_ms", 0.0));
        const bool met = passes >= q && (n <= 2 || rirs.size() >= 2);
        for (const auto& r : rirs) {
            running_rirs.insert(r);
        }
        const bool reachable = passes + cancelled >= q && (n <= 2 || running_rirs.size() >= 2);
        const std::string counted = unit.value("quorum_result", "");
        if (counted.substr(0, counted.find('/')) != std::to_string(passes)) {
            ++t.count_mismatch;
            problem("quorum_result " + counted + " but " + std::to_string(passes) + " passes recorded");
        }
        if (unit.value("is_valid", false)) {
            if (!met) {
                ++t.valid_without_quorum;
                problem("valid with " + std::to_string(passes) + " passes (needs " + std::to_string(q) + ")");
            }
        } else {
            const double ms = unit.value("decided_after_ms", 0.0);
            t.slowest_invalid_ms = std::max(t.slowest_invalid_ms, ms);
            t.fastest_invalid_ms = std::min(t.fastest_invalid_ms, ms);
            if (met || !only_timeouts) {
                ++t.invalid_not_fail_closed;
                problem(met ? "invalid although the quorum was met" : "invalid with an error other than a DNS timeout");
            }
            if (reachable) {
                ++t.cancelled_while_reachable;
                problem("decided invalid while " + std::to_string(passes) + " passes + " + std::to_string(cancelled) +
                        " running could still reach " + std::to_string(q));
            }
        }
    }
}

TEST(frozen_resolver, fails_closed_and_every_approval_has_its_quorum) {
    temp_dir dir;
    auto lab = mpic::lab::start_lab_or_fail(scenario, true);
    ASSERT_NE(lab, nullptr);
    pid_t named = -1;
    for (const auto& s : lab->servers()) {
        named = s.name == "named" ? s.pid : named;
    }
    ASSERT_GT(named, 0);
    const auto summary = dir.write("lab.json", lab->summary_json());
    const auto audit = dir.path() + "/audit.jsonl";
    const auto config = dir.write("mpicd.toml", daemon_config(audit, "[engine]\nreactors = 2\n"
                                                                     "[dns]\ntimeout_ms = 1000\ntries = 2\n"));
    mpicd_process mpicd(dir.path());
    ASSERT_TRUE(mpicd.start({"--config", config, "--lab", summary, "--listen", "127.0.0.1:0"})) << mpicd.failure();

    std::atomic<std::int64_t> stopped_ms{0}, resumed_ms{0};
    resume_on_exit guard{named};
    std::thread freezer([&] {
        std::this_thread::sleep_for(before_freeze);
        stopped_ms = unix_ms();
        ::kill(named, SIGSTOP);
        std::this_thread::sleep_for(freeze);
        ::kill(named, SIGCONT);
        resumed_ms = unix_ms();
    });
    const auto samples = paced_load(mpicd.port(), before_freeze + freeze + after_freeze);
    freezer.join();
    const auto load = summarise(samples);
    const bool alive = ::kill(mpicd.pid(), 0) == 0;
    mpicd.kill_now(); // every 200 was answered after its record was durable: the log is complete

    // Each decision by when it arrived: before the freeze, during it (or just before: a request sent shortly
    // before SIGSTOP still has lookups in flight), after it. "After" starts 100 ms past SIGCONT so BIND has
    // drained what queued while it was stopped; a lookup whose first try was lost then has its retry answered.
    tally before, during, after;
    int records = 0;
    std::ifstream in(audit);
    for (std::string line; std::getline(in, line);) {
        const auto record = json::parse(line, nullptr, false);
        if (!record.is_object() || !record.value("trace_identifier", "").starts_with("stall-")) {
            continue;
        }
        ++records;
        const auto received = record.value("received_unix_ms", std::int64_t{0});
        classify(record, received < stopped_ms - 500 ? before : received < resumed_ms + 100 ? during : after);
    }
    int timeouts = 0;
    std::string by_perspective;
    for (const auto& [code, count] : during.timeouts) {
        timeouts += count;
        by_perspective += (by_perspective.empty() ? "" : ", ") + code + " " + std::to_string(count);
    }
    const std::string how = std::to_string(timeouts) + " DNS timeouts (" + by_perspective + "), " +
                            std::to_string(during.cancelled) + " cancelled; " + stalled + " corroborated in " +
                            std::to_string(during.stalled_passed) + " of " + std::to_string(during.invalid);
    auto s_of = [](std::chrono::milliseconds ms) {
        std::ostringstream out;
        out << static_cast<double>(ms.count()) / 1000 << " s";
        return out.str();
    };
    const auto budget_ms = static_cast<double>(dns_budget.count());
    auto broken = [](const tally& t) {
        return t.valid_without_quorum + t.invalid_not_fail_closed + t.cancelled_while_reachable + t.count_mismatch;
    };
    std::vector<fault_row> rows{
        {"32 clients x 5 req/s for " + s_of(before_freeze + freeze + after_freeze) + ", caa / dns-01 / http-01",
         "every request 200, one audit record each", load.describe(),
         load.ok == load.total && load.total > 0 && records == load.ok},
        {"before: perspective 6's DNS " + s_of(2000ms) + " late (retry budget " + s_of(dns_budget) + ")",
         "all valid (the quorum without it)", before.describe(),
         before.valid > 0 && before.invalid == 0 && broken(before) == 0},
        {"BIND (perspectives 1-5) SIGSTOPped " + s_of(freeze),
         "some invalid, by the DNS retry budget (>= " + s_of(dns_budget - 200ms) + ")", during.describe(),
         during.invalid > 0 && during.fastest_invalid_ms >= budget_ms - 200},
        {"  invalid units: why each perspective did not corroborate",
         "DNS timeout (fail-closed), or cancelled once the quorum was out of reach", how,
         during.invalid_not_fail_closed == 0 && during.cancelled_while_reachable == 0},
        {"  approvals during the freeze", "each with >= 4 corroborations from >= 2 RIRs",
         std::to_string(during.valid) + " valid, " + std::to_string(during.valid_without_quorum) + " without quorum",
         during.valid_without_quorum == 0 && during.count_mismatch == 0},
        {"after SIGCONT (+100 ms)",
         "all valid, each lookup answered at its first try (< " + s_of(first_try) +
             ": no answer taken by an older query)",
         after.describe(),
         after.valid > 0 && after.invalid == 0 && broken(after) == 0 &&
             after.slowest_ms < static_cast<double>(first_try.count())},
        {"daemon", "alive", alive ? "alive" : "DEAD", alive},
    };
    const bool ok = print_fault_table("stalled perspective + frozen resolver (the soak's invalid decisions)", rows);
    EXPECT_TRUE(ok);
    for (const auto* t : {&before, &during, &after}) {
        EXPECT_TRUE(t->first_problem.empty()) << t->first_problem;
    }
    if (!ok || HasFailure()) {
        dir.keep();
    }
}

} // namespace
} // namespace mpic::test::hardening
