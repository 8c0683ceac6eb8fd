// The request body mpic-check sends. quorum_count 0 is Open MPIC's monitoring mode (api.md "Spec vs reference
// code": "quorum 0 means monitoring mode"): the engine's decision then fires only when every perspective has
// answered (quorum/decision.hh decide(): "Monitoring: only when everything answered"), which is what a diagnosis
// needs. The verdict mpicd would give is recomputed afterwards from those complete results (report.cc).

#include "tools/mpic-check/request_body.hh"

#include <nlohmann/json.hpp>

namespace mpic::mpic_check {

std::string check_type_of(const check_plan& plan) {
    if (plan.method.empty()) {
        return "caa";
    }
    return plan.with_caa ? "dcv_with_caa" : "dcv";
}

std::string render_request_body(const check_plan& plan, const orchestration_ask& orchestration) {
    using json = nlohmann::json;
    json body;
    body["check_type"] = check_type_of(plan);
    body["targets"] = plan.names;
    body["trace_identifier"] = "mpic-check";
    json orch = {{"quorum_count", 0}, {"max_attempts", 1}};
    if (orchestration.perspective_count) {
        orch["perspective_count"] = *orchestration.perspective_count;
    }
    if (orchestration.deadline_ms) {
        orch["deadline_ms"] = *orchestration.deadline_ms;
    }
    body["orchestration_parameters"] = orch;
    if (!plan.method.empty()) {
        json dcv = {{"validation_method", plan.method}};
        if (plan.method == "acme-http-01") {
            dcv["token"] = plan.token;
            dcv["key_authorization"] = plan.key_authorization;
        } else if (plan.method == "acme-dns-01" || plan.method == "acme-tls-alpn-01") {
            dcv["key_authorization_hash"] = plan.key_authorization_hash;
        } else if (plan.method == "dns-change") {
            dcv["challenge_value"] = plan.challenge_value;
            dcv["dns_record_type"] = plan.record_type;
            dcv["dns_name_prefix"] = plan.prefix ? json(*plan.prefix) : json(nullptr);
        } else if (plan.method == "website-change") {
            dcv["http_token_path"] = plan.http_token_path;
            dcv["challenge_value"] = plan.challenge_value;
        }
        body["dcv_check_parameters"] = dcv;
    }
    if (plan.method.empty() || plan.with_caa) {
        json caa = json::object();
        if (!plan.issuer_domains.empty()) {
            caa["caa_domains"] = plan.issuer_domains;
        }
        body["caa_check_parameters"] = caa;
    }
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace mpic::mpic_check
