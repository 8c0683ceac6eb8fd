// Parsing of Open MPIC request bodies (api.md "Coordinator: POST /mpic" and the checker API). Every problem is
// collected, not just the first, so a client sees all of them in one 400 (Open MPIC's `validation_issues`).
// nlohmann::json is used without exceptions: parse(..., allow_exceptions=false) and explicit type checks.

#include <limits>

#include "quorum/api/json_codec.hh"

namespace mpic::quorum {
namespace {

using json = nlohmann::json;
using validators::caa_parameters;
using validators::dcv_parameters;
using validators::validation_method;

/// Reads typed fields out of one JSON object, recording an issue for each missing or mistyped field.
class field_reader {
public:
    field_reader(const json& object, std::string prefix, std::vector<request_issue>& issues,
                 const request_limits& limits)
        : _object(object), _prefix(std::move(prefix)), _issues(issues), _limits(limits) {}

    std::string path(std::string_view key) const {
        return _prefix.empty() ? std::string(key) : _prefix + "." + std::string(key);
    }

    bool has(std::string_view key) const {
        auto it = _object.find(key);
        return it != _object.end() && !it->is_null();
    }

    void issue(std::string type, std::string message) { _issues.push_back({std::move(type), std::move(message)}); }

    std::optional<std::string> string(std::string_view key, bool required,
                                      std::string_view missing_type = "missing-field") {
        auto it = _object.find(key);
        if (it == _object.end() || it->is_null()) {
            if (required) {
                issue(std::string(missing_type), path(key) + " is required");
            }
            return std::nullopt;
        }
        if (!it->is_string()) {
            issue("invalid-field-type", path(key) + " must be a string");
            return std::nullopt;
        }
        const auto& value = it->get_ref<const std::string&>();
        if (value.size() > _limits.max_string_bytes) {
            issue("field-too-long", path(key) + " exceeds " + std::to_string(_limits.max_string_bytes) + " bytes");
            return std::nullopt;
        }
        return value;
    }

    /// A required string that must also be non-empty (api.md "empty-challenge-value" style issues).
    std::optional<std::string> non_empty(std::string_view key, std::string_view empty_type) {
        auto value = string(key, true, empty_type);
        if (value && value->empty()) {
            issue(std::string(empty_type), path(key) + " must not be empty");
            return std::nullopt;
        }
        return value;
    }

    std::optional<bool> boolean(std::string_view key) {
        auto it = _object.find(key);
        if (it == _object.end() || it->is_null()) {
            return std::nullopt;
        }
        if (!it->is_boolean()) {
            issue("invalid-field-type", path(key) + " must be a boolean");
            return std::nullopt;
        }
        return it->get<bool>();
    }

    /// An integer in [min, max]; JSON numbers with a fraction or outside the range are refused.
    std::optional<long long> integer(std::string_view key, long long min, long long max, std::string_view range_type) {
        auto it = _object.find(key);
        if (it == _object.end() || it->is_null()) {
            return std::nullopt;
        }
        if (!it->is_number_integer()) {
            issue("invalid-field-type", path(key) + " must be an integer");
            return std::nullopt;
        }
        long long value = 0;
        if (it->is_number_unsigned()) {
            auto u = it->get<unsigned long long>();
            if (u > static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
                issue(std::string(range_type), path(key) + " is out of range");
                return std::nullopt;
            }
            value = static_cast<long long>(u);
        } else {
            value = it->get<long long>();
        }
        if (value < min || value > max) {
            issue(std::string(range_type),
                  path(key) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
            return std::nullopt;
        }
        return value;
    }

    std::optional<std::vector<std::string>> string_list(std::string_view key) {
        auto it = _object.find(key);
        if (it == _object.end() || it->is_null()) {
            return std::nullopt;
        }
        if (!it->is_array()) {
            issue("invalid-field-type", path(key) + " must be a list of strings");
            return std::nullopt;
        }
        if (it->size() > _limits.max_list_items) {
            issue("field-too-long", path(key) + " has more than " + std::to_string(_limits.max_list_items) + " items");
            return std::nullopt;
        }
        std::vector<std::string> out;
        for (const auto& item : *it) {
            if (!item.is_string() || item.get_ref<const std::string&>().size() > _limits.max_string_bytes) {
                issue("invalid-field-type", path(key) + " must contain only strings of at most " +
                                                std::to_string(_limits.max_string_bytes) + " bytes");
                return std::nullopt;
            }
            out.push_back(item.get<std::string>());
        }
        return out;
    }

    const json* object(std::string_view key, bool required) {
        auto it = _object.find(key);
        if (it == _object.end() || it->is_null()) {
            if (required) {
                issue("missing-field", path(key) + " is required");
            }
            return nullptr;
        }
        if (!it->is_object()) {
            issue("invalid-field-type", path(key) + " must be an object");
            return nullptr;
        }
        return &*it;
    }

    const request_limits& limits() const { return _limits; }
    std::vector<request_issue>& issues() { return _issues; }

private:
    const json& _object;
    std::string _prefix;
    std::vector<request_issue>& _issues;
    const request_limits& _limits;
};

void parse_caa_parameters(field_reader& fields, caa_parameters& out) {
    if (auto type = fields.string("certificate_type", false)) {
        if (*type == "tls-server") {
            out.cert_type = validators::certificate_type::tls_server;
        } else if (*type == "s-mime") {
            out.cert_type = validators::certificate_type::s_mime;
        } else {
            fields.issue("invalid-certificate-type",
                         fields.path("certificate_type") + " must be \"tls-server\" or \"s-mime\"");
        }
    }
    if (auto domains = fields.string_list("caa_domains")) {
        for (auto& domain : *domains) {
            // Issuer domains are compared case-insensitively without a trailing dot (standards §7.3); normalise
            // them once here so "CA.Example." in a request matches (Open MPIC's uppercase caa_domains never match).
            auto parsed = net::parse_identifier(domain);
            if (!parsed || parsed->wildcard || parsed->is_ip()) {
                fields.issue("invalid-caa-domain", fields.path("caa_domains") + " entry \"" + domain +
                                                       "\" is not a valid issuer domain name");
                continue;
            }
            out.caa_domains.push_back(parsed->name);
        }
    }
    if (auto allow = fields.boolean("allow_lookup_failure")) {
        out.allow_lookup_failure = *allow;
    }
    out.account_uri = fields.string("account_uri", false);
    out.validation_method = fields.string("validation_method", false);
}

std::optional<validators::dns_record_type>
parse_record_type(field_reader& fields, std::string_view key,
                  std::initializer_list<validators::dns_record_type> allowed) {
    auto text = fields.string(key, false);
    if (!text) {
        return std::nullopt;
    }
    for (auto type : allowed) {
        if (*text == validators::to_string(type)) {
            return type;
        }
    }
    std::string names;
    for (auto type : allowed) {
        names += (names.empty() ? "" : ", ") + std::string(validators::to_string(type));
    }
    fields.issue("invalid-dns-record-type", fields.path(key) + " must be one of " + names);
    return std::nullopt;
}

void parse_http_headers(field_reader& fields, const json& params, dcv_parameters& out) {
    auto it = params.find("http_headers");
    if (it == params.end() || it->is_null()) {
        return;
    }
    if (!it->is_object() || it->size() > fields.limits().max_list_items) {
        fields.issue("invalid-field-type", fields.path("http_headers") + " must be an object of at most " +
                                               std::to_string(fields.limits().max_list_items) + " string values");
        return;
    }
    for (const auto& [name, value] : it->items()) {
        // Header names are tokens (RFC 9110 §5.1); values may not carry CR/LF (request smuggling).
        bool name_ok = !name.empty() && name.size() <= 256;
        for (char c : name) {
            name_ok = name_ok && (std::isalnum(static_cast<unsigned char>(c)) ||
                                  std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos);
        }
        bool value_ok =
            value.is_string() && value.get_ref<const std::string&>().size() <= fields.limits().max_string_bytes;
        if (value_ok) {
            for (char c : value.get_ref<const std::string&>()) {
                value_ok = value_ok && c != '\r' && c != '\n' && c != '\0';
            }
        }
        if (!name_ok || !value_ok) {
            fields.issue("invalid-http-header",
                         fields.path("http_headers") + " entry \"" + name.substr(0, 64) + "\" is not a valid header");
            continue;
        }
        out.http_headers.emplace_back(name, value.get<std::string>());
    }
}

void parse_dcv_parameters(field_reader& fields, const json& params, dcv_parameters& out) {
    auto method_text = fields.string("validation_method", true);
    if (!method_text) {
        return;
    }
    auto method = validators::parse_validation_method(*method_text);
    if (!method) {
        fields.issue("invalid-validation-method", fields.path("validation_method") + " \"" +
                                                      method_text->substr(0, 64) + "\" is not a supported method");
        return;
    }
    out.method = *method;
    using vm = validation_method;
    using rt = validators::dns_record_type;
    switch (*method) {
    case vm::website_change:
        if (auto v = fields.non_empty("http_token_path", "empty-http-token-path")) {
            out.http_token_path = *v;
        }
        if (auto v = fields.non_empty("challenge_value", "empty-challenge-value")) {
            out.challenge_value = *v;
        }
        if (auto v = fields.string("url_scheme", false)) {
            if (*v != "http" && *v != "https") {
                fields.issue("invalid-url-scheme", fields.path("url_scheme") + " must be \"http\" or \"https\"");
            } else {
                out.url_scheme = *v;
            }
        }
        parse_http_headers(fields, params, out);
        out.match_regex = fields.string("match_regex", false);
        if (auto v = fields.boolean("require_exact_case")) {
            out.require_exact_case = *v;
        }
        break;
    case vm::acme_http_01:
        if (auto v = fields.non_empty("token", "empty-token")) {
            out.token = *v;
        }
        if (auto v = fields.non_empty("key_authorization", "empty-key-authorization")) {
            out.key_authorization = *v;
        }
        parse_http_headers(fields, params, out);
        break;
    case vm::acme_dns_01:
    case vm::acme_tls_alpn_01:
        if (auto v = fields.non_empty("key_authorization_hash", "empty-key-authorization-hash")) {
            out.key_authorization_hash = *v;
        }
        break;
    case vm::dns_account_01:
        if (auto v = fields.non_empty("key_authorization_hash", "empty-key-authorization-hash")) {
            out.key_authorization_hash = *v;
        }
        // The label is derived from the ACME account URI (standards §2.6); accept either spelling.
        if (auto v = fields.string("account_uri", false)) {
            out.expected_account_uri = *v;
        } else if (auto w = fields.non_empty("expected_account_uri", "empty-account-uri")) {
            out.expected_account_uri = *w;
        }
        break;
    case vm::dns_change:
        if (auto v = fields.non_empty("challenge_value", "empty-challenge-value")) {
            out.challenge_value = *v;
        }
        out.record_type = parse_record_type(fields, "dns_record_type", {rt::txt, rt::cname, rt::caa}).value_or(rt::txt);
        out.dns_name_prefix = fields.string("dns_name_prefix", false);
        if (auto v = fields.boolean("require_exact_match")) {
            out.require_exact_match = *v;
        }
        if (auto v = fields.boolean("require_exact_case")) {
            out.require_exact_case = *v;
        }
        break;
    case vm::dns_persistent:
        if (auto v = fields.string_list("issuer_domain_names"); v && !v->empty()) {
            out.issuer_domain_names = *v;
        } else {
            fields.issue("empty-issuer-domain-names", fields.path("issuer_domain_names") + " must be a non-empty list");
        }
        if (auto v = fields.non_empty("expected_account_uri", "empty-account-uri")) {
            out.expected_account_uri = *v;
        }
        break;
    case vm::contact_email_txt:
    case vm::contact_phone_txt:
        if (auto v = fields.non_empty("challenge_value", "empty-challenge-value")) {
            out.challenge_value = *v;
        }
        break;
    case vm::contact_email_caa:
    case vm::contact_phone_caa:
    case vm::reverse_address_lookup:
        if (auto v = fields.non_empty("challenge_value", "empty-challenge-value")) {
            out.challenge_value = *v;
        }
        out.dns_name_prefix = fields.string("dns_name_prefix", false);
        break;
    case vm::ip_address:
        if (auto v = fields.non_empty("challenge_value", "empty-challenge-value")) {
            out.challenge_value = *v;
        }
        out.record_type = parse_record_type(fields, "dns_record_type", {rt::a, rt::aaaa}).value_or(rt::a);
        break;
    }
}

/// Rules that tie a method to the kind of identifier (BR notes, RFC 8738 §7): refused at the API, not by a check.
void check_method_fits_target(const net::identifier& target, const dcv_parameters& dcv,
                              std::vector<request_issue>& issues) {
    using vm = validation_method;
    const auto name = std::string(validators::to_string(dcv.method));
    if (target.wildcard &&
        (dcv.method == vm::acme_http_01 || dcv.method == vm::acme_tls_alpn_01 || dcv.method == vm::website_change)) {
        // BR 3.2.2.4.18/.19/.20 Notes: not suitable for wildcard domain names.
        issues.push_back(
            {"method-not-allowed-for-target", name + " cannot validate the wildcard " + target.requested()});
    }
    if (target.is_ip() &&
        (dcv.method == vm::acme_dns_01 || dcv.method == vm::dns_change || dcv.method == vm::dns_account_01 ||
         dcv.method == vm::dns_persistent || dcv.method == vm::contact_email_txt ||
         dcv.method == vm::contact_phone_txt || dcv.method == vm::contact_email_caa ||
         dcv.method == vm::contact_phone_caa || dcv.method == vm::ip_address)) {
        // RFC 8738 §7: dns-01 MUST NOT be used for IP identifiers; the other DNS methods need a domain name.
        issues.push_back({"method-not-allowed-for-target", name + " cannot validate the IP address " + target.name});
    }
    if (!target.is_ip() && dcv.method == vm::reverse_address_lookup) {
        issues.push_back({"method-not-allowed-for-target", name + " validates IP addresses only"});
    }
}

std::optional<net::identifier> parse_target(const std::string& text, std::string_view field,
                                            std::vector<request_issue>& issues) {
    auto id = net::parse_identifier(text);
    if (!id) {
        issues.push_back({"invalid-target",
                          std::string(field) + " \"" + text.substr(0, 64) + "\" is invalid: " + id.error().message()});
        return std::nullopt;
    }
    return *id;
}

} // namespace

std::variant<mpic_request, std::vector<request_issue>> parse_mpic_request(std::string_view body,
                                                                          const request_limits& limits) {
    std::vector<request_issue> issues;
    json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
        return std::vector<request_issue>{{"malformed-json", "the request body is not valid UTF-8 JSON"}};
    }
    if (!doc.is_object()) {
        return std::vector<request_issue>{{"malformed-json", "the request body must be a JSON object"}};
    }
    field_reader fields(doc, "", issues, limits);
    mpic_request request;

    if (auto type = fields.string("check_type", true)) {
        if (*type == "caa") {
            request.kind = request_kind::caa;
        } else if (*type == "dcv") {
            request.kind = request_kind::dcv;
        } else if (*type == "dcv_with_caa") {
            request.kind = request_kind::dcv_with_caa;
        } else {
            fields.issue("invalid-check-type", "check_type must be \"caa\", \"dcv\" or \"dcv_with_caa\"");
        }
    }

    const bool has_single = fields.has("domain_or_ip_target");
    const bool has_many = fields.has("targets");
    if (has_single && has_many) {
        fields.issue("invalid-target", "give either domain_or_ip_target or targets, not both");
    } else if (has_many) {
        request.targets_field = true;
        if (auto list = fields.string_list("targets")) {
            if (list->empty() || list->size() > limits.max_targets) {
                fields.issue("invalid-target",
                             "targets must hold 1 to " + std::to_string(limits.max_targets) + " names");
            }
            for (std::size_t i = 0; i < list->size() && i < limits.max_targets; ++i) {
                if (auto id = parse_target((*list)[i], "targets[" + std::to_string(i) + "]", issues)) {
                    request.targets.push_back(std::move(*id));
                }
            }
        }
    } else if (auto target = fields.string("domain_or_ip_target", true)) {
        if (auto id = parse_target(*target, "domain_or_ip_target", issues)) {
            request.targets.push_back(std::move(*id));
        }
    }

    if (auto trace = fields.string("trace_identifier", false)) {
        request.trace_identifier = *trace;
    }

    if (const json* orch = fields.object("orchestration_parameters", false)) {
        field_reader o(*orch, "orchestration_parameters", issues, limits);
        constexpr long long min_int = std::numeric_limits<int>::min();
        constexpr long long max_int = std::numeric_limits<int>::max();
        // Types only here; ranges depend on the deployment and are judged by validate_orchestration (policy.hh).
        orchestration_request params;
        params.perspective_count = o.integer("perspective_count", min_int, max_int, "invalid-perspective-count");
        params.quorum_count = o.integer("quorum_count", min_int, max_int, "invalid-quorum-count");
        params.max_attempts = o.integer("max_attempts", min_int, max_int, "invalid-max-attempts");
        params.cohort_for_single_attempt =
            o.integer("cohort_for_single_attempt", min_int, max_int, "invalid-cohort-for-single-attempt");
        params.deadline_ms = o.integer("deadline_ms", min_int, max_int, "invalid-deadline");
        request.orchestration = params;
    }

    const bool wants_caa = request.kind == request_kind::caa || request.kind == request_kind::dcv_with_caa;
    const bool wants_dcv = request.kind == request_kind::dcv || request.kind == request_kind::dcv_with_caa;
    if (const json* caa = fields.object("caa_check_parameters", false)) {
        if (!wants_caa) {
            fields.issue("unexpected-field",
                         "caa_check_parameters is only allowed with check_type caa or dcv_with_caa");
        } else {
            field_reader c(*caa, "caa_check_parameters", issues, limits);
            parse_caa_parameters(c, request.caa);
        }
    }
    if (const json* dcv = fields.object("dcv_check_parameters", wants_dcv)) {
        if (!wants_dcv) {
            fields.issue("unexpected-field",
                         "dcv_check_parameters is only allowed with check_type dcv or dcv_with_caa");
        } else {
            field_reader d(*dcv, "dcv_check_parameters", issues, limits);
            parse_dcv_parameters(d, *dcv, request.dcv);
            for (const auto& target : request.targets) {
                check_method_fits_target(target, request.dcv, issues);
            }
        }
    }
    if (wants_caa && request.kind == request_kind::dcv_with_caa && !request.caa.validation_method) {
        // api.md: with dcv_with_caa the RFC 8657 method label is taken from the DCV part when not given.
        switch (request.dcv.method) {
        case validation_method::acme_http_01:
            request.caa.validation_method = "http-01";
            break;
        case validation_method::acme_dns_01:
            request.caa.validation_method = "dns-01";
            break;
        case validation_method::acme_tls_alpn_01:
            request.caa.validation_method = "tls-alpn-01";
            break;
        case validation_method::dns_account_01:
            request.caa.validation_method = "dns-account-01";
            break;
        default:
            break;
        }
    }

    if (!issues.empty()) {
        return issues;
    }
    return request;
}

std::variant<validators::check_request, std::vector<request_issue>>
parse_check_request(std::string_view body, validators::check_type type, const request_limits& limits) {
    std::vector<request_issue> issues;
    json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
        return std::vector<request_issue>{{"malformed-json", "the request body must be a JSON object"}};
    }
    field_reader fields(doc, "", issues, limits);
    validators::check_request request;
    request.type = type;
    if (auto target = fields.string("domain_or_ip_target", true)) {
        if (auto id = parse_target(*target, "domain_or_ip_target", issues)) {
            request.target = std::move(*id);
        }
    }
    if (auto trace = fields.string("trace_identifier", false)) {
        request.trace_id = *trace;
    }
    if (type == validators::check_type::caa) {
        if (const json* caa = fields.object("caa_check_parameters", false)) {
            field_reader c(*caa, "caa_check_parameters", issues, limits);
            parse_caa_parameters(c, request.caa);
        }
    } else if (const json* dcv = fields.object("dcv_check_parameters", true)) {
        field_reader d(*dcv, "dcv_check_parameters", issues, limits);
        parse_dcv_parameters(d, *dcv, request.dcv);
        if (issues.empty()) {
            check_method_fits_target(request.target, request.dcv, issues);
        }
    }
    if (!issues.empty()) {
        return issues;
    }
    return request;
}

} // namespace mpic::quorum
