// The renderers against what the nlohmann::json renderers they replaced produced for the same inputs
// (render_fixtures.hh; expected values in render_golden.inc): same members, values, types and presence rules,
// for every check type and DCV method, both response shapes, retries, cancelled perspectives, notes and bytes that
// are not UTF-8. Key order is not compared.

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "quorum/api/json_codec.hh"
#include "render_fixtures.hh"
#include "render_golden_check.hh"

namespace mpic::quorum::test {
namespace {

#include "render_golden.inc"

using json = nlohmann::json;

TEST(json_render_golden, mpic_responses) {
    expect_golden(sample_responses(), response_golden, [](const mpic_response& r) { return render_mpic_response(r); });
}

TEST(json_render_golden, validation_failures) {
    expect_golden(sample_issue_lists(), validation_failure_golden,
                  [](const std::vector<request_issue>& issues) { return render_validation_failure(issues); });
}

TEST(json_render_golden, check_results) {
    expect_golden(sample_check_results(), check_result_golden,
                  [](const validators::check_result& r) { return render_check_result(r); });
}

TEST(json_render_golden, check_requests) {
    expect_golden(sample_check_requests(), check_request_golden,
                  [](const validators::check_request& r) { return render_check_request(r); });
}

TEST(json_render_golden, parameter_echoes_as_values) {
    // caa_parameters_to_json / dcv_parameters_to_json (used by tests and the fuzz target) are the renderers' objects
    // parsed back: the same values as the echoes in the expected responses.
    for (const auto& params : sample_dcv_parameters()) {
        const std::string name = "dcv_" + params.name;
        const golden_case* golden = nullptr;
        for (const auto& g : response_golden) {
            golden = name == g.name ? &g : golden;
        }
        ASSERT_NE(golden, nullptr) << name;
        EXPECT_EQ(dcv_parameters_to_json(params.value).dump(), json::parse(golden->json)["dcv_check_parameters"].dump())
            << name;
    }
    for (const auto& params : sample_caa_parameters()) {
        const std::string name = "caa_" + params.name;
        const golden_case* golden = nullptr;
        for (const auto& g : response_golden) {
            golden = name == g.name ? &g : golden;
        }
        ASSERT_NE(golden, nullptr) << name;
        EXPECT_EQ(caa_parameters_to_json(params.value).dump(), json::parse(golden->json)["caa_check_parameters"].dump())
            << name;
    }
}

TEST(json_render_golden, check_response_inside_a_response_is_render_check_result) {
    // The agent's body and the response's per-perspective object are one renderer.
    const auto resp = six_perspectives(validators::check_type::dcv);
    const auto doc = json::parse(render_mpic_response(resp));
    ASSERT_EQ(doc["perspectives"].size(), 6U);
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_EQ(doc["perspectives"][i]["check_response"],
                  json::parse(render_check_result(resp.targets[0].dcv->perspectives[i].result)));
    }
}

TEST(json_render_golden, the_checker_api_body_survives_a_round_trip) {
    // What a coordinator sends parses back (parse_check_request) to a request that renders to the same bytes, for
    // every parameter set a parser accepts (the hostile cases hold bytes it refuses; ip-address takes A or AAAA).
    for (const auto& req : sample_check_requests()) {
        if (req.name.find("hostile") != std::string::npos || req.name == "dcv_ip_address_PTR") {
            continue;
        }
        const auto body = render_check_request(req.value);
        auto parsed = parse_check_request(body, req.value.type);
        ASSERT_TRUE(std::holds_alternative<validators::check_request>(parsed)) << req.name << ": " << body;
        EXPECT_EQ(render_check_request(std::get<validators::check_request>(parsed)), body) << req.name;
    }
}

} // namespace
} // namespace mpic::quorum::test
