// Statistics for mpic-bench: percentiles by nearest rank over the full sample (no histogram buckets, so p99.9 of
// a few thousand requests is an observed value, not an interpolation), and the --profile breakdown.

#include "tools/mpic-bench/samples.hh"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

namespace mpic::bench {
namespace {

std::uint32_t field_us(const nlohmann::json& timings, std::string_view phase) {
    const std::string key = std::string(phase) + "_us";
    const auto it = timings.find(key);
    if (it == timings.end() || !it->is_number_unsigned()) {
        return 0;
    }
    return it->get<std::uint32_t>();
}

// One check's perspectives (Open MPIC shape or one `dcv`/`caa` object of the extension shape). Returns the network
// time the decision waited for (see profile_record::engine_added_us).
std::uint32_t read_check(const nlohmann::json& check, std::string_view check_name, profile_record& out) {
    const auto perspectives = check.find("perspectives");
    if (perspectives == check.end() || !perspectives->is_array()) {
        return 0;
    }
    std::vector<std::uint32_t> answered;
    for (const auto& p : *perspectives) {
        perspective_timing t;
        t.code = p.value("perspective_code", "");
        t.check = std::string(check_name);
        const auto response = p.find("check_response");
        if (response == p.end() || !response->is_object()) {
            continue;
        }
        if (response->value("check_passed", false)) {
            t.result = "pass";
        } else if (const auto errors = response->find("errors");
                   errors != response->end() && errors->is_array() && !errors->empty()) {
            t.result = (*errors)[0].value("error_type", "fail");
        } else {
            t.result = "fail";
        }
        if (const auto timings = response->find("timings"); timings != response->end() && timings->is_object()) {
            for (std::size_t i = 0; i < phase_names.size(); ++i) {
                t.us[i] = field_us(*timings, phase_names[i]);
            }
        }
        if (!t.result.ends_with(":cancelled")) {
            answered.push_back(t.us.back());
        }
        out.perspectives.push_back(std::move(t));
    }
    std::size_t quorum = 0;
    if (const auto actual = check.find("actual_orchestration_parameters");
        actual != check.end() && actual->is_object()) {
        quorum = actual->value("quorum_count", std::size_t{0});
    }
    if (answered.empty()) {
        return 0;
    }
    std::sort(answered.begin(), answered.end());
    const std::size_t q = std::clamp<std::size_t>(quorum, 1, answered.size());
    return answered[q - 1];
}

} // namespace

bool scan_decision(std::string_view body, bool& is_valid) noexcept {
    constexpr std::string_view key = R"("is_valid":)";
    const auto at = body.find(key);
    if (at == std::string_view::npos) {
        return false;
    }
    is_valid = body.substr(at + key.size()).starts_with("true");
    return true;
}

bool parse_profile(std::string_view body, std::uint32_t latency_us, profile_record& out) {
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        return false;
    }
    out.latency_us = latency_us;
    const double decided_ms = json.value("decided_after_ms", 0.0);
    out.decided_after_us = static_cast<std::uint32_t>(std::llround(decided_ms * 1000.0));
    std::uint32_t network_us = 0;
    if (json.contains("perspectives")) {
        network_us = read_check(json, json.value("check_type", "?"), out);
    } else if (const auto results = json.find("results"); results != json.end() && results->is_array()) {
        for (const auto& r : *results) {
            for (const char* name : {"dcv", "caa"}) {
                if (const auto c = r.find(name); c != r.end() && c->is_object()) {
                    network_us = std::max(network_us, read_check(*c, name, out));
                }
            }
        }
    } else {
        return false;
    }
    out.engine_added_us = static_cast<std::int64_t>(latency_us) - network_us;
    return true;
}

double percentile_sorted(const std::vector<double>& sorted, double p) noexcept {
    if (sorted.empty()) {
        return 0;
    }
    // Nearest rank: the smallest value with at least p% of the sample at or below it.
    // The epsilon keeps p99.9 of 1000 values at rank 999: 99.9 / 100 * 1000 is 999.0000000000001 in binary.
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size()) - 1e-9));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

latency_summary summarise(const std::vector<sample>& samples, bool decisions_only) {
    std::vector<double> values;
    values.reserve(samples.size());
    double sum = 0;
    for (const auto& s : samples) {
        if (decisions_only && s.result != outcome::valid && s.result != outcome::invalid) {
            continue;
        }
        values.push_back(s.latency_us);
        sum += s.latency_us;
    }
    std::sort(values.begin(), values.end());
    latency_summary out;
    out.count = values.size();
    if (values.empty()) {
        return out;
    }
    out.p50 = percentile_sorted(values, 50);
    out.p90 = percentile_sorted(values, 90);
    out.p99 = percentile_sorted(values, 99);
    out.p999 = percentile_sorted(values, 99.9);
    out.max = values.back();
    out.mean = sum / static_cast<double>(values.size());
    return out;
}

profile_summary summarise_profile(const std::vector<profile_record>& records) {
    profile_summary out;
    out.requests = records.size();
    std::array<std::vector<double>, phase_names.size()> phases;
    std::vector<double> decided;
    std::vector<double> added;
    std::vector<double> engine_only;
    std::vector<double> audit;
    for (const auto& r : records) {
        decided.push_back(r.decided_after_us);
        added.push_back(static_cast<double>(r.engine_added_us));
        engine_only.push_back(static_cast<double>(r.engine_added_us) - r.audit_us);
        audit.push_back(r.audit_us);
        for (const auto& p : r.perspectives) {
            // A cancelled check was stopped by the decision: its phases say nothing about the path it measured.
            if (p.result.ends_with(":cancelled")) {
                continue;
            }
            ++out.checks;
            for (std::size_t i = 0; i < phases.size(); ++i) {
                phases[i].push_back(p.us[i]);
            }
        }
    }
    for (std::size_t i = 0; i < phases.size(); ++i) {
        std::sort(phases[i].begin(), phases[i].end());
        out.median_us[i] = percentile_sorted(phases[i], 50);
        out.p99_us[i] = percentile_sorted(phases[i], 99);
    }
    std::sort(decided.begin(), decided.end());
    std::sort(added.begin(), added.end());
    out.decided_p50_us = percentile_sorted(decided, 50);
    out.decided_p99_us = percentile_sorted(decided, 99);
    out.engine_added_p50_us = percentile_sorted(added, 50);
    out.engine_added_p99_us = percentile_sorted(added, 99);
    out.engine_added_p999_us = percentile_sorted(added, 99.9);
    std::sort(engine_only.begin(), engine_only.end());
    std::sort(audit.begin(), audit.end());
    out.engine_only_p50_us = percentile_sorted(engine_only, 50);
    out.engine_only_p99_us = percentile_sorted(engine_only, 99);
    out.engine_only_p999_us = percentile_sorted(engine_only, 99.9);
    out.audit_p50_us = percentile_sorted(audit, 50);
    out.audit_p99_us = percentile_sorted(audit, 99);
    return out;
}

std::uint32_t server_timing_audit_us(std::string_view value) noexcept {
    // Server-Timing: metric *( OWS ";" OWS param ) *( OWS "," OWS metric ), param dur=<milliseconds>.
    while (!value.empty()) {
        const auto comma = value.find(',');
        std::string_view metric = value.substr(0, comma);
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
        while (!metric.empty() && (metric.front() == ' ' || metric.front() == '\t')) {
            metric.remove_prefix(1);
        }
        if (!metric.starts_with("audit") || (metric.size() > 5 && metric[5] != ';' && metric[5] != ' ')) {
            continue;
        }
        const auto dur = metric.find("dur=");
        if (dur == std::string_view::npos) {
            return 0;
        }
        double ms = 0;
        const auto text = metric.substr(dur + 4);
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
        if (ec != std::errc{} || ms < 0 || ms > 4.0e6) {
            return 0;
        }
        return static_cast<std::uint32_t>(ms * 1000.0 + 0.5);
    }
    return 0;
}

} // namespace mpic::bench
