#pragma once
// Shared pieces of the end-to-end tests (issue #6): an engine with n in-process perspectives pointed at a running
// lab, request builders for the three attacked methods, a bounded wait for an outcome, and the BR §3.2.2.9 table
// written out independently of quorum/ so that the engine is checked against the rule, not against itself.

#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "net/name/identifier.hh"
#include "quorum/engine/engine.hh"
#include "tools/mpic-lab/lab.hh"

namespace mpic::quorum::e2e {

/// One nominal site. Consecutive sites alternate ARIN, RIPE, APNIC and every pair is > 500 km apart (BR.md 1209).
struct site {
    const char* code;
    const char* rir;
    double lat;
    double lon;
};

inline constexpr site sites[8] = {
    {"us-east", "ARIN", 39.04, -77.49},       {"eu-west", "RIPE", 53.35, -6.26},
    {"ap-northeast", "APNIC", 35.68, 139.69}, {"us-west", "ARIN", 45.60, -121.18},
    {"eu-central", "RIPE", 50.11, 8.68},      {"ap-southeast", "APNIC", 1.35, 103.82},
    {"us-central", "ARIN", 32.78, -96.80},    {"eu-north", "RIPE", 59.33, 18.07},
};

/// "YYYY-MM-DD" as a civil_date; aborts the test on a typo.
inline civil_date date_of(const char* text) {
    auto d = parse_civil_date(text);
    EXPECT_TRUE(d.has_value()) << text;
    return d.value_or(civil_date{});
}

/// The perspective at site `k` (1-based), without transport (apply_lab fills source address and resolver).
inline configured_perspective site_perspective(int k) {
    const site& s = sites[(k - 1) % 8];
    configured_perspective p;
    p.info.code = s.code;
    p.info.region = parse_rir(s.rir).value_or(rir::arin);
    p.info.location = {s.lat, s.lon};
    p.info.kind = perspective_kind::in_process;
    return p;
}

/// An engine configuration with n in-process perspectives (sites 1..n), the BR phase as of `date`, every request
/// using all n, and the development override on exactly when n is below the phase minimum of that date.
inline engine_config in_process_config(int n, civil_date date, unsigned reactors = 1) {
    engine_config c;
    c.reactors = reactors;
    for (int k = 1; k <= n; ++k) {
        auto p = site_perspective(k);
        p.transport.resolvers = {{"127.0.0.1", 53}}; // replaced by apply_lab
        c.perspectives.push_back(std::move(p));
    }
    c.date_override = date;
    c.policy.development_override = n < phase_on(date).min_remote_perspectives;
    c.default_perspective_count = n;
    c.cohort_secret = "e2e-fixed-cohort-secret";
    c.max_attempts = 3;
    c.check_timeout_ms = 8'000;
    return c;
}

/// Points every in-process perspective k at lab perspective k (source 127.0.0.(k+1), DNS = lab.dns_for(k)).
inline void point_at_lab(engine_config& c, const lab::lab& l) {
    std::vector<net::dns::server_address> dns;
    for (int k = 1; k <= l.perspectives(); ++k) {
        auto e = l.dns_for(k);
        dns.push_back({e.address, e.port});
    }
    apply_lab(c, dns, {l.http_port(), l.https_port(), l.tls_alpn_port().value_or(l.https_port())});
}

inline net::identifier identifier_of(const std::string& name) {
    auto id = net::parse_identifier(name);
    EXPECT_TRUE(static_cast<bool>(id)) << name;
    return id ? *id : net::identifier{};
}

/// The good dns-01 digest every scenario publishes, and the attacker's.
inline constexpr const char* good_digest = "good-dns01-digest";
inline constexpr const char* attacker_digest = "attacker-dns01-digest";
inline constexpr const char* http_token = "tok";
inline constexpr const char* good_key_authorization = "tok.thumbprint";
inline constexpr const char* attacker_key_authorization = "tok.ATTACKER";

inline mpic_request dns01_request(const std::string& name) {
    mpic_request r;
    r.kind = request_kind::dcv;
    r.targets = {identifier_of(name)};
    r.trace_identifier = "e2e-dns01-" + name;
    r.dcv.method = validators::validation_method::acme_dns_01;
    r.dcv.key_authorization_hash = good_digest;
    return r;
}

inline mpic_request http01_request(const std::string& name) {
    mpic_request r;
    r.kind = request_kind::dcv;
    r.targets = {identifier_of(name)};
    r.trace_identifier = "e2e-http01-" + name;
    r.dcv.method = validators::validation_method::acme_http_01;
    r.dcv.token = http_token;
    r.dcv.key_authorization = good_key_authorization;
    return r;
}

inline mpic_request caa_request(const std::string& name) {
    mpic_request r;
    r.kind = request_kind::caa;
    r.targets = {identifier_of(name)};
    r.trace_identifier = "e2e-caa-" + name;
    return r;
}

/// Waits for a submission's outcome at most `bound`. A missing outcome is a test failure (never a hang).
inline std::optional<submit_outcome> wait_outcome(std::future<submit_outcome>& f, std::chrono::milliseconds bound) {
    if (f.wait_for(bound) != std::future_status::ready) {
        ADD_FAILURE() << "no outcome within " << bound.count() << " ms";
        return std::nullopt;
    }
    return f.get();
}

/// The single check outcome of a one-target, one-check-type response. Precondition: the response has it.
inline const check_outcome& only_outcome(const mpic_response& r) {
    const auto& t = r.targets.front();
    return t.dcv ? *t.dcv : *t.caa;
}

/// "code=passed|failed(<first problem>)" per perspective, for failure messages and the printed record.
inline std::string describe(const std::vector<perspective_result>& results) {
    std::ostringstream out;
    for (const auto& p : results) {
        out << " " << p.code << "=";
        if (p.result.passed) {
            out << "pass";
        } else {
            out << (p.result.completed ? "fail" : "incomplete");
            if (!p.result.errors.empty()) {
                out << "(" << p.result.errors.front().type << ")";
            }
        }
    }
    return out.str();
}

/// The first problem type of perspective `code` in `results`, "" when it passed or is absent.
inline std::string problem_of(const std::vector<perspective_result>& results, const std::string& code) {
    for (const auto& p : results) {
        if (p.code == code && !p.result.errors.empty()) {
            return p.result.errors.front().type;
        }
    }
    return {};
}

/// BR §3.2.2.9 (BR.md 1217–1222), written from the text: 2–5 remote perspectives allow 1 non-corroboration, 6+
/// allow 2.
inline int br_allowed_non_corroborations(int n) {
    return n <= 5 ? 1 : 2;
}

/// The expected decision for n perspectives at sites 1..n with sites 1..k failing: at most the allowed number of
/// non-corroborations, and the corroborating ones span >= 2 RIRs whenever the RIR rule applies (the BR from
/// 2026-03-15; api.md's is_valid whenever more than 2 perspectives are used).
inline bool br_expected_valid(int n, int k, civil_date date) {
    const bool rir_rule = date >= date_of("2026-03-15") || n > 2;
    std::vector<std::string> rirs;
    for (int p = k + 1; p <= n; ++p) {
        std::string r = sites[(p - 1) % 8].rir;
        if (std::find(rirs.begin(), rirs.end(), r) == rirs.end()) {
            rirs.push_back(r);
        }
    }
    return k <= br_allowed_non_corroborations(n) && (!rir_rule || rirs.size() >= 2);
}

} // namespace mpic::quorum::e2e
