// The lab's nginx (curl --interface from each perspective's address) and TLS-ALPN responder (an OpenSSL client
// bound to the perspective's address, offering acme-tls/1): per-perspective status, headers, bodies, redirects and
// certificates.

#include <arpa/inet.h>
#include <chrono>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tests/lab/command.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::lab {
namespace {

using testing::run;

struct hijack {
    static std::string file() { return scenario_file("http-hijack.toml"); }
};
class lab_http_hijack : public lab_fixture<hijack> {};

std::string curl(const std::string& source, unsigned port, const std::string& host, const std::string& path,
                 const std::string& extra = "") {
    return run("curl -s -i --max-time 5 --interface " + source + " -H 'Host: " + host + "' " + extra +
               " http://127.0.0.1:" + std::to_string(port) + path)
        .out;
}

TEST_F(lab_http_hijack, perspectives_2_and_5_are_hijacked_the_rest_legitimate) {
    const std::string path = "/.well-known/acme-challenge/tok-h";
    for (int k = 1; k <= lab().perspectives(); ++k) {
        std::string r = curl(lab().perspective_address(k), lab().http_port(), "hijacked.test", path);
        if (k == 2) {
            EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
            EXPECT_NE(r.find("X-Hijacked: yes"), std::string::npos) << r;
            EXPECT_NE(r.find("\r\n\r\ntok-h.ATTACKER-thumbprint"), std::string::npos) << r;
        } else if (k == 5) {
            EXPECT_NE(r.find("HTTP/1.1 302"), std::string::npos) << r;
            EXPECT_NE(r.find("Location: /.well-known/acme-challenge/attacker\r\n"), std::string::npos) << r;
        } else {
            EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << "perspective " << k << ": " << r;
            EXPECT_NE(r.find("Content-Type: application/octet-stream"), std::string::npos) << r;
            EXPECT_NE(r.find("\r\n\r\ntok-h.legitimate-thumbprint"), std::string::npos) << r;
            EXPECT_EQ(r.find("X-Hijacked"), std::string::npos) << r;
        }
    }
}

TEST_F(lab_http_hijack, redirect_is_followed_to_the_attackers_path) {
    std::string r = run("curl -s -L --max-time 5 --interface 127.0.0.6 -H 'Host: hijacked.test' http://127.0.0.1:" +
                        std::to_string(lab().http_port()) + "/.well-known/acme-challenge/tok-h")
                        .out;
    EXPECT_EQ(r, "tok-h.ATTACKER-thumbprint");
    // The attacker's path exists only in perspective 5's view.
    std::string other = curl("127.0.0.2", lab().http_port(), "hijacked.test", "/.well-known/acme-challenge/attacker");
    EXPECT_NE(other.find("HTTP/1.1 404"), std::string::npos) << other;
}

TEST_F(lab_http_hijack, https_serves_the_same_per_perspective_content_with_the_lab_certificate) {
    const std::string url =
        "https://hijacked.test:" + std::to_string(lab().https_port()) + "/.well-known/acme-challenge/tok-h";
    const std::string opts = "-s --max-time 5 --cacert " + lab().https_cert_path() +
                             " --resolve hijacked.test:" + std::to_string(lab().https_port()) + ":127.0.0.1 ";
    EXPECT_EQ(run("curl " + opts + "--interface 127.0.0.2 " + url).out, "tok-h.legitimate-thumbprint");
    EXPECT_EQ(run("curl " + opts + "--interface 127.0.0.3 " + url).out, "tok-h.ATTACKER-thumbprint");
}

TEST_F(lab_http_hijack, access_log_names_each_perspectives_source) {
    const std::string marker = "/access-log-marker-" + std::to_string(getpid());
    curl("127.0.0.4", lab().http_port(), "hijacked.test", marker);
    // nginx writes the line after answering; allow it a moment.
    std::string log;
    for (int i = 0; i < 100 && log.find(marker) == std::string::npos; ++i) {
        log = testing::run("cat " + lab().access_log_path()).out;
        usleep(10000);
    }
    EXPECT_EQ(lab().access_log_path(), lab().dir() + "/access.log");
    EXPECT_NE(log.find("127.0.0.4 - - ["), std::string::npos) << log;
    EXPECT_NE(log.find("GET " + marker + " HTTP/1.1\" 404"), std::string::npos) << log;
}

TEST_F(lab_http_hijack, unknown_paths_and_hosts_get_404) {
    EXPECT_NE(curl("127.0.0.2", lab().http_port(), "hijacked.test", "/nothing").find("HTTP/1.1 404"),
              std::string::npos);
    EXPECT_NE(
        curl("127.0.0.2", lab().http_port(), "unknown.test", "/.well-known/acme-challenge/tok-h").find("HTTP/1.1 404"),
        std::string::npos);
}

struct statuses {
    static std::string toml() {
        return R"(
[lab]
perspectives = 3
[[http]]
path = "/any-host"
body = "for every host"
[[http]]
host = "s.test"
path = "/error"
status = 500
body = "broken $var \"quoted\"\nsecond line"
headers = { "Retry-After" = "7", "Content-Type" = "text/html; charset=utf-8" }
[[http]]
host = "s.test"
path = "/moved"
redirect = "https://elsewhere.test/x?y=1"
status = 301
[[override]]
perspectives = [2]
http = "unreachable"
[[override]]
perspectives = [3]
http_rules = [ { host = "s.test", path = "/error", status = 444 } ]
)";
    }
};
class lab_http_statuses : public lab_fixture<statuses> {};

TEST_F(lab_http_statuses, status_headers_and_literal_body) {
    std::string r = curl("127.0.0.2", lab().http_port(), "s.test", "/error");
    EXPECT_NE(r.find("HTTP/1.1 500"), std::string::npos) << r;
    EXPECT_NE(r.find("Retry-After: 7\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("\r\n\r\nbroken $var \"quoted\"\nsecond line"), std::string::npos) << r;
    std::string m = curl("127.0.0.2", lab().http_port(), "s.test", "/moved");
    EXPECT_NE(m.find("HTTP/1.1 301"), std::string::npos) << m;
    EXPECT_NE(m.find("Location: https://elsewhere.test/x?y=1\r\n"), std::string::npos) << m;
    EXPECT_NE(curl("127.0.0.2", lab().http_port(), "whatever.test", "/any-host").find("for every host"),
              std::string::npos);
}

TEST_F(lab_http_statuses, unreachable_perspective_gets_the_connection_closed) {
    // Perspective 2 (127.0.0.3): nginx closes without a response; curl reports "empty reply" (exit 52).
    auto r = run("curl -s --max-time 5 --interface 127.0.0.3 -H 'Host: s.test' http://127.0.0.1:" +
                 std::to_string(lab().http_port()) + "/error");
    EXPECT_EQ(r.status, 52);
    EXPECT_EQ(r.out, "");
}

TEST_F(lab_http_statuses, per_perspective_444_closes_only_that_path) {
    auto r = run("curl -s --max-time 5 --interface 127.0.0.4 -H 'Host: s.test' http://127.0.0.1:" +
                 std::to_string(lab().http_port()) + "/error");
    EXPECT_EQ(r.status, 52);
    EXPECT_NE(curl("127.0.0.4", lab().http_port(), "s.test", "/moved").find("HTTP/1.1 301"), std::string::npos);
}

struct faulted {
    static std::string toml() {
        return R"(
[lab]
perspectives = 3
[[http]]
host = "f.test"
path = "/.well-known/acme-challenge/t"
body = "from nginx"
[[override]]
perspectives = [2, 3]
http = "fault"
[[fault_http.rule]]
path = "/.well-known/acme-challenge/t"
perspective = 2
body = "from the fault responder, for perspective 2"
headers = [["X-Fault", "p2"]]
delay_ms = 400
[[fault_http.rule]]
path = "/.well-known/acme-challenge/t"
status = 503
body = "default fault rule"
)";
    }
};
class lab_http_fault : public lab_fixture<faulted> {};

TEST_F(lab_http_fault, faulted_perspectives_reach_the_fault_responder_from_their_own_address) {
    ASSERT_TRUE(lab().fault_http_port().has_value());
    const std::string path = "/.well-known/acme-challenge/t";
    std::string p1 = curl("127.0.0.2", lab().http_port(), "f.test", path);
    EXPECT_NE(p1.find("\r\n\r\nfrom nginx"), std::string::npos) << p1;
    auto t0 = std::chrono::steady_clock::now();
    std::string p2 = curl("127.0.0.3", lab().http_port(), "f.test", path);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(400));
    EXPECT_NE(p2.find("X-Fault: p2"), std::string::npos) << p2;
    EXPECT_NE(p2.find("from the fault responder, for perspective 2"), std::string::npos) << p2;
    // Perspective 3 is faulted too but has no source-specific rule: it gets the responder's default rule, which
    // proves the responder saw each perspective's own address through nginx.
    std::string p3 = curl("127.0.0.4", lab().http_port(), "f.test", path);
    EXPECT_NE(p3.find("HTTP/1.1 503"), std::string::npos) << p3;
    EXPECT_NE(p3.find("default fault rule"), std::string::npos) << p3;
    // HTTPS is terminated by nginx and proxied the same way.
    std::string tls = run("curl -s --max-time 5 --interface 127.0.0.3 -k -H 'Host: f.test' https://127.0.0.1:" +
                          std::to_string(lab().https_port()) + path)
                          .out;
    EXPECT_EQ(tls, "from the fault responder, for perspective 2");
}

// --- TLS-ALPN-01 -------------------------------------------------------------------------------------------------

struct demo {
    static std::string file() { return scenario_file("demo.toml"); }
};
class lab_tls_alpn : public lab_fixture<demo> {};

struct ssl_ctx_free {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct ssl_free {
    void operator()(SSL* s) const { SSL_free(s); }
};
struct x509_free {
    void operator()(X509* x) const { X509_free(x); }
};

/// Handshakes with ALPN acme-tls/1 from `source` and returns the acmeIdentifier extension's value (RFC 8737 §3:
/// a DER OCTET STRING holding SHA-256 of the key authorization), or "" when there is none. `alpn` gets the
/// negotiated protocol.
std::string acme_identifier(const std::string& source, unsigned port, const std::string& sni, std::string& alpn) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        close(fd);
        return "connect failed";
    }
    std::unique_ptr<SSL_CTX, ssl_ctx_free> ctx(SSL_CTX_new(TLS_client_method()));
    std::unique_ptr<SSL, ssl_free> ssl(SSL_new(ctx.get()));
    static const unsigned char protos[] = "\x0a"
                                          "acme-tls/1";
    SSL_set_alpn_protos(ssl.get(), protos, sizeof protos - 1);
    // SSL_set_tlsext_host_name is a macro with a C cast; call what it expands to.
    SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(sni.c_str()));
    SSL_set_fd(ssl.get(), fd);
    std::string out;
    if (SSL_connect(ssl.get()) == 1) {
        const unsigned char* p = nullptr;
        unsigned len = 0;
        SSL_get0_alpn_selected(ssl.get(), &p, &len);
        alpn.assign(reinterpret_cast<const char*>(p), len);
        std::unique_ptr<X509, x509_free> cert(SSL_get1_peer_certificate(ssl.get()));
        ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
        int at = cert ? X509_get_ext_by_OBJ(cert.get(), oid, -1) : -1;
        ASN1_OBJECT_free(oid);
        if (at >= 0) {
            ASN1_OCTET_STRING* v = X509_EXTENSION_get_data(X509_get_ext(cert.get(), at));
            out.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v)),
                       static_cast<std::size_t>(ASN1_STRING_length(v)));
        }
    } else {
        out = "handshake failed";
    }
    close(fd);
    return out;
}

/// DER OCTET STRING (04 20 ...) of SHA-256(key authorization), as the extension must hold it.
std::string expected_identifier(const std::string& key_authorization) {
    unsigned char digest[32];
    EVP_Digest(key_authorization.data(), key_authorization.size(), digest, nullptr, EVP_sha256(), nullptr);
    return std::string("\x04\x20", 2) + std::string(reinterpret_cast<char*>(digest), 32);
}

TEST_F(lab_tls_alpn, good_domain_has_the_right_digest_everywhere) {
    ASSERT_TRUE(lab().tls_alpn_port().has_value());
    for (int k = 1; k <= lab().perspectives(); ++k) {
        std::string alpn;
        EXPECT_EQ(acme_identifier(lab().perspective_address(k), *lab().tls_alpn_port(), "good.test", alpn),
                  expected_identifier("tok-good.thumbprint"))
            << "perspective " << k;
        EXPECT_EQ(alpn, "acme-tls/1");
    }
}

TEST_F(lab_tls_alpn, hijacked_perspectives_see_the_attackers_certificate) {
    for (int k = 1; k <= lab().perspectives(); ++k) {
        std::string alpn;
        std::string got = acme_identifier(lab().perspective_address(k), *lab().tls_alpn_port(), "bad.test", alpn);
        bool hijacked = k == 1 || k == 3 || k == 5;
        EXPECT_EQ(got, expected_identifier(hijacked ? "tok-bad.ATTACKER" : "tok-bad.thumbprint"))
            << "perspective " << k;
    }
}

TEST_F(lab_tls_alpn, openssl_s_client_negotiates_acme_tls_1) {
    auto r = run("sh -c 'echo | openssl s_client -connect 127.0.0.1:" + std::to_string(*lab().tls_alpn_port()) +
                 " -servername good.test -alpn acme-tls/1 2>&1'");
    EXPECT_NE(r.out.find("ALPN protocol: acme-tls/1"), std::string::npos) << r.out;
}

} // namespace
} // namespace mpic::lab
