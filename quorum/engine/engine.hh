#pragma once
// The engine's public C++ API for embedding (docs/embedding.md): configure an engine, submit MPIC requests, get
// each result by callback or future, shut down cleanly. mpicd is a thin HTTP layer over exactly this API.

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/reactor.hh"
#include "core/result.hh"
#include "quorum/api/model.hh"
#include "quorum/engine/config.hh"

namespace mpic::quorum {

/// What one submission produced. Exactly one of: a response (the decision, valid or not), request issues (the
/// request was refused before any check ran: HTTP 400), or an engine error (errc::queue_full when over the
/// in-flight limit, errc::shutting_down while stopping: HTTP 503; anything else: HTTP 500).
struct submit_outcome {
    std::optional<mpic_response> response;
    std::vector<request_issue> issues;
    std::error_code error;
};

/// Receives a submission's outcome exactly once.
using submit_callback = std::function<void(submit_outcome&&)>;
/// Receives a single check's result exactly once (perspective-agent role).
using check_result_callback = std::function<void(validators::check_result&&)>;

/// Counters for health endpoints and metrics. Approximate when read while requests run.
struct engine_stats {
    std::uint64_t requests_started = 0;
    std::uint64_t requests_finished = 0;
    std::uint64_t checks_in_flight = 0;
    std::uint64_t requests_refused_overload = 0;
};

/// The engine: a reactor pool (one libuv loop per core) on which every perspective has its own resolver, TLS
/// context and HTTP client per reactor, and on which each request runs as a set of quorum state machines.
/// Thread-safe: submit() may be called from any thread. Not copyable or movable.
class engine {
public:
    /// Validates the configuration (messages naming each key appended to `errors`), checks the perspective set
    /// against the BR policy in force today (refused unless policy.development_override; then every response says
    /// non-compliant), starts the reactors and builds every perspective's services on each of them.
    static result<std::unique_ptr<engine>> create(engine_config config, std::vector<std::string>& errors);
    /// shutdown(0) if still running.
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    /// Runs one MPIC request. `done` runs exactly once, never inside submit(): on the calling reactor when called
    /// from one of this engine's reactors (so a server on a reactor gets its answer on its own thread, without
    /// locks), otherwise on the engine reactor that ran the request.
    void submit(mpic_request request, submit_callback done);
    /// The same, for callers on any thread that prefer to wait.
    std::future<submit_outcome> submit(mpic_request request);

    /// Perspective-agent role: runs one check from the in-process perspective `code` (the agent's own vantage
    /// point) and reports the raw check_result. errc::not_found if there is no such in-process perspective.
    /// Same threading as submit().
    void run_check(std::string_view code, validators::check_request request, check_result_callback done);

    /// Stops intake (new submissions get errc::shutting_down), lets running requests finish within `grace`, then
    /// fails what is left with their deadline semantics, closes every handle and joins the reactors. Idempotent;
    /// call from a thread that is not one of the engine's reactors.
    core::stop_report shutdown(std::chrono::milliseconds grace);

    /// The reactors, for an embedder that runs its own I/O on them (mpicd's HTTP server).
    core::reactor_pool& reactors() noexcept;
    const engine_config& config() const noexcept;
    /// The start-up verdict on the perspective set (findings, compliance).
    const set_report& perspective_report() const noexcept;
    /// False when the development override let a non-compliant perspective set start.
    bool compliant() const noexcept;
    engine_stats stats() const noexcept;

    struct impl;

private:
    explicit engine(std::unique_ptr<impl> state);
    std::unique_ptr<impl> _impl;
};

} // namespace mpic::quorum
