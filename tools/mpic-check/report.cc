// The table and the verdict of the diagnosis. The verdict is recomputed, not taken from the response: mpic-check
// asked for monitoring mode (quorum_count 0) so that every perspective reports, and a monitoring response is always
// "valid" (api.md). The verdict mpicd would give is quorum::evaluate() on those complete results under the BR rule
// for n remote perspectives on the policy date (BR §3.2.2.9: n-1 of 2–5, n-2 of 6+, two RIRs from 2026-03-15).

#include "tools/mpic-check/report.hh"

#include <algorithm>
#include <map>

#include "quorum/decision.hh"
#include "quorum/perspective.hh"

namespace mpic::mpic_check {
namespace {

using validators::check_result;
using validators::check_type;
using validators::validation_method;

enum class method_family { caa, dns, http, tls_alpn };

method_family family_of(const quorum::check_outcome& outcome) {
    if (outcome.type == check_type::caa) {
        return method_family::caa;
    }
    for (const auto& p : outcome.perspectives) {
        if (!p.result.method) {
            continue;
        }
        switch (*p.result.method) {
        case validation_method::acme_http_01:
        case validation_method::website_change:
            return method_family::http;
        case validation_method::acme_tls_alpn_01:
            return method_family::tls_alpn;
        default:
            return method_family::dns;
        }
    }
    return method_family::dns;
}

std::string method_name(const quorum::check_outcome& outcome) {
    if (outcome.type == check_type::caa) {
        return "caa";
    }
    for (const auto& p : outcome.perspectives) {
        if (p.result.method) {
            return std::string(validators::to_string(*p.result.method));
        }
    }
    return "dcv";
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += separator;
        }
        out += item;
    }
    return out;
}

std::string or_dash(const std::string& value) {
    return value.empty() ? "-" : value;
}

bool has_error(const check_result& r, std::string_view label) {
    return std::any_of(r.errors.begin(), r.errors.end(), [&](const problem& p) { return error_label(p) == label; });
}

std::string result_cell(const check_result& r, check_type type) {
    if (r.completed && r.passed) {
        return type == check_type::caa ? "permit" : "pass";
    }
    std::string label = r.errors.empty() ? "no answer" : error_label(r.errors.front());
    if (type == check_type::caa && label == "prohibited") {
        return "forbid";
    }
    return (r.completed ? "fail: " : "error: ") + label;
}

std::string http_cell(const check_result& r) {
    std::vector<std::string> statuses;
    for (const auto& hop : r.details.response_history) {
        statuses.push_back(std::to_string(hop.status));
    }
    if (statuses.empty() && r.details.response_status_code != 0) {
        statuses.push_back(std::to_string(r.details.response_status_code));
    }
    if (statuses.empty()) {
        return r.errors.empty() ? "-" : error_label(r.errors.front());
    }
    return join(statuses, " > ");
}

std::string body_cell(const check_result& r) {
    if (r.completed && r.passed) {
        return "match";
    }
    if (has_error(r, "mismatch")) {
        return "mismatch";
    }
    return "-";
}

std::string tls_alpn_cell(const check_result& r) {
    if (r.completed && r.passed) {
        return r.details.common_name.empty() ? "ok" : "ok (" + r.details.common_name + ")";
    }
    return r.errors.empty() ? "-" : error_label(r.errors.front());
}

std::string records_cell(const check_result& r) {
    return r.details.records_seen.empty() ? "(none)" : join(r.details.records_seen, " | ");
}

/// Columns and the cell extractor of each method family.
struct column_def {
    std::string name;
    std::string (*value)(const check_result&);
};

std::vector<column_def> columns_for(method_family family, const verdict_context& context) {
    auto ip = [](const check_result& r) { return or_dash(r.details.resolved_ip); };
    auto chain = [](const check_result& r) {
        return r.details.cname_chain.empty() ? std::string("-") : join(r.details.cname_chain, " > ");
    };
    auto found_at = [](const check_result& r) { return or_dash(r.details.found_at); };
    auto rcode = [](const check_result& r) { return or_dash(r.details.response_code); };
    switch (family) {
    case method_family::caa:
        return {{"CAA set", records_cell}, {"found at", found_at}, {"CNAME chain", chain}};
    case method_family::http:
        return {{"A/AAAA", ip},
                {"HTTP", http_cell},
                {"final URL", [](const check_result& r) { return or_dash(r.details.response_url); }},
                {"body", body_cell}};
    case method_family::tls_alpn:
        return {{"A/AAAA", ip}, {"TLS-ALPN", tls_alpn_cell}};
    case method_family::dns:
        break;
    }
    return {{"rcode", rcode},
            {context.dns_record_type + " seen", records_cell},
            {"found at", found_at},
            {"CNAME chain", chain}};
}

/// Marks the cells that differ from their column's majority. The reference value is the most frequent one; a tie
/// goes to the value more passing perspectives hold (they are the ones that corroborate).
void mark_disagreements(check_section& section) {
    for (std::size_t c = 0; c < section.columns.size(); ++c) {
        std::map<std::string, std::pair<int, int>> counts; // value -> (rows, passing rows)
        for (const auto& row : section.rows) {
            auto& entry = counts[row.cells[c].value];
            ++entry.first;
            entry.second += row.passed ? 1 : 0;
        }
        if (counts.size() <= 1) {
            continue;
        }
        section.agreement = false;
        auto best = counts.begin();
        for (auto it = counts.begin(); it != counts.end(); ++it) {
            if (it->second > best->second) {
                best = it;
            }
        }
        for (auto& row : section.rows) {
            // "-" is the absence of a value (a stage not reached): not worth highlighting on its own.
            row.cells[c].disagrees = row.cells[c].value != best->first && row.cells[c].value != "-";
        }
    }
}

quorum::report_state state_of(const check_result& r) {
    if (r.completed && r.passed) {
        return quorum::report_state::passed;
    }
    return r.completed ? quorum::report_state::failed : quorum::report_state::not_completed;
}

section_verdict compute_verdict(const check_section& section, const verdict_context& context) {
    section_verdict v;
    quorum::decision_config config;
    std::vector<quorum::report_state> states;
    quorum::primary_state primary = quorum::primary_state::absent;
    std::string primary_code;
    for (const auto& row : section.rows) {
        if (row.primary) {
            primary = row.completed && row.passed ? quorum::primary_state::passed : quorum::primary_state::failed;
            primary_code = row.code;
            continue;
        }
        config.remotes.push_back({row.code, quorum::parse_rir(row.rir).value_or(quorum::rir::arin)});
        states.push_back(row.result != nullptr ? state_of(*row.result) : quorum::report_state::not_completed);
    }
    const int n = static_cast<int>(config.remotes.size());
    v.perspective_count = n;
    if (n == 0) {
        v.line = "would FAIL: no remote perspective answered";
        v.reason = "no_perspectives";
        return v;
    }
    config.rule = quorum::br_rule(n, context.date, context.policy);
    config.mode = primary == quorum::primary_state::absent ? quorum::corroboration_mode::all_remote
                                                           : quorum::corroboration_mode::primary_decides;
    if (!primary_code.empty()) {
        config.primary_code = primary_code;
    }
    const auto outcome = quorum::evaluate(config, primary, states);
    v.would_pass = outcome.is_valid;
    v.passed = outcome.passed;
    v.required = outcome.required;
    v.rir_rule = config.rule.rir_rule;
    v.monitoring = outcome.decision == quorum::verdict::monitoring;
    v.primary_failed = outcome.reason == quorum::decided_by::primary_failed;
    v.reason = std::string(quorum::to_string(outcome.reason));
    for (auto region : outcome.passed_rirs) {
        v.passed_rirs.emplace_back(quorum::to_string(region));
    }
    const std::string tally = std::to_string(v.passed) + "/" + std::to_string(n) + " corroborate";
    const std::string rirs = std::to_string(v.passed_rirs.size()) + (v.passed_rirs.size() == 1 ? " RIR" : " RIRs") +
                             (v.passed_rirs.empty() ? "" : " (" + join(v.passed_rirs, ", ") + ")");
    if (v.primary_failed) {
        v.line = "would FAIL: the primary perspective " + primary_code + " failed (" + tally + ")";
    } else if (v.monitoring && !outcome.quorum_met) {
        v.line = "would PASS (monitor-only phase on " + quorum::to_string(context.date) + "): " + tally + ", " +
                 std::to_string(v.required) + " required";
    } else if (v.would_pass) {
        v.line = "would PASS: " + tally + " (" + std::to_string(v.required) + " required), " + rirs;
    } else if (v.passed >= v.required) {
        v.line = "would FAIL: " + tally + " but from " + rirs + "; corroboration from 2 RIRs is required";
    } else {
        v.line = "would FAIL: " + tally + ", " + std::to_string(v.required) + " required";
    }
    return v;
}

check_section make_section(const quorum::target_outcome& target, const quorum::check_outcome& outcome,
                           const verdict_context& context) {
    check_section section;
    section.target = target.target.requested();
    section.type = outcome.type;
    section.what = method_name(outcome);
    const auto defs = columns_for(family_of(outcome), context);
    section.columns.push_back("result");
    for (const auto& d : defs) {
        section.columns.push_back(d.name);
    }
    for (const auto& p : outcome.perspectives) {
        perspective_row row;
        row.code = p.code;
        row.rir = p.rir;
        row.primary = context.primary_code && *context.primary_code == p.code;
        row.completed = p.result.completed;
        row.passed = p.result.completed && p.result.passed;
        row.errors = p.result.errors;
        row.result = &p.result;
        row.cells.push_back({result_cell(p.result, outcome.type), false});
        for (const auto& d : defs) {
            row.cells.push_back({d.value(p.result), false});
        }
        section.rows.push_back(std::move(row));
    }
    auto rank = [&](const perspective_row& row) {
        const auto& order = context.perspective_order;
        return std::find(order.begin(), order.end(), row.code) - order.begin();
    };
    std::stable_sort(section.rows.begin(), section.rows.end(),
                     [&](const perspective_row& a, const perspective_row& b) { return rank(a) < rank(b); });
    mark_disagreements(section);
    section.verdict = compute_verdict(section, context);
    return section;
}

} // namespace

std::string error_label(const problem& p) {
    std::string_view type = p.type;
    constexpr std::string_view prefix = "mpic_error:";
    if (type.substr(0, prefix.size()) == prefix) {
        type.remove_prefix(prefix.size());
    }
    const std::string& m = p.message;
    auto contains = [&](std::string_view needle) { return m.find(needle) != std::string::npos; };
    if (type == "http") {
        // net/http reports "<stage> <url>: <error>" (validators/http/http_validation.cc).
        if (contains("HTTP status ")) {
            auto at = m.find("HTTP status ") + 12;
            return "status " + m.substr(at, m.find(' ', at) - at);
        }
        if (contains("refused")) {
            return "connection refused";
        }
        if (contains("timed out") || contains("timeout")) {
            return "timeout";
        }
        if (contains("end of file") || contains("reset") || contains("closed") || contains("broken pipe")) {
            return "connection closed";
        }
        if (contains("larger than")) {
            return "body too large";
        }
        return "http error";
    }
    for (std::string_view component : {"dcv_checker:", "caa_checker:", "coordinator:"}) {
        if (type.substr(0, component.size()) == component) {
            type.remove_prefix(component.size());
            break;
        }
    }
    if (type == "lookup" && (contains("timed out") || contains("timeout"))) {
        return "dns timeout";
    }
    if (type == "lookup" && contains("SERVFAIL")) {
        return "dns servfail";
    }
    if (type == "lookup" && contains("NXDOMAIN")) {
        return "nxdomain";
    }
    return std::string(type);
}

report analyse(const std::vector<quorum::target_outcome>& targets, const verdict_context& context) {
    report out;
    out.would_pass = !targets.empty();
    std::vector<std::string> failing;
    for (const auto& target : targets) {
        for (const auto* outcome : {&target.dcv, &target.caa}) {
            if (!*outcome) {
                continue;
            }
            out.sections.push_back(make_section(target, **outcome, context));
            const auto& s = out.sections.back();
            out.agreement = out.agreement && s.agreement;
            if (!s.verdict.would_pass) {
                out.would_pass = false;
                failing.push_back(s.target + " " + s.what + " (" +
                                  s.verdict.line.substr(s.verdict.line.find(": ") + 2) + ")");
            }
        }
    }
    if (out.sections.size() == 1) {
        out.verdict_line = out.sections.front().verdict.line;
    } else if (out.would_pass) {
        out.verdict_line = "would PASS: all " + std::to_string(out.sections.size()) + " checks";
    } else {
        out.verdict_line = "would FAIL: " + join(failing, "; ");
    }
    out.causes = derive_causes(out.sections, context);
    return out;
}

} // namespace mpic::mpic_check
