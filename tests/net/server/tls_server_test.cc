// net::server over TLS and mutual TLS (BR 3.2.2.9: an authenticated, encrypted channel between coordinator and
// perspectives), with a CA, server and client certificates made by the openssl CLI in the test's directory: a
// client without a certificate is refused, one from the wrong CA is refused, the right one is accepted and its
// subject reported to the handler. Every test ends with uv_loop_close == 0.

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/server/tls_server.hh"
#include "tests/net/server/openssl_pki.hh"
#include "tests/net/server/server_harness.hh"

namespace mpic::test {
namespace {

using namespace std::chrono_literals;

struct ctx_deleter {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using ctx_ptr = std::unique_ptr<SSL_CTX, ctx_deleter>;

class tls_server_test : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        char tmpl[] = "/tmp/mpic-tls-server-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        _pki = new openssl_pki;
        ASSERT_TRUE(_pki->make(tmpl)) << "openssl failed; see " << tmpl << "/openssl.log";
    }
    static void TearDownTestSuite() {
        if (_pki != nullptr) {
            std::error_code ec;
            std::filesystem::remove_all(_pki->dir, ec);
            delete _pki;
            _pki = nullptr;
        }
    }
    void SetUp() override { ASSERT_NE(_pki, nullptr); }
    void TearDown() override {
        if (_server) {
            EXPECT_EQ(_server->stop(), 0) << "uv_loop_close: handles left open";
        }
    }

    void start(bool mutual) {
        auto ctx = net::server::tls_server_context::create(
            {_pki->server_cert, _pki->server_key, mutual ? _pki->ca_cert : std::string()});
        ASSERT_TRUE(ctx.has_value()) << ctx.error().message();
        EXPECT_EQ(ctx->requires_client_certificate(), mutual);
        net::server::server_limits limits;
        limits.head_timeout = 2s;
        limits.idle_timeout = 2s;
        _server = std::make_unique<server_harness>(
            limits, std::make_shared<const net::server::tls_server_context>(std::move(*ctx)));
        ASSERT_TRUE(_server->start());
    }

    /// A client context trusting our CA; with a certificate when `cert` is given.
    static ctx_ptr client_ctx(const std::string& cert = "", const std::string& key = "") {
        ctx_ptr ctx(SSL_CTX_new(TLS_client_method()));
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
        EXPECT_EQ(SSL_CTX_load_verify_locations(ctx.get(), _pki->ca_cert.c_str(), nullptr), 1);
        if (!cert.empty()) {
            EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()), 1);
            EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM), 1);
        }
        return ctx;
    }

    /// True when the server answered /subject over this context; the body goes to `body`.
    bool ask_subject(SSL_CTX* ctx, std::string& body) {
        client_conn c(_server->port(), 3s);
        if (!c.ok() || !c.start_tls(ctx)) {
            ERR_clear_error();
            return false;
        }
        // Under TLS 1.3 the server judges the client certificate after the client's handshake finished: the
        // refusal shows as a failed write or read, never as an answer.
        if (!c.send(get_request("/subject"))) {
            ERR_clear_error();
            return false;
        }
        auto reply = c.read_reply();
        ERR_clear_error();
        if (!reply) {
            return false;
        }
        body = reply->body;
        return reply->status == 200;
    }

    static inline openssl_pki* _pki = nullptr;
    std::unique_ptr<server_harness> _server;
};

TEST_F(tls_server_test, tls_without_client_certificates) {
    start(false);
    auto ctx = client_ctx();
    std::string body;
    ASSERT_TRUE(ask_subject(ctx.get(), body));
    EXPECT_EQ(body, "tls "); // TLS, no client subject
    // Keep-alive over TLS, and a plaintext client on the TLS port gets nothing.
    client_conn c(_server->port(), 3s);
    ASSERT_TRUE(c.start_tls(ctx.get()));
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(c.send(get_request("/k" + std::to_string(i))));
        auto reply = c.read_reply();
        ASSERT_TRUE(reply.has_value());
        EXPECT_EQ(reply->body, "GET /k" + std::to_string(i) + " 0");
    }
    client_conn plain(_server->port(), 3s);
    ASSERT_TRUE(plain.send(get_request("/plain")));
    EXPECT_FALSE(plain.read_reply().has_value());
}

TEST_F(tls_server_test, mutual_tls_refuses_a_client_without_a_certificate) {
    start(true);
    auto ctx = client_ctx();
    std::string body;
    EXPECT_FALSE(ask_subject(ctx.get(), body)) << body;
    EXPECT_EQ(_server->requests(), 0);
}

TEST_F(tls_server_test, mutual_tls_refuses_a_certificate_from_another_ca) {
    start(true);
    auto ctx = client_ctx(_pki->stranger_cert, _pki->stranger_key);
    std::string body;
    EXPECT_FALSE(ask_subject(ctx.get(), body)) << body;
    EXPECT_EQ(_server->requests(), 0);
}

TEST_F(tls_server_test, mutual_tls_accepts_the_right_certificate_and_reports_its_subject) {
    start(true);
    auto ctx = client_ctx(_pki->client_cert, _pki->client_key);
    std::string body;
    ASSERT_TRUE(ask_subject(ctx.get(), body));
    EXPECT_EQ(body.rfind("tls ", 0), 0u) << body;
    EXPECT_NE(body.find("CN=coordinator"), std::string::npos) << body;
    EXPECT_NE(body.find("O=mpic test"), std::string::npos) << body;
    EXPECT_EQ(_server->requests(), 1);
}

TEST_F(tls_server_test, tls12_client_is_served_and_refused_like_tls13) {
    start(true);
    auto good = client_ctx(_pki->client_cert, _pki->client_key);
    SSL_CTX_set_max_proto_version(good.get(), TLS1_2_VERSION);
    std::string body;
    ASSERT_TRUE(ask_subject(good.get(), body));
    EXPECT_NE(body.find("CN=coordinator"), std::string::npos);
    auto bare = client_ctx();
    SSL_CTX_set_max_proto_version(bare.get(), TLS1_2_VERSION);
    EXPECT_FALSE(ask_subject(bare.get(), body));
}

TEST_F(tls_server_test, a_client_that_never_finishes_the_handshake_is_closed_by_the_head_timeout) {
    auto ctx = net::server::tls_server_context::create({_pki->server_cert, _pki->server_key, ""});
    ASSERT_TRUE(ctx.has_value());
    net::server::server_limits limits;
    limits.head_timeout = 300ms;
    _server = std::make_unique<server_harness>(
        limits, std::make_shared<const net::server::tls_server_context>(std::move(*ctx)));
    ASSERT_TRUE(_server->start());
    client_conn silent(_server->port(), 3s);
    ASSERT_TRUE(silent.ok());
    const auto began = std::chrono::steady_clock::now();
    EXPECT_TRUE(silent.closed_within(3s));
    EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
    client_conn partial(_server->port(), 3s);
    ASSERT_TRUE(partial.send(std::string("\x16\x03\x01\x00\xff", 5))); // a ClientHello record header, no body
    EXPECT_TRUE(partial.closed_within(3s));
    EXPECT_EQ(_server->requests(), 0);
}

TEST_F(tls_server_test, context_creation_errors) {
    auto missing = net::server::tls_server_context::create({_pki->dir + "/nope.pem", _pki->server_key, ""});
    EXPECT_FALSE(missing.has_value());
    auto mismatched = net::server::tls_server_context::create({_pki->server_cert, _pki->client_key, ""});
    EXPECT_FALSE(mismatched.has_value());
    auto bad_ca = net::server::tls_server_context::create({_pki->server_cert, _pki->server_key, _pki->dir + "/x.pem"});
    EXPECT_FALSE(bad_ca.has_value());
}

} // namespace
} // namespace mpic::test
