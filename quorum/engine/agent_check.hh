#pragma once
// A check run by a remote perspective agent: the coordinator sends the checker API request (api.md "Perspective
// agents": POST /dcv or POST /caa) over its persistent mutual-TLS connection pool and reads back one
// check_response. An agent that is down, slow, or answers garbage yields a non-corroborating result with
// mpic_error:coordinator:remote_check, never a crash or a hang (issue #6).

#include <memory>

#include "validators/check_operation.hh"

namespace mpic::quorum {

struct configured_perspective;

/// Starts a remote check through `runtime.http` (the agent's mTLS client). Same contract as
/// validators::start_check: the callback fires exactly once within `timeout_ms`.
validators::check_handle start_agent_check(validators::perspective_runtime& runtime,
                                           const configured_perspective& agent,
                                           std::shared_ptr<const validators::check_request> request,
                                           std::uint64_t timeout_ms, validators::check_callback callback);

/// Largest check_response body accepted from an agent.
inline constexpr std::size_t max_agent_response_bytes = 1 << 20;

} // namespace mpic::quorum
