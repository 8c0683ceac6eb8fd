#include "quorum/audit/audit_record.hh"

#include <chrono>

#include "core/json_writer.hh"
#include "quorum/api/json_codec.hh"

namespace mpic::quorum {
namespace {

using core::json_writer;

/// The evidence behind one perspective's result: what it saw, by kind (BR §5.4.1 asks for the result; the
/// evidence lets an auditor see why). Only what the perspective saw is written; members sorted by name.
void write_evidence(json_writer& w, const validators::check_result& r) {
    const auto& d = r.details;
    w.begin_object();
    if (d.ad_flag) {
        w.key("ad_flag").boolean(true);
    }
    if (!d.cname_chain.empty()) {
        w.key("cname_chain").string_array(d.cname_chain);
    }
    if (!d.common_name.empty()) {
        w.key("common_name").string(d.common_name);
    }
    if (!d.found_at.empty()) {
        w.key("found_at").string(d.found_at);
    }
    if (!d.notes.empty()) {
        w.key("notes").string_array(d.notes);
    }
    if (!d.records_seen.empty()) {
        w.key("records_seen").string_array(d.records_seen);
    }
    if (!d.response_history.empty()) {
        w.key("redirects").begin_array();
        for (const auto& hop : d.response_history) {
            w.begin_object().key("status").number(hop.status).key("url").string(hop.url).end_object();
        }
        w.end_array();
    }
    if (!d.resolved_ip.empty()) {
        w.key("resolved_ip").string(d.resolved_ip);
    }
    if (!d.response_code.empty()) {
        w.key("response_code").string(d.response_code);
    }
    if (d.response_status_code != 0) {
        w.key("status").number(d.response_status_code);
    }
    if (!d.response_url.empty()) {
        w.key("url").string(d.response_url);
    }
    w.end_object();
}

void write_attempt(json_writer& w, const std::vector<perspective_result>& perspectives, std::string_view target,
                   validators::check_type type) {
    w.begin_array();
    for (const auto& p : perspectives) {
        const auto& r = p.result;
        // BR §5.4.1 2.7 wording: "domain validation pass/fail", "CAA permission/prohibition".
        std::string_view verdict;
        if (!r.completed) {
            verdict = "not_completed";
        } else if (type == validators::check_type::caa) {
            verdict = r.passed ? "permission" : "prohibition";
        } else {
            verdict = r.passed ? "pass" : "fail";
        }
        w.begin_object();
        w.key("errors").begin_array();
        for (const auto& e : r.errors) {
            w.begin_object().key("message").string(e.message).key("type").string(e.type).end_object();
        }
        w.end_array();
        w.key("evidence");
        write_evidence(w, r);
        w.key("perspective").string(p.code);
        w.key("result").string(verdict);
        w.key("rir").string(p.rir);
        w.key("target").string(target);
        w.key("timestamp_ns").number(r.timestamp_ns);
        w.key("timings");
        write_check_timings(w, r.timings, false); // the audit format keeps total_us beside the phases
        w.key("total_us").number(r.timings.total_us);
        w.end_object();
    }
    w.end_array();
}

void write_outcome(json_writer& w, const check_outcome& o, std::string_view target, const mpic_request& request) {
    w.begin_object();
    w.key("attempt_count").number(o.attempt_count);
    // Every attempt, oldest first; the deciding one last.
    w.key("attempts").begin_array();
    for (const auto& previous : o.previous_attempts) {
        write_attempt(w, previous, target, o.type);
    }
    write_attempt(w, o.perspectives, target, o.type);
    w.end_array();
    w.key("check").string(o.type == validators::check_type::caa ? "caa" : "dcv");
    w.key("decided_after_ms").floating(o.decided_after_ms);
    w.key("is_valid").boolean(o.is_valid);
    if (o.type == validators::check_type::dcv) {
        w.key("method").string(validators::to_string(request.dcv.method));
    }
    w.key("mpic_completed").boolean(o.mpic_completed);
    w.key("perspective_count").number(o.perspective_count);
    w.key("quorum_count").number(o.quorum_count);
    w.key("quorum_result").string(o.quorum_result);
    w.key("target").string(target);
    w.end_object();
}

/// A generous guess at the record's size, so the line is allocated once.
std::size_t estimate(const mpic_response& response) {
    std::size_t n = 512 + response.compliance_note.size() + response.request.trace_identifier.size();
    auto add = [&](const std::vector<perspective_result>& attempt) {
        for (const auto& p : attempt) {
            const auto& d = p.result.details;
            n += 420 + d.found_at.size() + d.response_url.size() + d.resolved_ip.size() + d.common_name.size();
            for (const auto* list : {&d.records_seen, &d.cname_chain, &d.notes}) {
                for (const auto& s : *list) {
                    n += s.size() + 4;
                }
            }
            for (const auto& hop : d.response_history) {
                n += hop.url.size() + 32;
            }
            for (const auto& e : p.result.errors) {
                n += e.type.size() + e.message.size() + 32;
            }
        }
    };
    for (const auto& t : response.targets) {
        for (const auto* o : {t.dcv ? &*t.dcv : nullptr, t.caa ? &*t.caa : nullptr}) {
            if (o != nullptr) {
                n += 256;
                add(o->perspectives);
                for (const auto& previous : o->previous_attempts) {
                    add(previous);
                }
            }
        }
    }
    return n + n / 8;
}

} // namespace

std::string render_audit_record(const mpic_response& response, const audit_context& context) {
    const auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    std::string out;
    out.reserve(estimate(response));
    json_writer w(out);
    w.begin_object();
    w.key("audit_version").number(audit_version);
    w.key("check_type").string(to_string(response.request.kind));
    w.key("client").string(context.client);
    if (!response.compliance_note.empty()) {
        w.key("compliance_note").string(response.compliance_note);
    }
    w.key("compliant").boolean(!response.non_compliant);
    w.key("decided_unix_ms").number(static_cast<std::int64_t>(now));
    w.key("is_valid").boolean(response.is_valid());
    w.key("lab_mode").boolean(response.lab_mode);
    w.key("mpic_completed").boolean(response.mpic_completed());
    w.key("policy")
        .begin_object()
        .key("date")
        .string(response.policy_date)
        .key("table")
        .string(response.policy_table)
        .end_object();
    w.key("received_unix_ms").number(context.received_unix_ms);
    // One entry per target and check type: DCV before CAA for each target, targets in request order.
    w.key("results").begin_array();
    for (const auto& t : response.targets) {
        const auto target = t.target.requested();
        if (t.dcv) {
            write_outcome(w, *t.dcv, target, response.request);
        }
        if (t.caa) {
            write_outcome(w, *t.caa, target, response.request);
        }
    }
    w.end_array();
    w.key("trace_identifier").string(response.request.trace_identifier);
    w.end_object();
    return out;
}

} // namespace mpic::quorum
