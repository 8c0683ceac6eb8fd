// The CAA allow_lookup_failure opt-in against the lab's real servers: BR 3.2.2.8 lets a lookup failure count as
// permission only if (1) it is outside the CA's infrastructure, (2) it was retried, and (3) the domain is confirmed
// "Insecure" (RFC 4035 §4.3) — here by the lab's validating unbound. Without the opt-in every case is denied.
// Scenario: tools/mpic-lab/scenarios/checks-caa-lookup-failure.toml (what each name and perspective models is
// described there).

#include <chrono>

#include <gtest/gtest.h>
#include <uv.h>

#include "tests/integration/lab_perspective.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::test {
namespace {

using namespace std::chrono_literals;
using validators::check_result;

struct lookup_failure_scenario {
    static std::string file() { return lab::scenario_file("checks-caa-lookup-failure.toml"); }
};

/// A UDP port on 127.0.0.1 with nothing behind it (bound, then closed): queries there fail at once.
std::uint16_t closed_udp_port() {
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_udp_t udp;
    uv_udp_init(&loop, &udp);
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_udp_bind(&udp, reinterpret_cast<const sockaddr*>(&addr), 0);
    sockaddr_storage bound{};
    int length = sizeof(bound);
    uv_udp_getsockname(&udp, reinterpret_cast<sockaddr*>(&bound), &length);
    const auto port = ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
    uv_close(reinterpret_cast<uv_handle_t*>(&udp), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop), 0);
    return port;
}

class caa_lookup_failure : public lab::lab_fixture<lookup_failure_scenario> {
protected:
    /// unbound resolves through BIND on a cold cache: 1 s per try, as the DNSSEC checks do.
    check_result run(const validators::check_request& request, perspective_options options,
                     std::chrono::milliseconds* elapsed = nullptr) {
        lab_perspective p(lab(), options);
        return p.run(request, 10000, elapsed);
    }
};

validators::check_request opted_in(std::string_view target, bool allow = true, bool primary = false) {
    auto request = caa_request(target);
    request.caa.allow_lookup_failure = allow;
    request.primary = primary;
    return request;
}

bool notes_mention(const check_result& r, std::string_view needle) {
    for (const auto& note : r.details.notes) {
        if (note.find(needle) != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::string notes_of(const check_result& r) {
    std::string text;
    for (const auto& note : r.details.notes) {
        text += "  " + note + "\n";
    }
    return text;
}

/// Denied as a lookup failure (never a determination, never a pass).
void expect_denied(const check_result& r) {
    EXPECT_FALSE(r.passed) << notes_of(r);
    EXPECT_FALSE(r.completed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:caa_checker:lookup") << r.errors[0].message;
}

TEST_F(caa_lookup_failure, the_lab_resolves_as_the_scenario_says) {
    // Controls: the validating perspectives get answers (AD for the signed zone), and the lame names SERVFAIL.
    auto plain = run(caa_request("ok.uns"), at(1).with_dns_timeout(1000));
    EXPECT_TRUE(plain.passed) << first_error(plain);
    EXPECT_FALSE(plain.details.ad_flag);
    auto sig = run(caa_request("ok.sgn"), at(1).with_dns_timeout(1000));
    EXPECT_TRUE(sig.passed) << first_error(sig);
    EXPECT_TRUE(sig.details.ad_flag);
    for (const char* lame : {"x.noaddr.uns", "x.noaddr.sgn"}) {
        auto r = run(caa_request(lame), at(1).with_dns_timeout(1000));
        expect_denied(r);
        EXPECT_EQ(r.details.response_code, "SERVFAIL") << lame;
    }
}

TEST_F(caa_lookup_failure, unsigned_zone_servfail_with_the_opt_in_is_permission) {
    auto r = run(opted_in("x.noaddr.uns"), at(1).with_dns_timeout(1000));
    EXPECT_TRUE(r.completed) << first_error(r) << "\n" << notes_of(r);
    EXPECT_TRUE(r.passed);
    EXPECT_FALSE(r.details.caa_record_present);
    EXPECT_EQ(r.details.found_at, "x.noaddr.uns");
    EXPECT_EQ(r.details.response_code, "SERVFAIL");
    // The evidence (BR §5.4.1): each condition, and the ancestor whose SOA proved "Insecure".
    EXPECT_TRUE(notes_mention(r, "(2) retried")) << notes_of(r);
    EXPECT_TRUE(notes_mention(r, "(1) outside the CA's infrastructure: our resolver answered SERVFAIL"));
    EXPECT_TRUE(notes_mention(r, "(3) Insecure (RFC 4035 §4.3): the validating resolver answered SOA uns"));
    EXPECT_TRUE(notes_mention(r, "treated as permission"));
}

TEST_F(caa_lookup_failure, unsigned_zone_servfail_without_the_opt_in_is_denied) {
    auto r = run(opted_in("x.noaddr.uns", false), at(1).with_dns_timeout(1000));
    expect_denied(r);
    EXPECT_TRUE(r.details.notes.empty());
}

TEST_F(caa_lookup_failure, unsigned_zone_bare_servfail_at_the_primary_is_denied) {
    // unbound 1.17 sends no RFC 8914 EDE for this SERVFAIL, so at the primary it may hide a DNSSEC validation error
    // (BR 3.2.2.8.1): denied before any proof.
    auto r = run(opted_in("x.noaddr.uns", true, true), at(1).with_dns_timeout(1000));
    expect_denied(r);
    EXPECT_TRUE(notes_mention(r, "3.2.2.8.1")) << notes_of(r);
}

TEST_F(caa_lookup_failure, signed_zone_servfail_with_the_opt_in_is_denied) {
    for (const bool allow : {true, false}) {
        SCOPED_TRACE(allow ? "opt-in" : "default");
        auto r = run(opted_in("x.noaddr.sgn", allow), at(1).with_dns_timeout(1000));
        expect_denied(r);
        if (allow) {
            // The proof reached sgn, which is Secure.
            EXPECT_NE(r.errors[0].message.find("SOA sgn answered NOERROR with AD=1"), std::string::npos)
                << r.errors[0].message;
            EXPECT_TRUE(notes_mention(r, "not treated as permission")) << notes_of(r);
        }
    }
}

TEST_F(caa_lookup_failure, bogus_answer_in_a_signed_zone_is_denied_at_a_remote_too) {
    for (const bool allow : {true, false}) {
        SCOPED_TRACE(allow ? "opt-in" : "default");
        auto r = run(opted_in("forged.sgn", allow), at(2).with_dns_timeout(1000));
        expect_denied(r);
        EXPECT_EQ(r.details.response_code, "SERVFAIL");
        if (allow) {
            // unbound names it with an RFC 8914 DNSSEC code (9 "DNSKEY Missing": the attacker's key is not the
            // trust anchor): a validation failure is never "Insecure", so not even retried.
            EXPECT_NE(r.errors[0].message.find("the resolver reported a DNSSEC validation failure"), std::string::npos)
                << r.errors[0].message;
        }
    }
    // Perspective 1 sees the genuine signed data.
    EXPECT_TRUE(run(caa_request("forged.sgn"), at(1).with_dns_timeout(1000)).passed);
}

TEST_F(caa_lookup_failure, our_own_stalled_resolver_is_denied_even_if_it_validated) {
    // Perspective 3's resolver answers nothing for 10 s: CAA times out twice, and so does the liveness probe, so the
    // failure is ours. Declared validating on purpose, so that only condition (1) can be what denies.
    for (const bool allow : {true, false}) {
        SCOPED_TRACE(allow ? "opt-in" : "default");
        std::chrono::milliseconds elapsed{};
        auto r = run(opted_in("ok.uns", allow), at(3).with_dns_timeout(300).with_validating(true), &elapsed);
        expect_denied(r);
        EXPECT_EQ(r.errors[0].message.rfind("timeout", 0), 0U) << r.errors[0].message;
        if (allow) {
            EXPECT_NE(r.errors[0].message.find("resolver did not answer a liveness probe"), std::string::npos)
                << r.errors[0].message;
            EXPECT_TRUE(notes_mention(r, "failure inside the CA's infrastructure")) << notes_of(r);
            // Two CAA timeouts (300 + 600 ms each) and one probe try (300 ms), far from the 10 s stall.
            EXPECT_LT(elapsed, 5000ms);
        }
    }
}

TEST_F(caa_lookup_failure, a_closed_resolver_port_is_denied) {
    for (const bool allow : {true, false}) {
        SCOPED_TRACE(allow ? "opt-in" : "default");
        auto r = run(opted_in("ok.uns", allow),
                     at(1).with_dns_port(closed_udp_port()).with_dns_timeout(300).with_validating(true));
        expect_denied(r);
        if (allow) {
            EXPECT_TRUE(notes_mention(r, "our resolver could not be reached")) << notes_of(r);
        }
    }
}

TEST_F(caa_lookup_failure, silent_domain_with_a_live_resolver_still_needs_a_validating_resolver) {
    // Perspective 4: CAA for silent.uns is dropped, the probe is answered at once (condition 1 holds), but the
    // fault responder validates nothing, so "Insecure" cannot be confirmed (condition 3).
    for (const bool allow : {true, false}) {
        SCOPED_TRACE(allow ? "opt-in" : "default");
        auto r = run(opted_in("silent.uns", allow), at(4).with_dns_timeout(300));
        expect_denied(r);
        if (allow) {
            EXPECT_TRUE(notes_mention(r, "answered a liveness probe (. NS: NXDOMAIN)")) << notes_of(r);
            EXPECT_NE(r.errors[0].message.find("not declared DNSSEC-validating"), std::string::npos)
                << r.errors[0].message;
        }
    }
}

} // namespace
} // namespace mpic::test
