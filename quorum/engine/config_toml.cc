// TOML → engine_config. Every problem is reported with the key that caused it, and unknown keys are errors: a
// typo in a security-relevant key ("developement_override") must not silently fall back to a default.
// toml++ reports syntax errors by exception; that is confined to this file (start-up, not the I/O path).

#include "net/addr/host_port.hh"
#include "quorum/engine/config.hh"
#include "quorum/engine/toml_section.hh"

namespace mpic::quorum {
namespace {

/// A [latitude, longitude] pair in degrees.
std::optional<geo_point> read_location(toml_section& s, std::string_view key) {
    const toml::node* node = s.raw(key);
    if (node == nullptr) {
        return std::nullopt;
    }
    const auto* array = node->as_array();
    if (array == nullptr || array->size() != 2 || !(*array)[0].is_number() || !(*array)[1].is_number()) {
        s.error(key, "must be [latitude, longitude] in degrees");
        return std::nullopt;
    }
    geo_point p{(*array)[0].value<double>().value_or(1000), (*array)[1].value<double>().value_or(1000)};
    if (!p.valid()) {
        s.error(key, "latitude must be in [-90, 90] and longitude in [-180, 180]");
        return std::nullopt;
    }
    return p;
}

std::optional<net::dns::server_address> parse_server(std::string_view text) {
    // "1.2.3.4", "1.2.3.4:5353", "[2001:db8::1]:53", "2001:db8::1"
    auto parsed = net::addr::parse_host_port(text);
    if (!parsed || !net::addr::ip_address::parse(parsed->host) || parsed->port == std::uint16_t{0}) {
        return std::nullopt;
    }
    return net::dns::server_address{parsed->host, parsed->port.value_or(53)};
}

configured_perspective read_perspective(toml_section& s, perspective_kind default_kind) {
    configured_perspective p;
    p.info.kind = default_kind;
    s.read("code", p.info.code);
    if (p.info.code.empty()) {
        s.error("code", "is required");
    }
    std::string rir_text;
    s.read("rir", rir_text);
    if (auto r = parse_rir(rir_text)) {
        p.info.region = *r;
    } else {
        s.error("rir", "must be one of ARIN, RIPE, APNIC, LACNIC, AFRINIC");
    }
    if (auto loc = read_location(s, "location")) {
        p.info.location = *loc;
    } else {
        s.error("location", "is required ([latitude, longitude])");
    }
    auto resolver_location = read_location(s, "resolver_location");
    std::string resolver_rir;
    s.read("resolver_rir", resolver_rir);
    if (resolver_location || !resolver_rir.empty()) {
        resolver_site site{resolver_location.value_or(p.info.location), p.info.region};
        if (!resolver_rir.empty()) {
            if (auto r = parse_rir(resolver_rir)) {
                site.region = *r;
            } else {
                s.error("resolver_rir", "must be one of ARIN, RIPE, APNIC, LACNIC, AFRINIC");
            }
        }
        p.info.resolver = site;
    }
    s.read("source_ipv4", p.transport.source_ipv4);
    s.read("source_ipv6", p.transport.source_ipv6);
    std::vector<std::string> resolvers;
    s.read("resolvers", resolvers);
    for (const auto& text : resolvers) {
        if (auto server = parse_server(text)) {
            p.transport.resolvers.push_back(*server);
        } else {
            s.error("resolvers", "\"" + text + "\" is not an address[:port]");
        }
    }
    if (s.raw("resolver_validates_dnssec") != nullptr) {
        bool validates = false;
        s.read("resolver_validates_dnssec", validates);
        p.transport.resolver_validates_dnssec = validates;
    }
    s.read("agent_url", p.transport.agent_url);
    s.read("agent_ca_file", p.transport.agent_ca_file);
    s.read("client_cert_file", p.transport.client_cert_file);
    s.read("client_key_file", p.transport.client_key_file);
    if (p.transport.is_agent()) {
        p.info.kind = perspective_kind::remote;
    } else {
        p.info.kind = perspective_kind::in_process;
    }
    s.reject_unknown();
    return p;
}

} // namespace

result<engine_config> engine_config_from_toml(std::string_view toml_text, std::string_view source_name,
                                              std::vector<std::string>& errors) {
    toml::table doc;
    try {
        doc = toml::parse(toml_text, source_name);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        errors.push_back(std::string(source_name) + ":" + std::to_string(where.line) + ":" +
                         std::to_string(where.column) + ": " + std::string(e.description()));
        return make_error_code(errc::invalid_argument);
    }
    const std::size_t errors_before = errors.size();
    engine_config config;

    toml_section engine(doc["engine"].as_table(), "engine", errors);
    engine.read("reactors", config.reactors);
    engine.read("cohort_secret", config.cohort_secret);
    engine.read("default_perspective_count", config.default_perspective_count);
    engine.read("max_attempts", config.max_attempts);
    engine.read("default_deadline_ms", config.default_deadline_ms);
    engine.read("max_deadline_ms", config.max_deadline_ms);
    engine.read("check_timeout_ms", config.check_timeout_ms);
    engine.read("straggler_grace_ms", config.straggler_grace_ms);
    engine.read("caa_issuer_domains", config.caa_issuer_domains);
    engine.read("max_in_flight_checks", config.max_in_flight_checks);
    engine.reject_unknown();

    toml_section policy(doc["policy"].as_table(), "policy", errors);
    std::string table = std::string(to_string(config.policy.table));
    policy.read("table", table);
    if (auto t = parse_quorum_table(table)) {
        config.policy.table = *t;
    } else {
        policy.error("table", "must be \"br\" or \"strict\"");
    }
    policy.read("development_override", config.policy.development_override);
    policy.read("allow_monitoring_requests", config.policy.allow_monitoring_requests);
    std::string date;
    policy.read("date", date);
    if (!date.empty()) {
        if (auto d = parse_civil_date(date)) {
            config.date_override = *d;
        } else {
            policy.error("date", "must be a date YYYY-MM-DD");
        }
    }
    policy.reject_unknown();

    toml_section dns(doc["dns"].as_table(), "dns", errors);
    dns.read("timeout_ms", config.dns_timeout_ms);
    dns.read("tries", config.dns_tries);
    dns.read("resolver_validates_dnssec", config.dns_resolver_validates_dnssec);
    dns.reject_unknown();

    toml_section http(doc["http"].as_table(), "http", errors);
    http.read("body_cap_bytes", config.http_body_cap);
    http.read("connect_timeout_ms", config.http_connect_timeout_ms);
    http.read("stage_timeout_ms", config.http_stage_timeout_ms);
    http.reject_unknown();

    if (const auto* lab_table = doc["lab"].as_table()) {
        toml_section lab(lab_table, "lab", errors);
        bool enabled = false;
        net::addr::lab_ports ports;
        lab.read("enabled", enabled);
        lab.read("http_port", ports.http);
        lab.read("https_port", ports.https);
        lab.read("tls_alpn_port", ports.tls_alpn);
        lab.reject_unknown();
        if (enabled) {
            if (ports.http == 0 || ports.https == 0 || ports.tls_alpn == 0) {
                lab.error("enabled", "lab mode needs http_port, https_port and tls_alpn_port");
            }
            config.lab = ports;
        }
    }

    if (const auto* primary = doc["primary"].as_table()) {
        toml_section s(primary, "primary", errors);
        config.primary = read_perspective(s, perspective_kind::in_process);
    }
    if (const auto* node = doc.get("perspective")) {
        const auto* array = node->as_array();
        if (array == nullptr || !array->is_array_of_tables()) {
            errors.push_back("perspective: must be an array of tables ([[perspective]])");
        } else {
            std::size_t i = 0;
            for (const auto& item : *array) {
                toml_section s(item.as_table(), "perspective[" + std::to_string(i++) + "]", errors);
                config.perspectives.push_back(read_perspective(s, perspective_kind::remote));
            }
        }
    }

    validate_engine_config(config, errors);
    if (errors.size() != errors_before) {
        return make_error_code(errc::invalid_argument);
    }
    return config;
}

} // namespace mpic::quorum
