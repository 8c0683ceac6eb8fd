#include "quorum/engine/agent_check.hh"

#include "net/addr/host_port.hh"
#include "net/http/client.hh"
#include "quorum/api/json_codec.hh"
#include "quorum/engine/config.hh"

namespace mpic::quorum {
namespace {

struct agent_url {
    std::string host;
    std::uint16_t port = 443;
    std::string path_prefix;
};

/// Parses "https://host[:port][/prefix]" with an IP literal host (agents are configured by address: resolving them
/// through a perspective's resolver would mix infrastructure with validation traffic).
std::optional<agent_url> parse_agent_url(std::string_view url) {
    constexpr std::string_view scheme = "https://";
    if (url.substr(0, scheme.size()) != scheme) {
        return std::nullopt;
    }
    url.remove_prefix(scheme.size());
    agent_url out;
    auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    if (slash != std::string_view::npos) {
        out.path_prefix = std::string(url.substr(slash));
        while (!out.path_prefix.empty() && out.path_prefix.back() == '/') {
            out.path_prefix.pop_back();
        }
    }
    auto endpoint = net::addr::parse_host_port(authority);
    if (!endpoint || endpoint->port == std::uint16_t{0}) {
        return std::nullopt;
    }
    out.host = endpoint->host;
    out.port = endpoint->port.value_or(443);
    return out;
}

class agent_check final : public validators::check_operation {
public:
    agent_check(validators::perspective_runtime& runtime, const configured_perspective& agent,
                std::shared_ptr<const validators::check_request> request, validators::check_callback callback)
        : check_operation(runtime, std::move(request), std::move(callback)), _agent(agent) {}

private:
    void run() override {
        auto url = parse_agent_url(_agent.transport.agent_url);
        auto address = url ? net::addr::ip_address::parse(url->host) : make_error_code(errc::invalid_argument);
        if (!url || !address) {
            fail("agent_url \"" + _agent.transport.agent_url + "\" must be https://<ip>[:port]");
            return;
        }
        net::http::request req;
        req.addresses = {*address};
        req.port = url->port;
        net::http::tls_options tls;
        tls.sni = url->host;
        tls.alpn = {"http/1.1"};
        req.tls = std::move(tls); // verification on: the agent's certificate must chain to agent_ca_file
        req.method = "POST";
        req.target = url->path_prefix + (_request->type == validators::check_type::caa ? "/caa" : "/dcv");
        // RFC 9110 §7.2 / RFC 3986 §3.2.2: an IPv6 literal in Host is bracketed (url->host has no brackets).
        const std::string host = address->is_v4() ? url->host : "[" + url->host + "]";
        req.host = url->port == 443 ? host : host + ":" + std::to_string(url->port);
        req.headers.push_back({"Content-Type", "application/json"});
        req.body = render_check_request(*_request);
        req.body_cap = max_agent_response_bytes;
        req.keep_alive = true; // persistent connections to each agent (issue #6)
        _exchange =
            _runtime.http->fetch(std::move(req), [self = shared_from_this(), this](net::http::exchange_result&& r) {
                on_response(std::move(r));
            });
    }

    void abort() override { _exchange.cancel(); }

    // A slow agent is a failed remote check, not a checker timeout: the agent may have finished its own check.
    problem incomplete_problem(std::string_view kind, std::string message) const override {
        return problem::make(problem_component::coordinator, "remote_check",
                             "agent " + _agent.info.code + ": " + std::string(kind) + ": " + message);
    }

    void on_response(net::http::exchange_result&& r) {
        if (finished()) {
            return;
        }
        if (!r.ok()) {
            fail("agent " + _agent.info.code + " unreachable: " + r.error.message());
            return;
        }
        if (r.response.status != 200) {
            fail("agent " + _agent.info.code + " answered HTTP " + std::to_string(r.response.status));
            return;
        }
        auto doc = nlohmann::json::parse(r.response.body, nullptr, /*allow_exceptions=*/false);
        auto parsed = doc.is_discarded() ? make_error_code(errc::malformed) : check_result_from_json(doc);
        if (!parsed) {
            fail("agent " + _agent.info.code + " sent a malformed check_response");
            return;
        }
        if (parsed->type != _request->type) {
            fail("agent " + _agent.info.code + " answered a different check type");
            return;
        }
        auto result = std::move(*parsed);
        result.timings.total_us = elapsed_us();
        finish(std::move(result));
    }

    void fail(std::string message) {
        auto result = make_result();
        result.completed = false;
        result.errors.push_back(problem::make(problem_component::coordinator, "remote_check", std::move(message)));
        finish(std::move(result));
    }

    const configured_perspective& _agent;
    net::http::request_handle _exchange;
};

} // namespace

validators::check_handle start_agent_check(validators::perspective_runtime& runtime,
                                           const configured_perspective& agent,
                                           std::shared_ptr<const validators::check_request> request,
                                           std::uint64_t timeout_ms, validators::check_callback callback) {
    auto op = std::make_shared<agent_check>(runtime, agent, std::move(request), std::move(callback));
    op->start(timeout_ms);
    return validators::check_handle(op);
}

} // namespace mpic::quorum
