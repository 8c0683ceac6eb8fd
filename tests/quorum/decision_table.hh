#pragma once
// The decision table the quorum tests prove: for n = 2..8 remote perspectives and k of them failing, what the rule
// decides. Reusable by the attack simulations (how many perspectives an attacker must capture or blind).

#include <sstream>
#include <string>
#include <vector>

#include "quorum/decision.hh"

namespace mpic::quorum::test {

/// One row: n remotes, k failing (the last k), the primary passing.
struct decision_row {
    int n = 0;
    int k = 0;
    int required = 0;
    verdict decision = verdict::invalid;
    bool quorum_met = false;
    std::string quorum_result;
};

/// Remotes are spread round-robin over ARIN, RIPE, APNIC, so any >= 2 passing remotes span >= 2 RIRs; a single
/// passing remote spans one (the RIR rule then fails it).
inline std::vector<decision_row> decision_table(quorum_table table, civil_date date, corroboration_mode mode,
                                                int n_min = 2, int n_max = 8) {
    std::vector<decision_row> rows;
    policy_config policy;
    policy.table = table;
    for (int n = n_min; n <= n_max; ++n) {
        decision_config c;
        c.rule = br_rule(n, date, policy);
        c.mode = mode;
        for (int i = 0; i < n; ++i) {
            c.remotes.push_back({"p" + std::to_string(i), static_cast<rir>(i % 3)});
        }
        for (int k = 0; k <= n; ++k) {
            std::vector<report_state> states(static_cast<std::size_t>(n), report_state::passed);
            for (int i = n - k; i < n; ++i) {
                states[static_cast<std::size_t>(i)] = report_state::failed;
            }
            const primary_state primary =
                mode == corroboration_mode::primary_decides ? primary_state::passed : primary_state::absent;
            const quorum_outcome o = evaluate(c, primary, states);
            rows.push_back({n, k, c.rule.required, o.decision, o.quorum_met, o.quorum_result});
        }
    }
    return rows;
}

/// "n  k  required  decision  quorum_result" lines, one per row.
inline std::string format_decision_table(const std::vector<decision_row>& rows) {
    std::ostringstream out;
    out << " n  k  req  decision    log\n";
    for (const decision_row& r : rows) {
        out << (r.n < 10 ? " " : "") << r.n << " " << (r.k < 10 ? " " : "") << r.k << "  " << r.required << "    "
            << to_string(r.decision) << std::string(12 - to_string(r.decision).size(), ' ') << r.quorum_result << "\n";
    }
    return out.str();
}

} // namespace mpic::quorum::test
