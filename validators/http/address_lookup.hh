#pragma once
// Resolving the target of an HTTP or TLS-ALPN validation with the perspective's own resolver (BR §3.2.2.9: no
// shared resolver or cache; api.md: Open MPIC's HTTP path used the system resolver instead). A and AAAA are asked
// in parallel (RFC 8555 §8.3 "at least one of the hosts found in the DNS A and AAAA records"); addresses the
// policy refuses are dropped (RFC 8555 §10.4; Boulder va/dns.go drops reserved addresses the same way).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/problem.hh"
#include "net/addr/address_policy.hh"
#include "net/addr/ip_address.hh"

namespace mpic::net::dns {
class resolver;
}

namespace mpic::validators::http {

/// The result of one target lookup. Invariant: exactly one of `addresses` non-empty and `error` set.
struct lookup_outcome {
    std::vector<net::addr::ip_address> addresses; ///< admitted by the policy, IPv6 answers first, answer order kept
    std::optional<problem> error;                 ///< mpic_error:dcv_checker:lookup
    /// False when the lookup could not reach a determination (timeout, network error, resolver shutting down):
    /// the perspective then reports an incomplete check rather than a definite failure.
    bool determinate = true;
    std::uint32_t elapsed_us = 0;
};

/// One in-flight A+AAAA lookup. Owned through shared_ptr: the query callbacks keep it alive, cancel() drops them.
/// The callback runs exactly once unless cancel() ran first, always on the loop thread, never inside start().
class address_lookup : public std::enable_shared_from_this<address_lookup> {
public:
    using callback = std::function<void(lookup_outcome&&)>;

    /// Starts the lookup of `name` (a DNS name, not an IP literal). Precondition: resolver != nullptr.
    static std::shared_ptr<address_lookup> start(net::dns::resolver& resolver, std::string name,
                                                 net::addr::address_policy policy, callback done);
    /// Detaches both queries; the callback will not run. Idempotent.
    void cancel() noexcept;

    address_lookup(std::string name, net::addr::address_policy policy, callback done);
    ~address_lookup();
    address_lookup(const address_lookup&) = delete;
    address_lookup& operator=(const address_lookup&) = delete;

private:
    struct state;
    void finish();

    std::string _name;
    net::addr::address_policy _policy;
    callback _done;
    std::unique_ptr<state> _state;
};

/// The problem for a target that cannot be connected to at all (used by the checks for IP identifiers too).
problem lookup_problem(std::string message);

} // namespace mpic::validators::http
