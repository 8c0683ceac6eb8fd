// net/tls session tests without sockets: the client session's memory BIOs are pumped against a server SSL that
// also runs on memory BIOs, so each test controls every byte and needs no network.

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/error.hh"
#include "net/tls/session.hh"
#include "tests/net/tls/test_pki.hh"

namespace mpic::net::tls {
namespace {

using test::key_and_cert;
using test::trust_only;

client_context_options cert_without_key() {
    client_context_options o;
    o.system_trust = false;
    o.certificate_file = "/x.pem";
    return o;
}

// The server side of a memory-BIO pair.
struct mem_server {
    ssl_ptr ssl;
    BIO* rbio = nullptr;
    BIO* wbio = nullptr;
    explicit mem_server(SSL_CTX* ctx) : ssl(SSL_new(ctx)) {
        rbio = BIO_new(BIO_s_mem());
        wbio = BIO_new(BIO_s_mem());
        SSL_set_bio(ssl.get(), rbio, wbio);
        SSL_set_accept_state(ssl.get());
    }
    std::string take() {
        std::string out;
        char buf[4096];
        int n = 0;
        while ((n = BIO_read(wbio, buf, sizeof buf)) > 0) {
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }
};

// Runs the handshake to completion or failure; returns the client's last handshake() result.
result<bool> pump_handshake(session& client, mem_server& server) {
    result<bool> r = client.handshake();
    for (int round = 0; round < 20 && r && !*r; ++round) {
        std::string to_server = client.take_output();
        BIO_write(server.rbio, to_server.data(), static_cast<int>(to_server.size()));
        (void)SSL_do_handshake(server.ssl.get());
        ERR_clear_error();
        std::string to_client = server.take();
        client.receive(to_client);
        r = client.handshake();
    }
    // Deliver the client's last flight (Finished) so the server completes too.
    std::string rest = client.take_output();
    BIO_write(server.rbio, rest.data(), static_cast<int>(rest.size()));
    (void)SSL_do_handshake(server.ssl.get());
    ERR_clear_error();
    return r;
}

class TlsSession : public ::testing::Test {
protected:
    void SetUp() override {
        auto ctx = client_context::create(trust_only(ca_file()));
        ASSERT_TRUE(ctx.has_value()) << ctx.error().message();
        _client_ctx.emplace(std::move(*ctx));
    }
    static const key_and_cert& ca() {
        static const key_and_cert instance = test::make_ca("mpic test CA");
        return instance;
    }
    static const std::string& ca_file() {
        static const std::string path = test::write_temp_file(ca().cert_pem);
        return path;
    }
    std::optional<client_context> _client_ctx;
    test::server_observations _obs;
};

TEST_F(TlsSession, SniAndAlpnNegotiated) {
    auto leaf = test::make_leaf(ca(), "example.test", {"example.test"});
    auto server_ctx = test::make_server_ctx(leaf, {"acme-tls/1"}, &_obs);
    auto s = session::create(*_client_ctx, {"example.test", {"acme-tls/1"}, verification::peer()});
    ASSERT_TRUE(s.has_value());
    mem_server server(server_ctx.get());
    auto r = pump_handshake(*s, server);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_TRUE(*r);
    EXPECT_TRUE(s->handshake_done());
    EXPECT_EQ(s->alpn(), "acme-tls/1");
    EXPECT_EQ(_obs.sni, "example.test");
    EXPECT_EQ(_obs.offered_alpn, std::vector<std::string>{"acme-tls/1"});
    EXPECT_EQ(s->verify_result(), X509_V_OK);
    EXPECT_EQ(s->version(), "TLSv1.3");
    auto cert = s->peer_certificate();
    ASSERT_NE(cert, nullptr);
    EXPECT_EQ(X509_cmp(cert.get(), leaf.cert.get()), 0);
    EXPECT_EQ(s->peer_chain().size(), 1u);
}

TEST_F(TlsSession, AlpnNotNegotiatedIsReportedEmpty) {
    auto leaf = test::make_self_signed("example.test", {"example.test"});
    auto server_ctx = test::make_server_ctx(leaf, {"http/1.1"}, &_obs); // does not speak acme-tls/1
    auto s = session::create(*_client_ctx, {"example.test", {"acme-tls/1"}, verification::off("RFC 8737 self-signed")});
    ASSERT_TRUE(s.has_value());
    mem_server server(server_ctx.get());
    auto r = pump_handshake(*s, server);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_TRUE(*r);
    EXPECT_EQ(s->alpn(), ""); // the caller (tls-alpn-01) must fail on this, Open MPIC does not
    EXPECT_NE(s->peer_certificate(), nullptr);
}

TEST_F(TlsSession, VerificationFailureVsVerificationOff) {
    auto self_signed = test::make_self_signed("example.test", {"example.test"});
    auto server_ctx = test::make_server_ctx(self_signed, {}, &_obs);
    {
        auto s = session::create(*_client_ctx, {"example.test", {}, verification::peer()});
        ASSERT_TRUE(s.has_value());
        mem_server server(server_ctx.get());
        auto r = pump_handshake(*s, server);
        ASSERT_FALSE(r.has_value());
        EXPECT_TRUE(is_verification_failure(r.error())) << r.error().message();
        EXPECT_NE(s->verify_result(), X509_V_OK);
    }
    {
        auto s = session::create(*_client_ctx, {"example.test", {}, verification::off("test: self-signed")});
        ASSERT_TRUE(s.has_value());
        mem_server server(server_ctx.get());
        auto r = pump_handshake(*s, server);
        ASSERT_TRUE(r.has_value()) << r.error().message();
        EXPECT_TRUE(*r);
    }
}

TEST_F(TlsSession, WrongHostNameFailsVerification) {
    auto leaf = test::make_leaf(ca(), "other.test", {"other.test"});
    auto server_ctx = test::make_server_ctx(leaf, {}, &_obs);
    auto s = session::create(*_client_ctx, {"example.test", {}, verification::peer()});
    ASSERT_TRUE(s.has_value());
    mem_server server(server_ctx.get());
    auto r = pump_handshake(*s, server);
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(is_verification_failure(r.error()));
    EXPECT_EQ(s->verify_result(), X509_V_ERR_HOSTNAME_MISMATCH);
}

TEST_F(TlsSession, IpLiteralIsNotSentAsSni) {
    auto leaf = test::make_leaf(ca(), "ip", {}, {"192.0.2.1"});
    auto server_ctx = test::make_server_ctx(leaf, {}, &_obs);
    _obs.sni = "unset";
    auto s = session::create(*_client_ctx, {"192.0.2.1", {}, verification::peer()});
    ASSERT_TRUE(s.has_value());
    mem_server server(server_ctx.get());
    auto r = pump_handshake(*s, server);
    ASSERT_TRUE(r.has_value()) << r.error().message(); // verified against the iPAddress SAN
    EXPECT_EQ(_obs.sni, "");                           // RFC 6066 §3
}

TEST_F(TlsSession, ApplicationDataBothWaysAndCloseNotify) {
    auto leaf = test::make_leaf(ca(), "example.test", {"example.test"});
    auto server_ctx = test::make_server_ctx(leaf, {}, &_obs);
    auto s = session::create(*_client_ctx, {"example.test", {}, verification::peer()});
    ASSERT_TRUE(s.has_value());
    mem_server server(server_ctx.get());
    ASSERT_TRUE(pump_handshake(*s, server).value_or(false));
    ASSERT_TRUE(s->write(std::string_view("ping")).has_value());
    std::string wire = s->take_output();
    EXPECT_FALSE(s->has_output());
    BIO_write(server.rbio, wire.data(), static_cast<int>(wire.size()));
    char buf[64];
    ASSERT_EQ(SSL_read(server.ssl.get(), buf, sizeof buf), 4);
    EXPECT_EQ(std::string(buf, 4), "ping");
    ASSERT_EQ(SSL_write(server.ssl.get(), "pong", 4), 4);
    SSL_shutdown(server.ssl.get());
    s->receive(server.take());
    std::string got;
    for (;;) {
        auto n = s->read({buf, sizeof buf});
        ASSERT_TRUE(n.has_value());
        if (*n == 0) {
            break;
        }
        got.append(buf, *n);
    }
    EXPECT_EQ(got, "pong");
    EXPECT_TRUE(s->peer_closed());
    s->close_notify();
    EXPECT_TRUE(s->has_output());
}

TEST_F(TlsSession, GarbageFromServerIsAnSslError) {
    auto s = session::create(*_client_ctx, {"example.test", {}, verification::off("test")});
    ASSERT_TRUE(s.has_value());
    ASSERT_FALSE(s->handshake().value_or(true));
    EXPECT_TRUE(s->has_output()); // ClientHello
    s->receive(std::string_view("HTTP/1.1 400 Bad Request\r\n\r\n"));
    auto r = s->handshake();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().category(), ssl_category());
    EXPECT_FALSE(is_verification_failure(r.error()));
}

TEST_F(TlsSession, RefusesBadOptions) {
    EXPECT_EQ(session::create(*_client_ctx, {"example.test", {}, verification{false, {}, {}}}).error(),
              errc::invalid_argument); // verification off without a reason
    EXPECT_EQ(session::create(*_client_ctx, {"example.test", {""}, verification::off("x")}).error(),
              errc::invalid_argument); // empty ALPN protocol name
    EXPECT_EQ(session::create(*_client_ctx, {"example.test", {std::string(256, 'a')}, verification::off("x")}).error(),
              errc::invalid_argument);
    EXPECT_EQ(session::create(*_client_ctx, {"", {}, verification::peer()}).error(),
              errc::invalid_argument); // verification without any name to check
}

TEST(TlsClientContext, BadFilesAreSslErrors) {
    auto r = client_context::create(trust_only("/nonexistent/ca.pem"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().category(), ssl_category());
    EXPECT_EQ(client_context::create(cert_without_key()).error(), errc::invalid_argument);
    EXPECT_TRUE(client_context::create().has_value()); // the system trust store loads
}

} // namespace
} // namespace mpic::net::tls
