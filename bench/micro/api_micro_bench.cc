// The API codec (quorum/api/json_codec.hh): one POST /mpic body parsed into an mpic_request, one response with six
// perspectives rendered and its audit record (quorum/audit), as mpicd does for every request, and the
// check_response body a remote agent sends back per check. Bytes per second are the body sizes.

#include <benchmark/benchmark.h>

#include "quorum/api/json_codec.hh"
#include "quorum/audit/audit_record.hh"

namespace {

using namespace mpic;

constexpr std::string_view caa_body = R"({"check_type":"caa","domain_or_ip_target":"bench.test"})";
constexpr std::string_view dns01_body =
    R"({"check_type":"dcv","domain_or_ip_target":"bench.test","trace_identifier":"trace-0001",)"
    R"("orchestration_parameters":{"perspective_count":6,"quorum_count":4},)"
    R"("dcv_check_parameters":{"validation_method":"acme-dns-01","key_authorization_hash":"bench-dns01-digest"}})";
constexpr std::string_view multi_body =
    R"({"check_type":"caa","targets":["bench.test","www.bench.test","api.bench.test"],)"
    R"("caa_check_parameters":{"caa_domains":["ca.example"],"certificate_type":"tls-server"}})";

void BM_parse_request(benchmark::State& state, std::string_view body) {
    for (auto _ : state) {
        auto parsed = quorum::parse_mpic_request(body);
        benchmark::DoNotOptimize(parsed);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK_CAPTURE(BM_parse_request, caa, caa_body);
BENCHMARK_CAPTURE(BM_parse_request, dns01, dns01_body);
BENCHMARK_CAPTURE(BM_parse_request, multi_name_3, multi_body);

void BM_parse_invalid_request(benchmark::State& state) {
    // A refused body must cost no more than a good one (a client sending garbage cannot buy CPU cheaply).
    constexpr std::string_view body =
        R"({"check_type":"dcv","domain_or_ip_target":"-bad-.test","dcv_check_parameters":{"validation_method":"x"}})";
    for (auto _ : state) {
        auto parsed = quorum::parse_mpic_request(body);
        benchmark::DoNotOptimize(parsed);
    }
}
BENCHMARK(BM_parse_invalid_request);

// A response as the engine produces it for a CAA or dns-01 request against the bench lab: six perspectives, four
// passed with their evidence, two cancelled by the early decision.
quorum::mpic_response make_response(std::string_view body, validators::check_type type) {
    quorum::mpic_response response;
    response.request = std::get<quorum::mpic_request>(quorum::parse_mpic_request(body));
    response.lab_mode = true;
    response.non_compliant = true;
    response.compliance_note = "development override: one machine is not a set of distinct network perspectives";
    response.decided_after_us = 640;
    quorum::target_outcome target{response.request.targets.front(), std::nullopt, std::nullopt};
    quorum::check_outcome outcome;
    outcome.type = type;
    outcome.is_valid = true;
    outcome.mpic_completed = true;
    outcome.perspective_count = 6;
    outcome.quorum_count = 4;
    outcome.attempt_count = 1;
    outcome.quorum_result = "4/6";
    outcome.decided_after_ms = 0.64;
    const char* codes[] = {"us-east", "us-west", "eu-west", "eu-central", "ap-northeast", "ap-southeast"};
    const char* rirs[] = {"ARIN", "ARIN", "RIPE", "RIPE", "APNIC", "APNIC"};
    for (int i = 0; i < 6; ++i) {
        quorum::perspective_result p;
        p.code = codes[i];
        p.rir = rirs[i];
        p.result.type = type;
        if (type == validators::check_type::dcv) {
            p.result.method = validators::validation_method::acme_dns_01;
        }
        p.result.timestamp_ns = 1'796'000'000'000'000'000 + i;
        p.result.timings.dns_us = 400 + static_cast<std::uint32_t>(i);
        p.result.timings.total_us = 430 + static_cast<std::uint32_t>(i);
        if (i < 4) {
            p.result.completed = true;
            p.result.passed = true;
            p.result.details.found_at = "bench.test";
            p.result.details.response_code = "NOERROR";
            p.result.details.caa_record_present = type == validators::check_type::caa;
            p.result.details.records_seen = {type == validators::check_type::caa ? R"(0 issue "ca.example")"
                                                                                 : R"("bench-dns01-digest")"};
        } else {
            p.result.errors.push_back(problem::make(
                type == validators::check_type::caa ? problem_component::caa_checker : problem_component::dcv_checker,
                "cancelled", "the quorum was decided before this check answered"));
        }
        outcome.perspectives.push_back(std::move(p));
    }
    if (type == validators::check_type::caa) {
        target.caa = std::move(outcome);
    } else {
        target.dcv = std::move(outcome);
    }
    response.targets.push_back(std::move(target));
    return response;
}

void BM_render_response(benchmark::State& state, std::string_view body, validators::check_type type) {
    const auto response = make_response(body, type);
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto text = quorum::render_mpic_response(response);
        bytes = text.size();
        benchmark::DoNotOptimize(text);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK_CAPTURE(BM_render_response, caa_6_perspectives, caa_body, validators::check_type::caa);
BENCHMARK_CAPTURE(BM_render_response, dns01_6_perspectives, dns01_body, validators::check_type::dcv);

void BM_render_audit_record(benchmark::State& state, std::string_view body, validators::check_type type) {
    const auto response = make_response(body, type);
    const quorum::audit_context context{"br", "2026-03-15", "bench-client", 1'796'000'000'000};
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto text = quorum::render_audit_record(response, context);
        bytes = text.size();
        benchmark::DoNotOptimize(text);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK_CAPTURE(BM_render_audit_record, caa_6_perspectives, caa_body, validators::check_type::caa);
BENCHMARK_CAPTURE(BM_render_audit_record, dns01_6_perspectives, dns01_body, validators::check_type::dcv);

// What an agent answers to one POST /dcv: one perspective's check_response.
void BM_render_check_result(benchmark::State& state) {
    const auto response = make_response(dns01_body, validators::check_type::dcv);
    const auto& result = response.targets.front().dcv->perspectives.front().result;
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto text = quorum::render_check_result(result);
        bytes = text.size();
        benchmark::DoNotOptimize(text);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_render_check_result);

} // namespace
