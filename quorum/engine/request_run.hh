#pragma once
// One MPIC request running on one reactor: for every (target, check type) a unit with its cohort plan, its current
// attempt's checks and quorum_decision, its earlier attempts; a request deadline; and the response built once every
// unit is decided. Everything here runs on the owning reactor's thread.

#include <functional>
#include <memory>

#include "quorum/api/model.hh"
#include "quorum/engine/engine_state.hh"
#include "quorum/engine/reactor_services.hh"

namespace mpic::quorum {

/// Receives the finished response exactly once, on the reactor's thread.
using response_callback = std::function<void(mpic_response&&)>;

class request_run;

/// Starts a validated request. `orchestration` is the effective orchestration (validate_orchestration) and `plans`
/// the cohort plan of each target. The run keeps itself alive until it has answered; a request deadline bounds it.
/// Returns a handle the reactor uses to expire the run early on shutdown.
std::weak_ptr<request_run> start_request_run(engine_state& engine, reactor_services& services, uv_loop_t* loop,
                                             mpic_request request, effective_orchestration orchestration,
                                             std::vector<cohort_plan> plans, response_callback done);

/// Ends the run now, as if its deadline had passed: undecided units are decided with their pending perspectives
/// counted as failures, and the response is delivered. No-op if it already answered. Reactor thread only.
void expire_request_run(const std::weak_ptr<request_run>& run);

} // namespace mpic::quorum
