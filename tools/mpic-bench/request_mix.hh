#pragma once
// The request mixes mpic-bench sends to `POST /mpic` (docs/api.md): one JSON body per kind, chosen by weight.
// Bodies are built once at start-up; the hot loop only picks an index.

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hh"

namespace mpic::bench {

/// The kinds of request a mix may contain. Each maps to one fixed body against the bench lab
/// (tools/mpic-lab/scenarios/bench-clean.toml) or any zone with the same records under another domain.
enum class request_kind : std::uint8_t {
    caa,          ///< check_type caa, one name
    dns_01,       ///< dcv acme-dns-01
    http_01,      ///< dcv acme-http-01
    tls_alpn_01,  ///< dcv acme-tls-alpn-01
    dns_change,   ///< dcv dns-change (TXT at the name itself)
    dcv_with_caa, ///< our extension: dns-01 and CAA, each with its own quorum
    multi_name,   ///< CAA for three names in one request (`targets`)
};

/// "caa", "dns-01", ...: the names used on the command line and in the JSON output.
std::string_view to_string(request_kind kind) noexcept;

/// One weighted entry of a mix with its prepared body.
struct mix_entry {
    request_kind kind = request_kind::caa;
    unsigned weight = 1;
    std::string body;
};

/// A weighted request mix. Invariant after parse_mix succeeded: at least one entry, every weight > 0.
class request_mix {
public:
    /// Parses "caa=3,dns-01=1" (a bare name has weight 1) and builds each body for `domain`. Errors name the item.
    static result<request_mix> parse(std::string_view spec, std::string_view domain, std::string& error);

    /// Picks an entry index by weight.
    std::size_t pick(std::mt19937_64& rng) const noexcept;
    const std::vector<mix_entry>& entries() const noexcept { return _entries; }
    /// "caa=3,dns-01=1" with the weights as parsed.
    std::string describe() const;

private:
    std::vector<mix_entry> _entries;
    std::vector<unsigned> _cumulative; ///< running sums of the weights
};

/// The body sent for `kind` against `domain` (exposed for the smoke test and --dry-run).
std::string request_body(request_kind kind, std::string_view domain);

} // namespace mpic::bench
