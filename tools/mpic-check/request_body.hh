#pragma once
// What mpic-check is asked to look at, and the Open MPIC request body that asks it. The same body goes to a running
// coordinator (POST /mpic) and, parsed by the engine's own codec, to the in-process engine, so both sources refuse
// exactly what mpicd would refuse.

#include <optional>
#include <string>
#include <vector>

namespace mpic::mpic_check {

/// The names and the check. Invariant (after the command line was read): names is non-empty; `method` is empty for
/// a CAA-only check, else an Open MPIC validation_method spelling whose parameters are set below.
struct check_plan {
    std::vector<std::string> names;
    std::string method;                      ///< "acme-http-01", ...; empty = --caa only
    std::string token;                       ///< acme-http-01
    std::string key_authorization;           ///< acme-http-01
    std::string key_authorization_hash;      ///< acme-dns-01, acme-tls-alpn-01
    std::string challenge_value;             ///< dns-change, website-change
    std::string record_type = "TXT";         ///< dns-change: TXT, CNAME or CAA
    std::optional<std::string> prefix;       ///< dns-change: dns_name_prefix
    std::string http_token_path;             ///< website-change
    bool with_caa = true;                    ///< also run the CAA check (dcv_with_caa); forced for --caa
    std::vector<std::string> issuer_domains; ///< CAA issuer domains; empty = the engine's configured ones
};

/// The orchestration mpic-check always asks for: every perspective reports (quorum_count 0 = Open MPIC monitoring
/// mode, so the decision waits for all of them; api.md), one attempt, and when known every configured perspective.
struct orchestration_ask {
    std::optional<int> perspective_count;
    std::optional<int> deadline_ms;
};

/// The POST /mpic body for `plan`, always in the `targets` extension shape (one result per name).
std::string render_request_body(const check_plan& plan, const orchestration_ask& orchestration);

/// The check kinds a plan produces, e.g. "dcv_with_caa".
std::string check_type_of(const check_plan& plan);

} // namespace mpic::mpic_check
