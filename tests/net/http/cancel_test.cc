// Cancellation of a client exchange in each named stage: the completion runs exactly once, inside cancel(), with
// errc::cancelled and the stage it was in; cancelling again (or after completion) does nothing.

#include <gtest/gtest.h>

#include "core/error.hh"
#include "net/http/client.hh"
#include "tests/net/http/client_test_util.hh"
#include "tests/net/http/test_server.hh"
#include "tests/net/tls/test_pki.hh"

namespace mpic::net::http {
namespace {

using namespace std::chrono_literals;
using test::server_conn;
using test::test_server;

addr::ip_address ip(std::string_view s) {
    return addr::ip_address::parse(s).value();
}

class Cancel : public test::loop_fixture {
protected:
    request get(std::uint16_t port) {
        request r;
        r.addresses = {ip("127.0.0.1")};
        r.port = port;
        r.host = "example.test";
        r.deadlines = {5s, 5s, 5s, 5s, 5s, 8s};
        return r;
    }
    client& plain_client() {
        client_config cfg;
        cfg.policy = addr::address_policy::unrestricted("unit tests on loopback");
        return make_client(cfg, _tls ? &*_tls : nullptr);
    }
    // Starts `req`, runs the loop `settle` long (or until the first prepare phase for connect), cancels, checks.
    void expect_cancel_in(stage expected, request req, std::chrono::milliseconds settle) {
        auto& c = plain_client();
        int calls = 0;
        exchange_result got;
        auto handle = c.fetch(std::move(req), [&](exchange_result&& r) {
            ++calls;
            got = std::move(r);
        });
        EXPECT_TRUE(handle.pending());
        if (settle.count() > 0) {
            run_for(settle);
        } else {
            // The deferred start runs in the timer phase; the next prepare phase is before any I/O poll, so the
            // TCP connect has been issued but cannot have completed yet.
            uv_prepare_t prep;
            uv_prepare_init(&_loop, &prep);
            prep.data = &handle;
            uv_prepare_start(&prep, [](uv_prepare_t* p) {
                static_cast<request_handle*>(p->data)->cancel();
                uv_prepare_stop(p);
            });
            uv_run(&_loop, UV_RUN_ONCE);
            uv_close(reinterpret_cast<uv_handle_t*>(&prep), nullptr);
            uv_run(&_loop, UV_RUN_NOWAIT);
        }
        handle.cancel();
        EXPECT_EQ(calls, 1);
        EXPECT_FALSE(handle.pending());
        EXPECT_EQ(got.error, errc::cancelled);
        EXPECT_EQ(got.failed_stage, expected) << to_string(got.failed_stage);
        handle.cancel(); // no second completion
        run_for(20ms);
        EXPECT_EQ(calls, 1);
        EXPECT_EQ(c.in_flight(), 0u);
    }
    std::optional<tls::client_context> _tls;
};

TEST_F(Cancel, BeforeStart) {
    auto& c = plain_client();
    int calls = 0;
    exchange_result got;
    auto h = c.fetch(get(1), [&](exchange_result&& r) {
        ++calls;
        got = std::move(r);
    });
    h.cancel();
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(got.error, errc::cancelled);
    EXPECT_EQ(got.failed_stage, stage::none);
    run_for(20ms);
    EXPECT_EQ(calls, 1);
}

TEST_F(Cancel, InConnect) {
    test_server server([](server_conn&) {});
    expect_cancel_in(stage::connect, get(server.port()), 0ms);
}

TEST_F(Cancel, InTls) {
    auto ctx = tls::client_context::create(test::trust_only({}));
    ASSERT_TRUE(ctx.has_value());
    _tls.emplace(std::move(*ctx));
    std::atomic<bool> release{false};
    test_server silent([&](server_conn&) { test::wait_released(release); });
    auto req = get(silent.port());
    req.tls = tls_options{"example.test", {"http/1.1"}, tls::verification::off("test")};
    expect_cancel_in(stage::tls, std::move(req), 100ms);
    release = true;
}

TEST_F(Cancel, InSend) {
    std::atomic<bool> release{false};
    test_server not_reading([&](server_conn&) { test::wait_released(release); });
    auto req = get(not_reading.port());
    req.method = "POST";
    req.body.assign(64 << 20, 'x'); // far more than the socket buffers hold: the write stays pending
    expect_cancel_in(stage::send, std::move(req), 100ms);
    release = true;
}

TEST_F(Cancel, InHead) {
    std::atomic<bool> release{false};
    test_server silent([&](server_conn& c) {
        c.read_request();
        test::wait_released(release);
    });
    expect_cancel_in(stage::head, get(silent.port()), 100ms);
    release = true;
}

TEST_F(Cancel, InBody) {
    std::atomic<bool> release{false};
    test_server slow([&](server_conn& c) {
        c.read_request();
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart");
        test::wait_released(release);
    });
    expect_cancel_in(stage::body, get(slow.port()), 100ms);
    release = true;
}

TEST_F(Cancel, AfterCompletionIsNoOp) {
    test_server server([](server_conn& c) {
        c.read_request();
        c.write("HTTP/1.1 204 No Content\r\n\r\n");
    });
    auto& c = plain_client();
    int calls = 0;
    auto h = c.fetch(get(server.port()), [&](exchange_result&& r) {
        ++calls;
        EXPECT_TRUE(r.ok());
    });
    run_until([&] { return calls == 1; });
    h.cancel();
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(h.pending());
    request_handle empty;
    empty.cancel(); // a default handle is inert
    EXPECT_FALSE(empty.pending());
}

TEST_F(Cancel, FromInsideAnotherCompletion) {
    std::atomic<bool> release{false};
    test_server server([&](server_conn& c) {
        const std::string req = c.read_request();
        if (req.find("/fast") != std::string::npos) {
            c.write("HTTP/1.1 204 No Content\r\n\r\n");
            return;
        }
        test::wait_released(release);
    });
    auto& c = plain_client();
    std::vector<std::string> order;
    auto slow_req = get(server.port());
    slow_req.target = "/slow";
    auto slow = c.fetch(slow_req, [&](exchange_result&& r) {
        order.push_back(r.error == errc::cancelled ? "slow-cancelled" : "slow-other");
    });
    auto fast_req = get(server.port());
    fast_req.target = "/fast";
    c.fetch(fast_req, [&](exchange_result&&) {
        order.push_back("fast");
        slow.cancel(); // the quorum decided: cancel the straggler from inside a completion
    });
    run_until([&] { return order.size() == 2; });
    release = true;
    EXPECT_EQ(order, (std::vector<std::string>{"fast", "slow-cancelled"}));
}

} // namespace
} // namespace mpic::net::http
