// Request bodies and weighted selection for mpic-bench. The parameters match the bench lab's records
// (tools/mpic-lab/scenarios/bench-clean.toml): a run against another zone needs the same records under its domain.

#include "tools/mpic-bench/request_mix.hh"

#include <array>
#include <charconv>

#include <openssl/evp.h>

namespace mpic::bench {
namespace {

struct kind_name {
    request_kind kind;
    std::string_view name;
};

constexpr std::array<kind_name, 7> kind_names{{
    {request_kind::caa, "caa"},
    {request_kind::dns_01, "dns-01"},
    {request_kind::http_01, "http-01"},
    {request_kind::tls_alpn_01, "tls-alpn-01"},
    {request_kind::dns_change, "dns-change"},
    {request_kind::dcv_with_caa, "dcv_with_caa"},
    {request_kind::multi_name, "multi-name"},
}};

// RFC 8737 §3: the acmeIdentifier extension holds SHA-256 of the key authorization; the API takes that digest as
// key_authorization_hash (base64url or hex, docs/api.md). Hex keeps this free of a base64 encoder.
std::string sha256_hex(std::string_view text) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(hex[digest[i] >> 4U]);
        out.push_back(hex[digest[i] & 0x0FU]);
    }
    return out;
}

} // namespace

std::string_view to_string(request_kind kind) noexcept {
    for (const auto& k : kind_names) {
        if (k.kind == kind) {
            return k.name;
        }
    }
    return "?";
}

std::string request_body(request_kind kind, std::string_view domain) {
    const std::string d(domain);
    const std::string target = R"("domain_or_ip_target":")" + d + R"(")";
    switch (kind) {
    case request_kind::caa:
        return R"({"check_type":"caa",)" + target + "}";
    case request_kind::dns_01:
        return R"({"check_type":"dcv",)" + target +
               R"(,"dcv_check_parameters":{"validation_method":"acme-dns-01","key_authorization_hash":"bench-dns01-digest"}})";
    case request_kind::http_01:
        return R"({"check_type":"dcv",)" + target +
               R"(,"dcv_check_parameters":{"validation_method":"acme-http-01","token":"bench-tok","key_authorization":"bench-tok.thumbprint"}})";
    case request_kind::tls_alpn_01:
        return R"({"check_type":"dcv",)" + target +
               R"(,"dcv_check_parameters":{"validation_method":"acme-tls-alpn-01","key_authorization_hash":")" +
               sha256_hex("bench-tok.thumbprint") + R"("}})";
    case request_kind::dns_change:
        return R"({"check_type":"dcv",)" + target +
               R"(,"dcv_check_parameters":{"validation_method":"dns-change","challenge_value":"bench-change-value","dns_record_type":"TXT"}})";
    case request_kind::dcv_with_caa:
        return R"({"check_type":"dcv_with_caa","targets":[")" + d +
               R"("],"dcv_check_parameters":{"validation_method":"acme-dns-01","key_authorization_hash":"bench-dns01-digest"}})";
    case request_kind::multi_name:
        return R"({"check_type":"caa","targets":[")" + d + R"(","www.)" + d + R"(","api.)" + d + R"("]})";
    }
    return {};
}

result<request_mix> request_mix::parse(std::string_view spec, std::string_view domain, std::string& error) {
    request_mix mix;
    unsigned total = 0;
    while (!spec.empty()) {
        const auto comma = spec.find(',');
        std::string_view item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
        if (item.empty()) {
            continue;
        }
        unsigned weight = 1;
        std::string_view name = item;
        if (const auto eq = item.find('='); eq != std::string_view::npos) {
            name = item.substr(0, eq);
            const auto w = item.substr(eq + 1);
            const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), weight);
            if (ec != std::errc{} || end != w.data() + w.size() || weight == 0 || weight > 1'000'000) {
                error = "--mix: weight of '" + std::string(name) + "' must be an integer 1..1000000";
                return errc::invalid_argument;
            }
        }
        const kind_name* found = nullptr;
        for (const auto& k : kind_names) {
            if (k.name == name) {
                found = &k;
            }
        }
        if (found == nullptr) {
            error = "--mix: unknown request kind '" + std::string(name) +
                    "' (caa, dns-01, http-01, tls-alpn-01, dns-change, dcv_with_caa, multi-name)";
            return errc::invalid_argument;
        }
        total += weight;
        mix._entries.push_back({found->kind, weight, request_body(found->kind, domain)});
        mix._cumulative.push_back(total);
    }
    if (mix._entries.empty()) {
        error = "--mix: no request kind given";
        return errc::invalid_argument;
    }
    return mix;
}

std::size_t request_mix::pick(std::mt19937_64& rng) const noexcept {
    if (_entries.size() == 1) {
        return 0;
    }
    const auto r = static_cast<unsigned>(rng() % _cumulative.back());
    std::size_t i = 0;
    while (r >= _cumulative[i]) {
        ++i;
    }
    return i;
}

std::string request_mix::describe() const {
    std::string out;
    for (const auto& e : _entries) {
        if (!out.empty()) {
            out += ',';
        }
        out += std::string(to_string(e.kind)) + "=" + std::to_string(e.weight);
    }
    return out;
}

} // namespace mpic::bench
