// Validation of engine_config, the embedded default and the lab overlay.

#include "quorum/engine/config.hh"

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "net/name/identifier.hh"

namespace mpic::quorum {
namespace {

void check_transport(const configured_perspective& p, const std::string& key, std::vector<std::string>& errors) {
    const auto& t = p.transport;
    if (t.is_agent()) {
        if (t.agent_url.rfind("https://", 0) != 0) {
            // BR.md 1207: remote perspectives talk to the CA over an authenticated and encrypted channel.
            errors.push_back(key + ".agent_url: must be an https:// URL (mutual TLS is required)");
        }
        if (t.agent_ca_file.empty() || t.client_cert_file.empty() || t.client_key_file.empty()) {
            errors.push_back(key + ": an agent needs agent_ca_file, client_cert_file and client_key_file (mutual TLS)");
        }
        return;
    }
    if (t.resolvers.empty()) {
        errors.push_back(key + ".resolvers: an in-process perspective needs at least one resolver of its own");
    }
    for (const auto* source : {&t.source_ipv4, &t.source_ipv6}) {
        if (*source && !net::addr::ip_address::parse(**source)) {
            errors.push_back(key + ": source address \"" + **source + "\" is not an IP address");
        }
    }
}

} // namespace

bool validate_engine_config(const engine_config& config, std::vector<std::string>& errors) {
    const auto before = errors.size();
    std::set<std::string> codes;
    auto check = [&](const configured_perspective& p, const std::string& key) {
        if (!p.info.code.empty() && !codes.insert(p.info.code).second) {
            errors.push_back(key + ".code: \"" + p.info.code + "\" is used twice");
        }
        check_transport(p, key, errors);
    };
    for (std::size_t i = 0; i < config.perspectives.size(); ++i) {
        check(config.perspectives[i], "perspective[" + std::to_string(i) + "]");
    }
    if (config.primary) {
        check(*config.primary, "primary");
    }
    if (config.perspectives.empty()) {
        errors.push_back("perspective: at least one [[perspective]] is required");
    }
    if (config.default_perspective_count < 0 ||
        config.default_perspective_count > static_cast<int>(config.perspectives.size())) {
        errors.push_back("engine.default_perspective_count: must be between 0 (all) and the number of perspectives");
    }
    if (config.max_attempts < 1) {
        errors.push_back("engine.max_attempts: must be at least 1");
    }
    if (config.default_deadline_ms == 0 || config.default_deadline_ms > config.max_deadline_ms) {
        errors.push_back("engine.default_deadline_ms: must be between 1 and engine.max_deadline_ms");
    }
    if (config.check_timeout_ms == 0) {
        errors.push_back("engine.check_timeout_ms: must be at least 1");
    }
    if (config.caa_issuer_domains.empty()) {
        errors.push_back("engine.caa_issuer_domains: at least one issuer domain name is required (BR 3.2.2.8)");
    }
    for (const auto& domain : config.caa_issuer_domains) {
        auto id = net::parse_identifier(domain);
        if (!id || id->wildcard || id->is_ip()) {
            errors.push_back("engine.caa_issuer_domains: \"" + domain + "\" is not a domain name");
        }
    }
    if (config.dns_timeout_ms == 0 || config.dns_tries == 0) {
        errors.push_back("dns: timeout_ms and tries must be at least 1");
    }
    if (config.http_body_cap == 0 || config.http_connect_timeout_ms == 0 || config.http_stage_timeout_ms == 0) {
        errors.push_back("http: body_cap_bytes, connect_timeout_ms and stage_timeout_ms must be at least 1");
    }
    if (config.max_in_flight_checks == 0) {
        errors.push_back("engine.max_in_flight_checks: must be at least 1");
    }
    return errors.size() == before;
}

std::vector<net::dns::server_address> system_resolvers() {
    std::vector<net::dns::server_address> out;
    std::ifstream in("/etc/resolv.conf");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string keyword, address;
        if (words >> keyword >> address && keyword == "nameserver" && net::addr::ip_address::parse(address)) {
            out.push_back({address, 53});
        }
    }
    if (out.empty()) {
        out.push_back({"127.0.0.1", 53});
    }
    return out;
}

engine_config embedded_default_config() {
    struct nominal {
        const char* code;
        rir region;
        double lat, lon;
    };
    // Nominal hand-off points in three RIR regions, pairwise more than 500 km apart. On one machine they are labels,
    // not vantage points: hence the development override below.
    static constexpr nominal sites[] = {
        {"us-east", rir::arin, 39.04, -77.49},       {"us-west", rir::arin, 45.60, -121.18},
        {"eu-west", rir::ripe, 53.35, -6.26},        {"eu-central", rir::ripe, 50.11, 8.68},
        {"ap-northeast", rir::apnic, 35.68, 139.69}, {"ap-southeast", rir::apnic, 1.35, 103.82},
    };
    engine_config config;
    const auto resolvers = system_resolvers();
    for (const auto& site : sites) {
        configured_perspective p;
        p.info.code = site.code;
        p.info.region = site.region;
        p.info.location = {site.lat, site.lon};
        p.info.kind = perspective_kind::in_process;
        p.transport.resolvers = resolvers;
        config.perspectives.push_back(std::move(p));
    }
    config.policy.development_override = true;
    return config;
}

void apply_lab(engine_config& config, const std::vector<net::dns::server_address>& dns_by_perspective,
               const net::addr::lab_ports& ports) {
    std::size_t k = 1;
    auto point = [&](configured_perspective& p) {
        if (p.transport.is_agent()) {
            return;
        }
        p.transport.resolvers = {k <= dns_by_perspective.size() ? dns_by_perspective[k - 1]
                                                                : dns_by_perspective.front()};
        p.transport.source_ipv4 = "127.0.0." + std::to_string(k + 1);
        ++k;
    };
    for (auto& p : config.perspectives) {
        point(p);
    }
    if (config.primary) {
        point(*config.primary);
    }
    config.lab = ports;
}

bool apply_lab_summary(const std::string& path, engine_config& config, std::vector<std::string>& errors) {
    std::ifstream in(path);
    if (!in) {
        errors.push_back("--lab: cannot read " + path);
        return false;
    }
    const auto doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("perspectives") || !doc["perspectives"].is_array()) {
        errors.push_back("--lab: " + path + " is not an mpic-lab summary");
        return false;
    }
    // Typed reads only: a hand-edited summary must produce a message, never an exception.
    auto port_of = [](const nlohmann::json& endpoint) -> std::uint16_t {
        if (!endpoint.is_object() || !endpoint.contains("port") || !endpoint["port"].is_number_unsigned() ||
            endpoint["port"].get<std::uint64_t>() > 65535) {
            return 0;
        }
        return static_cast<std::uint16_t>(endpoint["port"].get<std::uint64_t>());
    };
    auto field = [&](const char* key) { return doc.contains(key) ? doc[key] : nlohmann::json(); };
    std::vector<net::dns::server_address> dns;
    for (const auto& p : doc["perspectives"]) {
        const auto endpoint = p.is_object() && p.contains("dns") ? p["dns"] : nlohmann::json();
        const auto port = port_of(endpoint);
        const auto address = endpoint.is_object() && endpoint.contains("address") && endpoint["address"].is_string()
                                 ? endpoint["address"].get<std::string>()
                                 : std::string();
        if (port == 0 || !net::addr::ip_address::parse(address)) {
            errors.push_back("--lab: a perspective of " + path + " has no valid dns endpoint");
            return false;
        }
        dns.push_back({address, port});
    }
    // The lab's validating resolvers (unbound, one per perspective, only when a zone is signed). A malformed entry
    // is simply not one: the flag then stays false, which is the fail-closed reading.
    auto validating = [&](const net::dns::server_address& endpoint) {
        const auto resolvers = field("validating_resolvers");
        if (!resolvers.is_array()) {
            return false;
        }
        for (const auto& r : resolvers) {
            if (r.is_object() && r.contains("address") && r["address"].is_string() &&
                r["address"].get<std::string>() == endpoint.address && port_of(r) == endpoint.port) {
                return true;
            }
        }
        return false;
    };
    net::addr::lab_ports ports{port_of(field("http")), port_of(field("https")), port_of(field("tls_alpn"))};
    if (ports.tls_alpn == 0) {
        ports.tls_alpn = ports.https;
    }
    if (dns.empty() || ports.http == 0 || ports.https == 0) {
        errors.push_back("--lab: " + path + " lacks DNS or HTTP endpoints");
        return false;
    }
    apply_lab(config, dns, ports);
    // apply_lab's numbering: perspective k (remotes, then the primary; agents skipped) resolves through dns[k-1],
    // or dns[0] beyond the list.
    std::size_t k = 1;
    auto mark = [&](configured_perspective& p) {
        if (p.transport.is_agent()) {
            return;
        }
        p.transport.resolver_validates_dnssec = validating(k <= dns.size() ? dns[k - 1] : dns.front());
        ++k;
    };
    for (auto& p : config.perspectives) {
        mark(p);
    }
    if (config.primary) {
        mark(*config.primary);
    }
    return true;
}

} // namespace mpic::quorum
