// Overlaying per-perspective overrides on the base scenario. This is the model of a hijack: a perspective whose
// path to the domain is intercepted sees other DNS data or other HTTP answers than everybody else.

#include "tools/mpic-lab/views.hh"

#include <algorithm>

#include "tools/mpic-lab/scenario_names.hh"

namespace mpic::lab {

namespace {

bool applies(const perspective_override& o, int k) {
    return k > 0 && std::find(o.perspectives.begin(), o.perspectives.end(), k) != o.perspectives.end();
}

void erase_rrset(std::vector<record>& records, const std::string& owner, const std::string& type) {
    std::erase_if(records, [&](const record& r) { return r.owner == owner && (type == "*" || r.type == type); });
}

} // namespace

std::vector<record> view_records(const scenario& s, const zone& z, int k) {
    std::vector<record> out = z.records;
    for (const perspective_override& o : s.overrides) {
        if (!applies(o, k)) {
            continue;
        }
        for (const rrset_key& key : o.remove) {
            erase_rrset(out, key.owner, key.type);
        }
        // Replace per (owner, type) once, then add all records of that RRset, so a multi-record override survives.
        std::vector<record> mine;
        for (const record& r : o.records) {
            if (find_zone(s, r.owner) == &z) {
                mine.push_back(r);
            }
        }
        for (const record& r : mine) {
            if (r.type == "CNAME") {
                erase_rrset(out, r.owner, "*");
            } else {
                erase_rrset(out, r.owner, r.type);
                erase_rrset(out, r.owner, "CNAME");
            }
        }
        out.insert(out.end(), mine.begin(), mine.end());
    }
    return out;
}

bool has_own_dns_view(const scenario& s, int k) {
    return std::any_of(s.overrides.begin(), s.overrides.end(), [&](const perspective_override& o) {
        return applies(o, k) && (!o.records.empty() || !o.remove.empty());
    });
}

std::vector<http_rule> view_http_rules(const scenario& s, int k) {
    std::vector<http_rule> out = s.http;
    for (const perspective_override& o : s.overrides) {
        if (!applies(o, k)) {
            continue;
        }
        for (const http_rule& r : o.http_rules) {
            auto it = std::find_if(out.begin(), out.end(),
                                   [&](const http_rule& b) { return b.host == r.host && b.path == r.path; });
            if (it != out.end()) {
                *it = r;
            } else {
                out.push_back(r);
            }
        }
    }
    return out;
}

bool has_own_http_view(const scenario& s, int k) {
    return std::any_of(s.overrides.begin(), s.overrides.end(),
                       [&](const perspective_override& o) { return applies(o, k) && !o.http_rules.empty(); });
}

std::vector<alpn_cert> view_alpn(const scenario& s, int k) {
    std::vector<alpn_cert> out = s.tls_alpn;
    for (const perspective_override& o : s.overrides) {
        if (!applies(o, k)) {
            continue;
        }
        for (const alpn_cert& c : o.tls_alpn) {
            auto it = std::find_if(out.begin(), out.end(), [&](const alpn_cert& b) { return b.name == c.name; });
            if (it != out.end()) {
                *it = c;
            } else {
                out.push_back(c);
            }
        }
    }
    return out;
}

bool has_own_alpn_view(const scenario& s, int k) {
    return std::any_of(s.overrides.begin(), s.overrides.end(),
                       [&](const perspective_override& o) { return applies(o, k) && !o.tls_alpn.empty(); });
}

dns_behaviour view_dns_behaviour(const scenario& s, int k, std::uint32_t* stall_ms) {
    dns_behaviour b = dns_behaviour::normal;
    std::uint32_t stall = 0;
    for (const perspective_override& o : s.overrides) {
        if (applies(o, k) && o.dns != dns_behaviour::normal) {
            b = o.dns;
            stall = o.stall_ms;
        }
    }
    if (stall_ms != nullptr) {
        *stall_ms = stall;
    }
    return b;
}

http_behaviour view_http_behaviour(const scenario& s, int k) {
    http_behaviour b = http_behaviour::normal;
    for (const perspective_override& o : s.overrides) {
        if (applies(o, k) && o.http != http_behaviour::normal) {
            b = o.http;
        }
    }
    return b;
}

std::string check_views(const scenario& s) {
    for (int k = 1; k <= s.perspectives; ++k) {
        if (!has_own_dns_view(s, k)) {
            continue;
        }
        for (const zone& z : s.zones) {
            zone v{z.name, z.dnssec, view_records(s, z, k)};
            std::string why = check_zone_consistency(v);
            if (!why.empty()) {
                return "perspective " + std::to_string(k) + " would see an unloadable zone: " + why;
            }
        }
    }
    return "";
}

} // namespace mpic::lab
