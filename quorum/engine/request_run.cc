// Orchestration of one request (design.md "Shape"; standards §1, §5.2–5.3, §7 decision 1):
//  - each (target, check type) is a unit decided on its own; the request is valid only if every unit is;
//  - an attempt runs the check on every perspective of one cohort at once, feeding a quorum_decision;
//  - the decision fires as soon as the quorum is reached or can no longer be reached; the checks still running are
//    cancelled then (their cancellation results are stored for the record, never counted);
//  - a failed attempt moves to the next cohort while attempts remain: a retry is a new attempt with fresh results,
//    nothing from an earlier attempt counts (BR.md 1211);
//  - a request deadline turns pending perspectives into failures and stops retries.
// All of it runs on one reactor, so the only synchronisation is the decision's own (which stays lock-free so
// remote results could be fed from other reactors too).

#include "quorum/engine/request_run.hh"

#include <chrono>

#include "quorum/decision.hh"
#include "quorum/engine/agent_check.hh"

namespace mpic::quorum {
namespace {

using validators::check_result;

std::uint64_t now_ns() {
    return uv_hrtime();
}

check_result not_run_result(validators::check_type type, std::string message) {
    check_result r;
    r.type = type;
    r.completed = false;
    r.errors.push_back(problem::make(problem_component::coordinator, "not_completed", std::move(message)));
    return r;
}

} // namespace

class request_run;

/// The straggler grace timer of one unit; freed in its close callback.
struct grace_timer {
    uv_timer_t timer;
    request_run* run;
    std::size_t unit;
};

class request_run : public std::enable_shared_from_this<request_run> {
public:
    request_run(engine_state& engine, reactor_services& services, uv_loop_t* loop, mpic_request request,
                effective_orchestration orchestration, std::vector<cohort_plan> plans, response_callback done)
        : _engine(engine), _services(services), _loop(loop), _request(std::move(request)),
          _orchestration(std::move(orchestration)), _plans(std::move(plans)), _done(std::move(done)),
          _started_ns(now_ns()), _date(engine.today()) {}

    void start() {
        _self = shared_from_this();
        if (_request.caa.caa_domains.empty()) {
            _request.caa.caa_domains = _engine.config.caa_issuer_domains;
        }
        const auto kind = _request.kind;
        for (std::size_t t = 0; t < _request.targets.size(); ++t) {
            if (kind == request_kind::dcv || kind == request_kind::dcv_with_caa) {
                add_unit(t, validators::check_type::dcv);
            }
            if (kind == request_kind::caa || kind == request_kind::dcv_with_caa) {
                add_unit(t, validators::check_type::caa);
            }
        }
        const auto deadline_ms =
            static_cast<std::uint64_t>(_orchestration.deadline_ms.value_or(_engine.config.default_deadline_ms));
        _deadline_at_ns = _started_ns + deadline_ms * 1'000'000;
        // libuv timers count from the loop's cached time, which is as old as this loop iteration: refresh it, or a
        // request started after other work in the same iteration gets a deadline that fires early.
        uv_update_time(_loop);
        _deadline = new uv_timer_t;
        uv_timer_init(_loop, _deadline);
        _deadline->data = this;
        uv_timer_start(
            _deadline, [](uv_timer_t* timer) { static_cast<request_run*>(timer->data)->expire(); }, deadline_ms, 0);
        for (std::size_t u = 0; u < _units.size(); ++u) {
            start_attempt(u, 1);
        }
    }

    /// Decides every open unit now with pending perspectives counted as failures, and answers.
    void expire() {
        if (_answered) {
            return;
        }
        _expired = true;
        auto keep = shared_from_this();
        for (std::size_t u = 0; u < _units.size(); ++u) {
            auto& unit = _units[u];
            if (unit.done) {
                continue;
            }
            if (unit.deciding) {
                settle(u); // in its grace period: stop waiting for stragglers
            } else if (unit.decision && unit.decision->expire()) {
                on_decided(u);
            }
        }
    }

private:
    struct unit_state {
        std::size_t target = 0;
        validators::check_type type = validators::check_type::dcv;
        std::shared_ptr<const validators::check_request> check;         ///< sent to every remote
        std::shared_ptr<const validators::check_request> primary_check; ///< the same, marked primary
        int attempt = 0;
        std::vector<std::size_t> members; ///< perspective indices of the current cohort
        std::unique_ptr<quorum_decision> decision;
        std::vector<validators::check_handle> handles;
        validators::check_handle primary_handle;
        std::optional<check_result> primary_result;
        std::vector<std::vector<perspective_result>> previous;
        check_outcome outcome;
        bool deciding = false;
        int running = 0;                     ///< checks of the current attempt whose result has not arrived
        std::uint64_t decided_ns = 0;        ///< when the current attempt's decision fired
        struct grace_timer* grace = nullptr; ///< straggler grace period in progress (owned; closed by settle)
        bool starting = false;               ///< start_attempt is launching this unit's checks
        bool decided_while_starting = false; ///< the decision fired during that launch
        bool done = false;
    };

    void add_unit(std::size_t target, validators::check_type type) {
        unit_state u;
        u.target = target;
        u.type = type;
        validators::check_request check;
        check.type = type;
        check.target = _request.targets[target];
        check.dcv = _request.dcv;
        check.caa = _request.caa;
        check.trace_id = _request.trace_identifier;
        auto primary = check;
        primary.primary = true;
        u.check = std::make_shared<const validators::check_request>(std::move(check));
        u.primary_check = std::make_shared<const validators::check_request>(std::move(primary));
        _units.push_back(std::move(u));
    }

    std::uint64_t check_timeout_ms() const {
        const auto now = now_ns();
        const std::uint64_t remaining = _deadline_at_ns > now ? (_deadline_at_ns - now) / 1'000'000 : 0;
        return std::max<std::uint64_t>(1, std::min<std::uint64_t>(_engine.config.check_timeout_ms, remaining));
    }

    void start_attempt(std::size_t u, int attempt) {
        auto& unit = _units[u];
        const auto& plan = _plans[unit.target];
        const int cohort_number = _orchestration.cohort_for_single_attempt.value_or(attempt);
        const auto& members = plan.for_attempt(cohort_number);

        decision_config config;
        config.rule = _orchestration.rule;
        config.rule.perspective_count = static_cast<int>(members.size());
        config.attempt = attempt;
        config.mode = _engine.primary_index ? corroboration_mode::primary_decides : corroboration_mode::all_remote;
        if (_engine.primary_index) {
            config.primary_code = _engine.perspectives[*_engine.primary_index]->info.code;
        }
        for (auto index : members) {
            config.remotes.push_back({_engine.set.remotes[index].code, _engine.set.remotes[index].region});
        }
        auto decision = quorum_decision::create(std::move(config));
        unit.attempt = attempt;
        unit.members.assign(members.begin(), members.end());
        unit.handles.assign(members.size(), {});
        unit.primary_result.reset();
        unit.deciding = false;
        unit.running = 0;
        if (!decision) {
            // A rule the state machine refuses (cannot happen for validated orchestration): fail the unit visibly.
            finalize_failed(u, "quorum rule refused: " + decision.error().message());
            return;
        }
        unit.decision = std::move(*decision);

        // A check may complete synchronously (a parameter error found before any I/O). Decisions reached while
        // this loop runs are deferred until it ends, so on_decided never re-enters start_attempt.
        const int this_attempt = attempt;
        // Each check arms its deadline from the loop's cached time (validators/check_operation): refresh it first.
        uv_update_time(_loop);
        unit.starting = true;
        for (std::size_t i = 0; i < members.size() && !unit.decided_while_starting; ++i) {
            const auto index = members[i];
            auto callback = [self = shared_from_this(), u, this_attempt, i](check_result&& r) {
                self->on_remote_result(u, this_attempt, i, std::move(r));
            };
            ++unit.running;
            unit.handles[i] = run_check(index, unit.check, std::move(callback));
        }
        if (_engine.primary_index) {
            auto callback = [self = shared_from_this(), u, this_attempt](check_result&& r) {
                self->on_primary_result(u, this_attempt, std::move(r));
            };
            if (!unit.decided_while_starting) {
                ++unit.running;
                unit.primary_handle = run_check(*_engine.primary_index, unit.primary_check, std::move(callback));
            }
        }
        unit.starting = false;
        if (unit.decided_while_starting) {
            unit.decided_while_starting = false;
            on_decided(u);
        }
    }

    validators::check_handle run_check(std::size_t index, std::shared_ptr<const validators::check_request> check,
                                       validators::check_callback callback) {
        auto& services = _services.at(index);
        _engine.checks_in_flight.fetch_add(1, std::memory_order_relaxed);
        // Queue wait: from the request's intake to this check's start (later attempts wait for earlier ones).
        const auto queued_us = static_cast<std::uint32_t>((now_ns() - _started_ns) / 1000);
        auto counted = [this, queued_us, callback = std::move(callback)](check_result&& r) mutable {
            _engine.checks_in_flight.fetch_sub(1, std::memory_order_relaxed);
            r.timings.queue_us = queued_us;
            callback(std::move(r));
        };
        if (services.config->transport.is_agent()) {
            return start_agent_check(services.runtime, *services.config, std::move(check), check_timeout_ms(),
                                     std::move(counted));
        }
        return validators::start_check(services.runtime, std::move(check), check_timeout_ms(), std::move(counted));
    }

    void on_remote_result(std::size_t u, int attempt, std::size_t i, check_result&& r) {
        auto& unit = _units[u];
        if (unit.attempt != attempt || !unit.decision) {
            return; // a cancelled check of an earlier attempt: never counted (BR.md 1211)
        }
        --unit.running;
        if (unit.decision->report_remote(i, std::move(r)) == report_effect::decided) {
            on_decided(u);
        } else if (unit.grace != nullptr && unit.running == 0) {
            settle(u); // every straggler answered within the grace period
        }
    }

    void on_primary_result(std::size_t u, int attempt, check_result&& r) {
        auto& unit = _units[u];
        if (unit.attempt != attempt || !unit.decision) {
            return;
        }
        --unit.running;
        unit.primary_result = r;
        if (unit.decision->report_primary(std::move(r)) == report_effect::decided) {
            on_decided(u);
        } else if (unit.grace != nullptr && unit.running == 0) {
            settle(u);
        }
    }

    /// The current attempt of unit `u` is decided: stop its other checks, record it, retry or finish.
    void on_decided(std::size_t u) {
        auto& unit = _units[u];
        if (unit.deciding || unit.done) {
            return;
        }
        if (unit.starting) {
            unit.decided_while_starting = true;
            return;
        }
        unit.deciding = true;
        unit.decided_ns = now_ns();
        const auto grace_ms = _engine.config.straggler_grace_ms;
        if (grace_ms > 0 && unit.running > 0 && !_expired) {
            // Like Boulder's slowRemoteTimeout: the decision is fixed, but stragglers may finish for the record
            // (stored as late, never counted) until the grace period ends.
            unit.grace = new grace_timer{{}, this, u};
            uv_timer_init(_loop, &unit.grace->timer);
            unit.grace->timer.data = unit.grace;
            uv_timer_start(
                &unit.grace->timer,
                [](uv_timer_t* t) {
                    auto* g = static_cast<grace_timer*>(t->data);
                    g->run->settle(g->unit);
                },
                grace_ms, 0);
            return;
        }
        settle(u);
    }

    /// Ends the decided attempt of unit `u`: cancels what still runs, records the attempt, retries or finishes.
    void settle(std::size_t u) {
        auto& unit = _units[u];
        if (unit.done || !unit.deciding) {
            return;
        }
        if (unit.grace != nullptr) {
            uv_timer_stop(&unit.grace->timer);
            uv_close(reinterpret_cast<uv_handle_t*>(&unit.grace->timer),
                     [](uv_handle_t* h) { delete static_cast<grace_timer*>(h->data); });
            unit.grace = nullptr;
        }
        // Cancelling completes each check synchronously; the decision stores those results as late, uncounted.
        for (auto& handle : unit.handles) {
            handle.cancel();
        }
        unit.primary_handle.cancel();
        const quorum_outcome* outcome = unit.decision->outcome();
        auto perspectives = attempt_results(unit);
        const bool retry = outcome != nullptr && !outcome->is_valid && !_expired &&
                           unit.attempt < _orchestration.max_attempts && !_orchestration.cohort_for_single_attempt;
        if (retry) {
            unit.previous.push_back(std::move(perspectives));
            start_attempt(u, unit.attempt + 1);
            return;
        }
        auto& o = unit.outcome;
        o.type = unit.type;
        o.attempt_count = unit.attempt;
        o.perspectives = std::move(perspectives);
        o.previous_attempts = std::move(unit.previous);
        o.decided_after_ms = static_cast<double>(unit.decided_ns - _started_ns) / 1e6;
        if (outcome != nullptr) {
            o.is_valid = outcome->is_valid;
            o.mpic_completed = outcome->mpic_completed;
            o.perspective_count = outcome->perspective_count;
            o.quorum_count = outcome->required;
            o.quorum_result = outcome->quorum_result;
        }
        unit.done = true;
        maybe_answer();
    }

    std::vector<perspective_result> attempt_results(const unit_state& unit) const {
        std::vector<perspective_result> out;
        out.reserve(unit.members.size() + 1);
        if (_engine.primary_index) {
            const auto& primary = *_engine.perspectives[*_engine.primary_index];
            out.push_back({primary.info.code, std::string(to_string(primary.info.region)),
                           unit.primary_result ? *unit.primary_result
                                               : not_run_result(unit.type, "primary did not answer in time")});
        }
        for (std::size_t i = 0; i < unit.members.size(); ++i) {
            const auto& info = _engine.set.remotes[unit.members[i]];
            const check_result* stored = unit.decision->stored_result(i);
            out.push_back(
                {info.code, std::string(to_string(info.region)),
                 stored != nullptr ? *stored : not_run_result(unit.type, "perspective did not answer in time")});
        }
        return out;
    }

    void finalize_failed(std::size_t u, std::string message) {
        auto& unit = _units[u];
        unit.outcome.type = unit.type;
        unit.outcome.attempt_count = unit.attempt;
        unit.outcome.previous_attempts = std::move(unit.previous);
        perspective_result failure{"coordinator", "", not_run_result(unit.type, std::move(message))};
        unit.outcome.perspectives.push_back(std::move(failure));
        unit.done = true;
        maybe_answer();
    }

    void maybe_answer() {
        if (_answered) {
            return;
        }
        for (const auto& unit : _units) {
            if (!unit.done) {
                return;
            }
        }
        _answered = true;
        mpic_response response;
        response.lab_mode = _engine.config.lab.has_value();
        response.non_compliant = !_engine.compliance_note.empty() || !_orchestration.rule.compliant;
        response.compliance_note = _engine.compliance_note;
        response.policy_table = std::string(to_string(_engine.config.policy.table));
        response.policy_date = to_string(_date);
        response.decided_after_us = static_cast<std::uint32_t>((now_ns() - _started_ns) / 1000);
        response.targets.resize(_request.targets.size());
        for (std::size_t t = 0; t < _request.targets.size(); ++t) {
            response.targets[t].target = _request.targets[t];
        }
        for (auto& unit : _units) {
            auto& slot = unit.type == validators::check_type::dcv ? response.targets[unit.target].dcv
                                                                  : response.targets[unit.target].caa;
            slot = std::move(unit.outcome);
        }
        response.request = std::move(_request);
        _engine.requests_finished.fetch_add(1, std::memory_order_relaxed);
        if (_deadline != nullptr) {
            uv_timer_stop(_deadline);
            uv_close(reinterpret_cast<uv_handle_t*>(_deadline),
                     [](uv_handle_t* handle) { delete reinterpret_cast<uv_timer_t*>(handle); });
            _deadline = nullptr;
        }
        auto done = std::move(_done);
        auto keep = std::move(_self); // released when this function returns
        done(std::move(response));
    }

    engine_state& _engine;
    reactor_services& _services;
    uv_loop_t* _loop;
    mpic_request _request;
    effective_orchestration _orchestration;
    std::vector<cohort_plan> _plans;
    response_callback _done;
    std::vector<unit_state> _units;
    std::shared_ptr<request_run> _self; ///< alive until answered
    uv_timer_t* _deadline = nullptr;    ///< freed in its close callback
    std::uint64_t _started_ns;
    civil_date _date; ///< the request's date: its BR phase applies
    std::uint64_t _deadline_at_ns = 0;
    bool _expired = false;
    bool _answered = false;
};

std::weak_ptr<request_run> start_request_run(engine_state& engine, reactor_services& services, uv_loop_t* loop,
                                             mpic_request request, effective_orchestration orchestration,
                                             std::vector<cohort_plan> plans, response_callback done) {
    auto run = std::make_shared<request_run>(engine, services, loop, std::move(request), std::move(orchestration),
                                             std::move(plans), std::move(done));
    run->start();
    return run;
}

void expire_request_run(const std::weak_ptr<request_run>& run) {
    if (auto r = run.lock()) {
        r->expire();
    }
}

} // namespace mpic::quorum
