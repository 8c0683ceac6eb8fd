// The responders choose per-perspective rules before default ones (responder_config.hh "Perspectives"), so a
// perspective's view is written as rules restricted to its source address ahead of the base rules.

#include "tools/mpic-lab/responder_configs.hh"

#include <map>

#include "tools/mpic-lab/views.hh"

namespace mpic::lab {

namespace {

std::optional<responders::dns_record> to_responder_record(const record& r) {
    static const char* const carried[] = {"A", "AAAA", "CNAME", "NS", "PTR", "MX", "TXT", "CAA"};
    bool ok = false;
    for (const char* t : carried) {
        ok = ok || r.type == t;
    }
    if (!ok || (r.value.empty() && r.strings.empty())) {
        return std::nullopt;
    }
    responders::dns_record out;
    out.name = r.owner;
    out.type = r.type;
    out.ttl = r.ttl;
    out.value = r.value;
    out.strings = r.strings;
    out.mx_preference = static_cast<std::uint16_t>(r.preference);
    out.caa_flags = static_cast<std::uint8_t>(r.caa_flags);
    out.caa_tag = r.caa_tag;
    return out;
}

responders::listen_config loopback_ephemeral() {
    return {"127.0.0.1", 0};
}

} // namespace

responders::alpn_config alpn_config_of(const scenario& s) {
    responders::alpn_config c;
    c.listen = loopback_ephemeral();
    for (int k = 1; k <= s.perspectives; ++k) {
        if (!has_own_alpn_view(s, k)) {
            continue;
        }
        for (const alpn_cert& a : view_alpn(s, k)) {
            responders::alpn_cert_entry e;
            e.name = a.name;
            e.key_authorization = a.key_authorization;
            e.variant = a.variant;
            e.source = perspective_address(k);
            c.certs.push_back(std::move(e));
        }
    }
    for (const alpn_cert& a : s.tls_alpn) {
        responders::alpn_cert_entry e;
        e.name = a.name;
        e.key_authorization = a.key_authorization;
        e.variant = a.variant;
        c.certs.push_back(std::move(e));
    }
    return c;
}

std::string alpn_config_for(const scenario& s) {
    return responders::to_toml(alpn_config_of(s));
}

responders::dns_config fault_dns_config_of(const scenario& s) {
    responders::dns_config c;
    if (s.fault_dns) {
        c = *s.fault_dns;
        c.rules.clear();
    }
    c.listen = loopback_ephemeral();
    for (int k = 1; k <= s.perspectives; ++k) {
        std::uint32_t stall = 0;
        if (view_dns_behaviour(s, k, &stall) != dns_behaviour::stalled) {
            continue;
        }
        // One rule per owner name: the responder answers the records of the asked type plus CNAMEs.
        std::map<std::string, std::vector<responders::dns_record>> by_owner;
        for (const zone& z : s.zones) {
            for (const record& r : view_records(s, z, k)) {
                if (auto rr = to_responder_record(r)) {
                    by_owner[r.owner].push_back(std::move(*rr));
                }
            }
        }
        for (auto& [owner, records] : by_owner) {
            responders::dns_rule rule;
            rule.qname = owner;
            rule.source = perspective_address(k);
            rule.behaviour = responders::dns_behaviour::delay;
            rule.delay_ms = stall;
            rule.records = std::move(records);
            c.rules.push_back(std::move(rule));
        }
        responders::dns_rule rest;
        rest.qname = "*";
        rest.source = perspective_address(k);
        rest.behaviour = responders::dns_behaviour::delay;
        rest.delay_ms = stall;
        c.rules.push_back(std::move(rest));
    }
    if (s.fault_dns) {
        c.rules.insert(c.rules.end(), s.fault_dns->rules.begin(), s.fault_dns->rules.end());
    }
    return c;
}

std::string fault_dns_config_for(const scenario& s) {
    return responders::to_toml(fault_dns_config_of(s));
}

std::string fault_http_config_for(const scenario& s) {
    responders::http_config c = s.fault_http ? *s.fault_http : responders::http_config{};
    c.listen = loopback_ephemeral();
    return responders::to_toml(c);
}

} // namespace mpic::lab
