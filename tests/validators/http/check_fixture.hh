#pragma once
// One perspective's runtime on a private loop for check tests: a resolver pointed at fake_dns, an HTTP/TLS client
// in lab mode (ports 80/443 mapped to the in-process test servers), and run_check() that drives the loop until the
// check's callback fired. The destructor closes everything and asserts uv_loop_close() == 0.

#include <memory>
#include <optional>

#include <uv.h>

#include "net/dns/resolver.hh"
#include "net/http/client.hh"
#include "net/tls/client_context.hh"
#include "tests/validators/http/fake_dns.hh"
#include "validators/check_operation.hh"
#include "validators/methods.hh"

namespace mpic::test {

class check_fixture {
public:
    /// `lab` maps URL port 80/443 (http) and 443 (tls-alpn) to test server ports.
    explicit check_fixture(net::addr::lab_ports lab);
    ~check_fixture();

    /// Runs the check made by `factory` until it completes (or `timeout_ms` + 2 s, which fails the test).
    validators::check_result run(validators::check_factory factory, validators::check_request request,
                                 std::uint64_t timeout_ms = 5000);

    fake_dns dns;
    uv_loop_t loop{};
    std::unique_ptr<net::dns::resolver> resolver;
    std::optional<net::tls::client_context> tls;
    std::unique_ptr<net::http::client> http;
    validators::perspective_runtime runtime;
};

/// A dcv request for `target` (parsed with net::parse_identifier) and method.
validators::check_request make_request(std::string_view target, validators::validation_method method);

} // namespace mpic::test
