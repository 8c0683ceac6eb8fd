#include "quorum/audit/audit_record.hh"

#include <chrono>

#include <nlohmann/json.hpp>

namespace mpic::quorum {
namespace {

using json = nlohmann::json;

/// The evidence behind one perspective's result: what it saw, by kind (BR §5.4.1 asks for the result; the
/// evidence lets an auditor see why).
json evidence(const validators::check_result& r) {
    const auto& d = r.details;
    json out = json::object();
    if (!d.records_seen.empty()) {
        out["records_seen"] = d.records_seen;
    }
    if (!d.found_at.empty()) {
        out["found_at"] = d.found_at;
    }
    if (!d.response_code.empty()) {
        out["response_code"] = d.response_code;
    }
    if (!d.cname_chain.empty()) {
        out["cname_chain"] = d.cname_chain;
    }
    if (d.ad_flag) {
        out["ad_flag"] = true;
    }
    if (d.response_status_code != 0) {
        out["status"] = d.response_status_code;
    }
    if (!d.response_url.empty()) {
        out["url"] = d.response_url;
    }
    if (!d.response_history.empty()) {
        json hops = json::array();
        for (const auto& hop : d.response_history) {
            hops.push_back({{"status", hop.status}, {"url", hop.url}});
        }
        out["redirects"] = std::move(hops);
    }
    if (!d.resolved_ip.empty()) {
        out["resolved_ip"] = d.resolved_ip;
    }
    if (!d.common_name.empty()) {
        out["common_name"] = d.common_name;
    }
    if (!d.notes.empty()) {
        out["notes"] = d.notes;
    }
    return out;
}

json attempt_to_json(const std::vector<perspective_result>& perspectives, const std::string& target,
                     validators::check_type type) {
    json out = json::array();
    for (const auto& p : perspectives) {
        const auto& r = p.result;
        // BR §5.4.1 2.7 wording: "domain validation pass/fail", "CAA permission/prohibition".
        std::string verdict;
        if (!r.completed) {
            verdict = "not_completed";
        } else if (type == validators::check_type::caa) {
            verdict = r.passed ? "permission" : "prohibition";
        } else {
            verdict = r.passed ? "pass" : "fail";
        }
        json errors = json::array();
        for (const auto& e : r.errors) {
            errors.push_back({{"type", e.type}, {"message", e.message}});
        }
        out.push_back({{"perspective", p.code},
                       {"rir", p.rir},
                       {"target", target},
                       {"result", verdict},
                       {"errors", std::move(errors)},
                       {"timestamp_ns", r.timestamp_ns},
                       {"total_us", r.timings.total_us},
                       {"timings",
                        {{"queue_us", r.timings.queue_us},
                         {"dns_us", r.timings.dns_us},
                         {"connect_us", r.timings.connect_us},
                         {"tls_us", r.timings.tls_us},
                         {"first_byte_us", r.timings.first_byte_us},
                         {"body_us", r.timings.body_us}}},
                       {"evidence", evidence(r)}});
    }
    return out;
}

json outcome_to_json(const check_outcome& o, const std::string& target, const mpic_request& request) {
    json attempts = json::array();
    for (const auto& previous : o.previous_attempts) {
        attempts.push_back(attempt_to_json(previous, target, o.type));
    }
    attempts.push_back(attempt_to_json(o.perspectives, target, o.type));
    json out = {{"check", o.type == validators::check_type::caa ? "caa" : "dcv"},
                {"is_valid", o.is_valid},
                {"mpic_completed", o.mpic_completed},
                {"quorum_result", o.quorum_result},
                {"perspective_count", o.perspective_count},
                {"quorum_count", o.quorum_count},
                {"attempt_count", o.attempt_count},
                {"decided_after_ms", o.decided_after_ms},
                {"attempts", std::move(attempts)}};
    if (o.type == validators::check_type::dcv) {
        out["method"] = validators::to_string(request.dcv.method);
    }
    return out;
}

} // namespace

std::string render_audit_record(const mpic_response& response, const audit_context& context) {
    const auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    json results = json::array();
    for (const auto& t : response.targets) {
        const auto target = t.target.requested();
        if (t.dcv) {
            results.push_back(outcome_to_json(*t.dcv, target, response.request));
            results.back()["target"] = target;
        }
        if (t.caa) {
            results.push_back(outcome_to_json(*t.caa, target, response.request));
            results.back()["target"] = target;
        }
    }
    json record = {{"audit_version", audit_version},
                   {"decided_unix_ms", now},
                   {"received_unix_ms", context.received_unix_ms},
                   {"trace_identifier", response.request.trace_identifier},
                   {"client", context.client},
                   {"check_type", to_string(response.request.kind)},
                   {"is_valid", response.is_valid()},
                   {"mpic_completed", response.mpic_completed()},
                   {"policy", {{"table", response.policy_table}, {"date", response.policy_date}}},
                   {"lab_mode", response.lab_mode},
                   {"compliant", !response.non_compliant},
                   {"results", std::move(results)}};
    if (!response.compliance_note.empty()) {
        record["compliance_note"] = response.compliance_note;
    }
    return record.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace mpic::quorum
