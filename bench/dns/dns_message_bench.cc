// Micro benchmarks of the DNS message reader: the per-answer cost our resolver adds on top of c-ares, compared with
// c-ares 1.18's own legacy parser for the same bytes (ares_parse_txt_reply_ext / ares_parse_caa_reply).

#include <cstring>
#include <string>

#include <ares.h>
#include <benchmark/benchmark.h>

#include "net/dns/message.hh"

namespace {

std::string u16(unsigned v) {
    return {static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)};
}

std::string wire_name(const std::string& dotted) {
    std::string out;
    std::size_t start = 0;
    while (start < dotted.size()) {
        std::size_t dot = dotted.find('.', start);
        dot = dot == std::string::npos ? dotted.size() : dot;
        out.push_back(static_cast<char>(dot - start));
        out += dotted.substr(start, dot - start);
        start = dot + 1;
    }
    return out + std::string(1, '\0');
}

/// A response with `n` answers of `type` (TXT 16 / CAA 257) for the question name, compressed owners, and an OPT RR.
std::string response(unsigned type, int n) {
    std::string w = u16(0x1234) + u16(0x81A0) + u16(1) + u16(static_cast<unsigned>(n)) + u16(0) + u16(1);
    w += wire_name("_acme-challenge.www.example.com") + u16(type) + u16(1);
    for (int i = 0; i < n; ++i) {
        std::string rdata;
        if (type == 16) {
            rdata = std::string(1, 43) + "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX" + std::to_string(i % 10);
        } else {
            rdata = std::string("\0\5issue", 7) + "ca" + std::to_string(i) + ".example";
        }
        w += std::string("\xC0\x0C", 2) + u16(type) + u16(1) + u16(0) + u16(60) +
             u16(static_cast<unsigned>(rdata.size())) + rdata;
    }
    return w + std::string(1, '\0') + u16(41) + u16(1232) + u16(0) + u16(0x8000) + u16(0);
}

void BM_parse_message(benchmark::State& state, unsigned type) {
    const std::string w = response(type, static_cast<int>(state.range(0)));
    const std::span bytes(reinterpret_cast<const std::uint8_t*>(w.data()), w.size());
    for (auto _ : state) {
        auto m = mpic::net::dns::parse_message(bytes);
        benchmark::DoNotOptimize(m);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * w.size()));
}

void BM_parse_and_chain(benchmark::State& state) {
    const std::string w = response(16, static_cast<int>(state.range(0)));
    const std::span bytes(reinterpret_cast<const std::uint8_t*>(w.data()), w.size());
    for (auto _ : state) {
        auto m = mpic::net::dns::parse_message(bytes);
        auto chain = mpic::net::dns::follow_aliases(*m, "_acme-challenge.www.example.com");
        auto rrs = mpic::net::dns::records_at(*m, chain->final_name, 16);
        benchmark::DoNotOptimize(rrs);
    }
}

void BM_cares_txt(benchmark::State& state) {
    const std::string w = response(16, static_cast<int>(state.range(0)));
    for (auto _ : state) {
        ares_txt_ext* txt = nullptr;
        ares_parse_txt_reply_ext(reinterpret_cast<const unsigned char*>(w.data()), static_cast<int>(w.size()), &txt);
        benchmark::DoNotOptimize(txt);
        ares_free_data(txt);
    }
}

void BM_cares_caa(benchmark::State& state) {
    const std::string w = response(257, static_cast<int>(state.range(0)));
    for (auto _ : state) {
        ares_caa_reply* caa = nullptr;
        ares_parse_caa_reply(reinterpret_cast<const unsigned char*>(w.data()), static_cast<int>(w.size()), &caa);
        benchmark::DoNotOptimize(caa);
        ares_free_data(caa);
    }
}

void BM_presentation_caa(benchmark::State& state) {
    const std::string w = response(257, 1);
    auto m = mpic::net::dns::parse_message(std::span(reinterpret_cast<const std::uint8_t*>(w.data()), w.size()));
    for (auto _ : state) {
        auto text = mpic::net::dns::rdata_to_string(m->answers[0]);
        benchmark::DoNotOptimize(text);
    }
}

} // namespace

BENCHMARK_CAPTURE(BM_parse_message, txt, 16u)->Arg(1)->Arg(4)->Arg(32);
BENCHMARK_CAPTURE(BM_parse_message, caa, 257u)->Arg(1)->Arg(4);
BENCHMARK(BM_parse_and_chain)->Arg(1)->Arg(4);
BENCHMARK(BM_cares_txt)->Arg(1)->Arg(4)->Arg(32);
BENCHMARK(BM_cares_caa)->Arg(1)->Arg(4);
BENCHMARK(BM_presentation_caa);
BENCHMARK_MAIN();
