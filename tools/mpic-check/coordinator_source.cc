// The remote source: a running coordinator. GET /configz (when the token may read it) tells the perspective count,
// the primary and the policy, so the verdict is the one that coordinator would give; POST /mpic with quorum_count 0
// (monitoring) and one attempt makes every perspective report. Both calls use the project's own HTTP client on a
// private libuv loop, with a total deadline; the coordinator is CA infrastructure, so its address is unrestricted.

#include <nlohmann/json.hpp>
#include <uv.h>

#include "net/http/client.hh"
#include "net/tls/client_context.hh"
#include "quorum/api/json_codec.hh"
#include "quorum/perspective.hh"
#include "tools/mpic-check/source.hh"

namespace mpic::mpic_check {
namespace {

using json = nlohmann::json;

struct parsed_url {
    bool tls = false;
    std::string host;
    std::uint16_t port = 0;
    std::string prefix;
};

/// "http[s]://HOST[:PORT][/prefix]" with HOST an IP literal ([v6] bracketed) or "localhost".
std::optional<parsed_url> parse_url(std::string_view url) {
    parsed_url out;
    if (url.rfind("https://", 0) == 0) {
        out.tls = true;
        url.remove_prefix(8);
    } else if (url.rfind("http://", 0) == 0) {
        url.remove_prefix(7);
    } else {
        return std::nullopt;
    }
    const auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    if (slash != std::string_view::npos) {
        out.prefix = std::string(url.substr(slash));
        while (!out.prefix.empty() && out.prefix.back() == '/') {
            out.prefix.pop_back();
        }
    }
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        out.host = std::string(authority.substr(1, close - 1));
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') {
                return std::nullopt;
            }
            port = authority.substr(close + 2);
        }
    } else {
        const auto colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
        }
    }
    if (out.host == "localhost") {
        out.host = "127.0.0.1";
    }
    unsigned long value = out.tls ? 443 : 80;
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
            return std::nullopt;
        }
        value = std::stoul(std::string(port));
    }
    if (value == 0 || value > 65535 || out.host.empty()) {
        return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
    return out;
}

struct http_answer {
    int status = 0;
    std::string body;
    std::string error; ///< non-empty: the exchange failed
};

/// One blocking exchange on a private loop; every handle is closed and the loop closed before returning.
http_answer exchange(const parsed_url& url, const std::string& ca_file, std::string method, const std::string& path,
                     std::string body, const std::string& token, std::chrono::milliseconds timeout) {
    http_answer out;
    auto address = net::addr::ip_address::parse(url.host);
    if (!address) {
        out.error = "the coordinator's host must be an IP address or localhost, not " + url.host;
        return out;
    }
    std::optional<net::tls::client_context> tls;
    if (url.tls) {
        net::tls::client_context_options options;
        options.ca_file = ca_file;
        auto created = net::tls::client_context::create(options);
        if (!created) {
            out.error = "TLS: " + created.error().message();
            return out;
        }
        tls.emplace(std::move(*created));
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        net::http::client_config config;
        config.policy = net::addr::address_policy::unrestricted("the coordinator named on the command line");
        config.pool_capacity = 0;
        net::http::client client(&loop, tls ? &*tls : nullptr, config);
        net::http::request req;
        req.addresses = {*address};
        req.port = url.port;
        if (url.tls) {
            net::http::tls_options options;
            options.sni = url.host;
            options.verify = net::tls::verification::peer(url.host);
            req.tls = std::move(options);
        }
        req.method = std::move(method);
        req.target = url.prefix + path;
        req.host = url.host + ":" + std::to_string(url.port);
        req.headers = {{"Authorization", "Bearer " + token}, {"Accept", "application/json"}};
        if (!body.empty()) {
            req.headers.push_back({"Content-Type", "application/json"});
        }
        req.body = std::move(body);
        req.body_cap = 64 * 1024 * 1024;
        req.deadlines.head = timeout;
        req.deadlines.body = timeout;
        req.deadlines.total = timeout;
        client.fetch(std::move(req), [&out](net::http::exchange_result&& r) {
            if (!r.ok()) {
                out.error = std::string(net::http::to_string(r.failed_stage)) + ": " + r.error.message();
                return;
            }
            out.status = r.response.status;
            out.body = std::move(r.response.body);
        });
        uv_run(&loop, UV_RUN_DEFAULT);
        client.close();
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return out;
}

class coordinator_source final : public source {
public:
    coordinator_source(coordinator_options options, std::optional<parsed_url> url)
        : _options(std::move(options)), _url(std::move(url)) {
        _context.date = quorum::civil_date_of(std::chrono::system_clock::now());
        if (_url) {
            read_configz();
        }
        if (!_options.date.empty()) {
            if (auto d = quorum::parse_civil_date(_options.date)) {
                _context.date = *d;
            }
        }
    }

    answer run(const check_plan& plan, const progress_callback&) override {
        answer out;
        if (!_url) {
            out.errors.push_back("--coordinator must be http[s]://IP:PORT[/prefix], not " + _options.url);
            out.refused = true;
            return out;
        }
        orchestration_ask ask;
        if (_perspectives > 0) {
            ask.perspective_count = _perspectives;
        }
        auto reply = exchange(*_url, _options.ca_file, "POST", "/mpic", render_request_body(plan, ask), _options.token,
                              _options.timeout);
        if (!reply.error.empty()) {
            out.errors.push_back("coordinator " + _options.url + ": " + reply.error);
            return out;
        }
        if (reply.status == 400 || reply.status == 401 || reply.status == 403) {
            out.refused = true;
        }
        if (reply.status != 200) {
            out.errors.push_back("coordinator answered HTTP " + std::to_string(reply.status) + ": " + reply.body);
            return out;
        }
        parse_response_body(reply.body, out);
        return out;
    }

    verdict_context context() const override { return _context; }
    int perspective_count() const override { return _perspectives; }

private:
    /// Best effort: an Open MPIC coordinator has no /configz; then the verdict uses the BR table, no primary and
    /// the perspectives that answered.
    void read_configz() {
        auto reply = exchange(*_url, _options.ca_file, "GET", "/configz", {}, _options.token, std::chrono::seconds(10));
        if (!reply.error.empty() || reply.status != 200) {
            return;
        }
        auto doc = json::parse(reply.body, nullptr, false);
        if (!doc.is_object()) {
            return;
        }
        if (doc.contains("perspectives") && doc["perspectives"].is_array()) {
            _perspectives = static_cast<int>(doc["perspectives"].size());
            for (const auto& p : doc["perspectives"]) {
                if (p.is_object() && p.contains("code") && p["code"].is_string()) {
                    _context.perspective_order.push_back(p["code"].get<std::string>());
                }
            }
        }
        if (doc.contains("primary") && doc["primary"].is_object() && doc["primary"].contains("code") &&
            doc["primary"]["code"].is_string()) {
            _context.primary_code = doc["primary"]["code"].get<std::string>();
            _context.perspective_order.push_back(*_context.primary_code);
        }
        if (doc.contains("policy") && doc["policy"].is_object()) {
            const auto& p = doc["policy"];
            if (p.contains("table") && p["table"].is_string()) {
                _context.policy.table =
                    quorum::parse_quorum_table(p["table"].get<std::string>()).value_or(quorum::quorum_table::br);
            }
            if (p.contains("development_override") && p["development_override"].is_boolean()) {
                _context.policy.development_override = p["development_override"].get<bool>();
            }
            if (p.contains("date") && p["date"].is_string()) {
                if (auto d = quorum::parse_civil_date(p["date"].get<std::string>())) {
                    _context.date = *d;
                }
            }
        }
        if (doc.contains("engine") && doc["engine"].is_object() && doc["engine"].contains("caa_issuer_domains") &&
            doc["engine"]["caa_issuer_domains"].is_array()) {
            for (const auto& d : doc["engine"]["caa_issuer_domains"]) {
                if (d.is_string()) {
                    _context.issuer_domains.push_back(d.get<std::string>());
                }
            }
        }
    }

    coordinator_options _options;
    std::optional<parsed_url> _url;
    verdict_context _context;
    int _perspectives = 0;
};

/// One outcome object ({"perspectives": [...]}) into a check_outcome.
bool read_outcome(const json& j, validators::check_type type, quorum::check_outcome& out, std::string& error) {
    out.type = type;
    if (!j.is_object() || !j.contains("perspectives") || !j["perspectives"].is_array()) {
        error = "an outcome without perspectives";
        return false;
    }
    out.is_valid = j.value("is_valid", false);
    for (const auto& p : j["perspectives"]) {
        if (!p.is_object() || !p.contains("perspective_code") || !p["perspective_code"].is_string() ||
            !p.contains("check_response")) {
            error = "a perspective without perspective_code or check_response";
            return false;
        }
        auto result = quorum::check_result_from_json(p["check_response"]);
        if (!result) {
            error = "perspective " + p["perspective_code"].get<std::string>() + ": malformed check_response";
            return false;
        }
        quorum::perspective_result r;
        r.code = p["perspective_code"].get<std::string>();
        r.rir = p.contains("rir") && p["rir"].is_string() ? p["rir"].get<std::string>() : std::string();
        r.result = std::move(*result);
        out.perspectives.push_back(std::move(r));
    }
    return true;
}

} // namespace

bool parse_response_body(std::string_view body, answer& out) {
    auto doc = json::parse(body, nullptr, false);
    if (!doc.is_object()) {
        out.errors.push_back("the coordinator's answer is not JSON");
        return false;
    }
    out.lab_mode = doc.value("lab_mode", false);
    out.non_compliant = !doc.value("compliant", true);
    out.compliance_note = doc.contains("compliance_note") && doc["compliance_note"].is_string()
                              ? doc["compliance_note"].get<std::string>()
                              : std::string();
    std::vector<json> items;
    if (doc.contains("results") && doc["results"].is_array()) {
        items.assign(doc["results"].begin(), doc["results"].end());
    } else if (doc.contains("perspectives")) {
        // Open MPIC shape: one target, one check type.
        json item = {{"domain_or_ip_target", doc.value("domain_or_ip_target", "")}};
        item[doc.value("check_type", "dcv") == "caa" ? "caa" : "dcv"] = doc;
        items.push_back(std::move(item));
    } else {
        out.errors.push_back("the coordinator's answer has neither results nor perspectives");
        return false;
    }
    for (const auto& item : items) {
        quorum::target_outcome target;
        const std::string name = item.value("domain_or_ip_target", "");
        auto id = net::parse_identifier(name);
        if (!id) {
            out.errors.push_back("the coordinator's answer names an unparsable target: " + name);
            return false;
        }
        target.target = *id;
        std::string error;
        for (auto [key, type] : {std::pair{"dcv", validators::check_type::dcv}, {"caa", validators::check_type::caa}}) {
            if (!item.contains(key)) {
                continue;
            }
            quorum::check_outcome outcome;
            if (!read_outcome(item[key], type, outcome, error)) {
                out.errors.push_back("the coordinator's answer for " + name + ": " + error);
                return false;
            }
            (type == validators::check_type::dcv ? target.dcv : target.caa) = std::move(outcome);
        }
        out.targets.push_back(std::move(target));
    }
    return true;
}

std::unique_ptr<source> make_coordinator_source(const coordinator_options& options, std::vector<std::string>& errors) {
    auto url = parse_url(options.url);
    if (!url) {
        errors.push_back("--coordinator must be http[s]://IP:PORT[/prefix] (an IP address or localhost), not " +
                         options.url);
        return nullptr;
    }
    if (!options.date.empty() && !quorum::parse_civil_date(options.date)) {
        errors.push_back("--date must be YYYY-MM-DD");
        return nullptr;
    }
    return std::make_unique<coordinator_source>(options, std::move(url));
}

} // namespace mpic::mpic_check
