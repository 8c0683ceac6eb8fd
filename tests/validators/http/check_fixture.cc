#include "tests/validators/http/check_fixture.hh"

#include <csignal>

#include <gtest/gtest.h>

namespace mpic::test {

check_fixture::check_fixture(net::addr::lab_ports lab) {
    // Peers close early on purpose (tls-alpn-01 hangs up right after the handshake, while the test server may still
    // write session tickets): a write to a closed socket must be an EPIPE, not a process-killing signal.
    std::signal(SIGPIPE, SIG_IGN);
    EXPECT_EQ(uv_loop_init(&loop), 0);
    net::dns::resolver_config config;
    config.perspective = "test";
    config.servers = {{"127.0.0.1", dns.port()}};
    config.timeout_ms = 500;
    config.tries = 1;
    auto created = net::dns::resolver::create(&loop, config);
    EXPECT_TRUE(created.has_value());
    if (created) {
        resolver = std::move(created.value());
    }
    net::tls::client_context_options tls_options;
    tls_options.system_trust = false;
    auto ctx = net::tls::client_context::create(tls_options);
    EXPECT_TRUE(ctx.has_value());
    if (ctx) {
        tls.emplace(std::move(ctx.value()));
    }
    net::http::client_config http_config;
    http_config.policy = net::addr::address_policy::lab(lab);
    http = std::make_unique<net::http::client>(&loop, tls ? &*tls : nullptr, http_config);
    runtime.loop = &loop;
    runtime.dns = resolver.get();
    runtime.http = http.get();
}

check_fixture::~check_fixture() {
    http->close();
    http.reset();
    resolver.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop), 0);
}

validators::check_result check_fixture::run(validators::check_factory factory, validators::check_request request,
                                            std::uint64_t timeout_ms) {
    std::optional<validators::check_result> out;
    int calls = 0;
    auto op = factory(runtime, std::make_shared<const validators::check_request>(std::move(request)),
                      [&](validators::check_result&& result) {
                          ++calls;
                          out = std::move(result);
                      });
    op->start(timeout_ms);
    op.reset();
    const auto give_up = uv_hrtime() + (timeout_ms + 2000) * 1'000'000ull;
    while (!out && uv_hrtime() < give_up) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    // Let late completions (closed handles, detached queries) drain, then prove the callback ran exactly once.
    uv_run(&loop, UV_RUN_NOWAIT);
    EXPECT_EQ(calls, 1);
    return out.value_or(validators::check_result{});
}

validators::check_request make_request(std::string_view target, validators::validation_method method) {
    validators::check_request request;
    request.type = validators::check_type::dcv;
    auto id = net::parse_identifier(target);
    EXPECT_TRUE(id.has_value()) << target;
    if (id) {
        request.target = id.value();
    }
    request.dcv.method = method;
    return request;
}

} // namespace mpic::test
