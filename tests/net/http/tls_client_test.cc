// net/http client over TLS and the handshake-only operation of tls-alpn-01 (RFC 8737 §3), against in-process
// OpenSSL servers on loopback.

#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

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

const test::key_and_cert& ca() {
    static const test::key_and_cert instance = test::make_ca("mpic test CA");
    return instance;
}

class TlsClient : public test::loop_fixture {
protected:
    void SetUp() override {
        loop_fixture::SetUp();
        auto ctx = tls::client_context::create(test::trust_only(test::write_temp_file(ca().cert_pem)));
        ASSERT_TRUE(ctx.has_value());
        _ctx.emplace(std::move(*ctx));
        _cfg.policy = addr::address_policy::unrestricted("unit tests on loopback");
    }
    handshake_request alpn_request(std::uint16_t port) {
        handshake_request r;
        r.addresses = {ip("127.0.0.1")};
        r.port = port;
        r.tls.sni = "example.test";
        r.tls.alpn = {"acme-tls/1"};
        r.tls.verify = tls::verification::off("RFC 8737: the validation certificate is self-signed");
        r.deadlines = {2s, 2s, 2s, 2s, 2s, 5s};
        return r;
    }
    handshake_result run_handshake(client& c, handshake_request req) {
        std::optional<handshake_result> out;
        int calls = 0;
        c.handshake(std::move(req), [&](handshake_result&& r) {
            ++calls;
            out = std::move(r);
        });
        run_until([&] { return out.has_value(); });
        EXPECT_EQ(calls, 1);
        return out ? std::move(*out) : handshake_result{};
    }
    std::optional<tls::client_context> _ctx;
    client_config _cfg;
    test::server_observations _obs;
};

TEST_F(TlsClient, HandshakeNegotiatesAlpnAndReturnsCertificateWithoutData) {
    auto id = test::make_self_signed("example.test", {"example.test"});
    auto sctx = test::make_server_ctx(id, {"acme-tls/1"}, &_obs);
    std::atomic<int> app_bytes{0};
    std::atomic<bool> server_done{false};
    test_server server(
        [&](server_conn& c) {
            char buf[64];
            app_bytes = SSL_read(c.ssl, buf, sizeof buf); // RFC 8737 §3: the client must send nothing more
            server_done = true;
        },
        {"127.0.0.1", sctx.get()});
    auto& client = make_client(_cfg, &*_ctx);
    auto r = run_handshake(client, alpn_request(server.port()));
    ASSERT_TRUE(r.ok()) << r.error.message() << " at " << to_string(r.failed_stage);
    EXPECT_EQ(r.response.alpn, "acme-tls/1");
    ASSERT_NE(r.response.peer_certificate, nullptr);
    EXPECT_EQ(X509_cmp(r.response.peer_certificate.get(), id.cert.get()), 0);
    EXPECT_EQ(r.response.address, ip("127.0.0.1"));
    EXPECT_FALSE(r.response.tls_version.empty());
    EXPECT_GT(r.response.timings.tls.count(), 0);
    EXPECT_GT(r.response.timings.total.count(), 0);
    EXPECT_EQ(client.idle_connections(), 0u);
    run_until([&] { return server_done.load(); }, 3s);
    EXPECT_TRUE(server_done.load());
    EXPECT_LE(app_bytes.load(), 0); // EOF (0 or -1): no application data arrived
    EXPECT_EQ(_obs.sni, "example.test");
    EXPECT_EQ(_obs.offered_alpn, std::vector<std::string>{"acme-tls/1"});
}

TEST_F(TlsClient, HandshakeReportsAlpnNotNegotiated) {
    auto id = test::make_self_signed("example.test", {"example.test"});
    auto sctx = test::make_server_ctx(id, {}, &_obs); // an ordinary HTTPS server knows no acme-tls/1
    test_server server([](server_conn&) {}, {"127.0.0.1", sctx.get()});
    auto r = run_handshake(make_client(_cfg, &*_ctx), alpn_request(server.port()));
    ASSERT_TRUE(r.ok()) << r.error.message();
    EXPECT_EQ(r.response.alpn, ""); // the validator fails on this (Open MPIC's weakness)
    EXPECT_NE(r.response.peer_certificate, nullptr);
}

TEST_F(TlsClient, VerificationFailureVsOff) {
    auto id = test::make_self_signed("example.test", {"example.test"});
    auto sctx = test::make_server_ctx(id, {}, &_obs);
    test_server server([](server_conn&) {}, {"127.0.0.1", sctx.get()});
    auto req = alpn_request(server.port());
    req.tls.verify = tls::verification::peer();
    auto& client = make_client(_cfg, &*_ctx);
    auto bad = run_handshake(client, req);
    EXPECT_FALSE(bad.ok());
    EXPECT_EQ(bad.failed_stage, stage::tls);
    EXPECT_TRUE(tls::is_verification_failure(bad.error)) << bad.error.message();
    EXPECT_EQ(bad.response.verify_result, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    EXPECT_EQ(bad.response.peer_certificate, nullptr);
    auto ok = run_handshake(client, alpn_request(server.port()));
    EXPECT_TRUE(ok.ok()) << ok.error.message();
}

TEST_F(TlsClient, HandshakeFallsBackOnAnyFailure) {
    auto id = test::make_self_signed("example.test", {"example.test"});
    auto sctx = test::make_server_ctx(id, {"acme-tls/1"}, &_obs);
    test_server server([](server_conn&) {}, {"127.0.0.1", sctx.get()});
    auto req = alpn_request(server.port());
    req.addresses = {ip("::1"), ip("127.0.0.1")};
    auto r = run_handshake(make_client(_cfg, &*_ctx), std::move(req));
    ASSERT_TRUE(r.ok()) << r.error.message();
    EXPECT_TRUE(r.response.fell_back);
    EXPECT_EQ(r.response.address, ip("127.0.0.1"));
}

TEST_F(TlsClient, HandshakeDeadlineOnSilentServer) {
    std::atomic<bool> release{false};
    test_server plain([&](server_conn&) { test::wait_released(release); }); // accepts TCP, never speaks TLS
    auto req = alpn_request(plain.port());
    req.deadlines.tls = 150ms;
    auto r = run_handshake(make_client(_cfg, &*_ctx), std::move(req));
    release = true;
    EXPECT_EQ(r.error, errc::timed_out);
    EXPECT_EQ(r.failed_stage, stage::tls);
}

TEST_F(TlsClient, HttpsFetchVerifiedAndKeptAlive) {
    auto leaf = test::make_leaf(ca(), "example.test", {"example.test"});
    auto sctx = test::make_server_ctx(leaf, {"http/1.1"}, &_obs);
    test_server server(
        [](server_conn& c) { test::answer_each(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure"); },
        {"127.0.0.1", sctx.get()});
    auto& client = make_client(_cfg, &*_ctx);
    request req;
    req.addresses = {ip("127.0.0.1")};
    req.port = server.port();
    req.host = "example.test";
    req.tls = tls_options{"example.test", {"http/1.1"}, tls::verification::peer()};
    req.keep_alive = true;
    req.deadlines = {2s, 2s, 2s, 2s, 2s, 5s};
    auto r = fetch(client, req);
    ASSERT_TRUE(r.ok()) << r.error.message() << " at " << to_string(r.failed_stage);
    EXPECT_EQ(r.response.body, "secure");
    EXPECT_EQ(r.response.alpn, "http/1.1");
    EXPECT_GT(r.response.timings.tls.count(), 0);
    auto again = fetch(client, req);
    ASSERT_TRUE(again.ok()) << again.error.message();
    EXPECT_TRUE(again.response.reused);
    EXPECT_EQ(server.accepted(), 1);
    // A request that does not verify must not ride on... and one that verifies must not ride on an unverified one:
    // the pool key includes the verification setting.
    auto unverified = req;
    unverified.tls->verify = tls::verification::off("test: https redirect, Boulder InsecureSkipVerify");
    auto u = fetch(client, unverified);
    ASSERT_TRUE(u.ok()) << u.error.message();
    EXPECT_FALSE(u.response.reused);
    EXPECT_EQ(server.accepted(), 2);
}

TEST_F(TlsClient, HttpsToPlainServerIsTlsError) {
    test_server plain([](server_conn& c) {
        // answers at once, without waiting for a request: the ClientHello gets plain HTTP back

        c.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    request req;
    req.addresses = {ip("127.0.0.1")};
    req.port = plain.port();
    req.host = "example.test";
    req.tls = tls_options{"example.test", {"http/1.1"}, tls::verification::off("test")};
    req.deadlines = {2s, 2s, 2s, 2s, 2s, 5s};
    auto r = fetch(make_client(_cfg, &*_ctx), std::move(req));
    EXPECT_EQ(r.error.category(), ssl_category()) << r.error.message();
    EXPECT_EQ(r.failed_stage, stage::tls);
    EXPECT_LT(r.response.timings.total, 1s);
}

} // namespace
} // namespace mpic::net::http
