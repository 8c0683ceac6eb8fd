#include "bench/agent/round_stats.hh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

namespace mpic::bench {
namespace {

void count_outcome(const quorum::check_outcome& c, round_counts& n) {
    auto add = [&](const std::vector<quorum::perspective_result>& attempt) {
        for (const auto& p : attempt) {
            (p.result.completed ? n.checks : n.checks_incomplete) += 1;
        }
    };
    add(c.perspectives);
    for (const auto& attempt : c.previous_attempts) {
        add(attempt);
    }
}

/// Nearest-rank percentile of an unsorted copy; 0 for no values.
double percentile(std::vector<double> v, double q) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

struct spread {
    double median = 0, min = 0, max = 0;
};

spread spread_of(std::vector<double> v) {
    if (v.empty()) {
        return {};
    }
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return {median, v.front(), v.back()};
}

using metric_fn = std::function<double(const round_sample&)>;

double requests_per_s(const round_sample& s) {
    return static_cast<double>(s.counts.requests) / s.wall_s;
}
double checks_per_s(const round_sample& s) {
    return static_cast<double>(s.counts.checks) / s.wall_s;
}

std::string cell(const spread& s, int precision) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f [%.*f–%.*f]", precision, s.median, precision, s.min, precision, s.max);
    return buf;
}

} // namespace

void round_counts::add(const quorum::submit_outcome& o) {
    ++requests;
    if (!o.response) {
        ++errors;
        return;
    }
    (o.response->is_valid() ? valid : invalid) += 1;
    for (const auto& t : o.response->targets) {
        if (t.caa) {
            count_outcome(*t.caa, *this);
        }
        if (t.dcv) {
            count_outcome(*t.dcv, *this);
        }
    }
}

void print_round_header() {
    std::printf("\n%-5s %-12s %5s %8s %7s %9s %9s %11s %11s %9s %8s %8s %6s %6s %s\n", "round", "variant", "conc",
                "requests", "wall_s", "req/s", "checks/s", "coord_us/ck", "agent_us/ck", "lab_us/ck", "p50_ms",
                "p99_ms", "tcp_op", "estab", "failures");
}

void print_round(int round, const char* variant, int concurrency, const round_sample& s) {
    const auto& n = s.counts;
    std::printf("%-5d %-12s %5d %8llu %7.2f %9.0f %9.0f %11.1f %11.1f %9.1f %8.2f %8.2f %6llu %6zu %llu\n", round,
                variant, concurrency, static_cast<unsigned long long>(n.requests), s.wall_s, requests_per_s(s),
                checks_per_s(s), s.per_check(s.coordinator_us), s.per_check(s.agents_us), s.per_check(s.lab_us),
                percentile(s.latency_ms, 0.50), percentile(s.latency_ms, 0.99),
                static_cast<unsigned long long>(s.tcp_opened), s.established_end,
                static_cast<unsigned long long>(n.invalid + n.errors + n.checks_incomplete));
    std::fflush(stdout);
}

void print_summary(const std::vector<level_result>& levels) {
    struct metric {
        const char* name;
        metric_fn f;
        int precision;
    };
    const std::vector<metric> metrics = {
        {"requests/s", requests_per_s, 0},
        {"checks/s", checks_per_s, 0},
        {"coordinator CPU µs/check", [](const round_sample& s) { return s.per_check(s.coordinator_us); }, 1},
        {"agents CPU µs/check", [](const round_sample& s) { return s.per_check(s.agents_us); }, 1},
        {"coord+agents CPU µs/check", [](const round_sample& s) { return s.per_check(s.coordinator_us + s.agents_us); },
         1},
        {"lab CPU µs/check", [](const round_sample& s) { return s.per_check(s.lab_us); }, 1},
        {"latency p50 ms", [](const round_sample& s) { return percentile(s.latency_ms, 0.5); }, 2},
        {"latency p99 ms", [](const round_sample& s) { return percentile(s.latency_ms, 0.99); }, 2},
        {"TCP connections opened", [](const round_sample& s) { return static_cast<double>(s.tcp_opened); }, 0},
        {"established to agents at end", [](const round_sample& s) { return static_cast<double>(s.established_end); },
         0},
    };
    for (const auto& level : levels) {
        std::printf("\n## concurrency %d: median [min–max] over %zu rounds; A/B = per-round ratio A_i/B_i\n",
                    level.concurrency, level.a.size());
        std::printf("%-30s %-28s %-28s %s\n", "metric", "A: remote agents (mTLS)", "B: in-process", "A/B");
        for (const auto& m : metrics) {
            std::vector<double> a, b, ratio;
            for (std::size_t i = 0; i < level.a.size() && i < level.b.size(); ++i) {
                a.push_back(m.f(level.a[i]));
                b.push_back(m.f(level.b[i]));
                if (b.back() != 0) {
                    ratio.push_back(a.back() / b.back());
                }
            }
            std::printf("%-30s %-28s %-28s %s\n", m.name, cell(spread_of(a), m.precision).c_str(),
                        cell(spread_of(b), m.precision).c_str(),
                        ratio.empty() ? "-" : cell(spread_of(ratio), 2).c_str());
        }
        std::uint64_t checks = 0, opened = 0;
        for (const auto& s : level.a) {
            checks += s.counts.checks;
            opened += s.tcp_opened;
        }
        std::printf("A: %llu agent checks over %llu new TCP connections (%.0f checks per connection)\n",
                    static_cast<unsigned long long>(checks), static_cast<unsigned long long>(opened),
                    opened ? static_cast<double>(checks) / static_cast<double>(opened) : 0.0);
    }
    std::fflush(stdout);
}

} // namespace mpic::bench
