// mpic-bench's pieces without a server: mix parsing (good and bad), weighted choice, the decision scan, percentiles
// and the --profile reading of a response.

#include <random>

#include <gtest/gtest.h>

#include "tools/mpic-bench/request_mix.hh"
#include "tools/mpic-bench/samples.hh"

namespace {

using namespace mpic::bench;

TEST(request_mix, parses_weights_and_builds_bodies_for_the_domain) {
    std::string error;
    auto mix = request_mix::parse("caa=3,dns-01,multi-name=2", "x.test", error);
    ASSERT_TRUE(mix) << error;
    ASSERT_EQ(mix->entries().size(), 3U);
    EXPECT_EQ(mix->describe(), "caa=3,dns-01=1,multi-name=2");
    EXPECT_NE(mix->entries()[0].body.find(R"("domain_or_ip_target":"x.test")"), std::string::npos);
    EXPECT_NE(mix->entries()[2].body.find(R"("targets":["x.test","www.x.test","api.x.test"])"), std::string::npos);
}

TEST(request_mix, refuses_unknown_kinds_and_bad_weights) {
    for (const char* bad : {"", ",", "caa=0", "caa=x", "caa=1x", "caa=-1", "dns01", "caa=2000000"}) {
        std::string error;
        EXPECT_FALSE(request_mix::parse(bad, "x.test", error)) << bad;
        EXPECT_FALSE(error.empty()) << bad;
    }
}

TEST(request_mix, picks_by_weight) {
    std::string error;
    auto mix = request_mix::parse("caa=3,dns-01=1", "x.test", error);
    ASSERT_TRUE(mix);
    std::mt19937_64 rng(7);
    int first = 0;
    for (int i = 0; i < 40000; ++i) {
        first += mix->pick(rng) == 0 ? 1 : 0;
    }
    EXPECT_NEAR(first / 40000.0, 0.75, 0.02);
}

TEST(request_mix, tls_alpn_body_carries_the_sha256_of_the_key_authorization) {
    // sha256("bench-tok.thumbprint"), the digest the lab's TLS-ALPN certificate carries.
    const auto body = request_body(request_kind::tls_alpn_01, "bench.test");
    EXPECT_NE(body.find("\"key_authorization_hash\":\""), std::string::npos);
    const auto at = body.find("\"key_authorization_hash\":\"") + 26;
    EXPECT_EQ(body.substr(at, 64).find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(scan_decision, reads_the_top_level_is_valid) {
    bool valid = false;
    EXPECT_TRUE(scan_decision(R"({"decided_after_ms":1.2,"is_valid":true,"results":[{"is_valid":false}]})", valid));
    EXPECT_TRUE(valid);
    EXPECT_TRUE(scan_decision(R"({"is_valid":false})", valid));
    EXPECT_FALSE(valid);
    EXPECT_FALSE(scan_decision(R"({"error":"overloaded"})", valid));
}

TEST(percentile, nearest_rank) {
    std::vector<double> v;
    for (int i = 1; i <= 1000; ++i) {
        v.push_back(i);
    }
    EXPECT_EQ(percentile_sorted(v, 50), 500);
    EXPECT_EQ(percentile_sorted(v, 99), 990);
    EXPECT_EQ(percentile_sorted(v, 99.9), 999);
    EXPECT_EQ(percentile_sorted(v, 100), 1000);
    EXPECT_EQ(percentile_sorted({}, 99), 0);
    std::vector<sample> samples(3);
    samples[0] = {0, 100, 200, 0, outcome::valid};
    samples[1] = {0, 300, 200, 0, outcome::invalid};
    samples[2] = {0, 9000, 503, 0, outcome::http_error};
    EXPECT_EQ(summarise(samples, true).count, 2U);
    EXPECT_EQ(summarise(samples, true).max, 300);
    EXPECT_EQ(summarise(samples, false).max, 9000);
}

TEST(parse_profile, reads_timings_and_the_quorum_deciding_check) {
    // Four perspectives, quorum 3: the decision waited for the third-fastest answer (300 µs); one was cancelled.
    const std::string body = R"({"actual_orchestration_parameters":{"quorum_count":3},"check_type":"caa",
      "decided_after_ms":0.5,"is_valid":true,"perspectives":[
       {"perspective_code":"a","check_response":{"check_passed":true,"timings":{"dns_us":90,"total_us":100}}},
       {"perspective_code":"b","check_response":{"check_passed":true,"timings":{"dns_us":190,"total_us":200}}},
       {"perspective_code":"c","check_response":{"check_passed":true,"timings":{"dns_us":290,"total_us":300}}},
       {"perspective_code":"d","check_response":{"check_passed":false,
         "errors":[{"error_type":"mpic_error:caa_checker:cancelled"}],"timings":{"total_us":310}}}]})";
    profile_record p;
    ASSERT_TRUE(parse_profile(body, 1000, p));
    EXPECT_EQ(p.decided_after_us, 500U);
    EXPECT_EQ(p.engine_added_us, 700);
    ASSERT_EQ(p.perspectives.size(), 4U);
    EXPECT_EQ(p.perspectives[3].result, "mpic_error:caa_checker:cancelled");
    const auto s = summarise_profile({p});
    EXPECT_EQ(s.checks, 3U); // the cancelled one is left out
    EXPECT_EQ(s.median_us[1], 190);
    EXPECT_FALSE(parse_profile("not json", 1, p));
    EXPECT_FALSE(parse_profile(R"({"error":"overloaded"})", 1, p));
}

TEST(server_timing, reads_the_audit_duration_and_nothing_else) {
    EXPECT_EQ(server_timing_audit_us("audit;dur=0.431"), 431U);
    EXPECT_EQ(server_timing_audit_us("db;dur=5, audit;dur=1.5;desc=\"sync\""), 1500U);
    EXPECT_EQ(server_timing_audit_us("audit ;dur=2"), 2000U);
    EXPECT_EQ(server_timing_audit_us("auditor;dur=7"), 0U); // another metric whose name starts the same
    EXPECT_EQ(server_timing_audit_us("audit"), 0U);         // no duration
    EXPECT_EQ(server_timing_audit_us("audit;dur=abc"), 0U);
    EXPECT_EQ(server_timing_audit_us("audit;dur=-1"), 0U);
    EXPECT_EQ(server_timing_audit_us(""), 0U);
}

TEST(summarise_profile, separates_the_audit_wait_from_the_engine) {
    profile_record a;
    a.engine_added_us = 900;
    a.audit_us = 600;
    profile_record b;
    b.engine_added_us = 500;
    b.audit_us = 100;
    const auto s = summarise_profile({a, b});
    EXPECT_EQ(s.engine_added_p99_us, 900);
    EXPECT_EQ(s.engine_only_p99_us, 400); // 500 - 100 beats 900 - 600
    EXPECT_EQ(s.engine_only_p50_us, 300);
    EXPECT_EQ(s.audit_p99_us, 600);
}

} // namespace
