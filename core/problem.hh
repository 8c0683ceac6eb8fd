#pragma once
// The validation problem taxonomy of api.md: every perspective-level error carries a stable key
// "mpic_error:<component>:<kind>[:<detail>...]" and a human message. Components and kinds are closed sets here so a
// typo cannot invent a new key; the few open-ended suffixes (tls_alpn certificate kinds) are appended explicitly.

#include <string>
#include <string_view>
#include <system_error>

namespace mpic {

/// The component that raised a problem: the middle part of "mpic_error:<component>:<kind>".
enum class problem_component {
    caa_checker,  ///< CAA lookup and evaluation
    dcv_checker,  ///< domain control validation checks
    coordinator,  ///< orchestration: remote perspectives, deadlines, cancellation
    http,         ///< HTTP transport (api.md uses the bare key "mpic_error:http")
    redirect,     ///< HTTP redirect judgement ("mpic_error:redirect:invalid")
};

/// A typed, serialisable problem. Invariant: `type` always starts with "mpic_error:".
struct problem {
    std::string type;     ///< stable key, e.g. "mpic_error:caa_checker:lookup"
    std::string message;  ///< human-readable detail, never parsed by clients

    /// Builds "mpic_error:<component>:<kind>". An empty kind yields "mpic_error:<component>" (api.md's
    /// "mpic_error:http").
    static problem make(problem_component component, std::string_view kind, std::string message);

    /// Builds a problem whose message is the error_code's text prefixed by `context`.
    static problem from_error(problem_component component, std::string_view kind, std::string_view context,
                              std::error_code ec);

    bool operator==(const problem&) const = default;
};

/// The component name as it appears in problem keys.
std::string_view to_string(problem_component component) noexcept;

} // namespace mpic
