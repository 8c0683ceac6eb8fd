// CAA RRset evaluation (validators/dns/caa_policy.hh, RFC 8659 §4 + RFC 8657) and HTTP response reading
// (net/http/response_reader.hh, llhttp plus our bounds): the per-check pure work of a CAA check and of an
// HTTP-based DCV fetch once the bytes are in.

#include <array>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "net/http/response_reader.hh"
#include "validators/dns/caa_policy.hh"

namespace {

using namespace mpic;
using validators::caa_property;

const std::vector<std::string> issuers{"ca.example"};

// The common case: one issue property naming us.
void BM_caa_evaluate_one_issue(benchmark::State& state) {
    const std::vector<caa_property> rrset{{0, "issue", "ca.example"}};
    validators::caa_policy_input input;
    input.issuer_domains = issuers;
    for (auto _ : state) {
        auto e = validators::evaluate_caa_rrset(rrset, input);
        benchmark::DoNotOptimize(e);
    }
}
BENCHMARK(BM_caa_evaluate_one_issue);

// A busier RRset: other CAs first, iodef, and ours last with RFC 8657 accounturi and validationmethods.
void BM_caa_evaluate_rfc8657(benchmark::State& state) {
    const std::vector<caa_property> rrset{
        {0, "issue", "other-ca.example"},
        {0, "issue", "third-ca.example; policy=ev"},
        {0, "iodef", "mailto:security@bench.test"},
        {0, "issuewild", ";"},
        {0, "issue", "ca.example; accounturi=https://ca.example/acct/123; validationmethods=dns-01,http-01"},
    };
    validators::caa_policy_input input;
    input.issuer_domains = issuers;
    input.account_uri = "https://ca.example/acct/123";
    input.validation_method = "dns-01";
    for (auto _ : state) {
        auto e = validators::evaluate_caa_rrset(rrset, input);
        benchmark::DoNotOptimize(e);
    }
}
BENCHMARK(BM_caa_evaluate_rfc8657);

// A refusal: an unknown critical tag forbids before anything else is read.
void BM_caa_evaluate_critical_unknown(benchmark::State& state) {
    const std::vector<caa_property> rrset{{0, "issue", "ca.example"}, {128, "futuretag", "x"}};
    validators::caa_policy_input input;
    input.issuer_domains = issuers;
    for (auto _ : state) {
        auto e = validators::evaluate_caa_rrset(rrset, input);
        benchmark::DoNotOptimize(e);
    }
}
BENCHMARK(BM_caa_evaluate_critical_unknown);

// An http-01 answer as nginx sends it (the lab's), read in one feed: start + feed + the completed state.
const std::string nginx_response = "HTTP/1.1 200 OK\r\n"
                                   "Server: nginx/1.22.1\r\n"
                                   "Date: Mon, 30 Nov 2026 05:00:00 GMT\r\n"
                                   "Content-Type: text/plain\r\n"
                                   "Content-Length: 20\r\n"
                                   "Connection: keep-alive\r\n"
                                   "\r\n"
                                   "bench-tok.thumbprint";

void BM_http_read_response(benchmark::State& state) {
    net::http::response_reader reader;
    const net::http::reader_limits limits;
    for (auto _ : state) {
        reader.start(limits, false);
        const auto used = reader.feed(nginx_response);
        benchmark::DoNotOptimize(used);
        if (!reader.complete()) {
            state.SkipWithError("response not complete");
            break;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * nginx_response.size()));
}
BENCHMARK(BM_http_read_response);

// The same bytes arriving in small segments (a slow or hostile server dribbling): cost per byte of re-entering
// the parser. Arg = segment size.
void BM_http_read_response_segmented(benchmark::State& state) {
    net::http::response_reader reader;
    const net::http::reader_limits limits;
    const auto segment = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        reader.start(limits, false);
        for (std::size_t at = 0; at < nginx_response.size(); at += segment) {
            const auto n = std::min(segment, nginx_response.size() - at);
            reader.feed(std::span<const char>(nginx_response.data() + at, n));
        }
        if (!reader.complete()) {
            state.SkipWithError("response not complete");
            break;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * nginx_response.size()));
}
BENCHMARK(BM_http_read_response_segmented)->Arg(1)->Arg(16);

// A chunked 8 KiB body (a website-change page): the body path, with chunk framing removed.
void BM_http_read_chunked_8k(benchmark::State& state) {
    std::string wire = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 8; ++i) {
        wire += "400\r\n" + std::string(1024, 'x') + "\r\n";
    }
    wire += "0\r\n\r\n";
    net::http::response_reader reader;
    const net::http::reader_limits limits;
    for (auto _ : state) {
        reader.start(limits, false);
        reader.feed(wire);
        if (!reader.complete()) {
            state.SkipWithError("response not complete");
            break;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(BM_http_read_chunked_8k);

} // namespace
