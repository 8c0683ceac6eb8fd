#pragma once
// Runs one DNS check on a private loop against fake_dns_server through the real resolver, and tears everything down
// so that uv_loop_close() returns 0 (style: every test that runs a loop ends with a clean loop).

#include <memory>
#include <optional>

#include <gtest/gtest.h>
#include <uv.h>

#include "net/dns/resolver.hh"
#include "tests/validators/dns/fake_dns_server.hh"
#include "validators/methods.hh"

namespace mpic::test {

class check_harness {
public:
    /// `validating`: declare the resolver DNSSEC-validating (resolver_config::validates_dnssec), as the engine does
    /// from `[dns] resolver_validates_dnssec`. `tries`: the resolver's rounds (1: a silent server times out after
    /// one resolver_timeout_ms).
    explicit check_harness(fake_dns_server::handler on_query, std::uint32_t resolver_timeout_ms = 300,
                           bool validating = false, std::uint32_t tries = 1) {
        uv_loop_init(&_loop);
        _server.emplace(&_loop, std::move(on_query));
        net::dns::resolver_config config;
        config.perspective = "test";
        config.servers = {{"127.0.0.1", _server->port()}};
        config.timeout_ms = resolver_timeout_ms;
        config.tries = tries;
        config.validates_dnssec = validating;
        auto created = net::dns::resolver::create(&_loop, config);
        if (!created) {
            ADD_FAILURE() << "resolver::create: " << created.error().message();
        } else {
            _resolver = std::move(*created);
        }
        _runtime.loop = &_loop;
        _runtime.dns = _resolver.get();
    }

    ~check_harness() {
        _resolver.reset();
        _server->close();
        uv_run(&_loop, UV_RUN_DEFAULT);
        EXPECT_EQ(uv_loop_close(&_loop), 0);
    }

    check_harness(const check_harness&) = delete;
    check_harness& operator=(const check_harness&) = delete;

    /// Starts the check the factory makes and runs the loop until its callback has fired (bounded by the check's
    /// own deadline). Asserts the callback fired exactly once.
    validators::check_result run(validators::check_factory factory, validators::check_request request,
                                 std::uint64_t deadline_ms = 3000) {
        std::optional<validators::check_result> out;
        int calls = 0;
        auto op = factory(_runtime, std::make_shared<const validators::check_request>(std::move(request)),
                          [&](validators::check_result&& result) {
                              ++calls;
                              out = std::move(result);
                          });
        op->start(deadline_ms);
        op.reset(); // the check keeps itself alive while it runs
        while (!out) {
            uv_run(&_loop, UV_RUN_ONCE);
        }
        // Let late I/O (a detached query, the deadline timer's close) run: the callback must not fire again.
        for (int i = 0; i < 3; ++i) {
            uv_run(&_loop, UV_RUN_NOWAIT);
        }
        EXPECT_EQ(calls, 1);
        return std::move(*out);
    }

    const fake_dns_server& server() const { return *_server; }
    validators::perspective_runtime& runtime() { return _runtime; }
    uv_loop_t* loop() { return &_loop; }

private:
    uv_loop_t _loop{};
    std::optional<fake_dns_server> _server;
    std::unique_ptr<net::dns::resolver> _resolver;
    validators::perspective_runtime _runtime;
};

} // namespace mpic::test
