// acme-tls-alpn-01: BR 3.2.2.4.20, RFC 8737 §3, RFC 8738 §6 for IP identifiers.
#include "net/addr/ip_address.hh"
#include "net/http/client.hh"
#include "validators/http/address_lookup.hh"
#include "validators/methods.hh"
#include "validators/tls/acme_identifier.hh"

namespace mpic::validators {
namespace {

problem tls_alpn_problem(std::string_view kind, std::string message) {
    return problem::make(problem_component::dcv_checker, "tls_alpn:" + std::string(kind), std::move(message));
}

std::uint32_t us(std::chrono::microseconds d) {
    return static_cast<std::uint32_t>(d.count());
}

class tls_alpn01_check final : public check_operation {
public:
    using check_operation::check_operation;

private:
    const net::addr::address_policy& policy() const { return _runtime.http->config().policy; }

    void run() override {
        const auto& target = _request->target;
        // BR 3.2.2.4.20 Note: "This method is NOT suitable for validating Wildcard Domain Names."
        if (target.wildcard) {
            fail_parameter("acme-tls-alpn-01 cannot validate a wildcard name (BR 3.2.2.4.20)");
            return;
        }
        const auto digest = tls::decode_key_authorization_hash(_request->dcv.key_authorization_hash);
        if (!digest) {
            fail_parameter("key_authorization_hash must be the SHA-256 digest as base64url (43 chars) or hex (64)");
            return;
        }
        _digest = *digest;
        if (_runtime.http == nullptr) {
            fail_parameter("this perspective has no TLS client"); // LCOV_EXCL_LINE: DefensiveCoding
            return;                                               // LCOV_EXCL_LINE
        }
        if (target.is_ip()) {
            // RFC 8738 §4: "their initial DNS resolution step MUST be skipped".
            const auto address = net::addr::ip_address::parse(target.name);
            if (!address || !policy().check_address(*address)) {
                complete(true, http::lookup_problem("address " + target.name + " is refused by the address policy"));
                return;
            }
            handshake({*address});
            return;
        }
        if (_runtime.dns == nullptr) {
            complete(false, http::lookup_problem("this perspective has no resolver"));
            return;
        }
        auto self = std::static_pointer_cast<tls_alpn01_check>(shared_from_this());
        _lookup =
            http::address_lookup::start(*_runtime.dns, target.name, policy(), [self](http::lookup_outcome&& outcome) {
                self->_lookup.reset();
                self->_timings.dns_us = outcome.elapsed_us;
                if (outcome.error) {
                    self->complete(outcome.determinate, std::move(outcome.error));
                    return;
                }
                self->handshake(std::move(outcome.addresses));
            });
    }

    void handshake(std::vector<net::addr::ip_address> addresses) {
        const auto& target = _request->target;
        // RFC 8737 §3: "connecting to TCP port 443"; in lab mode the policy maps it to the lab responder.
        const auto port = policy().map_port(443, net::addr::connect_purpose::tls_alpn);
        if (!port) {
            complete(true, problem::from_error(problem_component::http, "", "port 443 refused", port.error()));
            return;
        }
        net::http::handshake_request req;
        req.addresses = std::move(addresses);
        req.port = *port;
        // RFC 8737 §3: SNI = the domain being validated; RFC 8738 §6: for an IP, the reverse-mapping name
        // ("1.2.0.192.in-addr.arpa", nibbles under ip6.arpa), since SNI cannot carry an address (RFC 6066 §3).
        req.tls.sni = target.is_ip() ? net::reverse_name(target) : target.name;
        // RFC 8737 §3: "the ALPN extension containing only the protocol 'acme-tls/1'".
        req.tls.alpn = {std::string(tls::acme_tls_alpn_protocol)};
        req.tls.verify = net::tls::verification::off("RFC 8737 §3: the responder certificate is self-signed by design");
        // Boulder va/tlsalpn.go: the IPv4 address is tried after any failure of the IPv6 attempt.
        req.fallback = net::http::address_fallback::on_any_failure;
        auto self = std::static_pointer_cast<tls_alpn01_check>(shared_from_this());
        // The client closes the connection right after the handshake: RFC 8737 §3 "MUST NOT ... exchange data".
        _exchange = _runtime.http->handshake(
            std::move(req), [self](net::http::handshake_result&& result) { self->on_handshake(std::move(result)); });
    }

    void on_handshake(net::http::handshake_result&& result) {
        if (finished()) {
            return;
        }
        auto& r = result.response;
        _timings.connect_us = us(r.timings.connect);
        _timings.tls_us = us(r.timings.tls);
        if (r.address) {
            _resolved_ip = r.address->to_string();
        }
        if (!result.ok() || !r.peer_certificate) {
            const bool ours = result.error == make_error_code(errc::cancelled) ||
                              result.error == make_error_code(errc::shutting_down);
            const auto ec = result.error ? result.error : make_error_code(errc::malformed);
            complete(!ours, problem::from_error(problem_component::dcv_checker, "tls_alpn:handshake",
                                                std::string(net::http::to_string(result.failed_stage)), ec));
            return;
        }
        // RFC 8737 §3: the client "MUST verify that the server negotiated the 'acme-tls/1' protocol" (T1). Open MPIC
        // passed when no ALPN was negotiated at all.
        if (r.alpn != tls::acme_tls_alpn_protocol) {
            complete(true, tls_alpn_problem("alpn_not_negotiated",
                                            r.alpn.empty() ? "the server selected no ALPN protocol"
                                                           : "the server selected ALPN \"" + r.alpn + "\""));
            return;
        }
        auto verdict = tls::check_acme_certificate(r.peer_certificate.get(), _request->target, _digest);
        _common_name = verdict.common_name;
        if (!verdict.passed()) {
            complete(true, tls::to_problem(verdict));
            return;
        }
        complete(true, std::nullopt);
    }

    void fail_parameter(std::string message) {
        complete(true, problem::make(problem_component::dcv_checker, "parameter", std::move(message)));
    }

    void complete(bool completed, std::optional<problem> error) {
        auto result = make_result();
        result.completed = completed || !error;
        result.passed = !error;
        if (error) {
            result.errors.push_back(std::move(*error));
        }
        result.details.common_name = _common_name;
        result.details.resolved_ip = _resolved_ip;
        result.timings = _timings;
        finish(std::move(result));
    }

    void abort() override {
        if (_lookup) {
            _lookup->cancel();
            _lookup.reset();
        }
        _exchange.cancel();
    }

    tls::acme_digest _digest{};
    std::shared_ptr<http::address_lookup> _lookup;
    net::http::request_handle _exchange;
    check_timings _timings;
    std::string _resolved_ip;
    std::string _common_name;
};

} // namespace

std::shared_ptr<check_operation> make_tls_alpn01_check(perspective_runtime& runtime,
                                                       std::shared_ptr<const check_request> request,
                                                       check_callback callback) {
    return std::make_shared<tls_alpn01_check>(runtime, std::move(request), std::move(callback));
}

} // namespace mpic::validators
