#include "validators/http/redirect_policy.hh"

#include <algorithm>

namespace mpic::validators::http {

bool is_followable_redirect_status(int status) noexcept {
    // BR 3.2.2.4.18/.19: "301, 302, or 307 ... as defined in RFC 7231, Section 6.4, or 308 ... RFC 7538, Section 3".
    // 303 is excluded by the BR on purpose: it turns the request into a GET of some other resource.
    return status == 301 || status == 302 || status == 307 || status == 308;
}

redirect_chain::redirect_chain(url start, redirect_rules rules) : _rules(std::move(rules)), _current(std::move(start)) {
    _visited.push_back(_current.to_string());
}

redirect_judgement redirect_chain::refuse(std::string reason) const {
    return {redirect_action::refuse, std::move(reason)};
}

redirect_judgement redirect_chain::judge(int status, std::optional<std::string_view> location) {
    if (status < 300 || status > 399) {
        return {};
    }
    if (!is_followable_redirect_status(status)) {
        return refuse("redirect status " + std::to_string(status) + " is not 301, 302, 307 or 308 (BR 3.2.2.4.19)");
    }
    if (_history.size() >= _rules.max_redirects) {
        return refuse("more than " + std::to_string(_rules.max_redirects) + " redirects");
    }
    if (!location || location->empty()) {
        return refuse("redirect without a Location header");
    }
    // BR: follow "to the final value of the Location HTTP response header", resolved per RFC 3986 §5 against the
    // URL that returned it (RFC 9110 §10.2.2).
    auto target = resolve_reference(_current, *location);
    if (!target) {
        return refuse("redirect Location refused (" + std::string(to_string(target.error)) + ")");
    }
    const url& next = *target.value;
    // BR: redirect target must be an Authorized Port; scheme http/https is enforced by resolve_reference.
    if (next.port &&
        std::find(_rules.allowed_ports.begin(), _rules.allowed_ports.end(), *next.port) == _rules.allowed_ports.end()) {
        return refuse("redirect to port " + std::to_string(*next.port) + " (only 80 and 443 are Authorized Ports)");
    }
    // RFC 8555 §10.4: never let a Location steer the validator at internal addresses.
    if (next.host_is_ip() && _rules.address_refused && _rules.address_refused(next.host)) {
        return refuse("redirect to reserved address " + next.host);
    }
    if (next.path.size() > _rules.max_path_bytes) {
        return refuse("redirect path longer than " + std::to_string(_rules.max_path_bytes) + " bytes");
    }
    auto text = next.to_string();
    if (std::find(_visited.begin(), _visited.end(), text) != _visited.end()) {
        return refuse("redirect loop: " + text + " was already requested");
    }
    _history.push_back({status, _current.to_string()});
    _visited.push_back(std::move(text));
    _current = next;
    return {redirect_action::follow, {}};
}

} // namespace mpic::validators::http
