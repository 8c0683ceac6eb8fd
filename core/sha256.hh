#pragma once
// SHA-256 (FIPS 180-4) through OpenSSL's EVP interface, the one way the engine hashes: ACME key-authorization
// digests (RFC 8555 §8.4, RFC 8737 §3), dns-account-01 labels and the cohort selection seed. Header-only so the
// pure rule libraries (validators/dns rules) need only libcrypto, not the rest of core.

#include <array>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <string_view>

#include <openssl/evp.h>

namespace mpic::core {

/// A SHA-256 digest.
using sha256_digest = std::array<std::uint8_t, 32>;

/// SHA-256 of the concatenation of `parts`. Never returns a partial or zero digest: if OpenSSL cannot compute it
/// (allocation failure, no SHA-256 provider) the process aborts, because every caller compares or derives
/// security decisions from the result and a silent constant would match attacker-chosen input.
inline sha256_digest sha256(std::initializer_list<std::string_view> parts) noexcept {
    struct ctx_deleter {
        void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
    };
    const std::unique_ptr<EVP_MD_CTX, ctx_deleter> ctx(EVP_MD_CTX_new());
    bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
    for (const auto part : parts) {
        ok = ok && EVP_DigestUpdate(ctx.get(), part.data(), part.size()) == 1;
    }
    sha256_digest digest{};
    unsigned int length = 0;
    ok = ok && EVP_DigestFinal_ex(ctx.get(), digest.data(), &length) == 1 && length == digest.size();
    if (!ok) {
        std::abort(); // LCOV_EXCL_LINE: DefensiveCoding
    }
    return digest;
}

} // namespace mpic::core
