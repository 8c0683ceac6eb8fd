// The in-process source: the engine exactly as mpicd builds it (a TOML file or the embedded default, `--lab`
// pointing every in-process perspective at an mpic-lab), sent the same JSON body mpicd would receive, parsed by the
// engine's own codec (so refusals are mpicd's). The engine runs in monitoring mode: every perspective reports.

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "quorum/api/json_codec.hh"
#include "quorum/engine/engine.hh"
#include "tools/mpic-check/source.hh"

namespace mpic::mpic_check {
namespace {

class engine_source final : public source {
public:
    engine_source(std::unique_ptr<quorum::engine> engine, verdict_context context)
        : _engine(std::move(engine)), _context(std::move(context)) {}
    ~engine_source() override { _engine->shutdown(std::chrono::milliseconds(0)); }

    answer run(const check_plan& plan, const progress_callback& progress) override {
        answer out;
        orchestration_ask ask;
        ask.perspective_count = perspective_count();
        auto parsed = quorum::parse_mpic_request(render_request_body(plan, ask));
        if (auto* issues = std::get_if<std::vector<quorum::request_issue>>(&parsed)) {
            for (const auto& i : *issues) {
                out.errors.push_back(i.issue_type + ": " + i.message);
            }
            out.refused = true;
            return out;
        }
        auto future = _engine->submit(std::move(std::get<quorum::mpic_request>(parsed)));
        const auto started = std::chrono::steady_clock::now();
        while (future.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) {
            if (progress) {
                progress(
                    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started));
            }
        }
        auto outcome = future.get();
        if (!outcome.issues.empty()) {
            for (const auto& i : outcome.issues) {
                out.errors.push_back(i.issue_type + ": " + i.message);
            }
            out.refused = true;
            return out;
        }
        if (!outcome.response) {
            out.errors.push_back("the engine failed: " + outcome.error.message());
            return out;
        }
        out.targets = std::move(outcome.response->targets);
        out.lab_mode = outcome.response->lab_mode;
        out.non_compliant = outcome.response->non_compliant;
        out.compliance_note = outcome.response->compliance_note;
        return out;
    }

    verdict_context context() const override { return _context; }
    int perspective_count() const override { return static_cast<int>(_engine->config().perspectives.size()); }

private:
    std::unique_ptr<quorum::engine> _engine;
    verdict_context _context;
};

} // namespace

std::unique_ptr<source> make_engine_source(const engine_options& options, std::vector<std::string>& errors) {
    quorum::engine_config config;
    if (options.config_path.empty()) {
        config = quorum::embedded_default_config();
    } else {
        std::ifstream in(options.config_path);
        if (!in) {
            errors.push_back("cannot read " + options.config_path);
            return nullptr;
        }
        std::stringstream text;
        text << in.rdbuf();
        auto parsed = quorum::engine_config_from_toml(text.str(), options.config_path, errors);
        if (!parsed) {
            return nullptr;
        }
        config = std::move(*parsed);
    }
    if (!options.date.empty()) {
        auto date = quorum::parse_civil_date(options.date);
        if (!date) {
            errors.push_back("--date must be YYYY-MM-DD");
            return nullptr;
        }
        config.date_override = *date;
    }
    if (!options.lab_path.empty() && !quorum::apply_lab_summary(options.lab_path, config, errors)) {
        return nullptr;
    }
    if (options.reactors != 0) {
        config.reactors = options.reactors;
    }
    // Every perspective must report: monitoring requests must be accepted by this (private) engine.
    config.policy.allow_monitoring_requests = true;
    verdict_context context;
    context.policy = config.policy;
    context.date = config.date_override.value_or(quorum::civil_date_of(std::chrono::system_clock::now()));
    for (const auto& p : config.perspectives) {
        context.perspective_order.push_back(p.info.code);
    }
    if (config.primary) {
        context.primary_code = config.primary->info.code;
        context.perspective_order.push_back(config.primary->info.code);
    }
    context.issuer_domains = config.caa_issuer_domains;
    auto created = quorum::engine::create(std::move(config), errors);
    if (!created) {
        return nullptr;
    }
    return std::make_unique<engine_source>(std::move(*created), std::move(context));
}

} // namespace mpic::mpic_check
