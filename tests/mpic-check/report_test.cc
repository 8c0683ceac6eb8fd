// mpic-check's analysis on hand-made results (unit): the verdict mpicd would give (BR table, RIR rule, primary),
// the majority marking, the cause derived from each pattern, the request body and the coordinator answer reader.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "quorum/api/json_codec.hh"
#include "tools/mpic-check/render.hh"
#include "tools/mpic-check/request_body.hh"
#include "tools/mpic-check/source.hh"

namespace mpic::mpic_check {
namespace {

using validators::check_type;
using validators::validation_method;

struct spec {
    const char* code;
    const char* rir;
    bool passed;
    const char* error_type = "";
    const char* message = "";
    std::vector<std::string> records = {};
    const char* ip = "";
    bool completed = true;
};

quorum::check_outcome outcome(check_type type, std::optional<validation_method> method,
                              const std::vector<spec>& specs) {
    quorum::check_outcome o;
    o.type = type;
    for (const auto& s : specs) {
        quorum::perspective_result p;
        p.code = s.code;
        p.rir = s.rir;
        p.result.type = type;
        p.result.method = method;
        p.result.completed = s.completed;
        p.result.passed = s.passed;
        if (!s.passed) {
            p.result.errors.push_back({s.error_type, s.message});
        }
        p.result.details.records_seen = s.records;
        p.result.details.resolved_ip = s.ip;
        p.result.details.found_at = type == check_type::caa ? "x.test" : "";
        o.perspectives.push_back(std::move(p));
    }
    return o;
}

quorum::target_outcome target(const std::string& name, std::optional<quorum::check_outcome> dcv,
                              std::optional<quorum::check_outcome> caa = std::nullopt) {
    quorum::target_outcome t;
    t.target = *net::parse_identifier(name);
    t.dcv = std::move(dcv);
    t.caa = std::move(caa);
    return t;
}

verdict_context today() {
    verdict_context c;
    c.date = std::chrono::year{2026} / 11 / 30;
    c.issuer_domains = {"ca.example"};
    c.perspective_order = {"us-east", "us-west", "eu-west", "eu-central", "ap-northeast", "ap-southeast"};
    return c;
}

constexpr const char* mismatch = "mpic_error:dcv_checker:mismatch";

std::vector<spec> dns01(std::initializer_list<int> odd, const char* odd_value) {
    const char* codes[] = {"us-east", "us-west", "eu-west", "eu-central", "ap-northeast", "ap-southeast"};
    const char* rirs[] = {"ARIN", "ARIN", "RIPE", "RIPE", "APNIC", "APNIC"};
    std::vector<spec> out;
    for (int i = 0; i < 6; ++i) {
        const bool is_odd = std::find(odd.begin(), odd.end(), i + 1) != odd.end();
        out.push_back(
            {codes[i], rirs[i], !is_odd, is_odd ? mismatch : "", "no match", {is_odd ? odd_value : "\"good\""}});
    }
    return out;
}

const cause* find_cause(const report& r, std::string_view kind) {
    for (const auto& c : r.causes) {
        if (c.kind == kind) {
            return &c;
        }
    }
    return nullptr;
}

TEST(mpic_check_report, all_agree_passes_with_no_cause) {
    auto targets =
        std::vector{target("a.test", outcome(check_type::dcv, validation_method::acme_dns_01, dns01({}, "")))};
    auto r = analyse(targets, today());
    ASSERT_EQ(r.sections.size(), 1u);
    EXPECT_TRUE(r.would_pass);
    EXPECT_TRUE(r.agreement);
    EXPECT_TRUE(r.causes.empty());
    EXPECT_EQ(r.verdict_line, "would PASS: 6/6 corroborate (4 required), 3 RIRs (ARIN, RIPE, APNIC)");
}

TEST(mpic_check_report, rows_follow_the_configuration_order) {
    auto specs = dns01({}, "");
    std::reverse(specs.begin(), specs.end());
    auto targets = std::vector{target("a.test", outcome(check_type::dcv, validation_method::acme_dns_01, specs))};
    auto r = analyse(targets, today());
    EXPECT_EQ(r.sections[0].rows.front().code, "us-east");
    EXPECT_EQ(r.sections[0].rows.back().code, "ap-southeast");
}

TEST(mpic_check_report, region_aligned_difference_is_split_horizon_and_still_passes) {
    auto targets = std::vector{
        target("h.test", outcome(check_type::dcv, validation_method::acme_dns_01, dns01({5, 6}, "\"internal\"")))};
    auto r = analyse(targets, today());
    EXPECT_TRUE(r.would_pass) << r.verdict_line;
    EXPECT_FALSE(r.agreement);
    const auto* c = find_cause(r, "split_horizon");
    ASSERT_NE(c, nullptr);
    EXPECT_NE(c->text.find("perspectives in APNIC get a different TXT"), std::string::npos) << c->text;
    EXPECT_NE(c->text.find("propagation or split-horizon DNS"), std::string::npos);
    EXPECT_EQ(c->perspectives, (std::vector<std::string>{"ap-northeast", "ap-southeast"}));
    // Majority marking: the APNIC TXT cells differ, the others do not.
    const auto& s = r.sections[0];
    const auto col = std::find(s.columns.begin(), s.columns.end(), "TXT seen") - s.columns.begin();
    EXPECT_FALSE(s.rows[0].cells[col].disagrees);
    EXPECT_TRUE(s.rows[4].cells[col].disagrees);
    EXPECT_TRUE(s.rows[5].cells[col].disagrees);
}

TEST(mpic_check_report, spread_difference_is_a_stale_record_and_fails) {
    auto targets = std::vector{
        target("s.test", outcome(check_type::dcv, validation_method::acme_dns_01, dns01({1, 3, 5}, "\"old\"")))};
    auto r = analyse(targets, today());
    EXPECT_FALSE(r.would_pass);
    EXPECT_EQ(r.verdict_line, "would FAIL: 3/6 corroborate, 4 required");
    const auto* c = find_cause(r, "stale_record");
    ASSERT_NE(c, nullptr);
    EXPECT_NE(c->text.find("TXT record is stale (old value \"old\" seen by 3 of 6 perspectives"), std::string::npos)
        << c->text;
    EXPECT_EQ(find_cause(r, "split_horizon"), nullptr);
}

TEST(mpic_check_report, same_wrong_value_everywhere_is_a_wrong_value) {
    auto targets = std::vector{
        target("w.test", outcome(check_type::dcv, validation_method::acme_dns_01, dns01({1, 2, 3, 4, 5, 6}, "\"x\"")))};
    auto r = analyse(targets, today());
    EXPECT_FALSE(r.would_pass);
    EXPECT_TRUE(r.agreement); // wrong everywhere, but every perspective agrees: --watch stops
    EXPECT_NE(find_cause(r, "wrong_value"), nullptr);
}

TEST(mpic_check_report, passes_from_one_rir_fail_the_rir_rule) {
    const std::vector<spec> specs = {
        {"us-east", "ARIN", true},
        {"us-west", "ARIN", true},
        {"eu-west", "RIPE", false, mismatch, "m", {"\"x\""}},
    };
    // 3 remote perspectives: 2 required (BR table n-1), reached, but from ARIN only (RIR rule from 2026-03-15).
    auto targets = std::vector{target("r.test", outcome(check_type::dcv, validation_method::acme_dns_01, specs))};
    auto r = analyse(targets, today());
    EXPECT_FALSE(r.would_pass);
    EXPECT_NE(r.verdict_line.find("2/3 corroborate but from 1 RIR (ARIN)"), std::string::npos) << r.verdict_line;
    EXPECT_NE(find_cause(r, "rir_span"), nullptr);
    // Before the RIR rule was in force, the same results pass.
    auto before = today();
    before.date = std::chrono::year{2025} / 10 / 1;
    EXPECT_TRUE(analyse(targets, before).would_pass);
}

TEST(mpic_check_report, a_failed_primary_fails_whatever_the_remotes_say) {
    auto specs = dns01({}, "");
    specs.push_back({"primary-1", "ARIN", false, mismatch, "m", {"\"x\""}});
    auto targets = std::vector{target("p.test", outcome(check_type::dcv, validation_method::acme_dns_01, specs))};
    auto context = today();
    context.primary_code = "primary-1";
    auto r = analyse(targets, context);
    EXPECT_FALSE(r.would_pass);
    EXPECT_TRUE(r.sections[0].verdict.primary_failed);
    EXPECT_EQ(r.sections[0].verdict.perspective_count, 6); // the primary is not a corroborating remote
    EXPECT_NE(find_cause(r, "primary_failed"), nullptr);
}

TEST(mpic_check_report, refused_port_from_two_perspectives) {
    std::vector<spec> specs;
    for (auto [code, rir, bad] : {std::tuple{"us-east", "ARIN", false},
                                  {"us-west", "ARIN", true},
                                  {"eu-west", "RIPE", false},
                                  {"eu-central", "RIPE", true},
                                  {"ap-northeast", "APNIC", false},
                                  {"ap-southeast", "APNIC", false}}) {
        specs.push_back({code,
                         rir,
                         !bad,
                         bad ? "mpic_error:http" : "",
                         "connect http://web.test/.well-known/acme-challenge/t: connection refused",
                         {},
                         "192.0.2.1"});
    }
    auto targets = std::vector{target("web.test", outcome(check_type::dcv, validation_method::acme_http_01, specs))};
    auto r = analyse(targets, today());
    EXPECT_TRUE(r.would_pass);
    const auto* c = find_cause(r, "port_unreachable");
    ASSERT_NE(c, nullptr);
    EXPECT_NE(c->text.find("port 80 refused from 2 of 6 perspectives (us-west, eu-central): check firewall and "
                           "geo-blocking"),
              std::string::npos)
        << c->text;
}

TEST(mpic_check_report, one_san_unreachable_from_one_region) {
    std::vector<spec> good, bad;
    for (auto [code, rir, arin] : {std::tuple{"us-east", "ARIN", true},
                                   {"us-west", "ARIN", true},
                                   {"eu-west", "RIPE", false},
                                   {"eu-central", "RIPE", false},
                                   {"ap-northeast", "APNIC", false},
                                   {"ap-southeast", "APNIC", false}}) {
        good.push_back({code, rir, true, "", "", {}, "192.0.2.1"});
        bad.push_back({code,
                       rir,
                       !arin,
                       arin ? "mpic_error:http" : "",
                       "connect http://b.test/x: connection refused",
                       {},
                       arin ? "192.0.2.250" : "192.0.2.1"});
    }
    auto targets = std::vector{target("a.test", outcome(check_type::dcv, validation_method::acme_http_01, good)),
                               target("b.test", outcome(check_type::dcv, validation_method::acme_http_01, bad))};
    auto r = analyse(targets, today());
    EXPECT_TRUE(r.would_pass);
    const auto* c = find_cause(r, "san_unreachable");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->target, "b.test");
    EXPECT_NE(c->text.find("SAN b.test unreachable from the ARIN perspectives"), std::string::npos) << c->text;
    EXPECT_NE(c->text.find("192.0.2.250"), std::string::npos) << c->text;
    EXPECT_EQ(find_cause(r, "port_unreachable"), nullptr);
}

TEST(mpic_check_report, caa_forbidding_from_one_perspective_is_a_caa_split) {
    std::vector<spec> specs;
    for (auto [code, rir, bad] : {std::tuple{"us-east", "ARIN", false},
                                  {"us-west", "ARIN", false},
                                  {"eu-west", "RIPE", false},
                                  {"eu-central", "RIPE", false},
                                  {"ap-northeast", "APNIC", false},
                                  {"ap-southeast", "APNIC", true}}) {
        specs.push_back({code,
                         rir,
                         !bad,
                         bad ? "mpic_error:caa_checker:prohibited" : "",
                         "not authorised",
                         {bad ? "0 issue \"other-ca.example\"" : "0 issue \"ca.example\""}});
    }
    auto targets = std::vector{target("x.test", std::nullopt, outcome(check_type::caa, std::nullopt, specs))};
    auto r = analyse(targets, today());
    EXPECT_TRUE(r.would_pass);
    EXPECT_EQ(r.sections[0].rows[5].cells[0].value, "forbid");
    EXPECT_TRUE(r.sections[0].rows[5].cells[0].disagrees);
    const auto* c = find_cause(r, "caa_split");
    ASSERT_NE(c, nullptr);
    EXPECT_NE(c->text.find("CAA at x.test forbids ca.example from 1 of 6 perspectives (ap-southeast)"),
              std::string::npos)
        << c->text;
    EXPECT_NE(c->text.find("CAA visible in one region and not another"), std::string::npos);
}

TEST(mpic_check_report, differences_without_failures_are_reported_as_disagreement) {
    std::vector<spec> specs;
    for (auto [code, rir, ip] : {std::tuple{"us-east", "ARIN", "192.0.2.1"},
                                 {"us-west", "ARIN", "192.0.2.1"},
                                 {"eu-west", "RIPE", "192.0.2.1"},
                                 {"eu-central", "RIPE", "192.0.2.9"}}) {
        specs.push_back({code, rir, true, "", "", {}, ip});
    }
    auto targets = std::vector{target("c.test", outcome(check_type::dcv, validation_method::acme_http_01, specs))};
    auto r = analyse(targets, today());
    EXPECT_TRUE(r.would_pass);
    EXPECT_FALSE(r.agreement);
    const auto* c = find_cause(r, "disagreement");
    ASSERT_NE(c, nullptr);
    EXPECT_NE(c->text.find("A/AAAA differs from 1 of 4 perspectives (eu-central)"), std::string::npos) << c->text;
}

TEST(mpic_check_report, dns_timeouts_are_unreachable_nameservers_not_ports) {
    std::vector<spec> specs;
    for (auto [code, rir, bad] : {std::tuple{"us-east", "ARIN", false},
                                  {"us-west", "ARIN", false},
                                  {"eu-west", "RIPE", true},
                                  {"eu-central", "RIPE", true},
                                  {"ap-northeast", "APNIC", false},
                                  {"ap-southeast", "APNIC", false}}) {
        specs.push_back({code, rir, !bad, bad ? "mpic_error:dcv_checker:timeout" : "", "check timed out",
                         bad ? std::vector<std::string>{} : std::vector<std::string>{"\"good\""}, "", !bad});
    }
    auto targets = std::vector{target("t.test", outcome(check_type::dcv, validation_method::acme_dns_01, specs))};
    auto r = analyse(targets, today());
    EXPECT_TRUE(r.would_pass);
    EXPECT_EQ(r.sections[0].rows[2].cells[0].value, "error: timeout"); // not completed
    const auto* c = find_cause(r, "dns_unreachable");
    ASSERT_NE(c, nullptr);
    EXPECT_NE(c->text.find("fails from the RIPE perspectives"), std::string::npos) << c->text;
    EXPECT_EQ(find_cause(r, "port_unreachable"), nullptr);
}

TEST(mpic_check_report, tls_alpn_connection_failures_are_on_port_443) {
    std::vector<spec> specs;
    for (auto [code, rir, bad] : {std::tuple{"us-east", "ARIN", true},
                                  {"us-west", "ARIN", false},
                                  {"eu-west", "RIPE", false},
                                  {"eu-central", "RIPE", false}}) {
        specs.push_back({code, rir, !bad, bad ? "mpic_error:http" : "", "connect: connection refused"});
    }
    auto targets = std::vector{target("t.test", outcome(check_type::dcv, validation_method::acme_tls_alpn_01, specs))};
    const auto r = analyse(targets, today());
    const auto* c = find_cause(r, "port_unreachable");
    ASSERT_NE(c, nullptr);
    EXPECT_NE(c->text.find("port 443 refused from 1 of 4 perspectives (us-east)"), std::string::npos) << c->text;
}

TEST(mpic_check_report, error_labels) {
    EXPECT_EQ(error_label({"mpic_error:http", "connect http://a/: connection refused"}), "connection refused");
    EXPECT_EQ(error_label({"mpic_error:http", "head http://a/: end of file"}), "connection closed");
    EXPECT_EQ(error_label({"mpic_error:http", "HTTP status 404 (a 2xx status is required)"}), "status 404");
    EXPECT_EQ(error_label({"mpic_error:dcv_checker:mismatch", "x"}), "mismatch");
    EXPECT_EQ(error_label({"mpic_error:caa_checker:prohibited", "x"}), "prohibited");
    EXPECT_EQ(error_label({"mpic_error:dcv_checker:tls_alpn:certificate:wrong_digest", "x"}),
              "tls_alpn:certificate:wrong_digest");
    EXPECT_EQ(error_label({"mpic_error:dcv_checker:lookup", "query timed out"}), "dns timeout");
}

TEST(mpic_check_report, json_has_sections_rows_and_causes) {
    auto targets = std::vector{
        target("s.test", outcome(check_type::dcv, validation_method::acme_dns_01, dns01({1, 3, 5}, "\"old\"")))};
    auto doc = render_json(analyse(targets, today()));
    EXPECT_FALSE(doc["would_pass"].get<bool>());
    ASSERT_EQ(doc["sections"].size(), 1u);
    EXPECT_EQ(doc["sections"][0]["rows"].size(), 6u);
    EXPECT_TRUE(doc["sections"][0]["rows"][0]["cells"]["TXT seen"]["disagrees"].get<bool>());
    EXPECT_EQ(doc["causes"][0]["kind"], "stale_record");
    // The text form names the same facts and marks the differing cells without colour.
    auto text = render_text(analyse(targets, today()), {});
    EXPECT_NE(text.find("\"old\"*"), std::string::npos) << text;
    EXPECT_NE(text.find("verdict: would FAIL"), std::string::npos);
    EXPECT_EQ(text.find("\033["), std::string::npos);
}

TEST(mpic_check_request, body_asks_for_monitoring_and_parses_as_mpicd_would) {
    check_plan plan;
    plan.names = {"a.test", "b.test"};
    plan.method = "acme-http-01";
    plan.token = "tok";
    plan.key_authorization = "tok.thumb";
    auto body = render_request_body(plan, {6, std::nullopt});
    auto parsed = quorum::parse_mpic_request(body);
    ASSERT_TRUE(std::holds_alternative<quorum::mpic_request>(parsed)) << body;
    const auto& req = std::get<quorum::mpic_request>(parsed);
    EXPECT_EQ(req.kind, quorum::request_kind::dcv_with_caa);
    EXPECT_EQ(req.targets.size(), 2u);
    ASSERT_TRUE(req.orchestration);
    EXPECT_EQ(req.orchestration->quorum_count, 0);
    EXPECT_EQ(req.orchestration->perspective_count, 6);
    EXPECT_EQ(req.orchestration->max_attempts, 1);

    plan.key_authorization.clear(); // refused exactly as mpicd refuses it
    EXPECT_TRUE(std::holds_alternative<std::vector<quorum::request_issue>>(
        quorum::parse_mpic_request(render_request_body(plan, {}))));

    check_plan caa;
    caa.names = {"c.test"};
    caa.issuer_domains = {"ca.example"};
    auto caa_req = quorum::parse_mpic_request(render_request_body(caa, {}));
    ASSERT_TRUE(std::holds_alternative<quorum::mpic_request>(caa_req));
    EXPECT_EQ(std::get<quorum::mpic_request>(caa_req).kind, quorum::request_kind::caa);
}

TEST(mpic_check_response, reads_the_extension_and_open_mpic_shapes) {
    quorum::mpic_response response;
    response.request.targets_field = true;
    response.request.kind = quorum::request_kind::dcv;
    response.lab_mode = true;
    response.targets.push_back(
        target("s.test", outcome(check_type::dcv, validation_method::acme_dns_01, dns01({2}, "\"old\""))));
    answer a;
    ASSERT_TRUE(parse_response_body(quorum::render_mpic_response(response), a)) << a.errors.front();
    ASSERT_EQ(a.targets.size(), 1u);
    ASSERT_TRUE(a.targets[0].dcv);
    EXPECT_EQ(a.targets[0].dcv->perspectives.size(), 6u);
    EXPECT_EQ(a.targets[0].dcv->perspectives[1].rir, "ARIN");
    EXPECT_FALSE(a.targets[0].dcv->perspectives[1].result.passed);
    EXPECT_TRUE(a.lab_mode);

    response.request.targets_field = false; // Open MPIC shape
    answer b;
    ASSERT_TRUE(parse_response_body(quorum::render_mpic_response(response), b));
    ASSERT_EQ(b.targets.size(), 1u);
    EXPECT_EQ(b.targets[0].target.name, "s.test");

    answer bad;
    EXPECT_FALSE(parse_response_body("{\"error\": \"x\"}", bad));
    EXPECT_FALSE(bad.errors.empty());
    answer garbage;
    EXPECT_FALSE(parse_response_body("not json", garbage));
}

} // namespace
} // namespace mpic::mpic_check
