#include "validators/http/http_validation.hh"

#include <algorithm>

#include "core/ascii.hh"
#include "net/addr/ip_address.hh"
#include "validators/http/body_match.hh"

namespace mpic::validators::http {
namespace {

std::uint32_t us(std::chrono::microseconds d) {
    return static_cast<std::uint32_t>(d.count());
}

} // namespace

std::vector<net::http::header> validation_headers(const std::vector<std::pair<std::string, std::string>>& requested) {
    std::vector<net::http::header> out;
    bool have_agent = false;
    bool have_accept = false;
    for (const auto& [name, value] : requested) {
        if (core::ascii_iequals(name, "host") || core::ascii_iequals(name, "content-length") ||
            core::ascii_iequals(name, "connection") || core::ascii_iequals(name, "transfer-encoding")) {
            continue; // the client frames the request; a caller must not be able to change where it goes
        }
        have_agent = have_agent || core::ascii_iequals(name, "user-agent");
        have_accept = have_accept || core::ascii_iequals(name, "accept");
        out.push_back({name, value});
    }
    if (!have_agent) {
        out.push_back({"User-Agent", "mpic-engine/0.1 (+multi-perspective domain validation)"});
    }
    if (!have_accept) {
        out.push_back({"Accept", "*/*"});
    }
    return out;
}

http_validation::http_validation(perspective_runtime& runtime, std::shared_ptr<const check_request> request,
                                 check_callback callback)
    : check_operation(runtime, std::move(request), std::move(callback)) {}

const net::addr::address_policy& http_validation::policy() const {
    return _runtime.http->config().policy;
}

void http_validation::fail_parameter(std::string message) {
    auto result = make_result();
    result.completed = true;
    result.errors.push_back(problem::make(problem_component::dcv_checker, "parameter", std::move(message)));
    finish(std::move(result));
}

void http_validation::begin(url start) {
    if (_runtime.http == nullptr) {
        fail_parameter("this perspective has no HTTP client"); // LCOV_EXCL_LINE: DefensiveCoding
        return;                                                // LCOV_EXCL_LINE
    }
    redirect_rules rules;
    // The same address policy the client enforces at connect time, applied to redirect targets before they are
    // fetched (RFC 8555 §10.4), so a refusal is reported as a refused redirect with the reason.
    rules.address_refused = [policy = policy()](std::string_view ip) {
        const auto address = net::addr::ip_address::parse(ip);
        return !address || !policy.check_address(*address);
    };
    _chain.emplace(std::move(start), std::move(rules));
    _headers = validation_headers(_request->dcv.http_headers);
    fetch_current();
}

void http_validation::fetch_current() {
    const url& target = _chain->current();
    if (target.host_is_ip()) {
        // RFC 8738 §4 / §5: an IP identifier (or an IP-literal redirect) is connected to directly, no DNS.
        const auto address = net::addr::ip_address::parse(target.host);
        if (!address || !policy().check_address(*address)) {
            complete(true, lookup_problem("address " + target.host + " is refused by the address policy"), nullptr);
            return;
        }
        connect_to({*address});
        return;
    }
    if (target.host == _resolved_host && !_addresses.empty()) {
        connect_to(_addresses); // a redirect to the same host: the answer from this check's own lookup still holds
        return;
    }
    if (_runtime.dns == nullptr) {
        complete(false, lookup_problem("this perspective has no resolver"), nullptr);
        return;
    }
    auto self = std::static_pointer_cast<http_validation>(shared_from_this());
    _lookup = address_lookup::start(*_runtime.dns, target.host, policy(), [self](lookup_outcome&& outcome) {
        self->_lookup.reset();
        if (self->finished()) {
            return; // LCOV_EXCL_LINE: DefensiveCoding (abort() detaches the lookup)
        }
        self->_timings.dns_us += outcome.elapsed_us;
        if (outcome.error) {
            self->complete(outcome.determinate, std::move(outcome.error), nullptr);
            return;
        }
        self->_resolved_host = self->_chain->current().host;
        self->_addresses = outcome.addresses;
        self->connect_to(std::move(outcome.addresses));
    });
}

void http_validation::connect_to(std::vector<net::addr::ip_address> addresses) {
    const url& target = _chain->current();
    const auto port = policy().map_port(target.effective_port(), net::addr::connect_purpose::http);
    if (!port) {
        complete(true, problem::from_error(problem_component::http, "", "port refused", port.error()), nullptr);
        return;
    }
    net::http::request req;
    req.addresses = std::move(addresses);
    req.port = *port;
    if (target.scheme == "https") {
        net::http::tls_options tls;
        tls.sni = target.host_is_ip() ? std::string() : target.host;
        // BR 3.2.2.4.18/.19 ask for control of the content at the ADN, not for a publicly-trusted certificate; an
        // https hop is judged like an http one (Boulder: InsecureSkipVerify on http-01 redirects, standards §5.6).
        tls.verify = net::tls::verification::off("BR 3.2.2.4.18/.19: DCV over https does not require a trusted "
                                                 "certificate (as Boulder, standards §5.6)");
        req.tls = std::move(tls);
    }
    req.target = target.request_target();
    req.host = target.authority();
    req.headers = _headers;
    req.body_cap = body_cap_bytes;
    req.fallback = net::http::address_fallback::on_connect_failure; // Boulder va/http.go fallbackErr (H15)
    auto self = std::static_pointer_cast<http_validation>(shared_from_this());
    _exchange = _runtime.http->fetch(
        std::move(req), [self](net::http::exchange_result&& result) { self->on_exchange(std::move(result)); });
}

void http_validation::on_exchange(net::http::exchange_result&& result) {
    if (finished()) {
        return; // the deadline or a cancel got there first
    }
    const auto& response = result.response;
    const auto& t = response.timings;
    _timings.connect_us += us(t.connect);
    _timings.tls_us += us(t.tls);
    _timings.first_byte_us += us(t.first_byte);
    _timings.body_us += us(t.body);
    if (response.address) {
        _resolved_ip = response.address->to_string();
    }
    if (!result.ok()) {
        if (result.error == make_error_code(errc::limit_exceeded) && result.failed_stage == net::http::stage::body) {
            complete(true,
                     problem::make(problem_component::http, "",
                                   "response body larger than " + std::to_string(body_cap_bytes) + " bytes"),
                     &response);
            return;
        }
        if (result.error == make_error_code(errc::invalid_argument)) {
            // The client refuses a CR, LF or NUL in any request field (header injection): the request's
            // http_headers were unusable, which is the caller's mistake, not the target's.
            complete(true,
                     problem::from_error(problem_component::dcv_checker, "parameter", "request refused", result.error),
                     nullptr);
            return;
        }
        const bool ours =
            result.error == make_error_code(errc::cancelled) || result.error == make_error_code(errc::shutting_down);
        complete(!ours,
                 problem::from_error(problem_component::http, "",
                                     std::string(net::http::to_string(result.failed_stage)) + " " +
                                         _chain->current().to_string(),
                                     result.error),
                 response.status != 0 ? &response : nullptr);
        return;
    }
    const auto* location = net::http::find_header(response.headers, "location");
    const auto judgement =
        _chain->judge(response.status, location ? std::optional<std::string_view>(location->value) : std::nullopt);
    switch (judgement.action) {
    case redirect_action::follow:
        fetch_current();
        return;
    case redirect_action::refuse:
        complete(true, problem::make(problem_component::redirect, "invalid", judgement.reason), &response);
        return;
    case redirect_action::final_response:
        break;
    }
    // BR 3.2.2.4.18/.19: "a 2xx HTTP status code must be received" (standards §7.3: any 2xx, H5; H6).
    if (!is_success_status(response.status)) {
        complete(true,
                 problem::make(problem_component::http, "",
                               "HTTP status " + std::to_string(response.status) + " (a 2xx status is required)"),
                 &response);
        return;
    }
    complete(true, judge_body(response.body), &response);
}

void http_validation::complete(bool completed, std::optional<problem> error,
                               const net::http::response* final_response) {
    auto result = make_result();
    result.completed = completed || !error;
    result.passed = !error;
    if (error) {
        result.errors.push_back(std::move(*error));
    }
    auto& d = result.details;
    if (_chain) {
        d.response_history = _chain->history();
        d.response_url = _chain->current().to_string();
    }
    if (final_response != nullptr) {
        d.response_status_code = final_response->status;
        d.response_page = final_response->body.substr(0, response_page_bytes);
    }
    d.resolved_ip = _resolved_ip;
    result.timings = _timings;
    finish(std::move(result));
}

void http_validation::abort() {
    if (_lookup) {
        _lookup->cancel();
        _lookup.reset();
    }
    _exchange.cancel();
}

} // namespace mpic::validators::http
