// The audit record (BR §5.4.1): one JSON line per decision, checked against what the nlohmann::json renderer it
// replaced produced for the same inputs (../api/render_fixtures.hh; expected values in audit_golden.inc, with the
// clock field zeroed): same members, values, types and presence rules, including bytes that are not UTF-8.

#include <chrono>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../api/render_fixtures.hh"
#include "../api/render_golden_check.hh"
#include "quorum/audit/audit_record.hh"

namespace mpic::quorum::test {
namespace {

#include "audit_golden.inc"

using json = nlohmann::json;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

TEST(audit_record, matches_the_previous_renderer) {
    const auto before = now_ms();
    std::int64_t after = 0;
    expect_golden(
        sample_audit_cases(), audit_golden,
        [&](const std::pair<mpic_response, audit_context>& c) {
            auto text = render_audit_record(c.first, c.second);
            after = now_ms();
            return text;
        },
        [&](json& record) {
            // The one field that depends on the clock: the decision time, now.
            ASSERT_TRUE(record["decided_unix_ms"].is_number_integer());
            EXPECT_GE(record["decided_unix_ms"].get<std::int64_t>(), before);
            EXPECT_LE(record["decided_unix_ms"].get<std::int64_t>(), after);
            record["decided_unix_ms"] = 0;
        });
}

TEST(audit_record, is_one_line_of_json_whatever_the_bytes) {
    for (const auto& c : sample_audit_cases()) {
        const auto text = render_audit_record(c.value.first, c.value.second);
        EXPECT_EQ(text.find('\n'), std::string::npos) << c.name;
        EXPECT_EQ(text.find('\r'), std::string::npos) << c.name;
        EXPECT_TRUE(json::accept(text)) << c.name;
    }
}

TEST(audit_record, names_every_attempt_and_verdict) {
    // dcv_retries: two earlier attempts, then the deciding one; verdicts in the BR's words.
    for (const auto& c : sample_audit_cases()) {
        if (c.name != "dcv_retries") {
            continue;
        }
        const auto record = json::parse(render_audit_record(c.value.first, c.value.second));
        ASSERT_EQ(record["results"].size(), 1U);
        const auto& result = record["results"][0];
        EXPECT_EQ(result["target"], "retry.example");
        EXPECT_EQ(result["method"], "acme-dns-01");
        ASSERT_EQ(result["attempts"].size(), 3U);
        EXPECT_EQ(result["attempts"][0][0]["result"], "fail");
        EXPECT_EQ(result["attempts"][1][0]["result"], "not_completed");
        EXPECT_EQ(result["attempts"][2][0]["result"], "pass");
        EXPECT_EQ(result["attempts"][2][0]["evidence"]["ad_flag"], true);
        EXPECT_FALSE(result["attempts"][1][0]["evidence"].contains("records_seen")); // nothing seen, nothing written
        return;
    }
    FAIL() << "fixture dcv_retries missing";
}

} // namespace
} // namespace mpic::quorum::test
