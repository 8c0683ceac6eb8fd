#pragma once
// The diagnosis: from every perspective's complete answer to one request, the table (one row per perspective, one
// column per thing looked at, cells that differ from the majority marked), the verdict mpicd would give under the
// normal BR policy (quorum::evaluate with br_rule), and the likely causes derived from the pattern of differences.
// Pure: no I/O, so the rules are unit-tested on hand-made results.

#include <optional>
#include <string>
#include <vector>

#include "quorum/api/model.hh"
#include "quorum/policy.hh"

namespace mpic::mpic_check {

/// What the verdict is computed under (mpicd's policy in force).
struct verdict_context {
    quorum::policy_config policy;
    quorum::civil_date date{};
    std::optional<std::string> primary_code;    ///< set when the deployment has a primary perspective (standards §1.4)
    std::vector<std::string> issuer_domains;    ///< the CA's CAA issuer domains, for the cause texts
    std::string dns_record_type = "TXT";        ///< what a DNS DCV method looks for (dns-change: --record-type)
    std::vector<std::string> perspective_order; ///< rows are shown in this (configuration) order; others last
};

/// One table cell. `disagrees`: the value differs from the strict majority value of its column.
struct cell {
    std::string value;
    bool disagrees = false;
};

/// One perspective's row of one section.
struct perspective_row {
    std::string code;
    std::string rir;
    bool primary = false;
    bool completed = false;
    bool passed = false;
    std::vector<problem> errors;
    const validators::check_result* result = nullptr; ///< into the analysed outcomes (valid while they live)
    std::vector<cell> cells;                          ///< parallel to check_section::columns
};

/// The quorum verdict of one section, as mpicd would give it.
struct section_verdict {
    bool would_pass = false;
    int passed = 0;
    int perspective_count = 0; ///< remote perspectives (the primary is not counted, BR §3.2.2.9)
    int required = 0;
    bool rir_rule = false;
    std::vector<std::string> passed_rirs;
    std::string reason; ///< decided_by spelling ("quorum_reached", "rir_unreachable", ...)
    bool primary_failed = false;
    bool monitoring = false; ///< the phase in force does not enforce the quorum
    std::string line;        ///< "would PASS: 5/6 corroborate, 2 RIRs (ARIN, RIPE)"
};

/// One (name, check type): e.g. b.example, dcv acme-http-01.
struct check_section {
    std::string target;
    validators::check_type type = validators::check_type::dcv;
    std::string what; ///< "acme-http-01", "caa"
    std::vector<std::string> columns;
    std::vector<perspective_row> rows;
    section_verdict verdict;
    bool agreement = true; ///< no cell differs from its column's value in another row
};

/// One likely cause, in plain language, with a stable kind for machines and tests.
struct cause {
    std::string kind; ///< e.g. "split_horizon", "stale_record", "port_unreachable", "caa_split", "san_unreachable"
    std::string target;
    std::string check; ///< the section's `what`
    std::string text;
    std::vector<std::string> perspectives; ///< the perspectives concerned
};

/// The whole diagnosis.
struct report {
    std::vector<check_section> sections;
    std::vector<cause> causes;
    bool would_pass = false;
    bool agreement = true; ///< every section agrees (the --watch stop condition)
    std::string verdict_line;
    bool lab_mode = false;
    bool non_compliant = false;
    std::string compliance_note;
};

/// Builds the diagnosis. Precondition: every outcome holds the results of every perspective (monitoring mode).
/// The report points into `targets` (perspective_row::result): keep them alive while the report is used.
report analyse(const std::vector<quorum::target_outcome>& targets, const verdict_context& context);

/// The likely causes of the differences and failures in `sections` (causes.cc). Empty when everything agrees and
/// passes.
std::vector<cause> derive_causes(const std::vector<check_section>& sections, const verdict_context& context);

/// A short label for a problem, for table cells and cause grouping: "mismatch", "connection refused",
/// "connection closed", "timeout", "status 404", "prohibited", "tls_alpn:certificate:wrong_digest", ...
std::string error_label(const problem& p);

} // namespace mpic::mpic_check
