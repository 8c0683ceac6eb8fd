// The CAA check end to end: the RFC 8659 §3 climb through the real resolver against a scripted DNS server on
// 127.0.0.1, then the evaluation. Named after the standards §6 rows they demonstrate.

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "tests/validators/dns/check_harness.hh"

namespace mpic::validators {
namespace {

using test::caa_rr;
using test::check_harness;
using test::cname_rr;
using test::fake_reply;

constexpr std::uint16_t caa_type = 257;

check_request caa_request(std::string name, bool wildcard = false) {
    check_request request;
    request.type = check_type::caa;
    request.target.kind = net::identifier::kind_t::dns;
    request.target.name = std::move(name);
    request.target.wildcard = wildcard;
    request.caa.caa_domains = {"ourca.example"};
    return request;
}

/// Serves CAA by name from a table; anything else is NODATA.
test::fake_dns_server::handler table(std::map<std::string, fake_reply> replies) {
    return [replies = std::move(replies)](const std::string& qname, std::uint16_t qtype) {
        const auto it = replies.find(qname);
        if (qtype != caa_type || it == replies.end()) {
            return fake_reply::nodata();
        }
        return it->second;
    };
}

using questions = std::vector<std::pair<std::string, std::uint16_t>>;

bool has_error(const check_result& result, std::string_view key) {
    return result.errors.size() == 1 && result.errors[0].type == key;
}

std::string first_message(const check_result& result) {
    return result.errors.empty() ? std::string("(no error)") : result.errors[0].message;
}

TEST(CaaCheck, C1_NoCaaAnywherePermitsAfterClimbingToTld) {
    check_harness h(table({}));
    const auto result = h.run(make_caa_check, caa_request("www.example.com"));
    EXPECT_TRUE(result.completed);
    EXPECT_TRUE(result.passed);
    EXPECT_TRUE(result.errors.empty());
    EXPECT_FALSE(result.details.caa_record_present);
    EXPECT_EQ(h.server().questions(),
              (questions{{"www.example.com", caa_type}, {"example.com", caa_type}, {"com", caa_type}}));
    EXPECT_EQ(result.type, check_type::caa);
}

TEST(CaaCheck, PermitsWithOurIssueAndReportsDetails) {
    check_harness h(table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", "ourca.example"),
                                                             caa_rr("example.com", 0, "iodef", "mailto:a@b")},
                                                            true)}}));
    const auto result = h.run(make_caa_check, caa_request("www.example.com"));
    EXPECT_TRUE(result.passed);
    EXPECT_TRUE(result.details.caa_record_present);
    EXPECT_EQ(result.details.found_at, "example.com");
    EXPECT_EQ(result.details.response_code, "NOERROR");
    EXPECT_TRUE(result.details.ad_flag);
    EXPECT_EQ(result.details.records_seen,
              (std::vector<std::string>{"0 issue \"ourca.example\"", "0 iodef \"mailto:a@b\""}));
    EXPECT_GT(result.timings.dns_us, 0U);
}

TEST(CaaCheck, C3_IssueSemicolonForbidsAsCompletedProhibition) {
    check_harness h(table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", ";")})}}));
    const auto result = h.run(make_caa_check, caa_request("example.com"));
    EXPECT_TRUE(result.completed);
    EXPECT_FALSE(result.passed);
    EXPECT_TRUE(has_error(result, "mpic_error:caa_checker:prohibited"));
    EXPECT_TRUE(result.details.caa_record_present);
}

TEST(CaaCheck, C6_UnknownCriticalTagForbids) {
    check_harness h(table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", "ourca.example"),
                                                             caa_rr("example.com", 128, "tbs", "x")})}}));
    const auto result = h.run(make_caa_check, caa_request("example.com"));
    EXPECT_TRUE(result.completed);
    EXPECT_FALSE(result.passed);
}

TEST(CaaCheck, C11_WildcardStartsAtBaseAndIssuewildOverrides) {
    check_harness h(table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", "ourca.example"),
                                                             caa_rr("example.com", 0, "issuewild", "other")})}}));
    const auto result = h.run(make_caa_check, caa_request("example.com", true));
    EXPECT_FALSE(result.passed);
    EXPECT_EQ(h.server().questions().front().first, "example.com");
}

TEST(CaaCheck, C15_CnameToProviderWithOtherIssuerForbids) {
    check_harness h(
        table({{"www.example.com", fake_reply::with({cname_rr("www.example.com", "cdn.provider.net"),
                                                     caa_rr("cdn.provider.net", 0, "issue", "other.example")})}}));
    const auto result = h.run(make_caa_check, caa_request("www.example.com"));
    EXPECT_TRUE(result.completed);
    EXPECT_FALSE(result.passed);
    EXPECT_EQ(result.details.found_at, "www.example.com");
    EXPECT_EQ(result.details.cname_chain, (std::vector<std::string>{"www.example.com", "cdn.provider.net"}));
}

TEST(CaaCheck, CnameChainWithoutCaaClimbsTheNamesParents) {
    check_harness h(table({{"www.example.com", fake_reply::with({cname_rr("www.example.com", "cdn.provider.net")})},
                           {"provider.net", fake_reply::with({caa_rr("provider.net", 0, "issue", ";")})}}));
    const auto result = h.run(make_caa_check, caa_request("www.example.com"));
    EXPECT_TRUE(result.passed);
    EXPECT_EQ(h.server().questions(),
              (questions{{"www.example.com", caa_type}, {"example.com", caa_type}, {"com", caa_type}}));
}

TEST(CaaCheck, C18_ServfailSignedZoneAtPrimaryFailsEvenWithOptIn) {
    check_harness h(table({{"www.example.com", fake_reply::bogus()}}), 300, true);
    auto request = caa_request("www.example.com");
    request.primary = true;
    request.caa.allow_lookup_failure = true;
    const auto result = h.run(make_caa_check, request);
    EXPECT_FALSE(result.completed);
    EXPECT_FALSE(result.passed);
    ASSERT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
    EXPECT_NE(result.errors[0].message.find("DNSSEC Bogus"), std::string::npos);
    EXPECT_EQ(result.details.response_code, "SERVFAIL");
}

// ---- allow_lookup_failure: BR 3.2.2.8's three conditions through the real resolver (c-ares) against the scripted
// server: (1) outside the CA's infrastructure (a SERVFAIL, or a timeout whose resolver answers a liveness probe),
// (2) retried, (3) "Insecure" (RFC 4035 §4.3) from a validating resolver's SOA answer without AD.

constexpr std::uint16_t ns_type = 2;
constexpr std::uint16_t soa_type = 6;

/// Replies per (name, type), consumed in order (the last one repeats). Anything unscripted: NODATA for CAA, a
/// dropped question otherwise (so an unexpected probe or proof fails closed and shows in questions()).
test::fake_dns_server::handler
script(std::map<std::pair<std::string, std::uint16_t>, std::vector<fake_reply>> replies) {
    return [replies = std::move(replies)](const std::string& qname, std::uint16_t qtype) mutable {
        const auto it = replies.find({qname, qtype});
        if (it == replies.end() || it->second.empty()) {
            return qtype == caa_type ? fake_reply::nodata() : fake_reply::silence();
        }
        fake_reply reply = it->second.front();
        if (it->second.size() > 1) {
            it->second.erase(it->second.begin());
        }
        return reply;
    };
}

fake_reply servfail_with_ede(std::uint16_t code, std::string text) {
    fake_reply reply = fake_reply::servfail();
    reply.ede_code = code;
    reply.ede_text = std::move(text);
    return reply;
}
/// NOERROR/NODATA for the SOA proof, with or without AD.
fake_reply soa_answer(bool ad) {
    return fake_reply::with({}, ad);
}

check_request opted_in(std::string name, bool primary = false) {
    auto request = caa_request(std::move(name));
    request.caa.allow_lookup_failure = true;
    request.primary = primary;
    return request;
}

bool notes_mention(const check_result& result, std::string_view needle) {
    for (const auto& note : result.details.notes) {
        if (note.find(needle) != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::string notes_of(const check_result& result) {
    std::string text;
    for (const auto& note : result.details.notes) {
        text += note + "\n";
    }
    return text;
}

TEST(CaaCheck, C19_ServfailUnsignedRetriedThenToleratedWithOptIn) {
    check_harness h(script({{{"www.example.com", caa_type}, {fake_reply::servfail()}},
                            {{"www.example.com", soa_type}, {soa_answer(false)}}}),
                    300, true);
    const auto result = h.run(make_caa_check, opted_in("www.example.com"));
    EXPECT_TRUE(result.completed) << first_message(result);
    EXPECT_TRUE(result.passed);
    EXPECT_FALSE(result.details.caa_record_present);
    EXPECT_EQ(result.details.found_at, "www.example.com");
    EXPECT_EQ(result.details.response_code, "SERVFAIL"); // the CAA reply, not the proof's
    EXPECT_FALSE(result.details.ad_flag);
    EXPECT_EQ(h.server().questions(),
              (questions{{"www.example.com", caa_type}, {"www.example.com", caa_type}, {"www.example.com", soa_type}}));
    // The audit evidence: every condition, then the conclusion.
    EXPECT_TRUE(notes_mention(result, "(2) retried")) << notes_of(result);
    EXPECT_TRUE(notes_mention(result, "(1) outside the CA's infrastructure"));
    EXPECT_TRUE(notes_mention(result, "(3) Insecure (RFC 4035 §4.3)"));
    EXPECT_TRUE(notes_mention(result, "treated as permission"));
}

TEST(CaaCheck, C19_ServfailDeniesByDefault) {
    check_harness h(table({{"www.example.com", fake_reply::servfail()}}), 300, true);
    const auto result = h.run(make_caa_check, caa_request("www.example.com"));
    EXPECT_FALSE(result.completed);
    EXPECT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
    EXPECT_TRUE(result.details.notes.empty());
    EXPECT_EQ(h.server().questions().size(), 1U);
}

TEST(CaaCheck, C18_ServfailWhereTheProofSeesAdIsDenied) {
    check_harness h(script({{{"www.example.com", caa_type}, {fake_reply::servfail()}},
                            {{"www.example.com", soa_type}, {soa_answer(true)}}}),
                    300, true);
    const auto result = h.run(make_caa_check, opted_in("www.example.com"));
    EXPECT_FALSE(result.completed);
    EXPECT_FALSE(result.passed);
    ASSERT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
    EXPECT_NE(result.errors[0].message.find("SERVFAIL for CAA www.example.com"), std::string::npos)
        << result.errors[0].message;
    EXPECT_NE(result.errors[0].message.find("AD=1"), std::string::npos) << result.errors[0].message;
    EXPECT_TRUE(notes_mention(result, "not treated as permission")) << notes_of(result);
}

TEST(CaaCheck, ServfailWithoutAValidatingResolverIsDeniedWithoutAProof) {
    check_harness h(script({{{"www.example.com", caa_type}, {fake_reply::servfail()}},
                            {{"www.example.com", soa_type}, {soa_answer(false)}}}),
                    300, false);
    const auto result = h.run(make_caa_check, opted_in("www.example.com"));
    EXPECT_FALSE(result.passed);
    ASSERT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
    EXPECT_NE(result.errors[0].message.find("not declared DNSSEC-validating"), std::string::npos)
        << result.errors[0].message;
    EXPECT_EQ(h.server().questions(), (questions{{"www.example.com", caa_type}, {"www.example.com", caa_type}}));
}

TEST(CaaCheck, ProofFailingAtTheNameClimbsToTheAnsweringParent) {
    check_harness h(script({{{"a.lame.example", caa_type}, {fake_reply::servfail()}},
                            {{"a.lame.example", soa_type}, {fake_reply::servfail()}},
                            {{"lame.example", soa_type}, {fake_reply::servfail()}},
                            {{"example", soa_type}, {soa_answer(false)}}}),
                    300, true);
    const auto result = h.run(make_caa_check, opted_in("a.lame.example"));
    EXPECT_TRUE(result.passed) << first_message(result);
    EXPECT_EQ(result.details.found_at, "a.lame.example");
    EXPECT_EQ(h.server().questions().back(), (std::pair<std::string, std::uint16_t>{"example", soa_type}));
    EXPECT_TRUE(notes_mention(result, "SOA example with NOERROR and AD=0")) << notes_of(result);
}

TEST(CaaCheck, ProofWithoutAnyAnswerIsDenied) {
    check_harness h(script({{{"a.example", caa_type}, {fake_reply::servfail()}},
                            {{"a.example", soa_type}, {fake_reply::servfail()}},
                            {{"example", soa_type}, {fake_reply::bogus()}}}),
                    300, true);
    const auto result = h.run(make_caa_check, opted_in("a.example"));
    EXPECT_FALSE(result.passed);
    ASSERT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
    EXPECT_NE(result.errors[0].message.find("DNSSEC validation failure"), std::string::npos)
        << result.errors[0].message;
}

TEST(CaaCheck, TimeoutWithALiveResolverAndAnInsecureZoneIsTolerated) {
    check_harness h(script({{{"example.com", caa_type}, {fake_reply::silence()}},
                            {{"", ns_type}, {fake_reply::servfail()}}, // alive, even if cut off from the root
                            {{"example.com", soa_type}, {soa_answer(false)}}}),
                    200, true);
    const auto result = h.run(make_caa_check, opted_in("example.com"));
    EXPECT_TRUE(result.passed) << first_message(result) << "\n" << notes_of(result);
    EXPECT_EQ(result.details.found_at, "example.com");
    EXPECT_EQ(
        h.server().questions(),
        (questions{{"example.com", caa_type}, {"example.com", caa_type}, {"", ns_type}, {"example.com", soa_type}}));
    EXPECT_TRUE(notes_mention(result, "answered a liveness probe (. NS: SERVFAIL)")) << notes_of(result);
}

TEST(CaaCheck, TimeoutWithASilentResolverIsInsideTheCaAndDenied) {
    // Our own resolver is silent for everything: the probe gets no answer, so the failure is ours (BR 3.2.2.8 (1)).
    check_harness h([](const std::string&, std::uint16_t) { return fake_reply::silence(); }, 200, true);
    for (const bool primary : {false, true}) {
        const auto result = h.run(make_caa_check, opted_in("example.com", primary));
        EXPECT_FALSE(result.completed);
        EXPECT_FALSE(result.passed);
        ASSERT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
        EXPECT_NE(result.errors[0].message.find(
                      "resolver did not answer a liveness probe (. NS within one try): failure inside the CA's "
                      "infrastructure"),
                  std::string::npos)
            << result.errors[0].message;
        EXPECT_TRUE(notes_mention(result, "liveness probe")) << notes_of(result);
    }
    // No SOA proof was asked once condition (1) failed.
    for (const auto& [name, type] : h.server().questions()) {
        EXPECT_NE(type, soa_type) << name;
    }
}

TEST(CaaCheck, ProbeAnsweredOnlyOnTheResolversSecondTryCountsAsSilence) {
    // The probe must be answered within ONE per-try timeout (our timer), not within the resolver's tries: with
    // 2 tries c-ares would get the second answer, but a resolver that cannot answer from its cache at once is not
    // working. The first ". NS" question is dropped, the retransmission answered.
    int ns_questions = 0;
    check_harness h(
        [&ns_questions](const std::string& qname, std::uint16_t qtype) {
            if (qtype == caa_type) {
                return fake_reply::silence();
            }
            if (qname.empty() && qtype == ns_type) {
                return ++ns_questions == 1 ? fake_reply::silence() : fake_reply::nodata();
            }
            return soa_answer(false);
        },
        150, true, 2);
    const auto result = h.run(make_caa_check, opted_in("example.com"), 5000);
    EXPECT_FALSE(result.passed) << notes_of(result);
    ASSERT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
    EXPECT_NE(result.errors[0].message.find("liveness probe"), std::string::npos) << result.errors[0].message;
}

TEST(CaaCheck, ServfailAtThePrimaryNeedsAnUpstreamEde) {
    {
        // RFC 8914 22 "No Reachable Authority": the domain's servers failed; then the proof decides.
        check_harness h(script({{{"example.com", caa_type}, {servfail_with_ede(22, "no reachable authority")}},
                                {{"example.com", soa_type}, {soa_answer(false)}}}),
                        300, true);
        const auto result = h.run(make_caa_check, opted_in("example.com", true));
        EXPECT_TRUE(result.passed) << first_message(result) << "\n" << notes_of(result);
    }
    {
        // A bare SERVFAIL may be a DNSSEC validation error (BR 3.2.2.8.1): not even retried.
        check_harness h(script({{{"example.com", caa_type}, {fake_reply::servfail()}},
                                {{"example.com", soa_type}, {soa_answer(false)}}}),
                        300, true);
        const auto result = h.run(make_caa_check, opted_in("example.com", true));
        EXPECT_FALSE(result.passed);
        EXPECT_EQ(h.server().questions().size(), 1U);
        EXPECT_TRUE(notes_mention(result, "3.2.2.8.1")) << notes_of(result);
    }
}

TEST(CaaCheck, ServfailWhoseEdeNamesOurResolverIsDenied) {
    // RFC 8914 18 "Prohibited" / 14 "Not Ready": our resolver declined, inside the CA's infrastructure.
    for (const std::uint16_t code : {14, 18, 20}) {
        check_harness h(script({{{"example.com", caa_type}, {servfail_with_ede(code, "ours")}},
                                {{"example.com", soa_type}, {soa_answer(false)}}}),
                        300, true);
        const auto result = h.run(make_caa_check, opted_in("example.com"));
        EXPECT_FALSE(result.passed) << code;
        EXPECT_EQ(h.server().questions().size(), 1U) << code;
        EXPECT_TRUE(notes_mention(result, "inside the CA's infrastructure")) << notes_of(result);
    }
}

TEST(CaaCheck, BogusAtARemoteIsNotPermissionEither) {
    check_harness h(
        script({{{"example.com", caa_type}, {fake_reply::bogus()}}, {{"example.com", soa_type}, {soa_answer(false)}}}),
        300, true);
    const auto result = h.run(make_caa_check, opted_in("example.com", false));
    EXPECT_FALSE(result.passed);
    EXPECT_EQ(h.server().questions().size(), 1U);
}

TEST(CaaCheck, C22_NxdomainAtNameParentPermits) {
    check_harness h(table({{"gone.example.com", fake_reply::nxdomain()},
                           {"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", "ourca.example")})}}));
    const auto result = h.run(make_caa_check, caa_request("gone.example.com"));
    EXPECT_TRUE(result.passed);
    EXPECT_EQ(result.details.found_at, "example.com");
}

TEST(CaaCheck, C24_DnssecBogusNeverPermissionAtPrimary) {
    check_harness h(table({{"example.com", fake_reply::bogus()}}));
    auto request = caa_request("example.com");
    request.primary = true;
    request.caa.allow_lookup_failure = true;
    const auto result = h.run(make_caa_check, request);
    EXPECT_FALSE(result.passed);
    EXPECT_EQ(h.server().questions().size(), 1U); // not even retried
}

TEST(CaaCheck, C26_RefusedIsALookupFailure) {
    check_harness h(table({{"example.com", fake_reply::refused()}}));
    auto request = caa_request("example.com");
    request.caa.allow_lookup_failure = true;
    const auto result = h.run(make_caa_check, request);
    EXPECT_FALSE(result.completed);
    EXPECT_FALSE(result.passed);
    EXPECT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
}

TEST(CaaCheck, C27_C28_AccountUriFromRequest) {
    const auto handler =
        table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue",
                                                        "ourca.example; accounturi=https://ourca.example/acct/7")})}});
    auto request = caa_request("example.com");
    request.caa.account_uri = "https://ourca.example/acct/7";
    {
        check_harness h(handler);
        EXPECT_TRUE(h.run(make_caa_check, request).passed);
    }
    request.caa.account_uri = "https://ourca.example/acct/8";
    {
        check_harness h(handler);
        const auto result = h.run(make_caa_check, request);
        EXPECT_TRUE(result.completed);
        EXPECT_FALSE(result.passed);
    }
}

TEST(CaaCheck, C30_C31_ValidationMethodFromRequest) {
    const auto handler =
        table({{"example.com",
                fake_reply::with({caa_rr("example.com", 0, "issue", "ourca.example; validationmethods=dns-01")})}});
    auto request = caa_request("example.com");
    request.caa.validation_method = "http-01";
    {
        check_harness h(handler);
        EXPECT_FALSE(h.run(make_caa_check, request).passed);
    }
    request.caa.validation_method = "dns-01";
    {
        check_harness h(handler);
        EXPECT_TRUE(h.run(make_caa_check, request).passed);
    }
}

TEST(CaaCheck, C35_IssuerCaseInsensitive) {
    check_harness h(table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", "OurCA.Example")})}}));
    EXPECT_TRUE(h.run(make_caa_check, caa_request("example.com")).passed);
}

TEST(CaaCheck, C38_IpTargetSendsNoQueryAndPasses) {
    check_harness h(table({}));
    auto request = caa_request("192.0.2.1");
    request.target.kind = net::identifier::kind_t::ip;
    const auto result = h.run(make_caa_check, request);
    EXPECT_TRUE(result.completed);
    EXPECT_TRUE(result.passed);
    EXPECT_FALSE(result.details.caa_record_present);
    EXPECT_TRUE(h.server().questions().empty());
}

TEST(CaaCheck, SmimeUsesIssuemail) {
    check_harness h(
        table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", ";"),
                                                 caa_rr("example.com", 0, "issuemail", "ourca.example")})}}));
    auto request = caa_request("example.com");
    request.caa.cert_type = certificate_type::s_mime;
    EXPECT_TRUE(h.run(make_caa_check, request).passed);
}

TEST(CaaCheck, TimeoutIsALookupFailure) {
    check_harness h([](const std::string&, std::uint16_t) { return fake_reply::silence(); }, 100);
    const auto result = h.run(make_caa_check, caa_request("example.com"));
    EXPECT_FALSE(result.completed);
    ASSERT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
    EXPECT_NE(result.errors[0].message.find("timeout"), std::string::npos);
}

TEST(CaaCheck, CheckDeadlineBeforeResolverTimeoutCompletesOnceAndCleanly) {
    check_harness h([](const std::string&, std::uint16_t) { return fake_reply::silence(); }, 2000);
    const auto result = h.run(make_caa_check, caa_request("example.com"), 50);
    EXPECT_FALSE(result.completed);
    EXPECT_TRUE(has_error(result, "mpic_error:caa_checker:timeout"));
}

TEST(CaaCheck, EmptyIssuerListIsAParameterError) {
    check_harness h(table({}));
    auto request = caa_request("example.com");
    request.caa.caa_domains.clear();
    const auto result = h.run(make_caa_check, request);
    EXPECT_FALSE(result.completed);
    EXPECT_TRUE(has_error(result, "mpic_error:caa_checker:parameter"));
    EXPECT_TRUE(h.server().questions().empty());
}

TEST(CaaCheck, NoResolverIsALookupFailure) {
    check_harness h(table({}));
    h.runtime().dns = nullptr;
    const auto result = h.run(make_caa_check, caa_request("example.com"));
    EXPECT_FALSE(result.completed);
    EXPECT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
}

TEST(CaaCheck, CancelCompletesOnceWithCancelled) {
    check_harness h([](const std::string&, std::uint16_t) { return fake_reply::silence(); }, 2000);
    std::optional<check_result> out;
    int calls = 0;
    auto op = make_caa_check(h.runtime(), std::make_shared<const check_request>(caa_request("example.com")),
                             [&](check_result&& result) {
                                 ++calls;
                                 out = std::move(result);
                             });
    op->start(5000);
    uv_run(h.loop(), UV_RUN_NOWAIT);
    op->cancel();
    op->cancel();
    op.reset();
    for (int i = 0; i < 5; ++i) {
        uv_run(h.loop(), UV_RUN_NOWAIT);
    }
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(out->completed);
    EXPECT_TRUE(has_error(*out, "mpic_error:caa_checker:cancelled"));
}

} // namespace
} // namespace mpic::validators
