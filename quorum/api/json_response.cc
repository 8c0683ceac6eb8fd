// Rendering of Open MPIC responses (api.md "Response", "Each perspective") and reading of check_response objects
// sent by remote perspective agents.

#include <openssl/evp.h>

#include <array>

#include "quorum/api/json_codec.hh"

namespace mpic::quorum {
namespace {

using json = nlohmann::json;
using validators::check_result;
using validators::check_type;
using validators::validation_method;

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string unbase64(std::string_view text) {
    if (text.size() % 4 != 0) {
        return {};
    }
    std::string out(3 * text.size() / 4, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) {
        return {};
    }
    // EVP_DecodeBlock counts padding as output bytes; drop them.
    std::size_t pad = 0;
    for (std::size_t i = text.size(); i > 0 && text[i - 1] == '=' && pad < 2; --i) {
        ++pad;
    }
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

/// RCODE names (RFC 1035 §4.1.1, RFC 6895 §2.3) as numbers: the Open MPIC spec types `response_code` as an integer.
constexpr std::array<std::string_view, 11> rcode_names{"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                                       "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};

json rcode_to_json(const std::string& name) {
    if (name.empty()) {
        return nullptr;
    }
    for (std::size_t i = 0; i < rcode_names.size(); ++i) {
        if (rcode_names[i] == name) {
            return static_cast<int>(i);
        }
    }
    if (name == "BADVERS") {
        return 16;
    }
    if (name == "BADCOOKIE") {
        return 23;
    }
    return name;  // an RCODE without a name: already numeric text
}

std::string rcode_from_json(const json& value) {
    if (value.is_number_integer()) {
        const auto code = value.get<int>();
        if (code >= 0 && static_cast<std::size_t>(code) < rcode_names.size()) {
            return std::string(rcode_names[static_cast<std::size_t>(code)]);
        }
        return code == 16 ? "BADVERS" : code == 23 ? "BADCOOKIE" : std::to_string(code);
    }
    return value.is_string() ? value.get<std::string>() : std::string();
}

json orchestration_to_json(const std::optional<orchestration_request>& params) {
    if (!params) {
        return nullptr;
    }
    json out = json::object();
    auto put = [&](const char* key, const auto& value) {
        if (value) {
            out[key] = *value;
        } else {
            out[key] = nullptr;
        }
    };
    put("perspective_count", params->perspective_count);
    put("quorum_count", params->quorum_count);
    put("max_attempts", params->max_attempts);
    put("cohort_for_single_attempt", params->cohort_for_single_attempt);
    if (params->deadline_ms) {
        out["deadline_ms"] = *params->deadline_ms;
    }
    return out;
}

json perspectives_to_json(const std::vector<perspective_result>& perspectives) {
    json out = json::array();
    for (const auto& p : perspectives) {
        out.push_back(
            {{"perspective_code", p.code}, {"rir", p.rir}, {"check_response", check_result_to_json(p.result)}});
    }
    return out;
}

json previous_attempts_to_json(const check_outcome& outcome) {
    if (outcome.previous_attempts.empty()) {
        return nullptr;
    }
    json out = json::array();
    for (const auto& attempt : outcome.previous_attempts) {
        out.push_back(perspectives_to_json(attempt));
    }
    return out;
}

json actual_orchestration_to_json(const check_outcome& outcome) {
    return {{"perspective_count", outcome.perspective_count},
            {"quorum_count", outcome.quorum_count},
            {"attempt_count", outcome.attempt_count}};
}

json outcome_to_json(const check_outcome& outcome) {
    return {{"is_valid", outcome.is_valid},
            {"mpic_completed", outcome.mpic_completed},
            {"actual_orchestration_parameters", actual_orchestration_to_json(outcome)},
            {"quorum_result", outcome.quorum_result},
            {"decided_after_ms", outcome.decided_after_ms},
            {"perspectives", perspectives_to_json(outcome.perspectives)},
            {"previous_attempt_results", previous_attempts_to_json(outcome)}};
}

void add_common(json& out, const mpic_response& response) {
    out["trace_identifier"] =
        response.request.trace_identifier.empty() ? json(nullptr) : json(response.request.trace_identifier);
    out["request_orchestration_parameters"] = orchestration_to_json(response.request.orchestration);
    const auto kind = response.request.kind;
    if (kind == request_kind::caa || kind == request_kind::dcv_with_caa) {
        out["caa_check_parameters"] = caa_parameters_to_json(response.request.caa);
    }
    if (kind == request_kind::dcv || kind == request_kind::dcv_with_caa) {
        out["dcv_check_parameters"] = dcv_parameters_to_json(response.request.dcv);
    }
    out["lab_mode"] = response.lab_mode;
    if (!response.policy_date.empty()) {
        out["policy"] = {{"table", response.policy_table}, {"date", response.policy_date}};
    }
    out["compliant"] = !response.non_compliant;
    if (!response.compliance_note.empty()) {
        out["compliance_note"] = response.compliance_note;
    }
}

} // namespace

std::string_view to_string(request_kind kind) noexcept {
    switch (kind) {
    case request_kind::caa:
        return "caa";
    case request_kind::dcv:
        return "dcv";
    case request_kind::dcv_with_caa:
        return "dcv_with_caa";
    }
    return "unknown";
}

json caa_parameters_to_json(const validators::caa_parameters& params) {
    json out = {
        {"certificate_type", params.cert_type == validators::certificate_type::s_mime ? "s-mime" : "tls-server"},
        {"caa_domains", params.caa_domains},
        {"allow_lookup_failure", params.allow_lookup_failure}};
    if (params.account_uri) {
        out["account_uri"] = *params.account_uri;
    }
    if (params.validation_method) {
        out["validation_method"] = *params.validation_method;
    }
    return out;
}

json dcv_parameters_to_json(const validators::dcv_parameters& p) {
    using vm = validation_method;
    json out = {{"validation_method", validators::to_string(p.method)}};
    auto headers = [&] {
        json h = json::object();
        for (const auto& [name, value] : p.http_headers) {
            h[name] = value;
        }
        return h;
    };
    auto prefix = [&] { return p.dns_name_prefix ? json(*p.dns_name_prefix) : json(nullptr); };
    switch (p.method) {
    case vm::website_change:
        out.update({{"http_token_path", p.http_token_path},
                    {"challenge_value", p.challenge_value},
                    {"url_scheme", p.url_scheme},
                    {"http_headers", headers()},
                    {"match_regex", p.match_regex ? json(*p.match_regex) : json(nullptr)},
                    {"require_exact_case", p.require_exact_case}});
        break;
    case vm::acme_http_01:
        out.update({{"token", p.token}, {"key_authorization", p.key_authorization}, {"http_headers", headers()}});
        break;
    case vm::acme_dns_01:
    case vm::acme_tls_alpn_01:
        out["key_authorization_hash"] = p.key_authorization_hash;
        break;
    case vm::dns_account_01:
        out.update({{"key_authorization_hash", p.key_authorization_hash}, {"account_uri", p.expected_account_uri}});
        break;
    case vm::dns_change:
        out.update({{"challenge_value", p.challenge_value},
                    {"dns_record_type", validators::to_string(p.record_type)},
                    {"dns_name_prefix", prefix()},
                    {"require_exact_match", p.require_exact_match},
                    {"require_exact_case", p.require_exact_case}});
        break;
    case vm::dns_persistent:
        out.update({{"issuer_domain_names", p.issuer_domain_names}, {"expected_account_uri", p.expected_account_uri}});
        break;
    case vm::contact_email_txt:
    case vm::contact_phone_txt:
        out["challenge_value"] = p.challenge_value;
        break;
    case vm::contact_email_caa:
    case vm::contact_phone_caa:
    case vm::reverse_address_lookup:
        out.update({{"challenge_value", p.challenge_value}, {"dns_name_prefix", prefix()}});
        break;
    case vm::ip_address:
        out.update({{"challenge_value", p.challenge_value}, {"dns_record_type", validators::to_string(p.record_type)}});
        break;
    }
    return out;
}

json check_result_to_json(const check_result& r) {
    json errors = nullptr;
    if (!r.errors.empty()) {
        errors = json::array();
        for (const auto& e : r.errors) {
            errors.push_back({{"error_type", e.type}, {"error_message", e.message}});
        }
    }
    const auto& d = r.details;
    json details = json::object();
    if (r.type == check_type::caa) {
        details = {{"caa_record_present", d.caa_record_present},
                   {"found_at", d.found_at.empty() ? json(nullptr) : json(d.found_at)},
                   {"records_seen", d.records_seen}};
    } else {
        const auto method = r.method.value_or(validation_method::acme_dns_01);
        details["validation_method"] = validators::to_string(method);
        if (method == validation_method::acme_http_01 || method == validation_method::website_change) {
            json history = json::array();
            for (const auto& hop : d.response_history) {
                history.push_back({{"response_status_code", hop.status}, {"response_url", hop.url}});
            }
            details.update(
                {{"response_history", history},
                 {"response_url", d.response_url.empty() ? json(nullptr) : json(d.response_url)},
                 {"response_status_code", d.response_status_code ? json(d.response_status_code) : json(nullptr)},
                 {"response_page", base64(d.response_page)},
                 {"resolved_ip", d.resolved_ip.empty() ? json(nullptr) : json(d.resolved_ip)}});
        } else if (method == validation_method::acme_tls_alpn_01) {
            details["common_name"] = d.common_name.empty() ? json(nullptr) : json(d.common_name);
            details["resolved_ip"] = d.resolved_ip.empty() ? json(nullptr) : json(d.resolved_ip);
        } else {
            details.update({{"records_seen", d.records_seen},
                            {"response_code", rcode_to_json(d.response_code)},
                            {"ad_flag", d.ad_flag},
                            {"found_at", d.found_at.empty() ? json(nullptr) : json(d.found_at)},
                            {"cname_chain", d.cname_chain}});
        }
    }
    if (!d.notes.empty()) {
        details["notes"] = d.notes;
    }
    const auto& t = r.timings;
    return {{"check_completed", r.completed},
            {"check_passed", r.passed},
            {"errors", errors},
            {"timestamp_ns", r.timestamp_ns},
            {"check_type", r.type == check_type::caa ? "caa" : "dcv"},
            {"details", details},
            {"timings",
             {{"queue_us", t.queue_us},
              {"dns_us", t.dns_us},
              {"connect_us", t.connect_us},
              {"tls_us", t.tls_us},
              {"first_byte_us", t.first_byte_us},
              {"body_us", t.body_us},
              {"total_us", t.total_us}}}};
}

result<check_result> check_result_from_json(const json& j) {
    auto bad = make_error_code(errc::malformed);
    if (!j.is_object()) {
        return bad;
    }
    auto boolean = [&](const char* key) -> std::optional<bool> {
        auto it = j.find(key);
        if (it == j.end() || !it->is_boolean()) {
            return std::nullopt;
        }
        return it->get<bool>();
    };
    auto completed = boolean("check_completed");
    auto passed = boolean("check_passed");
    auto type = j.find("check_type");
    if (!completed || !passed || type == j.end() || !type->is_string()) {
        return bad;
    }
    check_result r;
    r.completed = *completed;
    r.passed = *passed;
    if (*type == "caa") {
        r.type = check_type::caa;
    } else if (*type == "dcv") {
        r.type = check_type::dcv;
    } else {
        return bad;
    }
    if (auto ts = j.find("timestamp_ns"); ts != j.end() && ts->is_number_integer()) {
        r.timestamp_ns = ts->get<std::int64_t>();
    }
    if (auto errors = j.find("errors"); errors != j.end() && errors->is_array()) {
        for (const auto& e : *errors) {
            if (!e.is_object() || !e.contains("error_type") || !e["error_type"].is_string()) {
                return bad;
            }
            std::string message = e.contains("error_message") && e["error_message"].is_string()
                                      ? e["error_message"].get<std::string>()
                                      : std::string();
            r.errors.push_back(problem{e["error_type"].get<std::string>(), std::move(message)});
        }
    }
    if (r.passed && (!r.completed || !r.errors.empty())) {
        return bad; // violates the check_result invariant: a pass is complete and error-free
    }
    auto str = [](const json& obj, const char* key) {
        auto it = obj.find(key);
        return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (auto d = j.find("details"); d != j.end() && d->is_object()) {
        auto& out = r.details;
        if (auto m = validators::parse_validation_method(str(*d, "validation_method"))) {
            r.method = *m;
        }
        out.found_at = str(*d, "found_at");
        if (auto rc = d->find("response_code"); rc != d->end()) {
            out.response_code = rcode_from_json(*rc);
        }
        out.response_url = str(*d, "response_url");
        out.resolved_ip = str(*d, "resolved_ip");
        out.common_name = str(*d, "common_name");
        out.response_page = unbase64(str(*d, "response_page"));
        if (auto v = d->find("caa_record_present"); v != d->end() && v->is_boolean()) {
            out.caa_record_present = v->get<bool>();
        }
        if (auto v = d->find("ad_flag"); v != d->end() && v->is_boolean()) {
            out.ad_flag = v->get<bool>();
        }
        if (auto v = d->find("response_status_code"); v != d->end() && v->is_number_integer()) {
            out.response_status_code = v->get<int>();
        }
        for (const char* key : {"records_seen", "cname_chain", "notes"}) {
            auto& list = std::string_view(key) == "records_seen" ? out.records_seen
                         : std::string_view(key) == "cname_chain" ? out.cname_chain
                                                                  : out.notes;
            if (auto v = d->find(key); v != d->end() && v->is_array()) {
                for (const auto& item : *v) {
                    if (item.is_string()) {
                        list.push_back(item.get<std::string>());
                    }
                }
            }
        }
        if (auto v = d->find("response_history"); v != d->end() && v->is_array()) {
            for (const auto& hop : *v) {
                if (hop.is_object() && hop.contains("response_status_code") &&
                    hop["response_status_code"].is_number_integer()) {
                    out.response_history.push_back({hop["response_status_code"].get<int>(), str(hop, "response_url")});
                }
            }
        }
    }
    return r;
}

std::string render_check_request(const validators::check_request& request) {
    json out = {{"domain_or_ip_target", request.target.requested()}};
    if (!request.trace_id.empty()) {
        out["trace_identifier"] = request.trace_id;
    }
    if (request.type == check_type::caa) {
        out["caa_check_parameters"] = caa_parameters_to_json(request.caa);
    } else {
        out["dcv_check_parameters"] = dcv_parameters_to_json(request.dcv);
    }
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string render_validation_failure(const std::vector<request_issue>& issues) {
    json list = json::array();
    for (const auto& issue : issues) {
        list.push_back({{"issue_type", issue.issue_type}, {"message", issue.message}});
    }
    return json{{"error", "request-validation-failed"}, {"validation_issues", list}}.dump(-1, ' ', false,
                                                                                       json::error_handler_t::replace);
}

std::string render_mpic_response(const mpic_response& response) {
    json out = json::object();
    const auto& request = response.request;
    const bool open_mpic_shape =
        !request.targets_field && request.kind != request_kind::dcv_with_caa && response.targets.size() == 1;
    out["check_type"] = to_string(request.kind);
    out["is_valid"] = response.is_valid();
    out["mpic_completed"] = response.mpic_completed();
    out["decided_after_ms"] = response.decided_after_us / 1000.0;
    add_common(out, response);
    if (open_mpic_shape) {
        const auto& target = response.targets.front();
        const auto& outcome = target.dcv ? *target.dcv : *target.caa;
        out["domain_or_ip_target"] = target.target.requested();
        out["actual_orchestration_parameters"] = actual_orchestration_to_json(outcome);
        out["perspectives"] = perspectives_to_json(outcome.perspectives);
        out["previous_attempt_results"] = previous_attempts_to_json(outcome);
        out["quorum_result"] = outcome.quorum_result;
    } else {
        json results = json::array();
        for (const auto& target : response.targets) {
            json item = {{"domain_or_ip_target", target.target.requested()},
                         {"is_valid", target.is_valid()},
                         {"mpic_completed", target.mpic_completed()}};
            if (target.dcv) {
                item["dcv"] = outcome_to_json(*target.dcv);
            }
            if (target.caa) {
                item["caa"] = outcome_to_json(*target.caa);
            }
            results.push_back(std::move(item));
        }
        out["results"] = std::move(results);
    }
    // Replace invalid UTF-8 (from DNS or HTTP bytes) instead of failing the whole response.
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace mpic::quorum
