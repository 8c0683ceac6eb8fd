// Text and JSON output of mpic-bench. The figures follow performance.md: CPU µs per request (stable to ~10%) next
// to the rates (which swing ±30% on these machines), and latency percentiles by nearest rank over every request.

#include "tools/mpic-bench/report.hh"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

namespace mpic::bench {
namespace {

std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

std::string ms(double us) {
    return fmt("%.2f", us / 1000.0);
}

struct outcome_counts {
    std::uint64_t valid = 0, invalid = 0, http_error = 0, transport_error = 0;
};

outcome_counts count_outcomes(const std::vector<sample>& samples) {
    outcome_counts c;
    for (const auto& s : samples) {
        switch (s.result) {
        case outcome::valid:
            ++c.valid;
            break;
        case outcome::invalid:
            ++c.invalid;
            break;
        case outcome::http_error:
            ++c.http_error;
            break;
        case outcome::transport_error:
            ++c.transport_error;
            break;
        }
    }
    return c;
}

double per_request(const cpu_window& w, std::size_t requests) {
    return w.known && requests != 0 ? static_cast<double>(w.cpu_us) / static_cast<double>(requests) : 0;
}

nlohmann::json latency_json(const latency_summary& l) {
    return {{"count", l.count},        {"p50", l.p50 / 1000.0}, {"p90", l.p90 / 1000.0},  {"p99", l.p99 / 1000.0},
            {"p999", l.p999 / 1000.0}, {"max", l.max / 1000.0}, {"mean", l.mean / 1000.0}};
}

struct lag_figures {
    double p50 = 0, p99 = 0, max = 0;
};

lag_figures lag_summary(const std::vector<std::uint32_t>& lags_us) {
    std::vector<double> sorted(lags_us.begin(), lags_us.end());
    std::sort(sorted.begin(), sorted.end());
    return {percentile_sorted(sorted, 50), percentile_sorted(sorted, 99), sorted.empty() ? 0.0 : sorted.back()};
}

} // namespace

std::size_t window_requests(const run_report& r) noexcept {
    return r.load.samples.size();
}

double decisions_per_second(const run_report& r) noexcept {
    const auto c = count_outcomes(r.load.samples);
    return r.load.window_s > 0 ? static_cast<double>(c.valid + c.invalid) / r.load.window_s : 0;
}

std::string render_table(const run_report& r, const request_mix& mix) {
    std::ostringstream o;
    const auto c = count_outcomes(r.load.samples);
    const auto lat = summarise(r.load.samples, true);
    const std::size_t n = window_requests(r);
    o << "mpic-bench: " << (r.config.mode == load_mode::closed ? "closed loop, " : "open loop, ");
    if (r.config.mode == load_mode::closed) {
        o << r.config.concurrency << " concurrent";
    } else {
        o << fmt("%.0f", r.config.rate) << " req/s offered, at most " << r.config.concurrency << " outstanding";
    }
    o << ", warm-up " << r.config.warmup_s << " s, window " << r.config.duration_s << " s, mix " << r.mix;
    if (!r.scenario.empty()) {
        o << ", lab " << r.scenario;
    }
    o << "\n\n";
    o << "  requests        " << n << " in " << fmt("%.2f", r.load.window_s)
      << " s = " << fmt("%.0f", decisions_per_second(r)) << " decisions/s\n";
    o << "  outcomes        valid " << c.valid << "  invalid " << c.invalid << "  HTTP errors " << c.http_error
      << "  no response " << c.transport_error;
    if (c.http_error != 0) {
        o << "  (statuses:";
        for (const auto& [status, count] : r.load.statuses) {
            if (status != 200) {
                o << " " << status << "×" << count;
            }
        }
        o << ")";
    }
    o << "\n";
    o << "  latency (ms)    p50 " << ms(lat.p50) << "  p90 " << ms(lat.p90) << "  p99 " << ms(lat.p99) << "  p99.9 "
      << ms(lat.p999) << "  max " << ms(lat.max) << "  (decisions only, from the intended send time)\n";
    if (mix.entries().size() > 1) {
        for (std::size_t k = 0; k < mix.entries().size(); ++k) {
            std::vector<sample> of_kind;
            for (const auto& s : r.load.samples) {
                if (s.kind_index == k) {
                    of_kind.push_back(s);
                }
            }
            const auto l = summarise(of_kind, true);
            char line[160];
            std::snprintf(line, sizeof line, "    %-14s %7zu req  p50 %s  p99 %s  max %s\n",
                          std::string(to_string(mix.entries()[k].kind)).c_str(), of_kind.size(), ms(l.p50).c_str(),
                          ms(l.p99).c_str(), ms(l.max).c_str());
            o << line;
        }
    }
    if (r.daemon.known) {
        o << "  mpicd CPU       " << fmt("%.1f", per_request(r.daemon, n)) << " µs per request ("
          << fmt("%.2f", static_cast<double>(r.daemon.cpu_us) / 1e6) << " s over the window; /proc ticks are 10 ms)\n";
    }
    if (!r.daemon_threads_ns.empty() && n > 0) {
        o << "  mpicd threads  ";
        for (const auto& [name, ns] : r.daemon_threads_ns) {
            o << " " << name << " " << fmt("%.1f", static_cast<double>(ns) / 1e3 / static_cast<double>(n));
        }
        o << " µs per request (schedstat, ns resolution)\n";
    }
    if (r.daemon_end) {
        o << "  mpicd RSS       " << fmt("%.1f", static_cast<double>(r.daemon_end->rss_kib) / 1024.0) << " MiB (peak "
          << fmt("%.1f", static_cast<double>(r.daemon_end->hwm_kib) / 1024.0) << " MiB)\n";
    }
    if (r.lab.known) {
        o << "  lab CPU         " << fmt("%.1f", per_request(r.lab, n))
          << " µs per request (named, nginx, responders)\n";
    }
    if (r.client.known) {
        o << "  mpic-bench CPU  " << fmt("%.1f", per_request(r.client, n)) << " µs per request\n";
    }
    o << "  connections     " << r.load.connections_opened << " opened";
    if (r.config.mode == load_mode::open) {
        o << ", largest backlog " << r.load.max_backlog << " (requests due while " << r.config.concurrency
          << " were outstanding)";
    }
    if (r.config.mode == load_mode::open && !r.load.send_lag_us.empty()) {
        const auto lag = lag_summary(r.load.send_lag_us);
        o << "\n  send lag        p50 " << fmt("%.0f", lag.p50) << " µs, p99 " << fmt("%.0f", lag.p99) << " µs, max "
          << fmt("%.0f", lag.max) << " µs (the generator's own lateness, included in the latencies above)";
    }
    if (r.load.interrupted) {
        o << ", INTERRUPTED (partial results)";
    }
    if (r.load.cancelled_at_drain != 0) {
        o << ", " << r.load.cancelled_at_drain << " cancelled unanswered at the end (drain deadline or interrupt)";
    }
    o << "\n";
    return o.str();
}

std::string render_profile(const run_report& r) {
    std::ostringstream o;
    const auto p = summarise_profile(r.load.profiles);
    o << "\nprofile: " << p.requests << " responses, " << p.checks
      << " perspective checks (cancelled ones left out)\n\n";
    o << "  phase (per check)   median µs      p99 µs\n";
    for (std::size_t i = 0; i < phase_names.size(); ++i) {
        char line[128];
        std::snprintf(line, sizeof line, "  %-18s %10.0f  %10.0f\n", std::string(phase_names[i]).c_str(),
                      p.median_us[i], p.p99_us[i]);
        o << line;
    }
    o << "\n  decided_after (per request)   p50 " << ms(p.decided_p50_us) << " ms  p99 " << ms(p.decided_p99_us)
      << " ms\n";
    o << "  engine-added (latency − the quorum-deciding check's network time)   p50 "
      << fmt("%.0f", p.engine_added_p50_us) << " µs  p99 " << fmt("%.0f", p.engine_added_p99_us) << " µs  p99.9 "
      << fmt("%.0f", p.engine_added_p999_us) << " µs\n";
    o << "    of which the audit log's durable write (Server-Timing)   p50 " << fmt("%.0f", p.audit_p50_us)
      << " µs  p99 " << fmt("%.0f", p.audit_p99_us) << " µs\n";
    o << "    engine-added without it   p50 " << fmt("%.0f", p.engine_only_p50_us) << " µs  p99 "
      << fmt("%.0f", p.engine_only_p99_us) << " µs  p99.9 " << fmt("%.0f", p.engine_only_p999_us) << " µs\n";

    // Waterfall of the slowest 5: one bar per perspective on a common time axis (the request's latency).
    std::vector<const profile_record*> slowest;
    for (const auto& rec : r.load.profiles) {
        slowest.push_back(&rec);
    }
    const std::size_t k = std::min<std::size_t>(5, slowest.size());
    std::partial_sort(slowest.begin(), slowest.begin() + static_cast<long>(k), slowest.end(),
                      [](const auto* a, const auto* b) { return a->latency_us > b->latency_us; });
    o << "\n  slowest " << k << " requests (bar = the request's latency; q queue, d dns, c connect, t tls, "
      << "f first byte, b body, . rest of the check)\n";
    constexpr int width = 50;
    for (std::size_t i = 0; i < k; ++i) {
        const auto& rec = *slowest[i];
        o << "\n  #" << i + 1 << "  latency " << ms(rec.latency_us) << " ms, decided after " << ms(rec.decided_after_us)
          << " ms, engine-added " << fmt("%.0f", static_cast<double>(rec.engine_added_us)) << " µs\n";
        const double scale = rec.latency_us > 0 ? width / static_cast<double>(rec.latency_us) : 0;
        for (const auto& pt : rec.perspectives) {
            std::string bar;
            static constexpr char marks[] = {'q', 'd', 'c', 't', 'f', 'b'};
            std::uint32_t phases_us = 0;
            for (std::size_t ph = 0; ph < 6; ++ph) {
                const int cells = static_cast<int>(pt.us[ph] * scale + 0.5);
                bar.append(static_cast<std::size_t>(std::max(0, cells)), marks[ph]);
                phases_us += pt.us[ph];
            }
            const std::uint32_t rest = pt.us[6] > phases_us ? pt.us[6] - phases_us : 0;
            bar.append(static_cast<std::size_t>(std::max(0, static_cast<int>(rest * scale + 0.5))), '.');
            if (bar.size() > width) {
                bar.resize(width);
            }
            char line[256];
            std::snprintf(line, sizeof line, "    %-13s %-3s |%-50s| %8s ms  %s\n", pt.code.c_str(), pt.check.c_str(),
                          bar.c_str(), ms(pt.us[6]).c_str(), pt.result.c_str());
            o << line;
        }
    }
    return o.str();
}

std::string render_json(const run_report& r, const request_mix& mix) {
    const auto c = count_outcomes(r.load.samples);
    const std::size_t n = window_requests(r);
    nlohmann::json j;
    j["mode"] = r.config.mode == load_mode::closed ? "closed" : "open";
    j["concurrency"] = r.config.concurrency;
    j["rate"] = r.config.mode == load_mode::open ? nlohmann::json(r.config.rate) : nlohmann::json(nullptr);
    j["warmup_s"] = r.config.warmup_s;
    j["duration_s"] = r.config.duration_s;
    j["mix"] = r.mix;
    j["scenario"] = r.scenario.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.scenario);
    j["requests"] = n;
    j["window_s"] = r.load.window_s;
    j["requests_per_s"] = r.load.window_s > 0 ? static_cast<double>(n) / r.load.window_s : 0;
    j["decisions_per_s"] = decisions_per_second(r);
    j["outcomes"] = {{"valid", c.valid},
                     {"invalid", c.invalid},
                     {"http_error", c.http_error},
                     {"transport_error", c.transport_error}};
    nlohmann::json statuses = nlohmann::json::object();
    for (const auto& [status, count] : r.load.statuses) {
        statuses[std::to_string(status)] = count;
    }
    j["statuses"] = statuses;
    j["latency_ms"] = latency_json(summarise(r.load.samples, true));
    nlohmann::json kinds = nlohmann::json::object();
    for (std::size_t k = 0; k < mix.entries().size(); ++k) {
        std::vector<sample> of_kind;
        for (const auto& s : r.load.samples) {
            if (s.kind_index == k) {
                of_kind.push_back(s);
            }
        }
        kinds[std::string(to_string(mix.entries()[k].kind))] = {{"requests", of_kind.size()},
                                                                {"latency_ms", latency_json(summarise(of_kind, true))}};
    }
    j["per_kind"] = kinds;
    auto cpu = [&](const cpu_window& w) -> nlohmann::json {
        if (!w.known) {
            return nullptr;
        }
        return {{"cpu_s", static_cast<double>(w.cpu_us) / 1e6}, {"cpu_us_per_request", per_request(w, n)}};
    };
    j["daemon"] = cpu(r.daemon);
    if (r.daemon.known) {
        j["daemon"]["pid"] = r.daemon_pid;
    }
    if (r.daemon_end) {
        j["daemon"]["rss_kib"] = r.daemon_end->rss_kib;
        j["daemon"]["hwm_kib"] = r.daemon_end->hwm_kib;
    }
    if (!r.daemon_threads_ns.empty()) {
        nlohmann::json threads = nlohmann::json::object();
        for (const auto& [name, ns] : r.daemon_threads_ns) {
            threads[name] = {
                {"cpu_s", static_cast<double>(ns) / 1e9},
                {"cpu_us_per_request", n > 0 ? static_cast<double>(ns) / 1e3 / static_cast<double>(n) : 0.0}};
        }
        j["daemon"]["threads"] = threads;
    }
    j["client"] = cpu(r.client);
    j["lab"] = cpu(r.lab);
    j["connections_opened"] = r.load.connections_opened;
    j["max_backlog"] = r.load.max_backlog;
    if (r.config.mode == load_mode::open) {
        const auto lag = lag_summary(r.load.send_lag_us);
        j["send_lag_us"] = {{"p50", lag.p50}, {"p99", lag.p99}, {"max", lag.max}};
    }
    j["cancelled_at_drain"] = r.load.cancelled_at_drain;
    j["interrupted"] = r.load.interrupted;
    if (r.config.profile) {
        const auto p = summarise_profile(r.load.profiles);
        nlohmann::json phases = nlohmann::json::object();
        for (std::size_t i = 0; i < phase_names.size(); ++i) {
            phases[std::string(phase_names[i])] = {{"median_us", p.median_us[i]}, {"p99_us", p.p99_us[i]}};
        }
        j["profile"] = {
            {"responses", p.requests},
            {"checks", p.checks},
            {"phases", phases},
            {"decided_after_us", {{"p50", p.decided_p50_us}, {"p99", p.decided_p99_us}}},
            {"engine_added_us",
             {{"p50", p.engine_added_p50_us}, {"p99", p.engine_added_p99_us}, {"p999", p.engine_added_p999_us}}},
            {"audit_us", {{"p50", p.audit_p50_us}, {"p99", p.audit_p99_us}}},
            {"engine_added_without_audit_us",
             {{"p50", p.engine_only_p50_us}, {"p99", p.engine_only_p99_us}, {"p999", p.engine_only_p999_us}}}};
    } else {
        j["profile"] = nullptr;
    }
    return j.dump(2);
}

} // namespace mpic::bench
