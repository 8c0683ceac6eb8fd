#pragma once
// Fixture for the HTTP client tests: a loop per test, a bounded run helper, and the teardown that proves every
// handle was closed (uv_loop_close == 0, libuv's MAKE_VALGRIND_HAPPY).

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include <gtest/gtest.h>
#include <uv.h>

#include "net/http/client.hh"

namespace mpic::test {

class loop_fixture : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(uv_loop_init(&_loop), 0);
        ASSERT_EQ(uv_timer_init(&_loop, &_guard), 0);
    }
    void TearDown() override {
        _clients.clear(); // client destructors close their handles
        uv_close(reinterpret_cast<uv_handle_t*>(&_guard), nullptr);
        uv_run(&_loop, UV_RUN_DEFAULT);
        EXPECT_EQ(uv_loop_close(&_loop), 0);
    }

    /// Runs the loop until `done()` or `limit` passed (the guard timer wakes the loop every 10 ms).
    void run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        uv_timer_start(
            &_guard, [](uv_timer_t*) {}, 10, 10);
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            uv_run(&_loop, UV_RUN_ONCE);
        }
        uv_timer_stop(&_guard);
    }
    void run_for(std::chrono::milliseconds d) {
        const auto until = std::chrono::steady_clock::now() + d;
        run_until([&] { return std::chrono::steady_clock::now() >= until; }, d + std::chrono::seconds(1));
    }

    net::http::client& make_client(net::http::client_config cfg, const net::tls::client_context* tls = nullptr) {
        _clients.push_back(std::make_unique<net::http::client>(&_loop, tls, std::move(cfg)));
        return *_clients.back();
    }

    /// fetch() and run until its completion; asserts it completed exactly once.
    net::http::exchange_result fetch(net::http::client& c, net::http::request req) {
        std::optional<net::http::exchange_result> out;
        int calls = 0;
        c.fetch(std::move(req), [&](net::http::exchange_result&& r) {
            ++calls;
            out = std::move(r);
        });
        run_until([&] { return out.has_value(); });
        EXPECT_EQ(calls, 1);
        EXPECT_TRUE(out.has_value());
        return out ? std::move(*out) : net::http::exchange_result{};
    }

    uv_loop_t _loop{};
    uv_timer_t _guard{};
    std::vector<std::unique_ptr<net::http::client>> _clients;
};

/// A flag a test sets to let blocked server handlers return (each handler waits at most ~2 s anyway).
inline void wait_released(const std::atomic<bool>& release) {
    for (int i = 0; i < 200 && !release.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

} // namespace mpic::test
