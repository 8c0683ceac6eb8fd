#include "validators/dns/dns_check.hh"

#include "core/error.hh"
#include "validators/dns/dcv_match.hh"

namespace mpic::validators {

bool is_lookup_failure(const net::dns::query_result& result) noexcept {
    using net::dns::outcome;
    switch (result.kind) {
    case outcome::answer:
    case outcome::nodata:
    case outcome::nxdomain:
        return false;
    case outcome::servfail:
    case outcome::refused:
    case outcome::other_rcode:
    case outcome::timeout:
    case outcome::truncated:
    case outcome::malformed:
    case outcome::network_error:
    case outcome::cancelled:
        return true;
    }
    return true;
}

bool is_dnssec_failure(const net::dns::query_result& result) noexcept {
    if (!result.msg || !result.msg->opt) {
        return false;
    }
    for (const auto& ede : result.msg->opt->extended_errors) {
        // RFC 8914 §4.6–4.13. Codes 1–3 (unsupported algorithm / digest, stale answer) mean "treated as
        // insecure" or "cache", not a validation failure, so they are not counted here.
        if (ede.info_code >= 5 && ede.info_code <= 12) {
            return true;
        }
    }
    return false;
}

std::string describe_failure(const net::dns::query_result& result) {
    std::string text;
    if (result.msg && (result.kind == net::dns::outcome::servfail || result.kind == net::dns::outcome::refused ||
                       result.kind == net::dns::outcome::other_rcode)) {
        text = result.rcode_name();
    } else {
        text = std::string(net::dns::to_string(result.kind));
    }
    text += " for ";
    text += net::dns::type_name(result.qtype);
    text += ' ';
    text += result.qname;
    if (!result.extended_error.empty()) {
        text += " (" + result.extended_error + ")";
    } else if (result.error) {
        text += " (" + result.error.message() + ")";
    }
    return text;
}

std::vector<std::string> joined_txt_values(const net::dns::query_result& result) {
    std::vector<std::string> values;
    for (const auto& rr : result.records) {
        if (const auto* txt = rr.as<net::dns::txt_rdata>()) {
            values.push_back(txt->joined());
        }
    }
    return values;
}

caa_lookup to_caa_lookup(const net::dns::query_result& result) {
    using net::dns::outcome;
    caa_lookup lookup;
    lookup.dnssec_failure = is_dnssec_failure(result);
    lookup.non_dnssec_cause =
        !lookup.dnssec_failure && result.msg && result.msg->opt && !result.msg->opt->extended_errors.empty();
    switch (result.kind) {
    case outcome::answer:
        lookup.status = caa_lookup_status::records;
        for (const auto& rr : result.records) {
            if (const auto* caa = rr.as<net::dns::caa_rdata>()) {
                lookup.records.push_back({caa->flags, caa->tag, caa->value});
            }
        }
        if (lookup.records.empty()) {
            lookup.status = caa_lookup_status::no_data;
        }
        break;
    case outcome::nodata:
        lookup.status = caa_lookup_status::no_data;
        break;
    case outcome::nxdomain:
        lookup.status = caa_lookup_status::nxdomain;
        break;
    case outcome::servfail:
        lookup.status = caa_lookup_status::servfail;
        break;
    case outcome::refused:
    case outcome::other_rcode:
        lookup.status = caa_lookup_status::refused;
        break;
    case outcome::timeout:
        lookup.status = caa_lookup_status::timeout;
        break;
    case outcome::truncated:
        lookup.status = caa_lookup_status::truncated;
        break;
    case outcome::malformed:
        lookup.status = caa_lookup_status::malformed;
        break;
    case outcome::network_error:
    case outcome::cancelled:
        lookup.status = caa_lookup_status::unreachable;
        break;
    }
    return lookup;
}

dns_check::dns_check(perspective_runtime& runtime, std::shared_ptr<const check_request> request,
                     check_callback callback)
    : check_operation(runtime, std::move(request), std::move(callback)), _result(make_result()) {}

void dns_check::send(std::string_view name, std::uint16_t type, query_then then) {
    if (_runtime.dns == nullptr) {
        finish_lookup_error("this perspective has no DNS resolver");
        return;
    }
    // The strong reference keeps the check alive while the query runs, whoever else lets go of it (the deadline
    // path of check_operation drops its own reference before calling abort()).
    _pending = _runtime.dns->query(
        name, type, [self = shared_from_this(), this, then = std::move(then)](net::dns::query_result&& result) {
            if (finished()) {
                return;
            }
            _dns_us += static_cast<std::uint32_t>(result.elapsed.count());
            then(std::move(result));
        });
}

void dns_check::abort() {
    // Detaching drops the callback and with it possibly the last reference to *this: hold one until we are done.
    if (auto keep = weak_from_this().lock()) {
        auto pending = std::move(_pending);
        pending.detach();
    }
}

problem_component dns_check::component() const noexcept {
    return _request->type == check_type::caa ? problem_component::caa_checker : problem_component::dcv_checker;
}

void dns_check::describe(const net::dns::query_result& result) {
    auto& details = _result.details;
    details.response_code = result.rcode_name();
    details.ad_flag = result.ad;
    details.cname_chain.clear();
    if (!result.chain.steps.empty()) {
        details.cname_chain = result.chain.names(result.qname);
    }
    details.records_seen.clear();
    for (const auto& rr : result.records) {
        details.records_seen.push_back(net::dns::rdata_to_string(rr));
    }
}

void dns_check::deliver(bool completed, bool passed, std::string_view kind, std::string message) {
    _result.completed = completed;
    _result.passed = passed;
    _result.errors.clear();
    if (!kind.empty()) {
        _result.errors.push_back(problem::make(component(), kind, std::move(message)));
    }
    _result.timings.dns_us = _dns_us;
    finish(std::move(_result));
}

void dns_check::finish_passed() {
    deliver(true, true, {}, {});
}

void dns_check::finish_negative(std::string_view kind, std::string message) {
    deliver(true, false, kind, std::move(message));
}

void dns_check::finish_lookup_error(const net::dns::query_result& result) {
    if (result.kind == net::dns::outcome::cancelled && result.error == make_error_code(errc::invalid_argument)) {
        // The resolver refused the name itself (e.g. a dns_name_prefix with bytes a query name cannot carry):
        // nothing was asked, so this is the request's fault, not a DNS answer.
        deliver(false, false, "parameter", "not a valid query name: " + result.qname);
        return;
    }
    describe(result);
    deliver(false, false, "lookup", describe_failure(result));
}

void dns_check::finish_lookup_error(std::string message) {
    deliver(false, false, "lookup", std::move(message));
}

void dns_check::finish_parameter_error(std::string message) {
    deliver(false, false, "parameter", std::move(message));
}

void txt_exact_check::query_and_match(std::string name, std::string expected) {
    send(name, static_cast<std::uint16_t>(net::dns::rr_type::txt),
         [this, name, expected = std::move(expected)](net::dns::query_result&& result) {
             if (is_lookup_failure(result)) {
                 // D7: SERVFAIL (DNSSEC bogus included) is a DNS problem, never a pass and never retried as one.
                 finish_lookup_error(result);
                 return;
             }
             describe(result);
             const auto values = joined_txt_values(result);
             if (values.empty()) {
                 finish_negative("not_found", "No TXT record found at " + name + " (" + result.rcode_name() + ")");
                 return;
             }
             if (find_exact(values, expected)) {
                 _result.details.found_at = result.chain.final_name;
                 finish_passed();
                 return;
             }
             finish_negative("mismatch", "none of the " + std::to_string(values.size()) + " TXT records at " + name +
                                             " equals the expected value");
         });
}

void climbing_check::start_climb(std::string_view name, caa_climb_options options) {
    _climb.emplace(name, options);
    step();
}

void climbing_check::step() {
    if (_climb->done()) {
        on_climb_done();
        return;
    }
    send(_climb->query_name(), static_cast<std::uint16_t>(net::dns::rr_type::caa),
         [this](net::dns::query_result&& result) {
             // Keep the details of the latest reply: the deciding one once the climb stops.
             describe(result);
             _climb->feed(to_caa_lookup(result));
             _failure_text = is_lookup_failure(result) ? describe_failure(result) : std::string();
             step();
         });
}

} // namespace mpic::validators
