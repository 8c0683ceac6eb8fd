#pragma once
// Open MPIC v3.9.0 JSON codec (api.md): requests in, responses out, and the checker API's check_response in both
// directions (the coordinator reads what remote perspective agents send).

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_writer.hh"
#include "core/result.hh"
#include "quorum/api/model.hh"

namespace mpic::quorum {

/// Caps applied while parsing a request body. Bodies beyond max_body_bytes never reach the parser (the HTTP layer
/// enforces that); these bound what a well-formed body may ask for.
struct request_limits {
    std::size_t max_targets = 100;       ///< entries in `targets`
    std::size_t max_string_bytes = 4096; ///< any single string field
    std::size_t max_list_items = 64;     ///< caa_domains, issuer_domain_names, http_headers
};

/// Parses a `POST /mpic` body. Returns the request or every problem found (each names its field). Never throws;
/// bytes that are not UTF-8 JSON yield a single "malformed-json" issue.
std::variant<mpic_request, std::vector<request_issue>> parse_mpic_request(std::string_view body,
                                                                          const request_limits& limits = {});

/// Renders a response. A single-target, single-check request gets exactly Open MPIC's shape; `dcv_with_caa` and
/// `targets` requests get the extension shape documented in docs/api.md.
std::string render_mpic_response(const mpic_response& response);

/// Renders the 400 body: {"error": "request-validation-failed", "validation_issues": [...]} (api.md, Open MPIC).
std::string render_validation_failure(const std::vector<request_issue>& issues);

/// A check_response object (api.md "Each perspective"): what an agent answers to `POST /dcv` or `POST /caa`, and
/// each perspective's `check_response` in a response. `errors` is null when there are none; `details` holds the
/// fields of the result's kind. Bytes that are not UTF-8 in what the check saw are replaced by U+FFFD.
std::string render_check_result(const validators::check_result& result);
/// Reads a check_response object sent by a remote perspective; malformed when a required field is missing or of
/// the wrong type (the caller counts that as a non-corroboration).
result<validators::check_result> check_result_from_json(const nlohmann::json& json);

/// The checker API body a coordinator sends to a remote agent (`POST /dcv` or `POST /caa`).
std::string render_check_request(const validators::check_request& request);
/// Parses a checker API body received by an agent.
std::variant<validators::check_request, std::vector<request_issue>>
parse_check_request(std::string_view body, validators::check_type type, const request_limits& limits = {});

/// Writes a check's per-phase `timings` object (api.md "Each perspective"), with `total_us` when `with_total`; the
/// audit record writes the same phases and keeps `total_us` beside them.
void write_check_timings(core::json_writer& w, const validators::check_timings& t, bool with_total);

/// The echo of the check parameters with defaults filled in (`caa_check_parameters` / `dcv_check_parameters`), as
/// a JSON value: the object the renderers above write, parsed back (for tests and tools that build request bodies;
/// the renderers themselves write it straight into their output).
nlohmann::json caa_parameters_to_json(const validators::caa_parameters& params);
nlohmann::json dcv_parameters_to_json(const validators::dcv_parameters& params);

} // namespace mpic::quorum
