#pragma once
// The perspective services one reactor owns: for every perspective its own resolver (own c-ares channel and
// source address) and HTTP client (own pool), or, for a remote agent, its own mutual-TLS client. Nothing here is
// shared between perspectives (BR.md 1207: no shared cache) or between reactors (style.md §4).

#include <memory>
#include <optional>
#include <vector>

#include "net/dns/resolver.hh"
#include "net/http/client.hh"
#include "net/tls/client_context.hh"
#include "quorum/engine/config.hh"
#include "validators/check_operation.hh"

namespace mpic::quorum {

/// Index of a perspective in the engine's list: remotes 0..n-1 in configuration order, then the primary at n.
using perspective_index = std::size_t;

/// One perspective's services on one reactor.
struct perspective_services {
    const configured_perspective* config = nullptr;
    std::unique_ptr<net::dns::resolver> dns;       ///< in-process only
    std::unique_ptr<net::tls::client_context> tls; ///< agents only (their CA and client certificate)
    std::unique_ptr<net::http::client> http;       ///< in-process: validation fetches; agent: the mTLS channel
    validators::perspective_runtime runtime;       ///< pointers into the members above
};

/// All perspectives' services on one reactor. Created and destroyed on that reactor's thread.
class reactor_services {
public:
    /// Builds the services of every perspective in `perspectives` (remotes then primary) on `loop`.
    static result<std::unique_ptr<reactor_services>>
    create(uv_loop_t* loop, const engine_config& config,
           const std::vector<const configured_perspective*>& perspectives);
    /// Closes every client and resolver (in-flight work completes as cancelled); the loop must run afterwards so
    /// the handles' close callbacks free their memory.
    ~reactor_services();

    perspective_services& at(perspective_index i) noexcept { return _perspectives[i]; }
    std::size_t size() const noexcept { return _perspectives.size(); }
    /// Checks in flight on this reactor (all perspectives).
    std::size_t& in_flight_checks() noexcept { return _in_flight_checks; }

private:
    reactor_services() = default;
    std::unique_ptr<net::tls::client_context> _validation_tls; ///< shared by this reactor's validation clients
    std::vector<perspective_services> _perspectives;
    std::size_t _in_flight_checks = 0;
};

} // namespace mpic::quorum
