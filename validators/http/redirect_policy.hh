#pragma once
// Redirect judgement for the HTTP validation methods (BR 3.2.2.4.18 / 3.2.2.4.19, standards §7.5): every redirect is
// judged BEFORE it is followed, so a refused target is never contacted (Open MPIC follows first and judges after).
// Pure logic, no I/O: the check feeds it each response's status and Location and connects only where it says.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "validators/check.hh"
#include "validators/http/url.hh"

namespace mpic::validators::http {

/// The limits a redirect chain is judged against. Defaults are the production values; only tests and lab mode
/// change `allowed_ports` (lab servers listen on high ports).
struct redirect_rules {
    /// Standards §7.5: at most 10 redirects are followed; the 11th is refused. (Boulder follows 11: its check is
    /// `numRedirects > maxRedirect` before the increment.)
    std::size_t max_redirects = 10;
    /// Boulder `maxPathSize`: a longer path is refused (keeps hostile Location headers from growing the chain).
    std::size_t max_path_bytes = 2000;
    /// BR §1.6.1 "Authorized Ports" usable for http/https. An explicit port outside this list is refused.
    std::vector<std::uint16_t> allowed_ports{80, 443};
    /// True when an IP-literal host (canonical text, no brackets) must not be contacted: the reserved-address policy
    /// (RFC 8555 §10.4 SSRF). Null means "no address is refused here"; the transport still refuses on connect.
    std::function<bool(std::string_view ip_literal)> address_refused;
};

/// What to do with one response.
enum class redirect_action : std::uint8_t {
    final_response, ///< not a redirect: this response is the one the method judges
    follow,         ///< an acceptable redirect: fetch chain.current() next
    refuse,         ///< a redirect that must not be followed: the check fails with mpic_error:redirect:invalid
};

/// The judgement of one response. `reason` is a human message for a refusal, empty otherwise.
struct redirect_judgement {
    redirect_action action = redirect_action::final_response;
    std::string reason;
};

/// True for the statuses BR 3.2.2.4.18/.19 allow following: 301, 302, 307 (RFC 7231 §6.4) and 308 (RFC 7538 §3).
bool is_followable_redirect_status(int status) noexcept;

/// The state of one validation's redirect chain. Invariants: current() is the URL the next request goes to;
/// history() holds one hop per response already superseded by a followed redirect, in order, each with the URL that
/// returned it; redirects() == history().size(); every URL in the chain is distinct.
class redirect_chain {
public:
    redirect_chain(url start, redirect_rules rules);

    /// Judges the response `status` (with its Location header, if any) returned by current(). On `follow` the hop is
    /// recorded and current() becomes the resolved target; otherwise the chain is unchanged and the response is the
    /// final one (for `refuse` the caller reports reason under mpic_error:redirect:invalid).
    /// 3xx statuses other than 301/302/307/308 (300, 303, 304, 305, 306) are refused: BR allows only those four.
    redirect_judgement judge(int status, std::optional<std::string_view> location);

    const url& current() const noexcept { return _current; }
    const std::vector<http_hop>& history() const noexcept { return _history; }
    std::size_t redirects() const noexcept { return _history.size(); }

private:
    redirect_judgement refuse(std::string reason) const;

    redirect_rules _rules;
    url _current;
    std::vector<std::string> _visited; ///< canonical text of every URL fetched or about to be (loop detection)
    std::vector<http_hop> _history;
};

} // namespace mpic::validators::http
