#include "tools/mpicd/effective_config.hh"

#include <nlohmann/json.hpp>

namespace mpic::mpicd {
namespace {

using json = nlohmann::json;

json perspective_json(const quorum::configured_perspective& p) {
    json out = {{"code", p.info.code},
                {"rir", quorum::to_string(p.info.region)},
                {"location", {p.info.location.lat_deg, p.info.location.lon_deg}}};
    if (p.info.resolver) {
        out["resolver_location"] = {p.info.resolver->location.lat_deg, p.info.resolver->location.lon_deg};
        out["resolver_rir"] = quorum::to_string(p.info.resolver->region);
    }
    if (p.transport.is_agent()) {
        out["agent_url"] = p.transport.agent_url;
        out["agent_ca_file"] = p.transport.agent_ca_file;
        out["client_cert_file"] = p.transport.client_cert_file;
        out["client_key_file"] = "<redacted>";
    } else {
        json resolvers = json::array();
        for (const auto& r : p.transport.resolvers) {
            resolvers.push_back(r.address + ":" + std::to_string(r.port));
        }
        out["resolvers"] = resolvers;
        out["source_ipv4"] = p.transport.source_ipv4 ? json(*p.transport.source_ipv4) : json(nullptr);
        out["source_ipv6"] = p.transport.source_ipv6 ? json(*p.transport.source_ipv6) : json(nullptr);
        if (p.transport.resolver_validates_dnssec) {
            out["resolver_validates_dnssec"] = *p.transport.resolver_validates_dnssec;
        }
    }
    return out;
}

} // namespace

std::string render_effective_config(const quorum::engine_config& e, const daemon_config& d) {
    json perspectives = json::array();
    for (const auto& p : e.perspectives) {
        perspectives.push_back(perspective_json(p));
    }
    json tokens = json::array();
    for (const auto& t : d.tokens) {
        tokens.push_back({{"name", t.name}, {"token", "<redacted>"}});
    }
    json out = {
        {"api",
         {{"role", d.daemon_role == role::coordinator ? "coordinator" : "perspective"},
          {"perspective_code", d.perspective_code},
          {"listen", d.listen_host + ":" + std::to_string(d.listen_port)},
          {"tls_cert_file", d.tls_cert_file},
          {"tls_key_file", d.tls_key_file.empty() ? "" : "<redacted>"},
          {"client_ca_file", d.client_ca_file},
          {"max_body_bytes", d.max_body_bytes},
          {"max_head_bytes", d.max_head_bytes},
          {"head_timeout_ms", d.head_timeout_ms},
          {"body_timeout_ms", d.body_timeout_ms},
          {"idle_timeout_ms", d.idle_timeout_ms},
          {"max_connections", d.max_connections},
          {"shutdown_grace_ms", d.shutdown_grace_ms}}},
        {"auth",
         {{"tokens", tokens},
          {"allow_client_certificates", d.allow_client_certificates},
          {"disabled", d.auth_disabled}}},
        {"limits",
         {{"requests_per_second_per_client", d.requests_per_second_per_client},
          {"burst_per_client", d.burst_per_client},
          {"concurrent_requests_per_client", d.concurrent_requests_per_client}}},
        {"audit",
         {{"path", d.audit_path},
          {"rotate_bytes", d.audit_rotate_bytes},
          {"keep", d.audit_keep},
          {"sync", d.audit_sync}}},
        {"engine",
         {{"reactors", e.reactors},
          {"cohort_secret", e.cohort_secret.empty() ? "<random per process>" : "<redacted>"},
          {"default_perspective_count", e.default_perspective_count},
          {"max_attempts", e.max_attempts},
          {"default_deadline_ms", e.default_deadline_ms},
          {"max_deadline_ms", e.max_deadline_ms},
          {"check_timeout_ms", e.check_timeout_ms},
          {"caa_issuer_domains", e.caa_issuer_domains},
          {"max_in_flight_checks", e.max_in_flight_checks}}},
        {"policy",
         {{"table", quorum::to_string(e.policy.table)},
          {"development_override", e.policy.development_override},
          {"allow_monitoring_requests", e.policy.allow_monitoring_requests},
          {"date", e.date_override ? json(quorum::to_string(*e.date_override)) : json(nullptr)}}},
        {"dns",
         {{"timeout_ms", e.dns_timeout_ms},
          {"tries", e.dns_tries},
          {"resolver_validates_dnssec", e.dns_resolver_validates_dnssec}}},
        {"http",
         {{"body_cap_bytes", e.http_body_cap},
          {"connect_timeout_ms", e.http_connect_timeout_ms},
          {"stage_timeout_ms", e.http_stage_timeout_ms}}},
        {"lab", e.lab ? json{{"enabled", true},
                             {"http_port", e.lab->http},
                             {"https_port", e.lab->https},
                             {"tls_alpn_port", e.lab->tls_alpn}}
                      : json{{"enabled", false}}},
        {"perspectives", perspectives},
    };
    if (e.primary) {
        out["primary"] = perspective_json(*e.primary);
    }
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace mpic::mpicd
