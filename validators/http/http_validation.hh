#pragma once
// The fetch loop shared by acme-http-01 and website-change: resolve with the perspective's resolver, fetch one
// URL, judge a redirect before following it, repeat; then hand the final 2xx body to the method's rule. Every hop is
// recorded for the response_history / response_url / resolved_ip details (api.md "Spec vs reference code").

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http/client.hh"
#include "validators/check_operation.hh"
#include "validators/http/address_lookup.hh"
#include "validators/http/redirect_policy.hh"

namespace mpic::validators::http {

/// Base of the HTTP validation checks. Subclasses validate their parameters in run(), then call begin(); they judge
/// the final body in judge_body(). Invariant: at most one lookup or exchange is in flight.
class http_validation : public check_operation {
public:
    http_validation(perspective_runtime& runtime, std::shared_ptr<const check_request> request,
                    check_callback callback);

protected:
    /// Starts fetching `start` with the request's extra http_headers. Called once, from run().
    void begin(url start);
    /// The method's verdict on a 2xx body: nullopt = pass, else the problem to report.
    virtual std::optional<problem> judge_body(std::string_view body) = 0;
    /// Completes at once with mpic_error:dcv_checker:parameter (for run()).
    void fail_parameter(std::string message);
    void abort() override;

private:
    void fetch_current();
    void connect_to(std::vector<net::addr::ip_address> addresses);
    void on_exchange(net::http::exchange_result&& result);
    void complete(bool completed, std::optional<problem> error, const net::http::response* final_response);
    const net::addr::address_policy& policy() const;

    std::optional<redirect_chain> _chain;
    std::shared_ptr<address_lookup> _lookup;
    net::http::request_handle _exchange;
    std::string _resolved_host;                    ///< host the cached addresses belong to
    std::vector<net::addr::ip_address> _addresses; ///< addresses of _resolved_host (reused on same-host hops)
    std::vector<net::http::header> _headers;
    check_timings _timings;
    std::string _resolved_ip;
};

/// The extra headers a validation sends: the request's http_headers minus those the client owns (Host,
/// Content-Length, Connection, Transfer-Encoding), plus User-Agent and Accept defaults (Boulder sends both).
std::vector<net::http::header> validation_headers(const std::vector<std::pair<std::string, std::string>>& requested);

} // namespace mpic::validators::http
