// Rendering of Open MPIC responses (api.md "Response", "Each perspective") and of the checker API bodies, and
// reading of check_response objects sent by remote perspective agents.
//
// The renderers write straight into the output string with core::json_writer: one pass, no tree. Members are
// written in the order nlohmann::json (a std::map per object) put them, i.e. sorted by name, so the bytes are
// those the previous tree-based renderer produced (except that DEL is now escaped, and a double may in rare cases
// be spelled differently for the same value) and a diff against older output stays readable. Bytes that are not
// UTF-8 (from DNS or HTTP) are replaced, never fatal.

#include <array>

#include <openssl/evp.h>

#include "core/json_writer.hh"
#include "quorum/api/json_codec.hh"

namespace mpic::quorum {
namespace {

using json = nlohmann::json;
using core::json_writer;
using validators::check_result;
using validators::check_type;
using validators::validation_method;

/// Writes `bytes` base64-encoded (RFC 4648 §4) as a JSON string. Pages are capped at 1 KiB by the HTTP
/// validator (response_page_bytes), which fits the stack buffer; a larger one takes the heap.
void write_base64(json_writer& w, std::string_view bytes) {
    const std::size_t encoded = 4 * ((bytes.size() + 2) / 3);
    std::array<char, 2048> stack;
    std::string heap;
    char* buf = stack.data();
    if (encoded + 1 > stack.size()) {
        heap.resize(encoded + 1);
        buf = heap.data();
    }
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(buf),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    w.string(std::string_view(buf, static_cast<std::size_t>(n)));
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
constexpr std::array<std::string_view, 11> rcode_names{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                                       "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                                       "NXRRSET", "NOTAUTH", "NOTZONE"};

void write_rcode(json_writer& w, const std::string& name) {
    if (name.empty()) {
        w.null();
        return;
    }
    for (std::size_t i = 0; i < rcode_names.size(); ++i) {
        if (rcode_names[i] == name) {
            w.number(i);
            return;
        }
    }
    if (name == "BADVERS") {
        w.number(16);
    } else if (name == "BADCOOKIE") {
        w.number(23);
    } else {
        w.string(name); // an RCODE without a name: already numeric text
    }
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

void string_or_null(json_writer& w, std::string_view value) {
    if (value.empty()) {
        w.null();
    } else {
        w.string(value);
    }
}

void optional_string(json_writer& w, const std::optional<std::string>& value) {
    if (value) {
        w.string(*value);
    } else {
        w.null();
    }
}

void write_orchestration(json_writer& w, const std::optional<orchestration_request>& params) {
    if (!params) {
        w.null();
        return;
    }
    auto put = [&](const char* key, const std::optional<std::int64_t>& value) {
        w.key(key);
        if (value) {
            w.number(*value);
        } else {
            w.null();
        }
    };
    w.begin_object();
    put("cohort_for_single_attempt", params->cohort_for_single_attempt);
    if (params->deadline_ms) {
        put("deadline_ms", params->deadline_ms);
    }
    put("max_attempts", params->max_attempts);
    put("perspective_count", params->perspective_count);
    put("quorum_count", params->quorum_count);
    w.end_object();
}

void write_caa_parameters(json_writer& w, const validators::caa_parameters& params) {
    w.begin_object();
    if (params.account_uri) {
        w.key("account_uri").string(*params.account_uri);
    }
    w.key("allow_lookup_failure").boolean(params.allow_lookup_failure);
    w.key("caa_domains").string_array(params.caa_domains);
    w.key("certificate_type")
        .string(params.cert_type == validators::certificate_type::s_mime ? "s-mime" : "tls-server");
    if (params.validation_method) {
        w.key("validation_method").string(*params.validation_method);
    }
    w.end_object();
}

/// http_headers as an object, members sorted by name; a name given twice keeps its last value. That is what
/// assigning into a JSON object (a std::map) did, and it makes the checker API body a fixpoint of parse + render
/// for any header list. Selection by repeated minimum: no allocation, and lists are short (at most 64 entries
/// from a parsed request, usually none or one).
void write_http_headers(json_writer& w, const std::vector<std::pair<std::string, std::string>>& headers) {
    w.begin_object();
    const std::string* written = nullptr; // the last name written
    for (;;) {
        const std::pair<std::string, std::string>* next = nullptr;
        for (const auto& header : headers) {
            // The smallest name above the last one written; of equal names, the last given (<=).
            if ((written == nullptr || *written < header.first) && (next == nullptr || header.first <= next->first)) {
                next = &header;
            }
        }
        if (next == nullptr) {
            break;
        }
        w.key(next->first).string(next->second);
        written = &next->first;
    }
    w.end_object();
}

void write_dcv_parameters(json_writer& w, const validators::dcv_parameters& p) {
    using vm = validation_method;
    w.begin_object();
    switch (p.method) {
    case vm::website_change:
        w.key("challenge_value").string(p.challenge_value);
        w.key("http_headers");
        write_http_headers(w, p.http_headers);
        w.key("http_token_path").string(p.http_token_path);
        w.key("match_regex");
        optional_string(w, p.match_regex);
        w.key("require_exact_case").boolean(p.require_exact_case);
        w.key("url_scheme").string(p.url_scheme);
        break;
    case vm::acme_http_01:
        w.key("http_headers");
        write_http_headers(w, p.http_headers);
        w.key("key_authorization").string(p.key_authorization);
        w.key("token").string(p.token);
        break;
    case vm::acme_dns_01:
    case vm::acme_tls_alpn_01:
        w.key("key_authorization_hash").string(p.key_authorization_hash);
        break;
    case vm::dns_account_01:
        w.key("account_uri").string(p.expected_account_uri);
        w.key("key_authorization_hash").string(p.key_authorization_hash);
        break;
    case vm::dns_change:
        w.key("challenge_value").string(p.challenge_value);
        w.key("dns_name_prefix");
        optional_string(w, p.dns_name_prefix);
        w.key("dns_record_type").string(validators::to_string(p.record_type));
        w.key("require_exact_case").boolean(p.require_exact_case);
        w.key("require_exact_match").boolean(p.require_exact_match);
        break;
    case vm::dns_persistent:
        w.key("expected_account_uri").string(p.expected_account_uri);
        w.key("issuer_domain_names").string_array(p.issuer_domain_names);
        break;
    case vm::contact_email_txt:
    case vm::contact_phone_txt:
        w.key("challenge_value").string(p.challenge_value);
        break;
    case vm::contact_email_caa:
    case vm::contact_phone_caa:
    case vm::reverse_address_lookup:
        w.key("challenge_value").string(p.challenge_value);
        w.key("dns_name_prefix");
        optional_string(w, p.dns_name_prefix);
        break;
    case vm::ip_address:
        w.key("challenge_value").string(p.challenge_value);
        w.key("dns_record_type").string(validators::to_string(p.record_type));
        break;
    }
    w.key("validation_method").string(validators::to_string(p.method));
    w.end_object();
}

void write_details(json_writer& w, const check_result& r) {
    const auto& d = r.details;
    auto notes = [&] {
        if (!d.notes.empty()) {
            w.key("notes").string_array(d.notes);
        }
    };
    w.begin_object();
    if (r.type == check_type::caa) {
        w.key("caa_record_present").boolean(d.caa_record_present);
        w.key("found_at");
        string_or_null(w, d.found_at);
        notes();
        w.key("records_seen").string_array(d.records_seen);
        w.end_object();
        return;
    }
    const auto method = r.method.value_or(validation_method::acme_dns_01);
    if (method == validation_method::acme_http_01 || method == validation_method::website_change) {
        notes();
        w.key("resolved_ip");
        string_or_null(w, d.resolved_ip);
        w.key("response_history").begin_array();
        for (const auto& hop : d.response_history) {
            w.begin_object()
                .key("response_status_code")
                .number(hop.status)
                .key("response_url")
                .string(hop.url)
                .end_object();
        }
        w.end_array();
        w.key("response_page");
        write_base64(w, d.response_page);
        w.key("response_status_code");
        if (d.response_status_code != 0) {
            w.number(d.response_status_code);
        } else {
            w.null();
        }
        w.key("response_url");
        string_or_null(w, d.response_url);
    } else if (method == validation_method::acme_tls_alpn_01) {
        w.key("common_name");
        string_or_null(w, d.common_name);
        notes();
        w.key("resolved_ip");
        string_or_null(w, d.resolved_ip);
    } else {
        w.key("ad_flag").boolean(d.ad_flag);
        w.key("cname_chain").string_array(d.cname_chain);
        w.key("found_at");
        string_or_null(w, d.found_at);
        notes();
        w.key("records_seen").string_array(d.records_seen);
        w.key("response_code");
        write_rcode(w, d.response_code);
    }
    w.key("validation_method").string(validators::to_string(method));
    w.end_object();
}

} // namespace

void write_check_timings(json_writer& w, const validators::check_timings& t, bool with_total) {
    w.begin_object();
    w.key("body_us").number(t.body_us);
    w.key("connect_us").number(t.connect_us);
    w.key("dns_us").number(t.dns_us);
    w.key("first_byte_us").number(t.first_byte_us);
    w.key("queue_us").number(t.queue_us);
    w.key("tls_us").number(t.tls_us);
    if (with_total) {
        w.key("total_us").number(t.total_us);
    }
    w.end_object();
}

namespace {

void write_check_result(json_writer& w, const check_result& r) {
    w.begin_object();
    w.key("check_completed").boolean(r.completed);
    w.key("check_passed").boolean(r.passed);
    w.key("check_type").string(r.type == check_type::caa ? "caa" : "dcv");
    w.key("details");
    write_details(w, r);
    w.key("errors");
    if (r.errors.empty()) {
        w.null(); // Open MPIC: null, not [], when there are none
    } else {
        w.begin_array();
        for (const auto& e : r.errors) {
            w.begin_object().key("error_message").string(e.message).key("error_type").string(e.type).end_object();
        }
        w.end_array();
    }
    w.key("timestamp_ns").number(r.timestamp_ns);
    w.key("timings");
    write_check_timings(w, r.timings, true);
    w.end_object();
}

void write_perspectives(json_writer& w, const std::vector<perspective_result>& perspectives) {
    w.begin_array();
    for (const auto& p : perspectives) {
        w.begin_object().key("check_response");
        write_check_result(w, p.result);
        w.key("perspective_code").string(p.code).key("rir").string(p.rir).end_object();
    }
    w.end_array();
}

void write_previous_attempts(json_writer& w, const check_outcome& outcome) {
    if (outcome.previous_attempts.empty()) {
        w.null();
        return;
    }
    w.begin_array();
    for (const auto& attempt : outcome.previous_attempts) {
        write_perspectives(w, attempt);
    }
    w.end_array();
}

void write_actual_orchestration(json_writer& w, const check_outcome& outcome) {
    w.begin_object()
        .key("attempt_count")
        .number(outcome.attempt_count)
        .key("perspective_count")
        .number(outcome.perspective_count)
        .key("quorum_count")
        .number(outcome.quorum_count)
        .end_object();
}

void write_outcome(json_writer& w, const check_outcome& outcome) {
    w.begin_object().key("actual_orchestration_parameters");
    write_actual_orchestration(w, outcome);
    w.key("decided_after_ms").floating(outcome.decided_after_ms);
    w.key("is_valid").boolean(outcome.is_valid);
    w.key("mpic_completed").boolean(outcome.mpic_completed);
    w.key("perspectives");
    write_perspectives(w, outcome.perspectives);
    w.key("previous_attempt_results");
    write_previous_attempts(w, outcome);
    w.key("quorum_result").string(outcome.quorum_result);
    w.end_object();
}

/// A generous guess at the rendered size of a check_response, so the output is allocated once: the fixed part
/// (~420 bytes of keys, timings and punctuation) plus the variable strings, with room for some escaping.
std::size_t estimate(const check_result& r) {
    const auto& d = r.details;
    std::size_t n = 480 + d.found_at.size() + d.response_code.size() + d.response_url.size() + d.resolved_ip.size() +
                    d.common_name.size() + 4 * d.response_page.size() / 3;
    for (const auto* list : {&d.records_seen, &d.cname_chain, &d.notes}) {
        for (const auto& s : *list) {
            n += s.size() + 4;
        }
    }
    for (const auto& hop : d.response_history) {
        n += hop.url.size() + 56;
    }
    for (const auto& e : r.errors) {
        n += e.type.size() + e.message.size() + 40;
    }
    return n + n / 8;
}

std::size_t estimate(const check_outcome& outcome) {
    std::size_t n = 400;
    for (const auto& p : outcome.perspectives) {
        n += 64 + estimate(p.result);
    }
    for (const auto& attempt : outcome.previous_attempts) {
        for (const auto& p : attempt) {
            n += 64 + estimate(p.result);
        }
    }
    return n;
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
    std::string text;
    json_writer w(text);
    write_caa_parameters(w, params);
    return json::parse(text);
}

json dcv_parameters_to_json(const validators::dcv_parameters& params) {
    std::string text;
    json_writer w(text);
    write_dcv_parameters(w, params);
    return json::parse(text);
}

std::string render_check_result(const check_result& result) {
    std::string out;
    out.reserve(estimate(result));
    json_writer w(out);
    write_check_result(w, result);
    return out;
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
            auto& list = std::string_view(key) == "records_seen"  ? out.records_seen
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
    std::string out;
    out.reserve(512);
    json_writer w(out);
    w.begin_object();
    if (request.type == check_type::caa) {
        w.key("caa_check_parameters");
        write_caa_parameters(w, request.caa);
    } else {
        w.key("dcv_check_parameters");
        write_dcv_parameters(w, request.dcv);
    }
    w.key("domain_or_ip_target").string(request.target.requested());
    if (!request.trace_id.empty()) {
        w.key("trace_identifier").string(request.trace_id);
    }
    w.end_object();
    return out;
}

std::string render_validation_failure(const std::vector<request_issue>& issues) {
    std::string out;
    out.reserve(64 + 64 * issues.size());
    json_writer w(out);
    w.begin_object().key("error").string("request-validation-failed").key("validation_issues").begin_array();
    for (const auto& issue : issues) {
        w.begin_object().key("issue_type").string(issue.issue_type).key("message").string(issue.message).end_object();
    }
    w.end_array().end_object();
    return out;
}

std::string render_mpic_response(const mpic_response& response) {
    const auto& request = response.request;
    const bool open_mpic_shape =
        !request.targets_field && request.kind != request_kind::dcv_with_caa && response.targets.size() == 1;
    const auto kind = request.kind;
    const bool caa_params = kind == request_kind::caa || kind == request_kind::dcv_with_caa;
    const bool dcv_params = kind == request_kind::dcv || kind == request_kind::dcv_with_caa;

    std::size_t size = 1024 + response.compliance_note.size() + request.trace_identifier.size();
    for (const auto& target : response.targets) {
        size += 128 + (target.dcv ? estimate(*target.dcv) : 0) + (target.caa ? estimate(*target.caa) : 0);
    }
    std::string out;
    out.reserve(size);
    json_writer w(out);

    const check_outcome* single = nullptr;
    if (open_mpic_shape) {
        const auto& target = response.targets.front();
        single = target.dcv ? &*target.dcv : &*target.caa;
    }
    w.begin_object();
    if (single != nullptr) {
        w.key("actual_orchestration_parameters");
        write_actual_orchestration(w, *single);
    }
    if (caa_params) {
        w.key("caa_check_parameters");
        write_caa_parameters(w, request.caa);
    }
    w.key("check_type").string(to_string(kind));
    if (!response.compliance_note.empty()) {
        w.key("compliance_note").string(response.compliance_note);
    }
    w.key("compliant").boolean(!response.non_compliant);
    if (dcv_params) {
        w.key("dcv_check_parameters");
        write_dcv_parameters(w, request.dcv);
    }
    w.key("decided_after_ms").floating(response.decided_after_us / 1000.0);
    if (single != nullptr) {
        w.key("domain_or_ip_target").string(response.targets.front().target.requested());
    }
    w.key("is_valid").boolean(response.is_valid());
    w.key("lab_mode").boolean(response.lab_mode);
    w.key("mpic_completed").boolean(response.mpic_completed());
    if (single != nullptr) {
        w.key("perspectives");
        write_perspectives(w, single->perspectives);
    }
    if (!response.policy_date.empty()) {
        w.key("policy")
            .begin_object()
            .key("date")
            .string(response.policy_date)
            .key("table")
            .string(response.policy_table)
            .end_object();
    }
    if (single != nullptr) {
        w.key("previous_attempt_results");
        write_previous_attempts(w, *single);
        w.key("quorum_result").string(single->quorum_result);
    }
    w.key("request_orchestration_parameters");
    write_orchestration(w, request.orchestration);
    if (single == nullptr) {
        w.key("results").begin_array();
        for (const auto& target : response.targets) {
            w.begin_object();
            if (target.caa) {
                w.key("caa");
                write_outcome(w, *target.caa);
            }
            if (target.dcv) {
                w.key("dcv");
                write_outcome(w, *target.dcv);
            }
            w.key("domain_or_ip_target").string(target.target.requested());
            w.key("is_valid").boolean(target.is_valid());
            w.key("mpic_completed").boolean(target.mpic_completed());
            w.end_object();
        }
        w.end_array();
    }
    w.key("trace_identifier");
    string_or_null(w, request.trace_identifier);
    w.end_object();
    return out;
}

} // namespace mpic::quorum
