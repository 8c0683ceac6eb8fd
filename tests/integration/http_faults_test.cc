// acme-http-01 against the lab's fault HTTP responder (mpic-lab-faulthttp), issue #5: slow headers, a dribbled
// response, a 1 GiB body, a reset mid-body and no response at all each end by the check's deadline (or the body cap)
// with a typed error and bounded memory; chunked framing works and conflicting framing is refused.
// Scenario: tools/mpic-lab/scenarios/checks-http-faults.toml; URL port 80 is mapped to the fault responder.

#include <gtest/gtest.h>

#include "tests/integration/lab_perspective.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::test {
namespace {

using namespace std::chrono_literals;
using validators::check_result;

struct http_faults_scenario {
    static std::string file() { return lab::scenario_file("checks-http-faults.toml"); }
};

constexpr std::uint64_t deadline_ms = 1500;

class checks_http_faults : public lab::lab_fixture<http_faults_scenario> {
protected:
    check_result run(std::string_view token, int k = 1, std::chrono::milliseconds* elapsed = nullptr) {
        const auto port = lab().fault_http_port();
        EXPECT_TRUE(port.has_value());
        lab_perspective p(lab(), at(k).with_http_port(port.value_or(1)));
        return p.run(http01_request("fh.chk", token), deadline_ms, elapsed);
    }
};

void expect_deadline(const check_result& r, std::chrono::milliseconds elapsed) {
    EXPECT_FALSE(r.completed);
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:dcv_checker:timeout") << r.errors[0].message;
    EXPECT_GE(elapsed, std::chrono::milliseconds(deadline_ms - 50));
    EXPECT_LT(elapsed, std::chrono::milliseconds(deadline_ms + 1000));
}

void expect_http_failure(const check_result& r, std::string_view text) {
    EXPECT_TRUE(r.completed) << first_error(r);
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:http") << r.errors[0].message;
    EXPECT_NE(r.errors[0].message.find(text), std::string::npos) << r.errors[0].message;
}

TEST_F(checks_http_faults, control_response_passes) {
    auto r = run("tok-fh-ok");
    EXPECT_TRUE(r.passed) << first_error(r);
    EXPECT_EQ(r.details.resolved_ip, "127.0.0.1");
}

TEST_F(checks_http_faults, slow_headers_end_at_the_check_deadline) {
    std::chrono::milliseconds elapsed{};
    auto r = run("tok-fh-slow", 1, &elapsed);
    expect_deadline(r, elapsed);
}

TEST_F(checks_http_faults, dribbled_response_ends_at_the_check_deadline) {
    std::chrono::milliseconds elapsed{};
    auto r = run("tok-fh-dribble", 1, &elapsed);
    expect_deadline(r, elapsed);
}

TEST_F(checks_http_faults, no_response_ends_at_the_check_deadline) {
    std::chrono::milliseconds elapsed{};
    auto r = run("tok-fh-none", 1, &elapsed);
    expect_deadline(r, elapsed);
}

TEST_F(checks_http_faults, gigabyte_body_stops_at_the_cap_with_bounded_memory) {
    const long before = peak_rss_kib();
    std::chrono::milliseconds elapsed{};
    auto r = run("tok-fh-big", 1, &elapsed);
    expect_http_failure(r, "larger than 65536 bytes");
    EXPECT_EQ(r.details.response_status_code, 200);
    EXPECT_EQ(r.details.response_page, std::string(1024, 'x'));
    EXPECT_LT(elapsed, std::chrono::milliseconds(deadline_ms));
    EXPECT_LT(peak_rss_kib() - before, 32 * 1024) << "KiB of peak RSS growth";
}

TEST_F(checks_http_faults, close_delimited_gigabyte_body_stops_at_the_cap) {
    const long before = peak_rss_kib();
    std::chrono::milliseconds elapsed{};
    auto r = run("tok-fh-big-close", 1, &elapsed);
    expect_http_failure(r, "larger than 65536 bytes");
    EXPECT_LT(elapsed, std::chrono::milliseconds(deadline_ms));
    EXPECT_LT(peak_rss_kib() - before, 32 * 1024) << "KiB of peak RSS growth";
}

TEST_F(checks_http_faults, body_cap_boundary) {
    auto at_cap = run("tok-fh-cap");
    EXPECT_TRUE(at_cap.completed);
    ASSERT_EQ(at_cap.errors.size(), 1U);
    EXPECT_EQ(at_cap.errors[0].type, "mpic_error:dcv_checker:mismatch") << at_cap.errors[0].message;
    expect_http_failure(run("tok-fh-cap-plus-one"), "larger than 65536 bytes");
}

TEST_F(checks_http_faults, reset_mid_body_is_a_transport_failure) {
    std::chrono::milliseconds elapsed{};
    auto r = run("tok-fh-reset", 1, &elapsed);
    expect_http_failure(r, "body");
    EXPECT_LT(elapsed, std::chrono::milliseconds(deadline_ms));
}

TEST_F(checks_http_faults, chunked_body_is_decoded) {
    auto r = run("tok-fh-chunked");
    EXPECT_TRUE(r.passed) << first_error(r);
    EXPECT_EQ(r.details.response_page, "tok-fh-chunked.thumb");
}

TEST_F(checks_http_faults, content_length_with_transfer_encoding_is_refused) {
    auto r = run("tok-fh-framing");
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:http") << r.errors[0].message;
}

TEST_F(checks_http_faults, per_source_answers_differ_between_perspectives) {
    auto r1 = run("tok-fh-view", 1);
    EXPECT_TRUE(r1.passed) << first_error(r1);
    auto r2 = run("tok-fh-view", 2);
    EXPECT_FALSE(r2.passed);
    ASSERT_EQ(r2.errors.size(), 1U);
    EXPECT_EQ(r2.errors[0].type, "mpic_error:dcv_checker:mismatch");
}

TEST_F(checks_http_faults, cancel_while_the_server_holds_the_request_completes_once) {
    const auto port = lab().fault_http_port();
    ASSERT_TRUE(port.has_value());
    lab_perspective p(lab(), at(1).with_http_port(*port));
    const auto started = std::chrono::steady_clock::now();
    auto r = p.run_and_cancel(http01_request("fh.chk", "tok-fh-none"), 300ms, 5000);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2000ms);
    EXPECT_FALSE(r.completed);
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:dcv_checker:cancelled");
}

TEST_F(checks_http_faults, concurrent_checks_on_one_perspective_each_get_their_own_answer) {
    // 60 checks at once on one loop: good, forged (perspective 2 only), slow and oversized answers interleaved;
    // no answer may leak into another check's result.
    const auto port = lab().fault_http_port();
    ASSERT_TRUE(port.has_value());
    lab_perspective p(lab(), at(1).with_http_port(*port));
    std::vector<validators::check_request> requests;
    for (int i = 0; i < 20; ++i) {
        requests.push_back(http01_request("fh.chk", "tok-fh-ok"));
        requests.push_back(http01_request("fh.chk", "tok-fh-chunked"));
        requests.push_back(http01_request("fh.chk", i % 2 == 0 ? "tok-fh-big" : "tok-fh-missing"));
    }
    const auto results = p.run_all(requests, 3000);
    ASSERT_EQ(results.size(), requests.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
        SCOPED_TRACE(i);
        const auto& token = requests[i].dcv.token;
        if (token == "tok-fh-ok" || token == "tok-fh-chunked") {
            EXPECT_TRUE(results[i].passed) << first_error(results[i]);
            EXPECT_EQ(results[i].details.response_page, token + ".thumb");
        } else {
            EXPECT_FALSE(results[i].passed);
            ASSERT_EQ(results[i].errors.size(), 1U);
            EXPECT_EQ(results[i].errors[0].type, "mpic_error:http");
            EXPECT_EQ(results[i].details.response_status_code, token == "tok-fh-big" ? 200 : 404);
        }
    }
}

} // namespace
} // namespace mpic::test
