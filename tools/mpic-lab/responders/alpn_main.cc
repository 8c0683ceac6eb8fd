// mpic-lab-alpn: the lab's TLS-ALPN-01 responder (RFC 8737 §3, RFC 8738 §6). It selects the certificate from the
// ClientHello's SNI and the client's source address (the perspective), negotiates "acme-tls/1" unless the entry's
// variant says otherwise, completes the handshake and closes: RFC 8737 §3 "no application data".

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>

#include "tools/mpic-lab/responders/alpn_cert.hh"
#include "tools/mpic-lab/responders/lab_server.hh"

namespace mpic::lab::responders {
namespace {

struct served_cert {
    std::string sni;                   // lower case, no trailing dot
    std::optional<std::string> source; // perspective address, nullopt = default
    alpn_variant variant;
    alpn_certificate cert;
};

struct connection_state {
    std::string peer;
    std::string sni;
    const served_cert* chosen = nullptr;
};

std::vector<served_cert> g_certs;
int g_state_index = -1;

std::string normalise_name(std::string_view name) {
    std::string s(name);
    if (!s.empty() && s.back() == '.') {
        s.pop_back();
    }
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// Per-perspective entry first, then the default entry (responder_config.hh "Perspectives").
const served_cert* select_cert(const std::string& sni, const std::string& peer) {
    for (const auto& c : g_certs) {
        if (c.source && *c.source == peer && c.sni == sni) {
            return &c;
        }
    }
    for (const auto& c : g_certs) {
        if (!c.source && c.sni == sni) {
            return &c;
        }
    }
    return nullptr;
}

// RFC 6066 §3 ServerNameList: u16 list length, then {u8 type, u16 length, name}. Only host_name (0) counts.
std::optional<std::string> sni_from_extension(const unsigned char* p, std::size_t len) {
    if (len < 2) {
        return std::nullopt;
    }
    std::size_t list = (std::size_t{p[0]} << 8) | p[1];
    if (list + 2 != len) {
        return std::nullopt;
    }
    std::size_t i = 2;
    while (i + 3 <= len) {
        const unsigned type = p[i];
        const std::size_t n = (std::size_t{p[i + 1]} << 8) | p[i + 2];
        i += 3;
        if (i + n > len) {
            return std::nullopt;
        }
        if (type == TLSEXT_NAMETYPE_host_name) {
            return std::string(reinterpret_cast<const char*>(p + i), n);
        }
        i += n;
    }
    return std::nullopt;
}

int on_client_hello(SSL* ssl, int* alert, void*) {
    auto* st = static_cast<connection_state*>(SSL_get_ex_data(ssl, g_state_index));
    const unsigned char* ext = nullptr;
    std::size_t len = 0;
    std::optional<std::string> sni;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) == 1) {
        sni = sni_from_extension(ext, len);
    }
    if (st == nullptr || !sni) {
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_CLIENT_HELLO_ERROR;
    }
    st->sni = normalise_name(*sni);
    st->chosen = select_cert(st->sni, st->peer);
    if (st->chosen == nullptr) {
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_CLIENT_HELLO_ERROR;
    }
    const alpn_certificate& c = st->chosen->cert;
    STACK_OF(X509)* chain = nullptr;
    if (c.issuer) {
        chain = sk_X509_new_null();
        if (chain != nullptr) {
            sk_X509_push(chain, c.issuer.get());
        }
    }
    const int ok = SSL_use_cert_and_key(ssl, c.cert.get(), c.key.get(), chain, 1);
    sk_X509_free(chain); // SSL_use_cert_and_key takes its own references
    if (ok != 1) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

// RFC 8737 §3/§6.2: the challenge certificate is served only under ALPN "acme-tls/1".
int on_alpn_select(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                   unsigned int inlen, void*) {
    auto* st = static_cast<connection_state*>(SSL_get_ex_data(ssl, g_state_index));
    if (st == nullptr || st->chosen == nullptr || st->chosen->variant == alpn_variant::no_alpn) {
        return SSL_TLSEXT_ERR_NOACK;
    }
    unsigned int i = 0;
    while (i < inlen) {
        const unsigned int n = in[i];
        if (i + 1 + n > inlen) {
            break;
        }
        if (std::string_view(reinterpret_cast<const char*>(in + i + 1), n) == acme_tls_alpn) {
            *out = in + i + 1;
            *outlen = static_cast<unsigned char>(n);
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL; // no_application_protocol
}

void serve(SSL_CTX* ctx, unique_fd fd, const std::string& peer) {
    set_timeouts(fd.get(), std::chrono::seconds(10), std::chrono::seconds(10));
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx), SSL_free);
    if (!ssl) {
        return;
    }
    connection_state st;
    st.peer = peer;
    SSL_set_ex_data(ssl.get(), g_state_index, &st);
    SSL_set_fd(ssl.get(), fd.get());
    const int r = SSL_accept(ssl.get());
    std::fprintf(
        stderr, "mpic-lab-alpn: %s sni=%s entry=%s handshake=%s\n", peer.c_str(), st.sni.empty() ? "-" : st.sni.c_str(),
        st.chosen != nullptr ? std::string(to_string(st.chosen->variant)).c_str() : "none", r == 1 ? "ok" : "failed");
    if (r == 1) {
        // Close right after the handshake; give the client a moment to send its own close_notify so that it sees
        // a clean end rather than a reset.
        SSL_shutdown(ssl.get());
        set_timeouts(fd.get(), std::chrono::seconds(2), std::chrono::seconds(2));
        char buf[256];
        for (int i = 0; i < 64 && SSL_read(ssl.get(), buf, sizeof buf) > 0; ++i) {
        }
    }
    ERR_clear_error();
}

int run(int argc, char** argv) {
    int code = 0;
    auto path = parse_command_line(argc, argv, "mpic-lab-alpn: TLS-ALPN-01 responder for the lab", &code);
    if (!path) {
        return code;
    }
    auto cfg = read_alpn_config(*path);
    if (!cfg) {
        std::fprintf(stderr, "error: %s\n", cfg.error.c_str());
        return 2;
    }
    install_stop_handlers();
    for (const auto& e : cfg.config->certs) {
        std::string err;
        auto cert = build_alpn_certificate(e.name, e.key_authorization, e.variant, e.many_sans_count, &err);
        if (!cert) {
            std::fprintf(stderr, "error: certificate for %s: %s\n", e.name.c_str(), err.c_str());
            return 1;
        }
        // RFC 8738 §6: an IP identifier is selected by its reverse name in the SNI.
        std::string sni = normalise_name(reverse_name(e.name).value_or(e.name));
        g_certs.push_back({std::move(sni), e.source, e.variant, std::move(*cert)});
    }
    g_state_index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method()); // lives until exit_now
    if (ctx == nullptr || g_state_index < 0) {
        std::fprintf(stderr, "error: SSL_CTX_new failed\n");
        return 1;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); // RFC 8737 §3: TLS 1.2 or later
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_client_hello_cb(ctx, on_client_hello, nullptr);
    SSL_CTX_set_alpn_select_cb(ctx, on_alpn_select, nullptr);

    std::string err;
    unique_fd listener = bind_socket(cfg.config->listen.address, cfg.config->listen.port, SOCK_STREAM, &err);
    if (!listener) {
        std::fprintf(stderr, "error: %s\n", err.c_str());
        return 1;
    }
    announce_ready("ready " + std::to_string(local_port(listener.get())));
    accept_loop(listener.get(), [ctx](unique_fd fd, const std::string& peer) { serve(ctx, std::move(fd), peer); });
    return 0;
}

} // namespace
} // namespace mpic::lab::responders

int main(int argc, char** argv) {
    mpic::lab::responders::exit_now(mpic::lab::responders::run(argc, argv));
}
