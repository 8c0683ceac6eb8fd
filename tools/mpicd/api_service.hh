#pragma once
// The HTTP routes of mpicd over the engine's public API (a thin layer: parsing, authentication, admission,
// audit-before-answer; every decision is the engine's). Coordinator routes: POST /mpic. Perspective-agent routes:
// POST /dcv, POST /caa. Both: GET /healthz, /readyz, /configz, /metrics.

#include <atomic>
#include <memory>
#include <string>

#include "core/append_log.hh"
#include "core/metrics.hh"
#include "net/server/http_server.hh"
#include "quorum/engine/engine.hh"
#include "tools/mpicd/client_limits.hh"
#include "tools/mpicd/daemon_config.hh"

namespace mpic::mpicd {

/// Shared by every reactor's server. Thread-safe.
class api_service {
public:
    /// `audit` may be null only in the perspective role. `effective_config` is the /configz body (secrets redacted).
    api_service(const daemon_config& config, quorum::engine& engine, core::append_log* audit,
                std::string effective_config);

    /// Handles one request; runs on the reactor that received it, and answers there.
    void handle(net::server::request&& request, net::server::responder responder);

    /// After this, /readyz answers 503 and new API work gets 503 (graceful shutdown).
    void begin_shutdown() noexcept { _shutting_down.store(true, std::memory_order_relaxed); }

private:
    /// The authenticated client's name, or empty when the request is not authenticated.
    std::string authenticate(const net::server::request& request) const;
    void handle_mpic(net::server::request&& request, net::server::responder responder, std::string client);
    void handle_check(net::server::request&& request, net::server::responder responder, validators::check_type type);
    net::server::response ready() const;
    void observe(const quorum::mpic_response& response);

    const daemon_config& _config;
    quorum::engine& _engine;
    core::append_log* _audit;
    std::string _effective_config;
    client_limits _limits;
    std::atomic<bool> _shutting_down{false};

    core::counter _requests_ok;
    core::counter _requests_bad;
    core::counter _requests_unauthorized;
    core::counter _requests_limited;
    core::counter _requests_unavailable;
    core::counter _decisions_valid;
    core::counter _decisions_invalid;
    core::histogram _request_latency;
    core::histogram _audit_commit_latency; ///< append → durable → back on the reactor (mpic_audit_commit_seconds)
    core::gauge _in_flight;
};

} // namespace mpic::mpicd
