// Route handling. Order for every API call: authenticate (401 before anything else is looked at), admit per
// client (429), parse (400 with every issue), submit to the engine (503 when overloaded or stopping), append the
// audit record and wait until it is durable, then answer. A decision whose record could not be written is never
// answered (503): the CA must not act on a decision it cannot show an auditor.

#include "tools/mpicd/api_service.hh"

#include <chrono>
#include <cstdio>
#include <thread>
#include <unordered_map>

#include <openssl/crypto.h>

#include "quorum/api/json_codec.hh"
#include "quorum/audit/audit_record.hh"

namespace mpic::mpicd {
namespace {

using net::server::request;
using net::server::responder;
using net::server::response;

response json_response(int status, std::string body) {
    response r;
    r.status = status;
    r.headers.push_back({"Content-Type", "application/json"});
    r.body = std::move(body);
    return r;
}

response error_response(int status, std::string_view error, std::string_view message) {
    nlohmann::json body = {{"error", error}, {"message", message}};
    return json_response(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

/// `audit;dur=<ms>` (W3C Server-Timing, durations in milliseconds).
std::string server_timing_audit(std::chrono::steady_clock::duration d) {
    char text[48];
    std::snprintf(text, sizeof text, "audit;dur=%.3f",
                  static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(d).count()) / 1000.0);
    return text;
}

response retry_later(int status, std::string_view error, std::string_view message, int seconds) {
    auto r = error_response(status, error, message);
    r.headers.push_back({"Retry-After", std::to_string(seconds)});
    return r;
}

/// Constant-time comparison (CRYPTO_memcmp) so the time taken does not reveal how much of a token matched; the
/// length is compared first, which reveals only the length.
bool same_secret(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Runs `reply` on `reactor` from the audit writer thread. The reply owns reactor-thread state (the gate hold, the
/// responder), so it must never run or be destroyed elsewhere: a full mailbox is retried; a reactor that has
/// stopped for good (its connections are gone) keeps the reply alive until exit rather than free it here.
void deliver_on(core::reactor* reactor, std::function<void()> reply) {
    auto shared = std::make_shared<std::function<void()>>(std::move(reply));
    for (int attempt = 0; reactor != nullptr; ++attempt) {
        if (reactor->post_continuation([shared] { (*shared)(); })) {
            return;
        }
        if (reactor->stopping() && attempt >= 1000) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    new std::shared_ptr<std::function<void()>>(std::move(shared)); // deliberately kept: see above
}

/// True for "application/json" and "application/<x>+json" (RFC 6839), parameters and case ignored.
bool is_json_media_type(std::string_view value) {
    auto type = value.substr(0, value.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) {
        type.remove_suffix(1);
    }
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) {
        type.remove_prefix(1);
    }
    std::string lower(type);
    for (auto& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return lower == "application/json" ||
           (lower.rfind("application/", 0) == 0 && lower.size() > 17 && lower.ends_with("+json"));
}

core::counter counter_or_die(std::string_view name, std::string_view help, core::label_set labels = {}) {
    auto c = core::metrics_registry::global().add_counter(name, help, std::move(labels));
    return c ? *c : core::counter{};
}

} // namespace

api_service::api_service(const daemon_config& config, quorum::engine& engine, core::append_log* audit,
                         std::string effective_config)
    : _config(config), _engine(engine), _audit(audit), _effective_config(std::move(effective_config)),
      _limits(config.requests_per_second_per_client, config.burst_per_client, config.concurrent_requests_per_client) {
    auto& registry = core::metrics_registry::global();
    const char* help = "API requests by outcome";
    _requests_ok = counter_or_die("mpic_api_requests_total", help, {{"outcome", "ok"}});
    _requests_bad = counter_or_die("mpic_api_requests_total", help, {{"outcome", "bad_request"}});
    _requests_unauthorized = counter_or_die("mpic_api_requests_total", help, {{"outcome", "unauthorized"}});
    _requests_limited = counter_or_die("mpic_api_requests_total", help, {{"outcome", "rate_limited"}});
    _requests_unavailable = counter_or_die("mpic_api_requests_total", help, {{"outcome", "unavailable"}});
    _decisions_valid = counter_or_die("mpic_decisions_total", "Decisions by result", {{"result", "valid"}});
    _decisions_invalid = counter_or_die("mpic_decisions_total", "Decisions by result", {{"result", "invalid"}});
    if (auto h = registry.add_histogram("mpic_request_duration_seconds", "POST /mpic latency, received to answered")) {
        _request_latency = *h;
    }
    if (auto h = registry.add_histogram("mpic_audit_commit_seconds",
                                        "decision handed to the audit log to record durable (write + fdatasync)")) {
        _audit_commit_latency = *h;
    }
    if (auto g = registry.add_gauge("mpic_api_requests_in_flight", "API requests being processed")) {
        _in_flight = *g;
    }
}

std::string api_service::authenticate(const request& req) const {
    if (_config.auth_disabled) {
        return "anonymous";
    }
    if (_config.allow_client_certificates && !req.client_subject.empty()) {
        return "cert:" + req.client_subject; // the TLS layer verified it against api.client_ca_file
    }
    if (const auto* authorization = req.header("Authorization")) {
        std::string_view value = *authorization;
        constexpr std::string_view scheme = "Bearer ";
        if (value.size() > scheme.size() && strncasecmp(value.data(), scheme.data(), scheme.size()) == 0) {
            auto presented = value.substr(scheme.size());
            // Compare against every token, always, so the time does not reveal which name matched.
            const api_token* match = nullptr;
            for (const auto& token : _config.tokens) {
                if (same_secret(presented, token.secret)) {
                    match = &token;
                }
            }
            if (match != nullptr) {
                return match->name;
            }
        }
    }
    return {};
}

void api_service::handle(request&& req, responder res) {
    const auto& path = req.path;
    if (path == "/healthz") {
        res.send(json_response(200, R"({"status":"ok"})"));
        return;
    }
    if (path == "/readyz") {
        res.send(ready());
        return;
    }
    const bool coordinator = _config.daemon_role == role::coordinator;
    const bool known = path == "/configz" || path == "/metrics" || (coordinator && path == "/mpic") ||
                       (!coordinator && (path == "/dcv" || path == "/caa"));
    if (!known) {
        res.send(error_response(404, "not-found", "no such endpoint: " + path.substr(0, 128)));
        return;
    }
    auto client = authenticate(req);
    if (client.empty()) {
        _requests_unauthorized.inc();
        auto r = error_response(401, "unauthorized", "a valid bearer token or client certificate is required");
        r.headers.push_back({"WWW-Authenticate", "Bearer"});
        res.send(std::move(r));
        return;
    }
    const bool is_post = path == "/mpic" || path == "/dcv" || path == "/caa";
    if (req.method != (is_post ? "POST" : "GET")) {
        auto r = error_response(405, "method-not-allowed", path + " accepts " + (is_post ? "POST" : "GET"));
        r.headers.push_back({"Allow", is_post ? "POST" : "GET"});
        res.send(std::move(r));
        return;
    }
    if (path == "/configz") {
        res.send(json_response(200, _effective_config));
        return;
    }
    if (path == "/metrics") {
        response r;
        r.headers.push_back({"Content-Type", "text/plain; version=0.0.4"});
        r.body = core::metrics_registry::global().render_prometheus();
        res.send(std::move(r));
        return;
    }
    if (const auto* type = req.header("Content-Type"); type != nullptr && !is_json_media_type(*type)) {
        res.send(error_response(415, "unsupported-media-type", "the body must be application/json"));
        return;
    }
    if (_shutting_down.load(std::memory_order_relaxed)) {
        _requests_unavailable.inc();
        res.send(retry_later(503, "shutting-down", "this instance is shutting down", 1));
        return;
    }
    if (path == "/mpic") {
        handle_mpic(std::move(req), std::move(res), std::move(client));
    } else {
        handle_check(std::move(req), std::move(res),
                     path == "/caa" ? validators::check_type::caa : validators::check_type::dcv);
    }
}

void api_service::handle_mpic(request&& req, responder res, std::string client) {
    int retry_after = 1;
    switch (_limits.admit(client, retry_after)) {
    case admission::admitted:
        break;
    case admission::rate_limited:
        _requests_limited.inc();
        res.send(retry_later(429, "rate-limited", "request rate limit exceeded for " + client, retry_after));
        return;
    case admission::too_many_concurrent:
        _requests_limited.inc();
        res.send(retry_later(429, "too-many-concurrent-requests", "concurrent request limit exceeded for " + client,
                             retry_after));
        return;
    }
    if (_audit != nullptr && !_audit->healthy()) {
        // Refuse new work rather than decide without a record (issue #7; disk full or read-only).
        _limits.release(client);
        _requests_unavailable.inc();
        res.send(retry_later(503, "audit-unavailable", "the audit log cannot be written; refusing new work", 5));
        return;
    }
    auto parsed = quorum::parse_mpic_request(req.body);
    if (auto* issues = std::get_if<std::vector<quorum::request_issue>>(&parsed)) {
        _limits.release(client);
        _requests_bad.inc();
        res.send(json_response(400, quorum::render_validation_failure(*issues)));
        return;
    }
    _in_flight.add(1);
    const auto received = unix_ms();
    const auto started = std::chrono::steady_clock::now();
    auto* reactor = core::reactor::current();
    // Graceful shutdown waits on the reactor's gate: hold it until the answer (after its audit record) is sent.
    std::shared_ptr<core::gate::holder> hold;
    if (reactor != nullptr) {
        if (auto entered = reactor->in_flight().enter()) {
            hold = std::make_shared<core::gate::holder>(std::move(*entered));
        }
    }
    _engine.submit(std::get<quorum::mpic_request>(std::move(parsed)), [this, res, client, received, started, reactor,
                                                                       hold](quorum::submit_outcome&& outcome) {
        auto finish = [this, client, started, hold](const responder& r, response answer) {
            _limits.release(client);
            _in_flight.sub(1);
            _request_latency.observe(std::chrono::steady_clock::now() - started);
            r.send(std::move(answer));
            if (hold) {
                hold->release();
            }
        };
        if (!outcome.issues.empty()) {
            _requests_bad.inc();
            finish(res, json_response(400, quorum::render_validation_failure(outcome.issues)));
            return;
        }
        if (outcome.error || !outcome.response) {
            _requests_unavailable.inc();
            const bool overload = outcome.error == make_error_code(errc::queue_full);
            finish(res, overload ? retry_later(503, "overloaded", "too many checks in flight; retry later", 1)
                        : outcome.error == make_error_code(errc::shutting_down)
                            ? retry_later(503, "shutting-down", "this instance is shutting down", 1)
                            : error_response(500, "internal-error", outcome.error.message()));
            return;
        }
        observe(*outcome.response);
        auto body = std::make_shared<std::string>(quorum::render_mpic_response(*outcome.response));
        if (_audit == nullptr) {
            _requests_ok.inc();
            finish(res, json_response(200, std::move(*body)));
            return;
        }
        quorum::audit_context context;
        context.client = client;
        context.received_unix_ms = received;
        auto record = quorum::render_audit_record(*outcome.response, context);
        // The answer leaves only after its record is durable; the completion runs on the audit writer thread,
        // so it hops back to this reactor (post_continuation is accepted even while stopping).
        const auto appended_at = std::chrono::steady_clock::now();
        auto appended =
            _audit->append(std::move(record), [this, res, body, finish, reactor, appended_at](std::error_code ec) {
                auto reply = [this, res, body, finish, ec, appended_at]() mutable {
                    if (ec) {
                        _requests_unavailable.inc();
                        finish(res, retry_later(503, "audit-unavailable",
                                                "the decision could not be recorded: " + ec.message(), 5));
                        return;
                    }
                    _requests_ok.inc();
                    const auto commit = std::chrono::steady_clock::now() - appended_at;
                    _audit_commit_latency.observe(commit);
                    auto answer = json_response(200, std::move(*body));
                    // W3C Server-Timing: how long this answer waited for its audit record to become durable, so a
                    // client (mpic-bench --profile) can tell the storage's share of the latency from the engine's.
                    answer.headers.push_back({"Server-Timing", server_timing_audit(commit)});
                    finish(res, std::move(answer));
                };
                deliver_on(reactor, std::move(reply));
            });
        if (!appended) {
            _requests_unavailable.inc();
            finish(res, retry_later(503, "audit-unavailable",
                                    "the audit log refused the record: " + appended.error().message(), 5));
        }
    });
}

void api_service::handle_check(request&& req, responder res, validators::check_type type) {
    auto parsed = quorum::parse_check_request(req.body, type);
    if (auto* issues = std::get_if<std::vector<quorum::request_issue>>(&parsed)) {
        _requests_bad.inc();
        res.send(json_response(400, quorum::render_validation_failure(*issues)));
        return;
    }
    _engine.run_check(_config.perspective_code, std::get<validators::check_request>(std::move(parsed)),
                      [this, res](validators::check_result&& result) {
                          _requests_ok.inc();
                          res.send(json_response(200, quorum::render_check_result(result)));
                      });
}

response api_service::ready() const {
    nlohmann::json body = {{"compliant", _engine.compliant()}};
    if (_shutting_down.load(std::memory_order_relaxed)) {
        body["status"] = "shutting-down";
        return json_response(503, body.dump());
    }
    if (_audit != nullptr && !_audit->healthy()) {
        body["status"] = "audit-unavailable";
        return json_response(503, body.dump());
    }
    body["status"] = "ready";
    body["perspectives"] = _engine.config().perspectives.size();
    return json_response(200, body.dump());
}

void api_service::observe(const quorum::mpic_response& response) {
    (response.is_valid() ? _decisions_valid : _decisions_invalid).inc();
    // Per-perspective, per-method check latency (Boulder's validation_latency labels). Series handles are cached
    // per reactor thread: registration takes the registry mutex, the cached handle does not.
    thread_local std::unordered_map<std::string, core::histogram> series;
    auto record = [&](const quorum::check_outcome& outcome, std::string_view method) {
        for (const auto& p : outcome.perspectives) {
            const auto& r = p.result;
            std::string result = !r.completed ? "not_completed" : r.passed ? "pass" : "fail";
            std::string key = p.code + '\0' + std::string(method) + '\0' + result;
            auto it = series.find(key);
            if (it == series.end()) {
                auto h = core::metrics_registry::global().add_histogram(
                    "mpic_check_duration_seconds", "Perspective check latency",
                    {{"perspective", p.code}, {"method", std::string(method)}, {"result", result}});
                if (!h) {
                    continue; // series limit reached: keep serving, lose the detail
                }
                it = series.emplace(std::move(key), *h).first;
            }
            it->second.observe_us(r.timings.total_us);
            // Where the latency goes (issue #8): one histogram per phase and method, phases not reached skipped.
            const std::pair<const char*, std::uint32_t> phases[] = {
                {"queue", r.timings.queue_us},           {"dns", r.timings.dns_us},
                {"connect", r.timings.connect_us},       {"tls", r.timings.tls_us},
                {"first_byte", r.timings.first_byte_us}, {"body", r.timings.body_us}};
            for (const auto& [phase, us] : phases) {
                if (us == 0) {
                    continue;
                }
                std::string phase_key = std::string(phase) + '\0' + std::string(method);
                auto ph = series.find(phase_key);
                if (ph == series.end()) {
                    auto h = core::metrics_registry::global().add_histogram(
                        "mpic_check_phase_seconds", "Perspective check latency by phase",
                        {{"phase", phase}, {"method", std::string(method)}});
                    if (!h) {
                        continue;
                    }
                    ph = series.emplace(std::move(phase_key), *h).first;
                }
                ph->second.observe_us(us);
            }
        }
    };
    for (const auto& t : response.targets) {
        if (t.dcv) {
            record(*t.dcv, validators::to_string(response.request.dcv.method));
        }
        if (t.caa) {
            record(*t.caa, "caa");
        }
    }
}

} // namespace mpic::mpicd
