// mpic-check: "would this validation pass, and if not, why and from where?". Asks every perspective (an
// in-process engine built like mpicd's, or a running coordinator) in monitoring mode so that all of them report,
// shows what each one saw, the verdict mpicd would give under the normal BR policy, and the likely causes.
// Exit status: 0 would pass, 1 would fail, 2 usage, configuration or transport error.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "tools/mpic-check/render.hh"
#include "tools/mpic-check/source.hh"

namespace {

using namespace mpic;
using namespace mpic::mpic_check;

int usage_error(const std::vector<std::string>& errors, std::string_view what) {
    std::cerr << "mpic-check: " << what << "\n";
    for (const auto& e : errors) {
        std::cerr << "  - " << e << "\n";
    }
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"mpic-check: would this validation pass, and if not, why and from where? (BR 3.2.2.9 MPIC)"};
    check_plan plan;
    std::vector<std::string> http01, website_change;
    std::string dns01, tls_alpn01, dns_change, prefix;
    bool caa_only = false, no_caa = false, json_output = false, watch = false;
    double interval_s = 10, until_s = 300;
    engine_options engine_opts;
    coordinator_options coordinator_opts;
    app.add_option("names", plan.names, "the name(s) to validate: one, or the SANs of a certificate")->required();
    auto* o_http = app.add_option("--http01", http01, "acme-http-01: TOKEN KEY_AUTHORIZATION")->expected(2);
    auto* o_dns = app.add_option("--dns01", dns01, "acme-dns-01: KEY_AUTHORIZATION_HASH (base64url)");
    auto* o_alpn = app.add_option("--tls-alpn01", tls_alpn01, "acme-tls-alpn-01: KEY_AUTHORIZATION_HASH");
    auto* o_change = app.add_option("--dns-change", dns_change, "dns-change (BR 3.2.2.4.7): the random VALUE");
    app.add_option("--record-type", plan.record_type, "dns-change record type")
        ->check(CLI::IsMember({"TXT", "CNAME", "CAA"}));
    auto* o_prefix = app.add_option("--prefix", prefix, "dns-change: dns_name_prefix (e.g. _dnsauth)");
    auto* o_web = app.add_option("--website-change", website_change, "website-change: PATH VALUE")->expected(2);
    auto* o_caa = app.add_flag("--caa", caa_only, "check CAA only");
    app.add_flag("--no-caa", no_caa, "with a DCV method: skip the CAA check");
    app.add_option("--issuer-domain", plan.issuer_domains, "CAA issuer domain (repeatable; default: the configured)");
    auto* o_config = app.add_option("-c,--config", engine_opts.config_path, "mpicd TOML configuration (in-process)");
    auto* o_lab = app.add_option("--lab", engine_opts.lab_path, "lab mode: an `mpic-lab up` summary (JSON)");
    auto* o_coord = app.add_option("--coordinator", coordinator_opts.url, "ask a running coordinator: URL");
    app.add_option("--token", coordinator_opts.token, "bearer token for --coordinator");
    app.add_option("--cacert", coordinator_opts.ca_file, "trust anchors for an https coordinator");
    std::string date;
    app.add_option("--date", date, "evaluate the BR phase-in as of YYYY-MM-DD");
    app.add_flag("--json", json_output, "machine-readable output");
    app.add_flag("--watch", watch, "repeat until every perspective agrees or --until passes");
    app.add_option("--interval", interval_s, "--watch: seconds between rounds")->check(CLI::Range(0.1, 3600.0));
    app.add_option("--until", until_s, "--watch: give up after this many seconds")->check(CLI::Range(0.0, 86400.0));
    o_coord->excludes(o_config)->excludes(o_lab);
    o_caa->excludes(o_http)->excludes(o_dns)->excludes(o_alpn)->excludes(o_change)->excludes(o_web);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }

    int methods = 0;
    if (!http01.empty()) {
        plan.method = "acme-http-01";
        plan.token = http01[0];
        plan.key_authorization = http01[1];
        ++methods;
    }
    if (!dns01.empty()) {
        plan.method = "acme-dns-01";
        plan.key_authorization_hash = dns01;
        ++methods;
    }
    if (!tls_alpn01.empty()) {
        plan.method = "acme-tls-alpn-01";
        plan.key_authorization_hash = tls_alpn01;
        ++methods;
    }
    if (!dns_change.empty()) {
        plan.method = "dns-change";
        plan.challenge_value = dns_change;
        ++methods;
    }
    if (!website_change.empty()) {
        plan.method = "website-change";
        plan.http_token_path = website_change[0];
        plan.challenge_value = website_change[1];
        ++methods;
    }
    if (methods + (caa_only ? 1 : 0) != 1) {
        return usage_error({"give exactly one of --http01, --dns01, --tls-alpn01, --dns-change, --website-change, "
                            "--caa"},
                           "usage error (--help for the options)");
    }
    if (*o_prefix) {
        plan.prefix = prefix;
    }
    if ((*o_prefix || plan.record_type != "TXT") && plan.method != "dns-change") {
        return usage_error({"--record-type and --prefix belong to --dns-change"}, "usage error");
    }
    plan.with_caa = caa_only || !no_caa;
    if (!coordinator_opts.url.empty() && coordinator_opts.token.empty()) {
        return usage_error({"--coordinator needs --token"}, "usage error");
    }

    std::vector<std::string> errors;
    std::unique_ptr<source> src;
    if (!coordinator_opts.url.empty()) {
        coordinator_opts.date = date;
        src = make_coordinator_source(coordinator_opts, errors);
    } else {
        engine_opts.date = date;
        src = make_engine_source(engine_opts, errors);
    }
    if (!src) {
        return usage_error(errors, "configuration error");
    }
    verdict_context context = src->context();
    context.dns_record_type = plan.method == "dns-change" ? plan.record_type : "TXT";
    if (!plan.issuer_domains.empty()) {
        context.issuer_domains = plan.issuer_domains;
    }

    const bool tty_out = isatty(STDOUT_FILENO) != 0;
    const bool tty_err = isatty(STDERR_FILENO) != 0;
    const char* no_color = std::getenv("NO_COLOR");
    text_options text;
    text.colour = tty_out && (no_color == nullptr || *no_color == '\0');
    const std::string what =
        std::to_string(plan.names.size()) + (plan.names.size() == 1 ? " name" : " names") + " from " +
        (src->perspective_count() > 0 ? std::to_string(src->perspective_count()) + " " : "") + "perspectives";
    auto progress = [&](std::chrono::milliseconds elapsed) {
        if (tty_err) {
            std::fprintf(stderr, "\r\033[Kchecking %s ... %.1f s", what.c_str(),
                         static_cast<double>(elapsed.count()) / 1000.0);
            std::fflush(stderr);
        }
    };
    auto clear_progress = [&] {
        if (tty_err) {
            std::fprintf(stderr, "\r\033[K");
            std::fflush(stderr);
        }
    };

    const auto started = std::chrono::steady_clock::now();
    auto elapsed_s = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
    nlohmann::json rounds = nlohmann::json::array();
    answer last;
    report diagnosis;
    for (int round = 1;; ++round) {
        progress(std::chrono::milliseconds(0));
        last = src->run(plan, progress);
        clear_progress();
        if (!last.errors.empty()) {
            return usage_error(last.errors, last.refused ? "the request was refused" : "the check could not run");
        }
        diagnosis = analyse(last.targets, context);
        diagnosis.lab_mode = last.lab_mode;
        diagnosis.non_compliant = last.non_compliant;
        diagnosis.compliance_note = last.compliance_note;
        if (!watch) {
            break;
        }
        const std::string line = render_round_line(round, elapsed_s(), diagnosis);
        rounds.push_back({{"round", round},
                          {"elapsed_s", elapsed_s()},
                          {"agreement", diagnosis.agreement},
                          {"would_pass", diagnosis.would_pass},
                          {"line", line}});
        (json_output ? std::cerr : std::cout) << line << std::endl;
        const double remaining = until_s - elapsed_s();
        if (diagnosis.agreement || remaining <= 0) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::duration<double>(std::min(interval_s, remaining)));
    }
    if (json_output) {
        auto doc = render_json(diagnosis);
        if (watch) {
            doc["watch"] = {{"rounds", rounds}, {"agreement_reached", diagnosis.agreement}};
        }
        std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    } else {
        if (watch) {
            std::cout << (diagnosis.agreement ? "every perspective agrees\n\n"
                                              : "--until reached without agreement\n\n");
        }
        std::cout << render_text(diagnosis, text) << std::flush;
    }
    return diagnosis.would_pass ? 0 : 1;
}
