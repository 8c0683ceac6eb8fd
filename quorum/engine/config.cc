// Validation of engine_config, the embedded default and the lab overlay.

#include "quorum/engine/config.hh"

#include <fstream>
#include <set>
#include <sstream>

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

} // namespace mpic::quorum
