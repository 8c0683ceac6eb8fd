#include "tests/integration/lab_perspective.hh"

#include <csignal>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <thread>

#include <gtest/gtest.h>

#include "net/addr/ip_address.hh"
#include "net/name/identifier.hh"
#include "validators/tls/acme_identifier.hh"

namespace mpic::test {

lab_perspective::lab_perspective(const lab::lab& l, perspective_options options) {
    // tls-alpn-01 hangs up right after the handshake and a server may still be writing: EPIPE, not a signal.
    std::signal(SIGPIPE, SIG_IGN);
    EXPECT_EQ(uv_loop_init(&_loop), 0);
    const std::string source = l.perspective_address(options.k);

    net::dns::resolver_config dns;
    dns.perspective = "lab-" + std::to_string(options.k);
    const auto upstream = l.dns_for(options.k);
    dns.servers = {{upstream.address, options.dns_port.value_or(upstream.port)}};
    dns.source_ipv4 = source;
    dns.timeout_ms = options.dns_timeout_ms;
    dns.tries = options.dns_tries;
    const auto validating_resolver = l.resolver_for(options.k);
    dns.validates_dnssec = options.validating.value_or(!options.dns_port && validating_resolver &&
                                                       validating_resolver->address == upstream.address &&
                                                       validating_resolver->port == upstream.port);
    auto created = net::dns::resolver::create(&_loop, dns);
    EXPECT_TRUE(created.has_value()) << (created ? "" : created.error().message());
    if (created) {
        _resolver = std::move(created.value());
    }

    net::tls::client_context_options tls_options;
    tls_options.system_trust = false;
    auto ctx = net::tls::client_context::create(tls_options);
    EXPECT_TRUE(ctx.has_value());
    if (ctx) {
        _tls.emplace(std::move(ctx.value()));
    }

    net::http::client_config http;
    const net::addr::lab_ports ports{options.http_port.value_or(l.http_port()), l.https_port(),
                                     l.tls_alpn_port().value_or(l.https_port())};
    http.policy = options.policy.value_or(net::addr::address_policy::lab(ports));
    if (auto address = net::addr::ip_address::parse(source)) {
        http.source_v4 = *address;
    }
    _http = std::make_unique<net::http::client>(&_loop, _tls ? &*_tls : nullptr, http);

    _runtime.loop = &_loop;
    _runtime.dns = _resolver.get();
    _runtime.http = _http.get();
}

lab_perspective::~lab_perspective() {
    _http->close();
    _http.reset();
    _resolver.reset();
    uv_run(&_loop, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&_loop), 0);
}

validators::check_result lab_perspective::run(const validators::check_request& request, std::uint64_t timeout_ms,
                                              std::chrono::milliseconds* elapsed) {
    std::optional<validators::check_result> out;
    int calls = 0;
    const auto started = std::chrono::steady_clock::now();
    auto finished_at = started;
    validators::start_check(_runtime, std::make_shared<const validators::check_request>(request), timeout_ms,
                            [&](validators::check_result&& result) {
                                ++calls;
                                finished_at = std::chrono::steady_clock::now();
                                out = std::move(result);
                            });
    const auto give_up = started + std::chrono::milliseconds(timeout_ms + 3000);
    while (!out && std::chrono::steady_clock::now() < give_up) {
        uv_run(&_loop, UV_RUN_ONCE);
    }
    // Let late completions (closed handles, detached queries, cancelled exchanges) drain, then prove exactly once.
    uv_run(&_loop, UV_RUN_NOWAIT);
    EXPECT_EQ(calls, 1) << "the check's callback must run exactly once";
    if (elapsed != nullptr) {
        *elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(finished_at - started);
    }
    return out.value_or(validators::check_result{});
}

std::vector<validators::check_result> lab_perspective::run_all(const std::vector<validators::check_request>& requests,
                                                               std::uint64_t timeout_ms) {
    std::vector<std::optional<validators::check_result>> out(requests.size());
    std::vector<int> calls(requests.size(), 0);
    std::size_t done = 0;
    for (std::size_t i = 0; i < requests.size(); ++i) {
        validators::start_check(_runtime, std::make_shared<const validators::check_request>(requests[i]), timeout_ms,
                                [&, i](validators::check_result&& result) {
                                    ++calls[i];
                                    ++done;
                                    out[i] = std::move(result);
                                });
    }
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms + 3000);
    while (done < requests.size() && std::chrono::steady_clock::now() < give_up) {
        uv_run(&_loop, UV_RUN_ONCE);
    }
    uv_run(&_loop, UV_RUN_NOWAIT);
    std::vector<validators::check_result> results;
    for (std::size_t i = 0; i < requests.size(); ++i) {
        EXPECT_EQ(calls[i], 1) << "check " << i << ": the callback must run exactly once";
        results.push_back(out[i].value_or(validators::check_result{}));
    }
    return results;
}

validators::check_result lab_perspective::run_and_cancel(const validators::check_request& request,
                                                         std::chrono::milliseconds after, std::uint64_t timeout_ms) {
    std::optional<validators::check_result> out;
    int calls = 0;
    auto handle = validators::start_check(_runtime, std::make_shared<const validators::check_request>(request),
                                          timeout_ms, [&](validators::check_result&& result) {
                                              ++calls;
                                              out = std::move(result);
                                          });
    auto* timer = new uv_timer_t; // freed in its close callback (libuv handle lifetime)
    uv_timer_init(&_loop, timer);
    timer->data = &handle;
    uv_timer_start(
        timer, [](uv_timer_t* t) { static_cast<validators::check_handle*>(t->data)->cancel(); },
        static_cast<std::uint64_t>(after.count()), 0);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms + 3000);
    while (!out && std::chrono::steady_clock::now() < give_up) {
        uv_run(&_loop, UV_RUN_ONCE);
    }
    handle.cancel(); // after completion: a no-op
    uv_close(reinterpret_cast<uv_handle_t*>(timer), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    uv_run(&_loop, UV_RUN_NOWAIT);
    EXPECT_EQ(calls, 1) << "the check's callback must run exactly once";
    return out.value_or(validators::check_result{});
}

validators::check_request dcv_request(std::string_view target, validators::validation_method method) {
    validators::check_request request;
    request.type = validators::check_type::dcv;
    auto id = net::parse_identifier(target);
    EXPECT_TRUE(id.has_value()) << target;
    if (id) {
        request.target = id.value();
    }
    request.dcv.method = method;
    request.trace_id = "labchecks";
    return request;
}

validators::check_request caa_request(std::string_view target) {
    auto request = dcv_request(target, validators::validation_method::acme_dns_01);
    request.type = validators::check_type::caa;
    request.caa.caa_domains = {"ca.example"};
    return request;
}

validators::check_request http01_request(std::string_view target, std::string_view token) {
    auto request = dcv_request(target, validators::validation_method::acme_http_01);
    request.dcv.token = std::string(token);
    request.dcv.key_authorization = std::string(token) + ".thumb";
    return request;
}

validators::check_request tls_alpn_request(std::string_view target, std::string_view key_authorization) {
    auto request = dcv_request(target, validators::validation_method::acme_tls_alpn_01);
    request.dcv.key_authorization_hash = sha256_base64url(key_authorization);
    return request;
}

std::string sha256_base64url(std::string_view text) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const auto digest = validators::tls::digest_of(text);
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const std::uint8_t byte : digest) {
        buffer = (buffer << 8) | byte;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(alphabet[(buffer >> bits) & 0x3FU]);
        }
    }
    if (bits > 0) {
        out.push_back(alphabet[(buffer << (6 - bits)) & 0x3FU]);
    }
    return out;
}

std::string access_log(const lab::lab& l) {
    std::ifstream in(l.access_log_path());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool access_log_has(const lab::lab& l, std::string_view needle, std::chrono::milliseconds wait) {
    const auto until = std::chrono::steady_clock::now() + wait;
    while (true) {
        if (access_log(l).find(needle) != std::string::npos) {
            return true;
        }
        if (std::chrono::steady_clock::now() >= until) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

long peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

std::string first_error(const validators::check_result& result) {
    if (result.errors.empty()) {
        return "(no error)";
    }
    return result.errors.front().type + ": " + result.errors.front().message;
}

} // namespace mpic::test
