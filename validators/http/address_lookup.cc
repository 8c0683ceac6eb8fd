#include "validators/http/address_lookup.hh"

#include <uv.h>

#include "net/dns/resolver.hh"

namespace mpic::validators::http {

struct address_lookup::state {
    net::dns::query_handle a;
    net::dns::query_handle aaaa;
    int pending = 2;
    std::vector<net::addr::ip_address> v4;
    std::vector<net::addr::ip_address> v6;
    std::vector<std::string> failures; ///< "A: servfail", ...
    bool any_indeterminate = false;
    std::size_t refused = 0; ///< addresses dropped by the policy
    std::string refused_example;
    std::uint64_t started_ns = 0;
    bool cancelled = false;
};

namespace {

bool indeterminate(net::dns::outcome kind) noexcept {
    // Only an answer, NODATA or NXDOMAIN tells something about the target. SERVFAIL (DNSSEC bogus included),
    // REFUSED, timeouts and malformed answers are lookup failures with no determination, exactly as the DNS-based
    // checks treat them (validators/dns/dns_check.cc is_lookup_failure).
    using net::dns::outcome;
    return kind != outcome::answer && kind != outcome::nodata && kind != outcome::nxdomain;
}

} // namespace

problem lookup_problem(std::string message) {
    return problem::make(problem_component::dcv_checker, "lookup", std::move(message));
}

address_lookup::address_lookup(std::string name, net::addr::address_policy policy, callback done)
    : _name(std::move(name)), _policy(policy), _done(std::move(done)), _state(std::make_unique<state>()) {}

address_lookup::~address_lookup() = default;

std::shared_ptr<address_lookup> address_lookup::start(net::dns::resolver& resolver, std::string name,
                                                      net::addr::address_policy policy, callback done) {
    auto self = std::make_shared<address_lookup>(std::move(name), policy, std::move(done));
    self->_state->started_ns = uv_hrtime();
    auto handler = [self](bool ipv6) {
        return [self, ipv6](net::dns::query_result&& result) {
            auto& st = *self->_state;
            if (st.cancelled) {
                return;
            }
            auto& out = ipv6 ? st.v6 : st.v4;
            using net::dns::outcome;
            if (result.kind == outcome::answer) {
                for (const auto& rr : result.records) {
                    std::optional<net::addr::ip_address> address;
                    if (const auto* a = rr.as<net::dns::a_rdata>(); a != nullptr && !ipv6) {
                        address = net::addr::ip_address::v4(a->address);
                    } else if (const auto* aaaa = rr.as<net::dns::aaaa_rdata>(); aaaa != nullptr && ipv6) {
                        address = net::addr::ip_address::v6(aaaa->address);
                    }
                    if (!address) {
                        continue;
                    }
                    // RFC 8555 §10.4: "only send validation queries to the public Internet"; a name pointing at
                    // 10.0.0.1 must not make the perspective probe its own network.
                    if (!self->_policy.check_address(*address)) {
                        ++st.refused;
                        st.refused_example = address->to_string();
                        continue;
                    }
                    out.push_back(*address);
                }
            } else if (result.kind != outcome::nodata && result.kind != outcome::nxdomain) {
                std::string failure = std::string(ipv6 ? "AAAA: " : "A: ") + std::string(to_string(result.kind));
                if (!result.extended_error.empty()) {
                    failure += " (" + result.extended_error + ")";
                }
                st.failures.push_back(std::move(failure));
                st.any_indeterminate = st.any_indeterminate || indeterminate(result.kind);
            }
            if (--st.pending == 0) {
                self->finish();
            }
        };
    };
    // Both families at once, as Boulder does; the HTTP client later tries the first IPv6 then the first IPv4.
    self->_state->a = resolver.query(self->_name, net::dns::rr_type::a, handler(false));
    self->_state->aaaa = resolver.query(self->_name, net::dns::rr_type::aaaa, handler(true));
    return self;
}

void address_lookup::cancel() noexcept {
    _state->cancelled = true;
    _state->a.detach();
    _state->aaaa.detach();
}

void address_lookup::finish() {
    auto& st = *_state;
    lookup_outcome outcome;
    outcome.elapsed_us = static_cast<std::uint32_t>((uv_hrtime() - st.started_ns) / 1000);
    outcome.addresses = std::move(st.v6);
    outcome.addresses.insert(outcome.addresses.end(), st.v4.begin(), st.v4.end());
    // Boulder va/dns.go: one family failing is tolerated when the other produced usable addresses.
    if (outcome.addresses.empty()) {
        if (!st.failures.empty()) {
            std::string message = "resolving " + _name + " failed:";
            for (const auto& f : st.failures) {
                message += " " + f + ";";
            }
            message.pop_back();
            outcome.error = lookup_problem(std::move(message));
            outcome.determinate = !st.any_indeterminate;
        } else if (st.refused > 0) {
            outcome.error = lookup_problem(_name + " resolves only to addresses the policy refuses (e.g. " +
                                           st.refused_example + ")");
        } else {
            outcome.error = lookup_problem("no A or AAAA records for " + _name);
        }
    }
    auto done = std::move(_done);
    done(std::move(outcome));
}

} // namespace mpic::validators::http
