#pragma once
// The engine's request and response model: Open MPIC v3.9.0 (api.md) plus our extensions (dcv_with_caa, several
// targets, deadlines, timings). Pure data; the JSON codec is in quorum/api/json_*.cc.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/name/identifier.hh"
#include "quorum/policy.hh"
#include "validators/check.hh"

namespace mpic::quorum {

/// What a request asks for. dcv_with_caa is our extension: DCV and CAA, each with its own quorum.
enum class request_kind : std::uint8_t { caa, dcv, dcv_with_caa };
std::string_view to_string(request_kind kind) noexcept;

/// One API-level problem with a request: api.md's `validation_issues` item.
/// (Distinct from quorum::validation_issue, whose types are the orchestration subset.)
struct request_issue {
    std::string issue_type; ///< stable key, e.g. "invalid-quorum-count"
    std::string message;    ///< names the field and what was wrong
};

/// A parsed, type-checked request. Invariant: targets is non-empty and every target parsed as an identifier;
/// the dcv parameters are present and complete when kind != caa.
struct mpic_request {
    request_kind kind = request_kind::dcv;
    std::vector<net::identifier> targets;
    bool targets_field = false; ///< the request used `targets` (the extension) rather than `domain_or_ip_target`
    std::string trace_identifier;
    std::optional<orchestration_request> orchestration; ///< as sent (ranges checked by validate_orchestration);
                                                        ///< nullopt when absent (echoed as null)
    validators::caa_parameters caa;
    validators::dcv_parameters dcv;
};

/// One perspective's answer within an attempt.
struct perspective_result {
    std::string code; ///< perspective_code
    std::string rir;  ///< "ARIN", "RIPE", ...
    validators::check_result result;
};

/// The decision for one target and one check type (api.md response, per check).
struct check_outcome {
    validators::check_type type = validators::check_type::dcv;
    bool is_valid = false;
    bool mpic_completed = false;
    int perspective_count = 0;
    int quorum_count = 0;
    int attempt_count = 0;
    std::string quorum_result;                                      ///< BR §5.4.1 form "p/n" for the deciding attempt
    std::vector<perspective_result> perspectives;                   ///< the deciding (last) attempt
    std::vector<std::vector<perspective_result>> previous_attempts; ///< earlier attempts, oldest first
    double decided_after_ms = 0;
};

/// The result for one target: a DCV outcome, a CAA outcome, or both.
struct target_outcome {
    net::identifier target;
    std::optional<check_outcome> dcv;
    std::optional<check_outcome> caa;
    bool is_valid() const noexcept { return (!dcv || dcv->is_valid) && (!caa || caa->is_valid); }
    bool mpic_completed() const noexcept { return (!dcv || dcv->mpic_completed) && (!caa || caa->mpic_completed); }
};

/// The whole answer to one request.
struct mpic_response {
    mpic_request request; ///< echoed, with defaults filled in
    std::vector<target_outcome> targets;
    bool lab_mode = false;       ///< ports and addresses were mapped for the lab; never a real validation
    bool non_compliant = false;  ///< the perspective set does not meet the BR policy in force (development override)
    std::string compliance_note; ///< why non_compliant, empty otherwise
    std::string policy_table;    ///< the quorum table applied ("br" or "strict")
    std::string policy_date;     ///< the date whose BR phase-in applied, YYYY-MM-DD
    std::uint32_t decided_after_us = 0;

    bool is_valid() const noexcept {
        for (const auto& t : targets) {
            if (!t.is_valid()) {
                return false;
            }
        }
        return !targets.empty();
    }
    bool mpic_completed() const noexcept {
        for (const auto& t : targets) {
            if (!t.mpic_completed()) {
                return false;
            }
        }
        return true;
    }
};

} // namespace mpic::quorum
