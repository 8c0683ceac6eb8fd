// mpic-lab-alpn as a process: started on 127.0.0.1:0, probed with `openssl s_client` / `openssl x509` for each
// certificate variant, and with an in-test OpenSSL client bound to 127.0.0.2 for per-perspective selection.

#include <algorithm>
#include <arpa/inet.h>
#include <cstdio>
#include <netinet/in.h>
#include <signal.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tests/lab_responders/lab_process.hh"
#include "tools/mpic-lab/responders/alpn_cert.hh"
#include "tools/mpic-lab/responders/lab_server.hh"

namespace mpic::lab::test {
namespace {

using responders::alpn_variant;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* key_auth = "tok123.thumbprint";

struct alpn_fixture {
    temp_dir dir;
    std::unique_ptr<responder_process> proc;
    int port = 0;

    alpn_fixture() {
        responders::alpn_config c;
        for (int i = 0; i <= static_cast<int>(alpn_variant::duplicate_extension); ++i) {
            const auto v = static_cast<alpn_variant>(i);
            std::string name(responders::to_string(v));
            std::replace(name.begin(), name.end(), '_', '-');
            c.certs.push_back({name + ".test", key_auth, v, std::nullopt, 2000});
        }
        c.certs.push_back({"192.0.2.7", key_auth, alpn_variant::valid, std::nullopt, 1});
        c.certs.push_back({"2001:db8::7", key_auth, alpn_variant::valid, std::nullopt, 1});
        // Perspective 1 (127.0.0.2) is "hijacked": it sees a certificate for another key authorization.
        c.certs.push_back({"valid.test", "attacker.thumbprint", alpn_variant::valid, "127.0.0.2", 1});
        EXPECT_EQ(responders::write_config(dir.path() / "alpn.toml", c), "");
        proc =
            std::make_unique<responder_process>(MPIC_LAB_ALPN_BIN, dir.path() / "alpn.toml", dir.path() / "stderr.txt");
        port = port_from_ready(proc->wait_ready());
    }

    std::string s_client(const std::string& sni, const std::string& alpn = "acme-tls/1") const {
        return "openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " -servername " + sni +
               (alpn.empty() ? "" : " -alpn " + alpn) + " </dev/null";
    }
    // The served certificate as `openssl x509 -text`.
    std::string cert_text(const std::string& sni) const {
        return run_command(s_client(sni) + " 2>/dev/null | openssl x509 -noout -text").output;
    }
    // The served certificate's DER as one hex string.
    std::string cert_hex(const std::string& sni) const {
        return run_command(s_client(sni) + " 2>/dev/null | openssl x509 -outform DER | od -An -v -tx1 | tr -d ' \\n'")
            .output;
    }
};

std::string hex(const std::array<unsigned char, 32>& d) {
    std::string out;
    char b[3];
    for (unsigned char c : d) {
        std::snprintf(b, sizeof b, "%02x", c);
        out += b;
    }
    return out;
}

// The acmeIdentifier extension as it appears in DER: OID 1.3.6.1.5.5.7.1.31, BOOLEAN TRUE, then the extnValue
// OCTET STRING (0x04 0x22) wrapping the Authorization OCTET STRING (0x04 0x20 digest).
std::string critical_extension_hex(std::string_view ka) {
    return "06082b0601050507011f0101ff04220420" + hex(responders::key_authorization_digest(ka));
}

struct probe_result {
    bool handshake = false;
    std::string alpn;
    std::string san; // first dNSName or "ip:<bytes>" of the peer certificate
    std::string ext; // acmeIdentifier extnValue bytes
};

// TLS client bound to `source` (a perspective address), offering only acme-tls/1 and SNI (RFC 8737 §3).
probe_result probe(int port, const char* source, const std::string& sni) {
    probe_result out;
    responders::unique_fd fd(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in src{};
    src.sin_family = AF_INET;
    inet_pton(AF_INET, source, &src.sin_addr);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
        ::connect(fd.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
        return out;
    }
    responders::set_timeouts(fd.get(), std::chrono::seconds(5), std::chrono::seconds(5));
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
    static const unsigned char alpn[] = "\x0a"
                                        "acme-tls/1";
    SSL_set_alpn_protos(ssl.get(), alpn, sizeof alpn - 1);
    // SSL_set_tlsext_host_name is a macro with a C cast; call what it expands to.
    SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(sni.c_str()));
    SSL_set_fd(ssl.get(), fd.get());
    out.handshake = SSL_connect(ssl.get()) == 1;
    const unsigned char* proto = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl.get(), &proto, &len);
    out.alpn.assign(reinterpret_cast<const char*>(proto), len);
    std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl.get()), X509_free);
    if (cert) {
        auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
        if (names != nullptr && sk_GENERAL_NAME_num(names) > 0) {
            int type = 0;
            auto* v = static_cast<ASN1_STRING*>(GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names, 0), &type));
            out.san.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v)),
                           static_cast<std::size_t>(ASN1_STRING_length(v)));
        }
        GENERAL_NAMES_free(names);
        ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
        const int at = X509_get_ext_by_OBJ(cert.get(), oid, -1);
        ASN1_OBJECT_free(oid);
        if (at >= 0) {
            const ASN1_OCTET_STRING* d = X509_EXTENSION_get_data(X509_get_ext(cert.get(), at));
            out.ext.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)),
                           static_cast<std::size_t>(ASN1_STRING_length(d)));
        }
    }
    if (out.handshake) {
        SSL_shutdown(ssl.get());
    }
    return out;
}

TEST(AlpnResponder, ReadyLineThenCleanExitOnSigterm) {
    alpn_fixture f;
    ASSERT_GT(f.port, 0);
    EXPECT_EQ(f.proc->stop(), 0);
    EXPECT_EQ(f.proc->extra_stdout(), "");
}

TEST(AlpnResponder, ValidCertificateAsSeenByOpenssl) {
    alpn_fixture f;
    ASSERT_GT(f.port, 0);
    const auto session = run_command(f.s_client("valid.test"));
    EXPECT_THAT(session.output, HasSubstr("ALPN protocol: acme-tls/1"));
    EXPECT_THAT(session.output, HasSubstr("issuer=CN = mpic-lab acme-tls/1"));
    const std::string text = f.cert_text("valid.test");
    EXPECT_THAT(text, HasSubstr("1.3.6.1.5.5.7.1.31: critical"));
    EXPECT_THAT(text, HasSubstr("DNS:valid.test\n"));
    EXPECT_THAT(f.cert_hex("valid.test"), HasSubstr(critical_extension_hex(key_auth)));
    // SNI matching is case-insensitive and ignores a trailing dot.
    EXPECT_THAT(f.cert_text("VALID.Test."), HasSubstr("DNS:valid.test\n"));
}

TEST(AlpnResponder, ExtensionVariantsAsSeenByOpenssl) {
    alpn_fixture f;
    ASSERT_GT(f.port, 0);
    EXPECT_THAT(f.cert_text("not-critical.test"), Not(HasSubstr("1.3.6.1.5.5.7.1.31: critical")));
    EXPECT_THAT(f.cert_text("not-critical.test"), HasSubstr("1.3.6.1.5.5.7.1.31: \n"));
    EXPECT_THAT(f.cert_text("missing-extension.test"), Not(HasSubstr("1.3.6.1.5.5.7.1.31")));
    const std::string wrong = f.cert_hex("wrong-digest.test");
    EXPECT_THAT(wrong, HasSubstr("06082b0601050507011f0101ff04220420"));
    EXPECT_THAT(wrong, Not(HasSubstr(critical_extension_hex(key_auth))));
    EXPECT_THAT(f.cert_hex("digest-wrong-length.test"), HasSubstr("06082b0601050507011f0101ff0421041f"));
    const std::string dup = f.cert_hex("duplicate-extension.test");
    const std::string ext = critical_extension_hex(key_auth);
    ASSERT_NE(dup.find(ext), std::string::npos);
    EXPECT_NE(dup.find(ext, dup.find(ext) + 1), std::string::npos);
}

TEST(AlpnResponder, SanAndSignatureVariantsAsSeenByOpenssl) {
    alpn_fixture f;
    ASSERT_GT(f.port, 0);
    EXPECT_THAT(f.cert_text("extra-san.test"), HasSubstr("DNS:extra-san.test, DNS:extra.extra-san.test\n"));
    EXPECT_THAT(f.cert_text("wrong-san.test"), HasSubstr("DNS:other.wrong-san.test\n"));
    EXPECT_THAT(f.cert_text("uppercase-san.test"), HasSubstr("DNS:UPPERCASE-SAN.TEST\n"));
    const std::string many = f.cert_text("many-sans.test");
    EXPECT_THAT(many, HasSubstr("DNS:many-sans.test, DNS:san1.many-sans.test"));
    EXPECT_THAT(many, HasSubstr("DNS:san1999.many-sans.test\n"));
    EXPECT_THAT(f.cert_text("not-self-signed.test"), HasSubstr("Issuer: CN = mpic-lab separate CA"));
    EXPECT_THAT(f.cert_text("valid.test"), HasSubstr("Issuer: CN = mpic-lab acme-tls/1"));
    const auto expired = run_command(f.s_client("expired.test") + " 2>/dev/null | openssl x509 -noout -checkend 0");
    EXPECT_EQ(expired.status, 1) << expired.output; // "Certificate will expire" = already past notAfter
    const auto fresh = run_command(f.s_client("valid.test") + " 2>/dev/null | openssl x509 -noout -checkend 0");
    EXPECT_EQ(fresh.status, 0) << fresh.output;
}

TEST(AlpnResponder, IpIdentifiersAreSelectedByReverseName) {
    alpn_fixture f;
    ASSERT_GT(f.port, 0);
    EXPECT_THAT(f.cert_text("7.2.0.192.in-addr.arpa"), HasSubstr("IP Address:192.0.2.7\n"));
    EXPECT_THAT(f.cert_text(*responders::reverse_name("2001:db8::7") + "."),
                HasSubstr("IP Address:2001:DB8:0:0:0:0:0:7"));
}

TEST(AlpnResponder, AlpnNegotiationRules) {
    alpn_fixture f;
    ASSERT_GT(f.port, 0);
    EXPECT_THAT(run_command(f.s_client("no-alpn.test")).output, HasSubstr("No ALPN negotiated"));
    // The challenge certificate is only served under acme-tls/1 (RFC 8737 §3): another protocol is refused.
    EXPECT_THAT(run_command(f.s_client("valid.test", "http/1.1")).output, HasSubstr("no application protocol"));
    EXPECT_THAT(run_command(f.s_client("unknown.test")).output, HasSubstr("unrecognized name"));
}

TEST(AlpnResponder, PerspectiveSourceAddressSelectsItsOwnCertificate) {
    alpn_fixture f;
    ASSERT_GT(f.port, 0);
    const auto own = responders::key_authorization_digest(key_auth);
    const auto attacker = responders::key_authorization_digest("attacker.thumbprint");
    const probe_result p0 = probe(f.port, "127.0.0.1", "valid.test");
    ASSERT_TRUE(p0.handshake);
    EXPECT_EQ(p0.alpn, "acme-tls/1");
    EXPECT_EQ(p0.san, "valid.test");
    EXPECT_EQ(p0.ext.substr(2), std::string(own.begin(), own.end()));
    const probe_result p1 = probe(f.port, "127.0.0.2", "valid.test");
    ASSERT_TRUE(p1.handshake);
    EXPECT_EQ(p1.ext.substr(2), std::string(attacker.begin(), attacker.end()));
    // Perspective 2 has no override and falls back to the default entry.
    const probe_result p2 = probe(f.port, "127.0.0.3", "valid.test");
    ASSERT_TRUE(p2.handshake);
    EXPECT_EQ(p2.ext.substr(2), std::string(own.begin(), own.end()));
}

TEST(AlpnResponder, SurvivesHostileClients) {
    alpn_fixture f;
    ASSERT_GT(f.port, 0);
    const std::string p = std::to_string(f.port);
    // Garbage, a TLS record header announcing 16 KB and then nothing, an immediate close, a ClientHello cut short.
    run_command("head -c 5000 /dev/urandom | timeout 2 bash -c 'cat > /dev/tcp/127.0.0.1/" + p + "'", 5);
    run_command("printf '\\x16\\x03\\x01\\x40\\x00' | timeout 2 bash -c 'cat > /dev/tcp/127.0.0.1/" + p + "'", 5);
    run_command("timeout 2 bash -c ': > /dev/tcp/127.0.0.1/" + p + "'", 5);
    run_command(f.s_client("valid.test") + " -tls1_3 -no_ticket -msg 2>&1 | head -c 100", 5);
    // Twenty handshakes in parallel.
    const auto many = run_command("for i in $(seq 20); do (" + f.s_client("valid.test") +
                                      " 2>/dev/null | grep -c 'ALPN protocol: acme-tls/1') & done; wait",
                                  30);
    EXPECT_EQ(std::count(many.output.begin(), many.output.end(), '1'), 20) << many.output;
    EXPECT_TRUE(probe(f.port, "127.0.0.1", "valid.test").handshake);
    EXPECT_EQ(kill(f.proc->pid(), 0), 0) << "responder died";
    EXPECT_EQ(f.proc->stop(), 0);
}

} // namespace
} // namespace mpic::lab::test
