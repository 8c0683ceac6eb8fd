// libFuzzer target for the API's request bodies (docs/api.md): `POST /mpic` (parse_mpic_request) and the checker
// API's `POST /dcv` / `POST /caa` (parse_check_request). Arbitrary bytes must never crash, throw or hang, and
// what parses must survive a round trip through our own renderers:
//   - a parsed /mpic request re-rendered as a request body (the echo renderers caa_parameters_to_json /
//     dcv_parameters_to_json plus the top-level fields) parses again, and rendering that gives the same bytes
//     (the echo is a fixpoint: nothing the parser accepted is lost or changed on the second pass);
//   - the response renderer accepts the parsed request (with empty outcomes) and emits valid JSON;
//   - a parsed checker request re-rendered with render_check_request (what the coordinator sends to an agent)
//     parses again, to the same bytes;
//   - a refused body gets at least one issue, each with a type and a message, and the 400 body renders as JSON.
// Built only with -DMPIC_FUZZ=ON (clang).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "quorum/api/json_codec.hh"

namespace {

using json = nlohmann::json;
using namespace mpic::quorum;
namespace validators = mpic::validators;

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

/// A request body that says what `request` says, built from the codec's own echo renderers.
std::string render_request_body(const mpic_request& request) {
    json out = json::object();
    out["check_type"] = to_string(request.kind);
    if (request.targets_field) {
        json list = json::array();
        for (const auto& target : request.targets) {
            list.push_back(target.requested());
        }
        out["targets"] = list;
    } else {
        require(request.targets.size() == 1);
        out["domain_or_ip_target"] = request.targets.front().requested();
    }
    if (!request.trace_identifier.empty()) {
        out["trace_identifier"] = request.trace_identifier;
    }
    if (request.orchestration) {
        const auto& o = *request.orchestration;
        json orchestration = json::object();
        auto put = [&](const char* key, const std::optional<std::int64_t>& value) {
            if (value) {
                orchestration[key] = *value;
            }
        };
        put("perspective_count", o.perspective_count);
        put("quorum_count", o.quorum_count);
        put("max_attempts", o.max_attempts);
        put("cohort_for_single_attempt", o.cohort_for_single_attempt);
        put("deadline_ms", o.deadline_ms);
        out["orchestration_parameters"] = orchestration;
    }
    if (request.kind != request_kind::dcv) {
        out["caa_check_parameters"] = caa_parameters_to_json(request.caa);
    }
    if (request.kind != request_kind::caa) {
        out["dcv_check_parameters"] = dcv_parameters_to_json(request.dcv);
    }
    return out.dump(-1, ' ', false, json::error_handler_t::strict);
}

void check_issues(const std::vector<request_issue>& issues) {
    require(!issues.empty());
    for (const auto& issue : issues) {
        require(!issue.issue_type.empty() && !issue.message.empty());
    }
    // Messages quote parts of the body; the 400 renderer must still produce JSON (invalid UTF-8 is replaced).
    const auto body = render_validation_failure(issues);
    require(json::accept(body));
}

void mpic_round_trip(std::string_view bytes) {
    auto parsed = parse_mpic_request(bytes);
    if (auto* issues = std::get_if<std::vector<request_issue>>(&parsed)) {
        check_issues(*issues);
        return;
    }
    const auto& request = std::get<mpic_request>(parsed);
    require(!request.targets.empty());

    const auto body = render_request_body(request);
    auto again = parse_mpic_request(body);
    require(std::holds_alternative<mpic_request>(again));
    const auto& second = std::get<mpic_request>(again);
    require(second.kind == request.kind && second.targets.size() == request.targets.size());
    require(second.trace_identifier == request.trace_identifier);
    require(render_request_body(second) == body);

    // The response renderer over the parsed request: one (empty) outcome per target and check type.
    mpic_response response;
    response.request = request;
    for (const auto& target : request.targets) {
        target_outcome outcome;
        outcome.target = target;
        if (request.kind != request_kind::caa) {
            outcome.dcv = check_outcome{};
        }
        if (request.kind != request_kind::dcv) {
            check_outcome caa;
            caa.type = validators::check_type::caa;
            outcome.caa = std::move(caa);
        }
        response.targets.push_back(std::move(outcome));
    }
    require(json::accept(render_mpic_response(response)));
}

void check_round_trip(std::string_view bytes, validators::check_type type) {
    auto parsed = parse_check_request(bytes, type);
    if (auto* issues = std::get_if<std::vector<request_issue>>(&parsed)) {
        check_issues(*issues);
        return;
    }
    const auto& request = std::get<validators::check_request>(parsed);
    const auto body = render_check_request(request);
    auto again = parse_check_request(body, type);
    require(std::holds_alternative<validators::check_request>(again));
    const auto& second = std::get<validators::check_request>(again);
    require(second.target.requested() == request.target.requested());
    require(render_check_request(second) == body);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    mpic_round_trip(bytes);
    check_round_trip(bytes, validators::check_type::dcv);
    check_round_trip(bytes, validators::check_type::caa);
    return 0;
}
