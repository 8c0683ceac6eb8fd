// net/http client over plain HTTP against in-process servers on 127.0.0.1:0: framing, caps, deadlines, resets,
// keep-alive reuse and expiry, source binding, IPv6→IPv4 fallback, the address policy, request validation.

#include <gtest/gtest.h>

#include "core/error.hh"
#include "net/http/client.hh"
#include "tests/net/http/client_test_util.hh"
#include "tests/net/http/test_server.hh"

namespace mpic::net::http {
namespace {

using namespace std::chrono_literals;
using test::answer_each;
using test::server_conn;
using test::test_server;

addr::ip_address ip(std::string_view s) {
    return addr::ip_address::parse(s).value();
}

client_config loopback_config() {
    client_config cfg;
    cfg.policy = addr::address_policy::unrestricted("unit tests on loopback");
    return cfg;
}

request get(std::uint16_t port, std::string target = "/x") {
    request r;
    r.addresses = {ip("127.0.0.1")};
    r.port = port;
    r.host = "example.test";
    r.target = std::move(target);
    r.headers = {{"User-Agent", "mpic-test"}, {"Accept", "*/*"}};
    r.deadlines = {2s, 2s, 2s, 2s, 2s, 5s};
    return r;
}

class HttpClient : public test::loop_fixture {};

TEST_F(HttpClient, GetWithContentLength) {
    std::string seen;
    test_server server([&](server_conn& c) {
        seen = c.read_request();
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Test: yes\r\n\r\nhello");
    });
    auto& client = make_client(loopback_config());
    auto r = fetch(client, get(server.port(), "/.well-known/acme-challenge/tok"));
    ASSERT_TRUE(r.ok()) << r.error.message() << " at " << to_string(r.failed_stage);
    EXPECT_EQ(r.failed_stage, stage::none);
    EXPECT_EQ(r.response.status, 200);
    EXPECT_EQ(r.response.body, "hello");
    ASSERT_NE(find_header(r.response.headers, "x-test"), nullptr);
    EXPECT_EQ(find_header(r.response.headers, "x-test")->value, "yes");
    EXPECT_EQ(r.response.address, ip("127.0.0.1"));
    EXPECT_EQ(r.response.port, server.port());
    EXPECT_FALSE(r.response.reused);
    EXPECT_FALSE(r.response.fell_back);
    EXPECT_GT(r.response.timings.total.count(), 0);
    EXPECT_GE(r.response.timings.total, r.response.timings.connect + r.response.timings.head);
    EXPECT_EQ(seen.rfind("GET /.well-known/acme-challenge/tok HTTP/1.1\r\nHost: example.test\r\n", 0), 0u) << seen;
    EXPECT_NE(seen.find("User-Agent: mpic-test\r\n"), std::string::npos);
    EXPECT_NE(seen.find("Connection: close\r\n"), std::string::npos); // keep_alive defaults to off
    EXPECT_EQ(server.accepted(), 1);
}

TEST_F(HttpClient, GetChunked) {
    test_server server([](server_conn& c) {
        c.read_request();
        c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nkey.\r\n");
        c.write("5\r\nauthz\r\n0\r\n\r\n");
    });
    auto r = fetch(make_client(loopback_config()), get(server.port()));
    ASSERT_TRUE(r.ok()) << r.error.message();
    EXPECT_EQ(r.response.body, "key.authz");
}

TEST_F(HttpClient, GetUntilClose) {
    test_server server([](server_conn& c) {
        c.read_request();
        c.write("HTTP/1.0 200 OK\r\n\r\nuntil ");
        c.write("close");
    }); // the handler returning closes the socket
    auto r = fetch(make_client(loopback_config()), get(server.port()));
    ASSERT_TRUE(r.ok()) << r.error.message();
    EXPECT_EQ(r.response.body, "until close");
    EXPECT_EQ(r.response.http_minor, 0);
}

TEST_F(HttpClient, BodyCapStopsReadingAndKeepsFirstBytes) {
    test_server server([](server_conn& c) {
        c.read_request();
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'a'));
    });
    auto req = get(server.port());
    req.body_cap = 128; // Boulder's HTTP-01 cap
    auto r = fetch(make_client(loopback_config()), std::move(req));
    EXPECT_EQ(r.error, errc::limit_exceeded);
    EXPECT_EQ(r.failed_stage, stage::body);
    EXPECT_EQ(r.response.body, std::string(128, 'a'));
    EXPECT_EQ(r.response.status, 200);
}

TEST_F(HttpClient, HeadDeadlineOnSilentServer) {
    std::atomic<bool> release{false};
    test_server server([&](server_conn& c) {
        c.read_request();
        test::wait_released(release);
    });
    auto req = get(server.port());
    req.deadlines.head = 150ms;
    auto r = fetch(make_client(loopback_config()), std::move(req));
    release = true;
    EXPECT_EQ(r.error, errc::timed_out);
    EXPECT_EQ(r.failed_stage, stage::head);
    EXPECT_GE(r.response.timings.head, 140ms);
    EXPECT_LT(r.response.timings.total, 2s);
}

TEST_F(HttpClient, BodyDeadlineOnStalledBody) {
    std::atomic<bool> release{false};
    test_server server([&](server_conn& c) {
        c.read_request();
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        test::wait_released(release);
    });
    auto req = get(server.port());
    req.deadlines.body = 150ms;
    auto r = fetch(make_client(loopback_config()), std::move(req));
    release = true;
    EXPECT_EQ(r.error, errc::timed_out);
    EXPECT_EQ(r.failed_stage, stage::body);
    EXPECT_EQ(r.response.body, "abc");
}

TEST_F(HttpClient, TotalDeadlineBoundsEverything) {
    std::atomic<bool> release{false};
    test_server server([&](server_conn& c) {
        c.read_request();
        test::wait_released(release);
    });
    auto req = get(server.port());
    req.deadlines = {5s, 5s, 5s, 5s, 5s, 200ms};
    auto r = fetch(make_client(loopback_config()), std::move(req));
    release = true;
    EXPECT_EQ(r.error, errc::timed_out);
    EXPECT_EQ(r.failed_stage, stage::head);
    EXPECT_LT(r.response.timings.total, 1s);
}

TEST_F(HttpClient, ResetMidBody) {
    test_server server([](server_conn& c) {
        c.read_request();
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
        std::this_thread::sleep_for(50ms);
        c.reset(); // the handler returns: RST
    });
    auto r = fetch(make_client(loopback_config()), get(server.port()));
    EXPECT_EQ(r.error, uv_error(UV_ECONNRESET)) << r.error.message();
    EXPECT_EQ(r.failed_stage, stage::body);
    EXPECT_EQ(r.response.body, "only part");
}

TEST_F(HttpClient, CloseMidBodyIsIncomplete) {
    test_server server([](server_conn& c) {
        c.read_request();
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
    });
    auto r = fetch(make_client(loopback_config()), get(server.port()));
    EXPECT_EQ(r.error.category(), llhttp_category()) << r.error.message();
    EXPECT_EQ(r.failed_stage, stage::body);
}

TEST_F(HttpClient, ConnectionRefused) {
    std::uint16_t port = 0;
    {
        test_server gone([](server_conn&) {});
        port = gone.port();
    } // nothing listens there any more
    auto r = fetch(make_client(loopback_config()), get(port));
    EXPECT_EQ(r.error, uv_error(UV_ECONNREFUSED));
    EXPECT_EQ(r.failed_stage, stage::connect);
}

TEST_F(HttpClient, KeepAliveReusesConnection) {
    test_server server([](server_conn& c) { answer_each(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); });
    auto& client = make_client(loopback_config());
    auto req = get(server.port());
    req.keep_alive = true;
    auto first = fetch(client, req);
    ASSERT_TRUE(first.ok()) << first.error.message();
    EXPECT_FALSE(first.response.reused);
    EXPECT_EQ(client.idle_connections(), 1u);
    auto second = fetch(client, req);
    ASSERT_TRUE(second.ok()) << second.error.message();
    EXPECT_TRUE(second.response.reused);
    EXPECT_FALSE(second.response.stale_retry);
    EXPECT_EQ(second.response.body, "ok");
    EXPECT_EQ(client.connections_opened(), 1u);
    EXPECT_EQ(server.accepted(), 1); // counted on the server side
}

TEST_F(HttpClient, NoReuseWithoutKeepAliveOrAcrossSourceAddresses) {
    test_server server([](server_conn& c) { answer_each(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); });
    auto cfg_a = loopback_config();
    cfg_a.source_v4 = ip("127.0.0.1");
    auto cfg_b = loopback_config();
    cfg_b.source_v4 = ip("127.0.0.2");
    auto& a = make_client(cfg_a);
    auto& b = make_client(cfg_b);
    auto req = get(server.port());
    req.keep_alive = true;
    ASSERT_TRUE(fetch(a, req).ok());
    auto rb = fetch(b, req); // b's pool is its own: a's idle connection is invisible to it
    ASSERT_TRUE(rb.ok());
    EXPECT_FALSE(rb.response.reused);
    EXPECT_EQ(server.accepted(), 2);
    auto peers = server.peers();
    ASSERT_EQ(peers.size(), 2u);
    EXPECT_EQ(peers[0], "127.0.0.1");
    EXPECT_EQ(peers[1], "127.0.0.2");
    // And a request without keep_alive neither takes from nor returns to the pool.
    auto plain = get(server.port());
    auto rc = fetch(a, plain);
    ASSERT_TRUE(rc.ok());
    EXPECT_FALSE(rc.response.reused);
    EXPECT_EQ(server.accepted(), 3);
    EXPECT_EQ(a.idle_connections(), 1u);
}

TEST_F(HttpClient, StalePooledConnectionIsRetriedOnceOnAFreshOne) {
    std::atomic<bool> close_now{false};
    test_server server([&](server_conn& c) {
        if (c.read_request().empty()) {
            return;
        }
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); // keep-alive as far as the client knows
        if (server.accepted() == 1) {
            test::wait_released(close_now); // then close it while it sits in the client's pool
        } else {
            answer_each(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    auto& client = make_client(loopback_config());
    auto req = get(server.port());
    req.keep_alive = true;
    ASSERT_TRUE(fetch(client, req).ok());
    ASSERT_EQ(client.idle_connections(), 1u);
    close_now = true;
    std::this_thread::sleep_for(100ms); // the FIN is in our socket, but the loop has not run: still "idle"
    // The deferred start runs in the timer phase, before the poll that would report the EOF, so the stale
    // connection is taken from the pool, fails before any response byte, and the request is retried once.
    auto r = fetch(client, req);
    ASSERT_TRUE(r.ok()) << r.error.message() << " at " << to_string(r.failed_stage);
    EXPECT_TRUE(r.response.stale_retry);
    EXPECT_FALSE(r.response.reused); // answered on the fresh connection
    EXPECT_EQ(server.accepted(), 2);
    EXPECT_EQ(client.connections_opened(), 2u);
}

TEST_F(HttpClient, ServerConnectionCloseIsNotPooled) {
    test_server server([](server_conn& c) {
        c.read_request();
        c.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
    });
    auto& client = make_client(loopback_config());
    auto req = get(server.port());
    req.keep_alive = true;
    ASSERT_TRUE(fetch(client, req).ok());
    EXPECT_EQ(client.idle_connections(), 0u);
}

TEST_F(HttpClient, IdleConnectionsExpire) {
    test_server server([](server_conn& c) { answer_each(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); });
    auto cfg = loopback_config();
    cfg.idle_timeout = 100ms;
    auto& client = make_client(cfg);
    auto req = get(server.port());
    req.keep_alive = true;
    ASSERT_TRUE(fetch(client, req).ok());
    EXPECT_EQ(client.idle_connections(), 1u);
    run_until([&] { return client.idle_connections() == 0; }, 2s);
    EXPECT_EQ(client.idle_connections(), 0u);
    auto again = fetch(client, req);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again.response.reused);
    EXPECT_EQ(server.accepted(), 2);
}

TEST_F(HttpClient, PoolCapacityBound) {
    test_server server([](server_conn& c) { answer_each(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); });
    auto cfg = loopback_config();
    cfg.pool_capacity = 1;
    auto& client = make_client(cfg);
    auto req = get(server.port());
    req.keep_alive = true;
    int done = 0;
    client.fetch(req, [&](exchange_result&& r) { done += r.ok(); });
    client.fetch(req, [&](exchange_result&& r) { done += r.ok(); });
    run_until([&] { return done == 2; });
    EXPECT_EQ(done, 2);
    EXPECT_EQ(server.accepted(), 2); // concurrent: two connections
    EXPECT_EQ(client.idle_connections(), 1u);
}

TEST_F(HttpClient, SourceAddressSeenByServer) {
    test_server server([](server_conn& c) { answer_each(c, "HTTP/1.1 204 No Content\r\n\r\n"); });
    auto cfg = loopback_config();
    cfg.source_v4 = ip("127.0.0.2");
    auto r = fetch(make_client(cfg), get(server.port()));
    ASSERT_TRUE(r.ok()) << r.error.message();
    EXPECT_EQ(r.response.status, 204);
    ASSERT_EQ(server.peers().size(), 1u);
    EXPECT_EQ(server.peers()[0], "127.0.0.2");
}

TEST_F(HttpClient, Ipv6RefusedFallsBackToIpv4) {
    test_server server([](server_conn& c) { answer_each(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv4"); });
    auto req = get(server.port());
    // Given in "wrong" order on purpose: the client tries the first IPv6 address first whatever the order.
    req.addresses = {ip("127.0.0.1"), ip("::1")};
    auto r = fetch(make_client(loopback_config()), std::move(req));
    ASSERT_TRUE(r.ok()) << r.error.message();
    EXPECT_TRUE(r.response.fell_back);
    EXPECT_EQ(r.response.address, ip("127.0.0.1"));
    EXPECT_EQ(r.response.body, "v4");
}

TEST_F(HttpClient, NoFallbackAfterConnectOnHttpFailures) {
    // standards §5.6: http-01 falls back only on a dial error. The IPv6 server answers garbage: no second try.
    std::unique_ptr<test_server> v6;
    try {
        v6 = std::make_unique<test_server>(
            [](server_conn& c) {
                c.read_request();
                c.write("garbage\r\n\r\n");
            },
            test::test_server_options{"::1", nullptr});
    } catch (const std::exception&) {
        GTEST_FAIL() << "IPv6 loopback is required for this test";
    }
    test_server v4([](server_conn& c) { answer_each(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv4"); },
                   {"127.0.0.1", nullptr});
    (void)v4;
    auto req = get(v6->port());
    req.addresses = {ip("::1"), ip("127.0.0.1")};
    auto r = fetch(make_client(loopback_config()), std::move(req));
    EXPECT_EQ(r.error.category(), llhttp_category());
    EXPECT_EQ(r.failed_stage, stage::head);
    EXPECT_FALSE(r.response.fell_back);
    EXPECT_EQ(r.response.address, ip("::1"));
}

TEST_F(HttpClient, PolicyRefusesBeforeConnecting) {
    test_server server([](server_conn& c) { answer_each(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); });
    client_config prod; // production policy: loopback refused
    auto r = fetch(make_client(prod), get(server.port()));
    EXPECT_EQ(r.error, errc::refused_by_policy);
    EXPECT_EQ(r.failed_stage, stage::connect);
    client_config lab;
    lab.policy = addr::address_policy::lab({server.port(), 1, 2});
    auto ok = fetch(make_client(lab), get(server.port()));
    EXPECT_TRUE(ok.ok()) << ok.error.message();
    auto wrong_port = fetch(make_client(lab), get(static_cast<std::uint16_t>(server.port() == 3 ? 4 : 3)));
    EXPECT_EQ(wrong_port.error, errc::refused_by_policy);
    EXPECT_EQ(server.accepted(), 1);
}

TEST_F(HttpClient, InvalidRequestsFailAsynchronously) {
    auto& client = make_client(loopback_config());
    std::vector<request> bad;
    auto base = get(80);
    auto r1 = base;
    r1.headers.push_back({"X-Evil", "a\r\nInjected: yes"});
    bad.push_back(r1);
    auto r2 = base;
    r2.target = "/a b";
    bad.push_back(r2);
    auto r3 = base;
    r3.addresses.clear();
    bad.push_back(r3);
    auto r4 = base;
    r4.headers.push_back({"Content-Length", "5"});
    bad.push_back(r4);
    auto r5 = base;
    r5.host = "evil.test\r\nX: y";
    bad.push_back(r5);
    auto r6 = base;
    r6.tls = tls_options{}; // no TLS context given to this client
    bad.push_back(r6);
    auto r7 = base;
    r7.method = "GET /";
    bad.push_back(r7);
    int completions = 0;
    for (auto& req : bad) {
        client.fetch(std::move(req), [&](exchange_result&& r) {
            ++completions;
            EXPECT_EQ(r.error, errc::invalid_argument);
            EXPECT_EQ(r.failed_stage, stage::none);
        });
    }
    EXPECT_EQ(completions, 0); // never inside fetch()
    EXPECT_EQ(client.in_flight(), bad.size());
    run_until([&] { return completions == static_cast<int>(bad.size()); });
    EXPECT_EQ(completions, static_cast<int>(bad.size()));
}

TEST_F(HttpClient, HeadRequestAndPostBody) {
    std::string seen;
    test_server server([&](server_conn& c) {
        seen = c.read_request();
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        seen += c.read_request();
        c.write("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    });
    auto& client = make_client(loopback_config());
    auto head = get(server.port());
    head.method = "HEAD";
    head.keep_alive = true;
    auto r = fetch(client, head);
    ASSERT_TRUE(r.ok()) << r.error.message();
    EXPECT_TRUE(r.response.body.empty());
    auto post = get(server.port(), "/dcv");
    post.method = "POST";
    post.body = "{\"a\":1}";
    post.keep_alive = true;
    auto p = fetch(client, post);
    ASSERT_TRUE(p.ok()) << p.error.message();
    EXPECT_EQ(p.response.status, 201);
    EXPECT_TRUE(p.response.reused);
    EXPECT_NE(seen.find("POST /dcv HTTP/1.1\r\n"), std::string::npos);
    EXPECT_NE(seen.find("Content-Length: 7\r\n\r\n{\"a\":1}"), std::string::npos);
}

TEST_F(HttpClient, CloseCompletesEverythingAndRefusesNewWork) {
    std::atomic<bool> release{false};
    test_server server([&](server_conn& c) {
        c.read_request();
        test::wait_released(release);
    });
    auto& client = make_client(loopback_config());
    std::vector<std::error_code> results;
    client.fetch(get(server.port()), [&](exchange_result&& r) { results.push_back(r.error); });
    run_until([&] { return server.accepted() == 1; }, 2s);
    run_for(50ms);
    client.close();
    ASSERT_EQ(results.size(), 1u); // completed inside close()
    EXPECT_EQ(results[0], errc::cancelled);
    client.fetch(get(server.port()), [&](exchange_result&& r) { results.push_back(r.error); });
    run_until([&] { return results.size() == 2; }, 2s);
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[1], errc::shutting_down);
    release = true;
}

TEST_F(HttpClient, DestroyingClientWithWorkInFlight) {
    std::atomic<bool> release{false};
    test_server server([&](server_conn& c) {
        c.read_request();
        test::wait_released(release);
    });
    int calls = 0;
    std::error_code err;
    {
        client c(&_loop, nullptr, loopback_config());
        c.fetch(get(server.port()), [&](exchange_result&& r) {
            ++calls;
            err = r.error;
        });
        run_until([&] { return server.accepted() == 1; }, 2s);
    } // ~client: the completion runs now; memory goes when the handles close (TearDown runs the loop)
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(err, errc::cancelled);
    release = true;
}

} // namespace
} // namespace mpic::net::http
