// Likely causes, read off the pattern of differences: which perspectives fail (all of one RIR region, or a spread),
// with which error, and what they saw compared with the perspectives that passed. These are heuristics for a
// human, worded as likely causes with the usual fix; the verdict itself never depends on them.
//
// The patterns (BR §3.2.2.9 makes each of them an issuance problem once it reaches the allowed non-corroborations):
//   - every perspective of some RIR regions sees another DNS value: split-horizon DNS or regional propagation;
//   - a spread of perspectives sees one other value: a stale record on some authoritative servers;
//   - a port refused or closed from some perspectives: firewall or geo-blocking;
//   - CAA forbids the CA from some perspectives only: CAA visible in one region and not another;
//   - one SAN fails from perspectives that reach the other SANs: that name's DNS or hosting.

#include <algorithm>
#include <set>

#include "tools/mpic-check/report.hh"

namespace mpic::mpic_check {
namespace {

using rows_t = std::vector<const perspective_row*>;

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += separator;
        }
        out += item;
    }
    return out;
}

std::vector<std::string> codes(const rows_t& rows) {
    std::vector<std::string> out;
    for (const auto* r : rows) {
        out.push_back(r->code);
    }
    return out;
}

/// Where a group of perspectives is, in words. `aligned` is set when the group is exactly every perspective of one
/// or more RIR regions (and not every perspective): the pattern of a regional difference.
std::string where(const rows_t& group, const check_section& section, bool& aligned) {
    aligned = false;
    const std::size_t total = section.rows.size();
    if (group.size() == total) {
        return "every perspective";
    }
    std::set<std::string> regions;
    for (const auto* r : group) {
        regions.insert(r->rir);
    }
    bool whole = !regions.empty() && regions.size() < total;
    for (const auto& row : section.rows) {
        const bool in_group = std::find(group.begin(), group.end(), &row) != group.end();
        if (regions.count(row.rir) != 0 && !in_group) {
            whole = false;
        }
    }
    // A single perspective alone in its region is not a regional pattern worth naming as one.
    if (whole && group.size() >= 2) {
        aligned = true;
        return "the " + join(std::vector<std::string>(regions.begin(), regions.end()), " and ") + " perspectives";
    }
    return std::to_string(group.size()) + " of " + std::to_string(total) +
           (total == 1 ? " perspective" : " perspectives") + " (" + join(codes(group), ", ") + ")";
}

std::string column_value(const check_section& section, const perspective_row& row, std::string_view column) {
    for (std::size_t c = 0; c < section.columns.size(); ++c) {
        if (section.columns[c] == column) {
            return row.cells[c].value;
        }
    }
    return {};
}

/// The distinct values of `column` among `rows`, quoted and joined.
std::string values_of(const check_section& section, const rows_t& rows, std::string_view column) {
    std::set<std::string> values;
    for (const auto* r : rows) {
        values.insert(column_value(section, *r, column));
    }
    std::vector<std::string> quoted;
    for (const auto& v : values) {
        const bool plain =
            v.empty() || v.front() == '(' || v.find('"') != std::string::npos || v.find(' ') == std::string::npos;
        quoted.push_back(plain ? v : "\"" + v + "\"");
    }
    return join(quoted, " or ");
}

bool is_transport(const std::string& label) {
    return label == "connection refused" || label == "connection closed" || label == "timeout" ||
           label == "dns timeout" || label == "dns servfail" || label == "nxdomain" || label == "lookup";
}

/// The port a connection-level failure was on: 443 for tls-alpn-01 (RFC 8737 §3) and https URLs, else 80.
std::string port_of(const check_section& section, const perspective_row& row) {
    if (section.what == "acme-tls-alpn-01") {
        return "443";
    }
    for (const auto& e : row.errors) {
        if (e.message.find("https://") != std::string::npos) {
            return "443";
        }
    }
    return "80";
}

std::string transport_words(const std::string& label, const std::string& port) {
    if (label == "connection refused") {
        return "port " + port + " refused";
    }
    if (label == "connection closed") {
        return "port " + port + " closed without an answer";
    }
    if (label == "timeout") {
        return "port " + port + " timed out";
    }
    return "DNS lookups fail (" + label + ")";
}

/// Perspectives of `group` that pass a check of another name in the same request: then this name, not the
/// perspective, is the problem.
bool others_pass(const std::vector<check_section>& sections, const check_section& self, const rows_t& group) {
    bool found_other = false;
    for (const auto& s : sections) {
        if (s.target == self.target || s.type != self.type) {
            continue;
        }
        found_other = true;
        for (const auto* g : group) {
            auto it =
                std::find_if(s.rows.begin(), s.rows.end(), [&](const perspective_row& r) { return r.code == g->code; });
            if (it == s.rows.end() || !it->passed) {
                return false;
            }
        }
    }
    return found_other;
}

std::string issuer_of(const verdict_context& context) {
    return context.issuer_domains.empty() ? "this CA" : context.issuer_domains.front();
}

void section_causes(const std::vector<check_section>& sections, const check_section& s, const verdict_context& context,
                    std::vector<cause>& out) {
    rows_t passing;
    std::vector<std::pair<std::string, rows_t>> groups; // error label -> failing rows, in first-seen order
    for (const auto& row : s.rows) {
        if (row.passed) {
            passing.push_back(&row);
            continue;
        }
        std::string label = row.errors.empty() ? "no answer" : error_label(row.errors.front());
        auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == label; });
        if (it == groups.end()) {
            groups.push_back({label, {}});
            it = groups.end() - 1;
        }
        it->second.push_back(&row);
    }
    auto add = [&](std::string kind, std::string text, const rows_t& rows) {
        out.push_back({std::move(kind), s.target, s.what, std::move(text), codes(rows)});
    };
    const bool is_caa = s.type == validators::check_type::caa;
    const bool is_dns = !is_caa && std::find(s.columns.begin(), s.columns.end(), "rcode") != s.columns.end();
    const std::string record_column = context.dns_record_type + " seen";
    for (const auto& [label, group] : groups) {
        bool aligned = false;
        const std::string at = where(group, s, aligned);
        // The name looked at: where any perspective found its records (a failed lookup reports none).
        std::string name = s.target;
        for (const auto& row : s.rows) {
            if (row.result != nullptr && !row.result->details.found_at.empty()) {
                name = row.result->details.found_at;
                break;
            }
        }
        const std::string rr = context.dns_record_type;
        if (is_caa && label == "prohibited") {
            const std::string seen = values_of(s, group, "CAA set");
            if (passing.empty()) {
                add("caa_forbids",
                    "CAA at " + name + " forbids " + issuer_of(context) + " from every perspective (" + seen +
                        "): add 0 issue \"" + issuer_of(context) + "\" to the CAA set if this CA should issue",
                    group);
            } else {
                add("caa_split",
                    "CAA at " + name + " forbids " + issuer_of(context) + " from " + at +
                        ": CAA visible in one region and not another (split-horizon DNS or propagation); they see " +
                        seen + ", the others " + values_of(s, passing, "CAA set"),
                    group);
            }
        } else if (is_dns && label == "mismatch") {
            const std::string seen = values_of(s, group, record_column);
            if (passing.empty()) {
                add("wrong_value",
                    rr + " at " + name + " does not hold the expected value from any perspective (seen: " + seen +
                        "): publish the expected value and remove stale records",
                    group);
            } else if (aligned) {
                add("split_horizon",
                    "perspectives in " + at.substr(4, at.size() - 4 - 13) + " get a different " + rr + " at " + name +
                        " (" + seen + " instead of " + values_of(s, passing, record_column) +
                        "): propagation or split-horizon DNS; make every nameserver and every view serve the new "
                        "record",
                    group);
            } else {
                add("stale_record",
                    rr + " record is stale (old value " + seen + " seen by " + std::to_string(group.size()) + " of " +
                        std::to_string(s.rows.size()) + " perspectives: " + join(codes(group), ", ") +
                        "; the others see " + values_of(s, passing, record_column) +
                        "): some authoritative servers still serve the old value; wait for propagation (TTL) or "
                        "update the lagging nameserver",
                    group);
            }
        } else if (is_dns && (label == "not_found" || label == "nxdomain")) {
            add("record_missing",
                passing.empty() ? "no " + rr + " at " + name + " from any perspective: the record is not published"
                                : rr + " at " + name + " missing from " + at +
                                      (aligned ? ": propagation or split-horizon DNS" : ": propagation delay"),
                group);
        } else if (is_transport(label) && s.type == validators::check_type::dcv && others_pass(sections, s, group)) {
            std::string detail = transport_words(label, port_of(s, *group.front()));
            const std::string ips = values_of(s, group, "A/AAAA");
            if (!passing.empty() && ips != "-" && ips != values_of(s, passing, "A/AAAA")) {
                detail += "; they resolve it to " + ips + ", the others to " + values_of(s, passing, "A/AAAA");
            }
            add("san_unreachable",
                "SAN " + s.target + " unreachable from " + at + " (" + detail +
                    ") while the other names answer: check this name's DNS and hosting from there",
                group);
        } else if (!is_dns && !is_caa &&
                   (label == "connection refused" || label == "connection closed" || label == "timeout")) {
            add("port_unreachable",
                transport_words(label, port_of(s, *group.front())) + " from " + at +
                    ": check firewall and geo-blocking (and that every address of the name is served)",
                group);
        } else if (is_transport(label)) {
            add(is_caa ? "caa_lookup_failed" : "dns_unreachable",
                std::string(is_caa ? "CAA lookup" : "DNS lookup") + " of " + name + " fails from " + at + " (" + label +
                    "): the authoritative servers do not answer there; check their firewall, anycast and "
                    "DNSSEC" +
                    (is_caa ? " (a failed CAA lookup is not permission, BR 3.2.2.8)" : ""),
                group);
        } else if (label.rfind("status ", 0) == 0) {
            add("http_status",
                "HTTP " + label.substr(7) + " from " + at +
                    (passing.empty() ? ": the challenge file is not published at the URL looked at"
                                     : ": the servers behind the name serve different content (load balancer or CDN "
                                       "node out of sync)"),
                group);
        } else if (label == "mismatch") {
            add("body_mismatch",
                passing.empty() ? "the challenge content does not match from any perspective: the published value is "
                                  "wrong or stale"
                                : "a different challenge content from " + at +
                                      ": some servers, a CDN or a proxy serve other content (stale deployment, or a "
                                      "hijack on that path)",
                group);
        } else if (label.rfind("tls_alpn:", 0) == 0) {
            const bool digest = label == "tls_alpn:certificate:digest_mismatch";
            add("tls_alpn",
                "TLS-ALPN-01 " + label.substr(9) + " from " + at +
                    (digest ? ": port 443 answers acme-tls/1 with a certificate for another key authorization there "
                              "(stale responder, another ACME order, or a hijack)"
                            : ": the acme-tls/1 responder on port 443 does not serve a valid validation certificate "
                              "there"),
                group);
        } else {
            const std::string message =
                group.front()->errors.empty() ? "" : ": " + group.front()->errors.front().message;
            add("other", label + " from " + at + message, group);
        }
    }
    // Every perspective passed, but they did not see the same thing: worth knowing before it turns into a failure.
    if (groups.empty() && !s.agreement) {
        for (std::size_t c = 1; c < s.columns.size(); ++c) {
            rows_t odd;
            for (const auto& row : s.rows) {
                if (row.cells[c].disagrees) {
                    odd.push_back(&row);
                }
            }
            if (odd.empty()) {
                continue;
            }
            bool aligned = false;
            const std::string at = where(odd, s, aligned);
            add("disagreement",
                s.columns[c] + " differs from " + at + " (" + values_of(s, odd, s.columns[c]) +
                    ") although every perspective passes" + (aligned ? ": a regional difference" : ""),
                odd);
        }
    }
    const auto& v = s.verdict;
    if (!v.would_pass && v.primary_failed) {
        add("primary_failed", "the primary perspective failed: its determination decides (standards §1.4)", {});
    } else if (!v.would_pass && v.passed >= v.required && v.rir_rule) {
        add("rir_span",
            "the corroborating perspectives are all in " + join(v.passed_rirs, ", ") +
                ": BR 3.2.2.9 needs corroboration from 2 RIR regions",
            passing);
    }
}

} // namespace

std::vector<cause> derive_causes(const std::vector<check_section>& sections, const verdict_context& context) {
    std::vector<cause> out;
    for (const auto& s : sections) {
        section_causes(sections, s, context, out);
    }
    return out;
}

} // namespace mpic::mpic_check
