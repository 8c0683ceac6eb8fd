#pragma once
// The numbers of bench_agent: what one round measured, and the tables printed from the rounds (per round, then per
// concurrency level the median and min–max of each metric for A and B, and the A/B ratio taken round by round).

#include <cstdint>
#include <vector>

#include "quorum/engine/engine.hh"

namespace mpic::bench {

/// Outcomes of a round's requests. checks counts perspective results that completed (every attempt).
struct round_counts {
    std::uint64_t requests = 0;
    std::uint64_t valid = 0;
    std::uint64_t invalid = 0; ///< a decision, but not valid (the lab says every request is valid: a failure)
    std::uint64_t errors = 0;  ///< no decision: request issues or an engine error
    std::uint64_t checks = 0;
    std::uint64_t checks_incomplete = 0; ///< perspective results that did not complete (timeouts, remote errors)

    void add(const quorum::submit_outcome& o);
};

/// One round of one variant. CPU in µs over the round; wall in seconds.
struct round_sample {
    double wall_s = 0;
    double coordinator_us = 0; ///< this process (getrusage)
    double agents_us = 0;      ///< every agent process (0 for in-process rounds, which use none)
    double lab_us = 0;         ///< the lab's servers
    std::uint64_t tcp_opened = 0;
    std::size_t established_end = 0;
    round_counts counts;
    std::vector<double> latency_ms;

    double per_check(double us) const { return counts.checks ? us / static_cast<double>(counts.checks) : 0; }
};

/// Both variants' rounds at one concurrency level, in order (a[i] and b[i] ran side by side).
struct level_result {
    int concurrency = 0;
    std::vector<round_sample> a, b;
};

void print_round_header();
void print_round(int round, const char* variant, int concurrency, const round_sample& s);
void print_summary(const std::vector<level_result>& levels);

} // namespace mpic::bench
