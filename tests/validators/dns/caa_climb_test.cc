// The RFC 8659 §3 climb driven by scripted query outcomes: no sockets. Each test plays a resolver that answers by
// name and asserts both the questions asked and the terminal state.

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "validators/dns/caa_climb.hh"

namespace mpic::validators {
namespace {

caa_lookup empty() {
    return {caa_lookup_status::no_data, {}, failure_cause::unknown, false, "NOERROR"};
}
caa_lookup nx() {
    return {caa_lookup_status::nxdomain, {}, failure_cause::unknown, false, "NXDOMAIN"};
}
caa_lookup fail(caa_lookup_status s, bool dnssec = false) {
    return {s, {}, dnssec ? failure_cause::dnssec : failure_cause::unknown, false, {}};
}
/// A SERVFAIL whose RFC 8914 EDE names `cause` (upstream: e.g. 22 "No Reachable Authority").
caa_lookup servfail(failure_cause cause = failure_cause::unknown) {
    return {caa_lookup_status::servfail, {}, cause, false, "SERVFAIL"};
}
caa_lookup servfail_known_cause() {
    return servfail(failure_cause::upstream);
}
caa_lookup timeout() {
    return fail(caa_lookup_status::timeout);
}
/// A NOERROR answer (SOA at the apex, or NODATA below it) with the given AD bit.
caa_lookup soa(bool ad) {
    return {caa_lookup_status::no_data, {}, failure_cause::unknown, ad, "NOERROR"};
}
caa_lookup set(std::vector<caa_property> records) {
    return {caa_lookup_status::records, std::move(records), failure_cause::unknown, false, "NOERROR"};
}
caa_property issue(std::string value) {
    return {0, "issue", std::move(value)};
}

constexpr std::uint16_t caa_type = caa_climb::type_caa;
constexpr std::uint16_t ns_type = caa_climb::type_ns;
constexpr std::uint16_t soa_type = caa_climb::type_soa;

/// A script: (name, type) -> outcomes consumed in order. A CAA question without a script answers NODATA; an NS or
/// SOA question without one is a test error (answered with a timeout so the climb still ends).
using script_t = std::map<std::pair<std::string, std::uint16_t>, std::vector<caa_lookup>>;

/// Runs the climb against `script`; `asked` (optional) receives every (name, type) asked, in order.
caa_climb run_typed(std::string_view start, script_t script, caa_climb_options options = {},
                    std::vector<std::pair<std::string, std::uint16_t>>* asked = nullptr) {
    caa_climb climb(start, options);
    for (int guard = 0; !climb.done() && guard < 64; ++guard) {
        const auto key = std::make_pair(climb.query_name(), climb.query_type());
        if (asked != nullptr) {
            asked->push_back(key);
        }
        auto& queue = script[key];
        if (queue.empty()) {
            if (key.second != caa_type) {
                ADD_FAILURE() << "unscripted question " << key.first << " type " << key.second;
                climb.feed(timeout());
            } else {
                climb.feed(empty());
            }
        } else {
            auto outcome = std::move(queue.front());
            queue.erase(queue.begin());
            climb.feed(std::move(outcome));
        }
    }
    EXPECT_TRUE(climb.done());
    return climb;
}

/// Runs the climb against a CAA-only script name -> outcomes (consumed in order; a missing name answers NODATA).
caa_climb run(std::string_view start, std::map<std::string, std::vector<caa_lookup>> caa_script,
              caa_climb_options options = {}) {
    script_t script;
    for (auto& [name, outcomes] : caa_script) {
        script[{name, caa_type}] = std::move(outcomes);
    }
    return run_typed(start, std::move(script), options);
}

bool has_note(const caa_climb& climb, std::string_view needle) {
    for (const auto& note : climb.notes()) {
        if (note.find(needle) != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::string all_notes(const caa_climb& climb) {
    std::string text;
    for (const auto& note : climb.notes()) {
        text += note + "\n";
    }
    return text;
}

using names = std::vector<std::string>;

TEST(CaaClimb, C1_NoCaaAnywhereIsEmptyAndQueriesUpToTld) {
    const auto climb = run("www.example.com", {});
    EXPECT_EQ(climb.current_state(), caa_climb::state::empty);
    EXPECT_EQ(climb.names_queried(), (names{"www.example.com", "example.com", "com"}));
    EXPECT_TRUE(climb.found_at().empty());
}

TEST(CaaClimb, FindsSetAtParentAndStops) {
    const auto climb = run("a.b.example.com", {{"example.com", {set({issue("ourca.example")})}}});
    EXPECT_EQ(climb.current_state(), caa_climb::state::found);
    EXPECT_EQ(climb.found_at(), "example.com");
    EXPECT_EQ(climb.names_queried(), (names{"a.b.example.com", "b.example.com", "example.com"}));
    ASSERT_EQ(climb.relevant_rrset().size(), 1U);
    EXPECT_EQ(climb.relevant_rrset()[0].value, "ourca.example");
}

TEST(CaaClimb, SetAtTheNameItselfStopsImmediately) {
    const auto climb = run("example.com", {{"example.com", {set({issue(";")})}}});
    EXPECT_EQ(climb.current_state(), caa_climb::state::found);
    EXPECT_EQ(climb.names_queried(), (names{"example.com"}));
}

TEST(CaaClimb, C22_NxdomainAtNameClimbsToParent) {
    const auto climb =
        run("gone.example.com", {{"gone.example.com", {nx()}}, {"example.com", {set({issue("ourca.example")})}}});
    EXPECT_EQ(climb.current_state(), caa_climb::state::found);
    EXPECT_EQ(climb.found_at(), "example.com");
}

TEST(CaaClimb, C15_AliasTargetSetIsCaaOfTheName) {
    // The resolver chased www -> cdn.provider.net and returned the target's CAA: that IS CAA(www).
    const auto climb = run("www.example.com", {{"www.example.com", {set({issue("other.example")})}}});
    EXPECT_EQ(climb.current_state(), caa_climb::state::found);
    EXPECT_EQ(climb.found_at(), "www.example.com");
}

TEST(CaaClimb, AliasChainEndingWithoutCaaClimbsTheNamesParentsNotTheTargets) {
    // www CNAME cdn.provider.net, no CAA there: the answer is NODATA at www; the next question is example.com,
    // never provider.net (RFC 8659 §3 and §7 vs RFC 6844 erratum 5065).
    const auto climb = run("www.example.com", {{"www.example.com", {empty()}}, {"provider.net", {set({issue(";")})}}});
    EXPECT_EQ(climb.current_state(), caa_climb::state::empty);
    EXPECT_EQ(climb.names_queried(), (names{"www.example.com", "example.com", "com"}));
}

TEST(CaaClimb, ServfailWithoutOptInFails) {
    const auto climb = run("www.example.com", {{"www.example.com", {fail(caa_lookup_status::servfail)}}});
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
    EXPECT_EQ(climb.found_at(), "www.example.com");
    EXPECT_EQ(climb.names_queried().size(), 1U); // no retry without the opt-in
}

TEST(CaaClimb, C18_ServfailSignedZoneFailsAtPrimaryEvenWithOptIn) {
    const auto climb = run("www.example.com", {{"www.example.com", {fail(caa_lookup_status::servfail, true)}}},
                           {.allow_lookup_failure = true, .primary = true});
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
}

// ---- BR 3.2.2.8: a lookup failure counts as permission only when (1) it is outside the CA's infrastructure,
// (2) it was retried, (3) the domain is confirmed "Insecure" (RFC 4035 §4.3) by a validating resolver.

constexpr caa_climb_options opt_in_remote{.allow_lookup_failure = true, .primary = false, .validating_resolver = true};
constexpr caa_climb_options opt_in_primary{.allow_lookup_failure = true, .primary = true, .validating_resolver = true};

TEST(CaaClimb, C19_ServfailRetriedThenProvedInsecureIsTolerated) {
    std::vector<std::pair<std::string, std::uint16_t>> asked;
    const auto climb = run_typed(
        "www.example.com",
        {{{"www.example.com", caa_type}, {servfail(), servfail()}}, {{"www.example.com", soa_type}, {soa(false)}}},
        opt_in_remote, &asked);
    EXPECT_EQ(climb.current_state(), caa_climb::state::failure_tolerated) << all_notes(climb);
    EXPECT_EQ(climb.found_at(), "www.example.com");
    EXPECT_EQ(climb.names_queried(), (names{"www.example.com", "www.example.com"}));
    // A SERVFAIL is an answer from our resolver: no liveness probe; then the SOA proof at the failing name.
    EXPECT_EQ(asked, (std::vector<std::pair<std::string, std::uint16_t>>{
                         {"www.example.com", caa_type}, {"www.example.com", caa_type}, {"www.example.com", soa_type}}));
    EXPECT_EQ(climb.last_outcome().status, caa_lookup_status::servfail); // the proof never replaces the CAA outcome
    EXPECT_TRUE(has_note(climb, "(2) retried")) << all_notes(climb);
    EXPECT_TRUE(has_note(climb, "(1) outside the CA's infrastructure: our resolver answered SERVFAIL"));
    EXPECT_TRUE(has_note(climb, "(3) Insecure (RFC 4035 §4.3): the validating resolver answered SOA www.example.com"));
    EXPECT_TRUE(has_note(climb, "treated as permission"));
    EXPECT_TRUE(climb.denial().empty());
}

TEST(CaaClimb, C18_ServfailInASecureZoneIsNotPermission) {
    const auto climb = run_typed(
        "www.example.com",
        {{{"www.example.com", caa_type}, {servfail(), servfail()}}, {{"www.example.com", soa_type}, {soa(true)}}},
        opt_in_remote);
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
    EXPECT_NE(climb.denial().find("AD=1"), std::string::npos) << climb.denial();
    EXPECT_TRUE(has_note(climb, "not treated as permission"));
}

TEST(CaaClimb, WithoutAValidatingResolverNothingIsPermission) {
    for (const bool primary : {false, true}) {
        SCOPED_TRACE(primary ? "primary" : "remote");
        std::vector<std::pair<std::string, std::uint16_t>> asked;
        const auto climb =
            run_typed("example.com", {{{"example.com", caa_type}, {servfail_known_cause(), servfail_known_cause()}}},
                      {.allow_lookup_failure = true, .primary = primary, .validating_resolver = false}, &asked);
        EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
        EXPECT_NE(climb.denial().find("not declared DNSSEC-validating"), std::string::npos) << climb.denial();
        EXPECT_EQ(asked.size(), 2U); // the CAA query and its retry; no SOA asked of a resolver whose AD means nothing
    }
}

TEST(CaaClimb, ProofClimbsToTheClosestAnsweringAncestor) {
    // The failing name's zone is lame: its SOA fails too; the parent zone answers without AD. Below an Insecure zone
    // every branch is Insecure (RFC 4035 §4.3).
    std::vector<std::pair<std::string, std::uint16_t>> asked;
    const auto climb = run_typed("a.lame.example",
                                 {{{"a.lame.example", caa_type}, {servfail(), servfail()}},
                                  {{"a.lame.example", soa_type}, {servfail()}},
                                  {{"lame.example", soa_type}, {timeout()}},
                                  {{"example", soa_type}, {soa(false)}}},
                                 opt_in_remote, &asked);
    EXPECT_EQ(climb.current_state(), caa_climb::state::failure_tolerated) << all_notes(climb);
    EXPECT_EQ(climb.found_at(), "a.lame.example");
    EXPECT_EQ(asked.back(), (std::pair<std::string, std::uint16_t>{"example", soa_type}));
    EXPECT_TRUE(has_note(climb, "SOA example with NOERROR and AD=0 (a.lame.example lies below it")) << all_notes(climb);
}

TEST(CaaClimb, ProofReachingASecureAncestorIsNotPermission) {
    const auto climb = run_typed("a.lame.example",
                                 {{{"a.lame.example", caa_type}, {servfail(), servfail()}},
                                  {{"a.lame.example", soa_type}, {servfail()}},
                                  {{"lame.example", soa_type}, {servfail()}},
                                  {{"example", soa_type}, {soa(true)}}},
                                 opt_in_remote);
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
    EXPECT_NE(climb.denial().find("SOA example answered NOERROR with AD=1"), std::string::npos) << climb.denial();
}

TEST(CaaClimb, ProofWithoutAnyAnswerUpToTheTldIsNotPermission) {
    std::vector<std::pair<std::string, std::uint16_t>> asked;
    const auto climb = run_typed("a.example",
                                 {{{"a.example", caa_type}, {servfail(), servfail()}},
                                  {{"a.example", soa_type}, {servfail()}},
                                  {{"example", soa_type}, {servfail()}}},
                                 opt_in_remote, &asked);
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
    EXPECT_NE(climb.denial().find("up to the TLD"), std::string::npos) << climb.denial();
    EXPECT_EQ(asked.back(), (std::pair<std::string, std::uint16_t>{"example", soa_type})); // never the root
}

TEST(CaaClimb, ProofSeeingADnssecFailureOrARefusalIsNotPermission) {
    for (const auto& proof : {fail(caa_lookup_status::servfail, true), fail(caa_lookup_status::refused),
                              fail(caa_lookup_status::malformed), servfail(failure_cause::internal)}) {
        SCOPED_TRACE(to_string(proof.status));
        const auto climb = run_typed("a.example",
                                     {{{"a.example", caa_type}, {servfail(), servfail()}},
                                      {{"a.example", soa_type}, {proof}},
                                      {{"example", soa_type}, {soa(false)}}},
                                     opt_in_remote);
        EXPECT_EQ(climb.current_state(), caa_climb::state::failed) << all_notes(climb);
    }
}

TEST(CaaClimb, ProofNxdomainWithoutAdIsInsecure) {
    // The name vanished between the CAA queries and the proof: NXDOMAIN from the zone that holds it, no AD.
    const auto climb = run_typed(
        "gone.example", {{{"gone.example", caa_type}, {servfail(), servfail()}}, {{"gone.example", soa_type}, {nx()}}},
        opt_in_remote);
    EXPECT_EQ(climb.current_state(), caa_climb::state::failure_tolerated) << all_notes(climb);
}

TEST(CaaClimb, TimeoutAnsweredProbeThenProofIsTolerated) {
    std::vector<std::pair<std::string, std::uint16_t>> asked;
    const auto climb =
        run_typed("example.com",
                  {{{"example.com", caa_type}, {timeout(), timeout()}},
                   {{"", ns_type}, {servfail()}}, // a resolver cut off from the root still answers: it is alive
                   {{"example.com", soa_type}, {soa(false)}}},
                  opt_in_remote, &asked);
    EXPECT_EQ(climb.current_state(), caa_climb::state::failure_tolerated) << all_notes(climb);
    EXPECT_EQ(asked,
              (std::vector<std::pair<std::string, std::uint16_t>>{
                  {"example.com", caa_type}, {"example.com", caa_type}, {"", ns_type}, {"example.com", soa_type}}));
    EXPECT_TRUE(has_note(climb, "answered a liveness probe (. NS: SERVFAIL)")) << all_notes(climb);
    EXPECT_EQ(climb.last_outcome().status, caa_lookup_status::timeout);
}

TEST(CaaClimb, TimeoutWithASilentProbeIsInsideTheCaAndNotPermission) {
    for (const auto& probe : {timeout(), fail(caa_lookup_status::unreachable), fail(caa_lookup_status::malformed)}) {
        SCOPED_TRACE(to_string(probe.status));
        std::vector<std::pair<std::string, std::uint16_t>> asked;
        const auto climb =
            run_typed("example.com", {{{"example.com", caa_type}, {timeout(), timeout()}}, {{"", ns_type}, {probe}}},
                      opt_in_remote, &asked);
        EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
        EXPECT_NE(climb.denial().find("resolver did not answer a liveness probe"), std::string::npos) << climb.denial();
        EXPECT_NE(climb.denial().find("failure inside the CA's infrastructure"), std::string::npos);
        EXPECT_EQ(asked.size(), 3U); // no SOA proof once condition (1) failed
    }
}

TEST(CaaClimb, C24_BareServfailAtPrimaryIsNeverTolerated) {
    // A validating resolver without EDE (unbound's default) answers bogus data with a bare SERVFAIL: at the primary
    // that may be a DNSSEC failure, so it is not permission (BR 3.2.2.8.1).
    const auto climb = run("www.example.com", {{"www.example.com", {servfail()}}}, opt_in_primary);
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
    EXPECT_EQ(climb.names_queried().size(), 1U);
    EXPECT_NE(climb.denial().find("3.2.2.8.1"), std::string::npos);
}

TEST(CaaClimb, ServfailWithAnUnknownCauseEdeAtPrimaryIsNotTolerated) {
    // EDE 0 "Other" or 13 "Cached Error" name no cause: as bare as no EDE at all.
    const auto climb =
        run("www.example.com", {{"www.example.com", {servfail(failure_cause::unknown)}}}, opt_in_primary);
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
}

TEST(CaaClimb, ServfailWhoseEdeNamesAnInternalCauseIsNeverTolerated) {
    for (const auto options : {opt_in_remote, opt_in_primary}) {
        const auto climb = run("www.example.com", {{"www.example.com", {servfail(failure_cause::internal)}}}, options);
        EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
        EXPECT_EQ(climb.names_queried().size(), 1U); // not even retried
        EXPECT_NE(climb.denial().find("inside the CA's infrastructure"), std::string::npos) << climb.denial();
    }
}

TEST(CaaClimb, C24_BogusNeverToleratedAtPrimaryNorAtRemotes) {
    // BR 3.2.2.8.1 at the primary; anywhere, a validation failure means the name is not "Insecure" (BR 3.2.2.8).
    for (const auto options : {opt_in_remote, opt_in_primary}) {
        const auto climb = run("example.com", {{"example.com", {fail(caa_lookup_status::servfail, true)}}}, options);
        EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
        EXPECT_TRUE(climb.last_outcome().dnssec_failure());
        EXPECT_EQ(climb.names_queried().size(), 1U);
    }
}

TEST(CaaClimb, C19_ServfailWithoutOptInFails) { // the default (standards §7.2, Boulder)
    const auto climb = run("www.example.com", {{"www.example.com", {servfail()}}},
                           {.allow_lookup_failure = false, .primary = false, .validating_resolver = true});
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
    EXPECT_TRUE(climb.notes().empty()); // nothing was attempted, nothing to explain
}

TEST(CaaClimb, RetrySucceedingIsUsedNormally) {
    const auto climb = run("www.example.com", {{"www.example.com", {servfail(), set({issue(";")})}}}, opt_in_remote);
    EXPECT_EQ(climb.current_state(), caa_climb::state::found);
    EXPECT_EQ(climb.found_at(), "www.example.com");
}

TEST(CaaClimb, RetryAnsweringEmptyClimbs) {
    const auto climb =
        run("www.example.com", {{"www.example.com", {timeout(), empty()}}, {"example.com", {set({issue("x")})}}},
            opt_in_remote);
    EXPECT_EQ(climb.current_state(), caa_climb::state::found);
    EXPECT_EQ(climb.found_at(), "example.com");
}

TEST(CaaClimb, RetryAnsweringEmptyAllTheWayUpEndsEmptyWithoutAFailureName) {
    const auto climb = run("www.example.com", {{"www.example.com", {servfail(), nx()}}}, opt_in_remote);
    EXPECT_EQ(climb.current_state(), caa_climb::state::empty);
    EXPECT_TRUE(climb.found_at().empty());
    EXPECT_TRUE(climb.notes().empty());
}

TEST(CaaClimb, RetryFailingDifferentlyIsJudgedOnTheRetry) {
    // SERVFAIL, then REFUSED: the retry's outcome decides, and REFUSED is never permission.
    const auto climb =
        run("www.example.com", {{"www.example.com", {servfail(), fail(caa_lookup_status::refused)}}}, opt_in_remote);
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
    EXPECT_EQ(climb.last_outcome().status, caa_lookup_status::refused);
}

/// Every combination of the BR 3.2.2.8 conditions: failure kind x probe x validating resolver x proof answer x
/// primary/remote. Expected: permission exactly when all three conditions hold (and, at the primary, a SERVFAIL
/// names an upstream cause: BR 3.2.2.8.1).
TEST(CaaClimb, EveryCombinationOfTheThreeConditions) {
    enum class proof_kind { ad0, ad1, servfail_then_nothing };
    int tolerated = 0;
    int cases = 0;
    for (const bool primary : {false, true}) {
        for (const bool timed_out : {false, true}) {
            for (const bool upstream_ede : {false, true}) {
                for (const bool probe_answered : {false, true}) {
                    for (const bool validating : {false, true}) {
                        for (const auto proof : {proof_kind::ad0, proof_kind::ad1, proof_kind::servfail_then_nothing}) {
                            const auto failure =
                                timed_out ? timeout()
                                          : servfail(upstream_ede ? failure_cause::upstream : failure_cause::unknown);
                            script_t script{{{"x.example", caa_type}, {failure, failure}},
                                            {{"", ns_type}, {probe_answered ? empty() : timeout()}}};
                            switch (proof) {
                            case proof_kind::ad0:
                                script[{"x.example", soa_type}] = {soa(false)};
                                break;
                            case proof_kind::ad1:
                                script[{"x.example", soa_type}] = {soa(true)};
                                break;
                            case proof_kind::servfail_then_nothing:
                                script[{"x.example", soa_type}] = {servfail()};
                                script[{"example", soa_type}] = {timeout()};
                                break;
                            }
                            const caa_climb_options options{
                                .allow_lookup_failure = true, .primary = primary, .validating_resolver = validating};
                            caa_climb climb("x.example", options);
                            for (int guard = 0; !climb.done() && guard < 16; ++guard) {
                                auto& queue = script[{climb.query_name(), climb.query_type()}];
                                ASSERT_FALSE(queue.empty()) << climb.query_name() << " " << climb.query_type();
                                auto outcome = queue.front();
                                queue.erase(queue.begin());
                                climb.feed(std::move(outcome));
                            }
                            ASSERT_TRUE(climb.done());
                            const bool condition1 = timed_out ? probe_answered : true;
                            const bool primary_gate = !primary || timed_out || upstream_ede;
                            const bool condition3 = validating && proof == proof_kind::ad0;
                            const bool expected = condition1 && primary_gate && condition3;
                            SCOPED_TRACE(testing::Message()
                                         << "primary=" << primary << " timeout=" << timed_out
                                         << " upstream_ede=" << upstream_ede << " probe=" << probe_answered
                                         << " validating=" << validating << " proof=" << static_cast<int>(proof) << "\n"
                                         << all_notes(climb));
                            EXPECT_EQ(climb.current_state() == caa_climb::state::failure_tolerated, expected);
                            EXPECT_EQ(climb.current_state() == caa_climb::state::failed, !expected);
                            // Whatever happened is explained in the notes (the audit record's evidence).
                            EXPECT_FALSE(climb.notes().empty());
                            EXPECT_EQ(climb.denial().empty(), expected);
                            tolerated += expected ? 1 : 0;
                            ++cases;
                        }
                    }
                }
            }
        }
    }
    EXPECT_EQ(cases, 96);
    // remote: servfail (2 EDE variants x 2 probe variants, probe unused) + timeout with answered probe (2 EDE
    // variants); primary: servfail with upstream EDE (2 probe variants) + timeout with answered probe (2).
    EXPECT_EQ(tolerated, 6 + 4);
}

TEST(CaaClimb, C26_RefusedFailsEvenWithOptIn) {
    const auto climb =
        run("example.com", {{"example.com", {fail(caa_lookup_status::refused)}}}, {.allow_lookup_failure = true});
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
    EXPECT_EQ(climb.names_queried().size(), 1U);
}

TEST(CaaClimb, MalformedAndTruncatedFailEvenWithOptIn) {
    for (const auto status : {caa_lookup_status::malformed, caa_lookup_status::truncated}) {
        const auto climb = run("example.com", {{"example.com", {fail(status)}}}, {.allow_lookup_failure = true});
        EXPECT_EQ(climb.current_state(), caa_climb::state::failed) << to_string(status);
    }
}

TEST(CaaClimb, FailureAtParentBeforeAnySetFails) {
    const auto climb = run("www.example.com", {{"example.com", {fail(caa_lookup_status::servfail)}}});
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
    EXPECT_EQ(climb.found_at(), "example.com");
}

TEST(CaaClimb, FailureAboveFoundSetIsNeverAsked) {
    // Boulder's "present.servfail.com": a SERVFAIL at the parent does not matter once the set is found below.
    const auto climb = run("present.servfail.com", {{"present.servfail.com", {set({issue("ourca.example")})}},
                                                    {"servfail.com", {fail(caa_lookup_status::servfail)}}});
    EXPECT_EQ(climb.current_state(), caa_climb::state::found);
    EXPECT_EQ(climb.names_queried(), (names{"present.servfail.com"}));
}

TEST(CaaClimb, TldIsQueriedRootIsNot) {
    const auto climb = run("example", {{"example", {nx()}}});
    EXPECT_EQ(climb.current_state(), caa_climb::state::empty);
    EXPECT_EQ(climb.names_queried(), (names{"example"}));
}

TEST(CaaClimb, RecordsStatusWithoutRecordsIsEmpty) {
    const auto climb =
        run("example.com",
            {{"example.com", {caa_lookup{caa_lookup_status::records, {}, failure_cause::unknown, false, "NOERROR"}}}});
    EXPECT_EQ(climb.current_state(), caa_climb::state::empty);
}

TEST(CaaClimb, TrailingDotOnStartIsIgnoredAndFeedAfterDoneIsIgnored) {
    caa_climb climb("example.com.", {});
    EXPECT_EQ(climb.query_name(), "example.com");
    climb.feed(set({issue(";")}));
    ASSERT_EQ(climb.current_state(), caa_climb::state::found);
    climb.feed(fail(caa_lookup_status::servfail));
    EXPECT_EQ(climb.current_state(), caa_climb::state::found);
}

} // namespace
} // namespace mpic::validators
