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
    return {caa_lookup_status::no_data, {}, false, false};
}
caa_lookup nx() {
    return {caa_lookup_status::nxdomain, {}, false, false};
}
caa_lookup fail(caa_lookup_status s, bool dnssec = false) {
    return {s, {}, dnssec, false};
}
/// A SERVFAIL whose RFC 8914 EDE names a non-DNSSEC cause (e.g. 22 "No Reachable Authority").
caa_lookup servfail_known_cause() {
    return {caa_lookup_status::servfail, {}, false, true};
}
caa_lookup set(std::vector<caa_property> records) {
    return {caa_lookup_status::records, std::move(records), false, false};
}
caa_property issue(std::string value) {
    return {0, "issue", std::move(value)};
}

/// Runs the climb against a script name -> outcomes (consumed in order; a missing name answers NODATA).
caa_climb run(std::string_view start, std::map<std::string, std::vector<caa_lookup>> script,
              caa_climb_options options = {}) {
    caa_climb climb(start, options);
    for (int guard = 0; !climb.done() && guard < 64; ++guard) {
        auto& queue = script[climb.query_name()];
        if (queue.empty()) {
            climb.feed(empty());
        } else {
            auto outcome = std::move(queue.front());
            queue.erase(queue.begin());
            climb.feed(std::move(outcome));
        }
    }
    EXPECT_TRUE(climb.done());
    return climb;
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

TEST(CaaClimb, C19_ServfailRetriedThenToleratedWithOptIn) {
    const auto climb =
        run("www.example.com",
            {{"www.example.com", {fail(caa_lookup_status::servfail), fail(caa_lookup_status::servfail)}}},
            {.allow_lookup_failure = true, .primary = false});
    EXPECT_EQ(climb.current_state(), caa_climb::state::failure_tolerated);
    EXPECT_EQ(climb.names_queried(), (names{"www.example.com", "www.example.com"}));
}

TEST(CaaClimb, C19_ServfailWithNonDnssecEdeToleratedAtPrimary) {
    const auto climb = run("www.example.com", {{"www.example.com", {servfail_known_cause(), servfail_known_cause()}}},
                           {.allow_lookup_failure = true, .primary = true});
    EXPECT_EQ(climb.current_state(), caa_climb::state::failure_tolerated);
}

TEST(CaaClimb, C24_BareServfailAtPrimaryIsNeverTolerated) {
    // A validating resolver without EDE (unbound's default) answers bogus data with a bare SERVFAIL: at the primary
    // that may be a DNSSEC failure, so it is not permission (BR 3.2.2.8.1).
    const auto climb = run("www.example.com", {{"www.example.com", {fail(caa_lookup_status::servfail)}}},
                           {.allow_lookup_failure = true, .primary = true});
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
    EXPECT_EQ(climb.names_queried().size(), 1U);
}

TEST(CaaClimb, TimeoutAtPrimaryRetriedThenTolerated) {
    const auto climb =
        run("example.com", {{"example.com", {fail(caa_lookup_status::timeout), fail(caa_lookup_status::timeout)}}},
            {.allow_lookup_failure = true, .primary = true});
    EXPECT_EQ(climb.current_state(), caa_climb::state::failure_tolerated);
}

TEST(CaaClimb, C19_ServfailWithoutOptInFails) { // the default (standards §7.2, Boulder)
    const auto climb = run("www.example.com", {{"www.example.com", {fail(caa_lookup_status::servfail)}}},
                           {.allow_lookup_failure = false, .primary = false});
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
}

TEST(CaaClimb, TimeoutRetriedThenTolerated) {
    const auto climb =
        run("example.com", {{"example.com", {fail(caa_lookup_status::timeout), fail(caa_lookup_status::timeout)}}},
            {.allow_lookup_failure = true});
    EXPECT_EQ(climb.current_state(), caa_climb::state::failure_tolerated);
}

TEST(CaaClimb, RetrySucceedingIsUsedNormally) {
    const auto climb =
        run("www.example.com", {{"www.example.com", {fail(caa_lookup_status::servfail), set({issue(";")})}}},
            {.allow_lookup_failure = true});
    EXPECT_EQ(climb.current_state(), caa_climb::state::found);
    EXPECT_EQ(climb.found_at(), "www.example.com");
}

TEST(CaaClimb, RetryAnsweringEmptyClimbs) {
    const auto climb =
        run("www.example.com",
            {{"www.example.com", {fail(caa_lookup_status::timeout), empty()}}, {"example.com", {set({issue("x")})}}},
            {.allow_lookup_failure = true});
    EXPECT_EQ(climb.current_state(), caa_climb::state::found);
    EXPECT_EQ(climb.found_at(), "example.com");
}

TEST(CaaClimb, C24_BogusAtPrimaryNeverTolerated) {
    const auto climb = run("example.com", {{"example.com", {fail(caa_lookup_status::servfail, true)}}},
                           {.allow_lookup_failure = true, .primary = true});
    EXPECT_EQ(climb.current_state(), caa_climb::state::failed);
    EXPECT_TRUE(climb.last_outcome().dnssec_failure);
}

TEST(CaaClimb, BogusAtRemoteWithOptInIsTolerated) {
    // Standards §7.2 excludes bogus at the primary only; remotes MAY skip DNSSEC for CAA (BR 3.2.2.8.1).
    const auto climb =
        run("example.com",
            {{"example.com", {fail(caa_lookup_status::servfail, true), fail(caa_lookup_status::servfail, true)}}},
            {.allow_lookup_failure = true, .primary = false});
    EXPECT_EQ(climb.current_state(), caa_climb::state::failure_tolerated);
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
    const auto climb = run("example.com", {{"example.com", {caa_lookup{caa_lookup_status::records, {}, false}}}});
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
