#pragma once
// The audit record of one decision (BR §5.4.1 items 2.7/2.8): per perspective its identifier, the attempted
// domain or IP, the result (domain validation pass/fail, CAA permission/prohibition) and the evidence seen; per
// name the quorum result ("3/4"); plus trace id, timestamps, policy and attempt. One JSON object per line.

#include <string>

#include "quorum/api/model.hh"

namespace mpic::quorum {

/// Context of a decision that the response does not carry.
struct audit_context {
    std::string policy_table = "br"; ///< "br" or "strict"
    std::string policy_date;         ///< the date whose BR phase applied, YYYY-MM-DD
    std::string client;              ///< the authenticated API client (token name or certificate subject)
    std::int64_t received_unix_ms = 0;
};

/// Renders the record as one line of JSON (no trailing newline; bytes that are not UTF-8 are replaced).
std::string render_audit_record(const mpic_response& response, const audit_context& context);

/// Audit format version written in every record ("audit_version").
inline constexpr int audit_version = 1;

} // namespace mpic::quorum
