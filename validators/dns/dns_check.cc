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

namespace {

failure_cause cause_of(std::uint16_t info_code) noexcept {
    switch (info_code) {
    // RFC 8914 §4.6–4.13, and the IANA registry's 25 "Signature Expired before Valid" and 27 "Unsupported NSEC3
    // Iterations Value" (RFC 9276 §3.2). Codes 1–2 (unsupported algorithm / digest) mean "treated as insecure" and
    // 3 a stale answer: not validation failures.
    case 5:
    case 6:
    case 7:
    case 8:
    case 9:
    case 10:
    case 11:
    case 12:
    case 25:
    case 27:
        return failure_cause::dnssec;
    // The resolver itself declined (RFC 8914 §4.5 Forged Answer, §4.15 Not Ready, §4.16 Blocked, §4.17 Censored,
    // §4.18 Filtered, §4.19 Prohibited, §4.21 Not Authoritative, §4.22 Not Supported): its state, policy or
    // configuration, i.e. the CA's infrastructure (BR 3.2.2.8 condition (1) fails).
    case 4:
    case 14:
    case 15:
    case 16:
    case 17:
    case 18:
    case 20:
    case 21:
        return failure_cause::internal;
    // The domain's side (§4.23 No Reachable Authority, §4.24 Network Error, §4.25 Invalid Data).
    case 22:
    case 23:
    case 24:
        return failure_cause::upstream;
    default:
        // 0 Other, 3 Stale Answer, 13 Cached Error (the cached failure's own cause is not given), 19 Stale
        // NXDOMAIN, and codes we do not know: no cause stated.
        return failure_cause::unknown;
    }
}

int severity(failure_cause cause) noexcept {
    switch (cause) {
    case failure_cause::dnssec:
        return 3;
    case failure_cause::internal:
        return 2;
    case failure_cause::upstream:
        return 1;
    case failure_cause::unknown:
        return 0;
    }
    return 0;
}

} // namespace

failure_cause classify_ede(const net::dns::query_result& result) noexcept {
    auto cause = failure_cause::unknown;
    if (!result.msg || !result.msg->opt) {
        return cause;
    }
    for (const auto& ede : result.msg->opt->extended_errors) {
        const auto c = cause_of(ede.info_code);
        if (severity(c) > severity(cause)) {
            cause = c;
        }
    }
    return cause;
}

bool is_dnssec_failure(const net::dns::query_result& result) noexcept {
    return classify_ede(result) == failure_cause::dnssec;
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
    lookup.cause = classify_ede(result);
    lookup.ad = result.msg && result.ad;
    lookup.rcode = result.rcode_name();
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
    drop_pending_query();
}

void dns_check::drop_pending_query() {
    // Detaching drops the callback and with it possibly the last reference to *this: hold one until we are done.
    if (auto keep = weak_from_this().lock()) {
        auto pending = std::move(_pending);
        pending.detach();
    }
}

bool dns_check::resolver_validates_dnssec() const noexcept {
    // Without DO (RFC 3225) a resolver sets AD=0 on everything (RFC 6840 §5.7), which would read as "Insecure".
    if (_runtime.dns == nullptr) {
        return false;
    }
    const auto& config = _runtime.dns->config();
    return config.validates_dnssec && config.edns && config.dnssec_ok;
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
    if (_climb->current_state() == caa_climb::state::probing) {
        probe();
        return;
    }
    const bool caa_query = _climb->current_state() == caa_climb::state::querying;
    send(_climb->query_name(), _climb->query_type(), [this, caa_query](net::dns::query_result&& result) {
        if (caa_query) {
            // Keep the details of the latest CAA reply: the deciding one once the climb stops. The SOA replies of the
            // BR 3.2.2.8 proof are recorded only in the climb's notes.
            describe(result);
            _failure_text = is_lookup_failure(result) ? describe_failure(result) : std::string();
        }
        _climb->feed(to_caa_lookup(result));
        step();
    });
}

void climbing_check::probe() {
    // BR 3.2.2.8 condition (1) after a CAA timeout: the probe must be answered within ONE try of the resolver. The
    // resolver's own retries would stretch "alive" to tries x timeout, and a resolver that needs a second try for
    // a cached answer is not working.
    if (_runtime.dns == nullptr || _runtime.loop == nullptr) {
        caa_lookup silent;
        silent.status = caa_lookup_status::unreachable;
        _climb->feed(std::move(silent));
        step();
        return;
    }
    const std::chrono::milliseconds one_try(_runtime.dns->config().timeout_ms);
    if (!_probe_timer) {
        _probe_timer.emplace(_runtime.loop);
    }
    _probe_timer->start(one_try, [this] {
        // The timer is a member: if it fires, *this exists. Dropping the probe's query releases the reference its
        // callback held, so hold one across the rest of this callback.
        const auto keep = shared_from_this();
        drop_pending_query();
        if (finished()) {
            return;
        }
        caa_lookup silent;
        silent.status = caa_lookup_status::timeout;
        _climb->feed(std::move(silent));
        step();
    });
    send(_climb->query_name(), _climb->query_type(), [this](net::dns::query_result&& result) {
        _probe_timer->stop();
        _climb->feed(to_caa_lookup(result));
        step();
    });
}

void climbing_check::abort() {
    if (_probe_timer) {
        _probe_timer->stop();
    }
    dns_check::abort();
}

} // namespace mpic::validators
