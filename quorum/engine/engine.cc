// The engine: start-up checks, the reactors and their perspective services, request intake and shutdown.
// Requests are spread over the reactors; each runs entirely on one (request_run), so the hot path takes no lock.

#include "quorum/engine/engine.hh"

#include <unordered_map>

#include <openssl/rand.h>

#include "quorum/engine/reactor_services.hh"
#include "quorum/engine/request_run.hh"

namespace mpic::quorum {

civil_date engine_state::today() const noexcept {
    return config.date_override ? *config.date_override : civil_date_of(std::chrono::system_clock::now());
}

namespace {

std::string random_secret() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        return "mpic-default-cohort-secret"; // LCOV_EXCL_LINE: DefensiveCoding (RAND_bytes does not fail on Linux)
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

request_issue to_request_issue(const validation_issue& issue) {
    return {std::string(to_string(issue.type)), issue.message};
}

/// Releases a request's in-flight hold. While the reactor stops, the last release runs its stop hooks at once
/// (reactor::finish_stop), and ours destroy the perspectives' services. A request usually answers from inside one
/// of their callbacks (a DNS answer completing the last check), so releasing there would free a resolver that is
/// still on the stack. While stopping, the release therefore happens from a fresh loop iteration (a zero timer).
void release_hold(core::reactor& r, const std::shared_ptr<core::gate::holder>& hold) {
    if (!r.in_flight().closed()) {
        hold->release(); // not the last one out of a closed gate: fires nothing
        return;
    }
    struct deferred {
        uv_timer_t timer;
        std::shared_ptr<core::gate::holder> hold;
    };
    auto* d = new deferred{{}, hold};
    uv_timer_init(r.loop(), &d->timer);
    d->timer.data = d;
    uv_timer_start(
        &d->timer,
        [](uv_timer_t* t) {
            auto* self = static_cast<deferred*>(t->data);
            // Closed first: the stop that release() may run force-closes every handle not already closing.
            uv_close(reinterpret_cast<uv_handle_t*>(t), [](uv_handle_t* h) { delete static_cast<deferred*>(h->data); });
            self->hold->release();
        },
        0, 0);
}

} // namespace

/// Per-reactor engine state: the perspective services and the requests running there.
struct reactor_slot {
    std::unique_ptr<reactor_services> services;
    std::unordered_map<std::uint64_t, std::weak_ptr<request_run>> runs;
    std::uint64_t next_run_id = 1;
};

struct engine::impl {
    engine_state state;
    core::reactor_pool pool;
    std::vector<reactor_slot> slots; ///< slot i is touched only on reactor i's thread
    std::atomic<unsigned> next_reactor{0};
    std::atomic<bool> stopped{false};
    core::stop_report stop_report;

    explicit impl(unsigned reactors) : pool(core::reactor_pool_config{reactors}) {}

    /// The reactor to run on: the caller's own if it is one of ours, else round-robin.
    core::reactor& pick() {
        if (auto* current = core::reactor::current()) {
            for (unsigned i = 0; i < pool.size(); ++i) {
                if (&pool.at(i) == current) {
                    return *current;
                }
            }
        }
        return pool.at(next_reactor.fetch_add(1, std::memory_order_relaxed) % pool.size());
    }

    void handle(core::reactor& r, mpic_request request, submit_callback done);
};

void engine::impl::handle(core::reactor& r, mpic_request request, submit_callback done) {
    auto& slot = slots[r.id()];
    if (!slot.services) {
        done({std::nullopt, {}, make_error_code(errc::shutting_down)});
        return;
    }
    const auto& config = state.config;
    const auto date = state.today();
    orchestration_limits limits;
    limits.configured_perspectives = static_cast<int>(state.remote_count());
    limits.default_perspective_count = config.default_perspective_count > 0 ? config.default_perspective_count
                                                                            : static_cast<int>(state.remote_count());
    limits.global_max_attempts = config.max_attempts;
    limits.max_deadline_ms = config.max_deadline_ms;
    auto validation =
        validate_orchestration(request.orchestration.value_or(orchestration_request{}), limits, date, config.policy);
    std::vector<request_issue> issues;
    for (const auto& issue : validation.issues) {
        issues.push_back(to_request_issue(issue));
    }
    if (!issues.empty()) {
        done({std::nullopt, std::move(issues), {}});
        return;
    }
    auto& effective = validation.effective;

    // Cohorts per target (api.md "Perspective selection"), seeded so a retry cannot shop for perspectives.
    std::vector<cohort_plan> plans;
    // Two RIRs per cohort whenever the rule demands it, and whenever more than two perspectives are used (Open
    // MPIC seeds every cohort of more than two with two RIRs).
    cohort_requirements requirements{static_cast<std::size_t>(effective.perspective_count),
                                     effective.rule.rir_rule || effective.perspective_count > 2};
    for (const auto& target : request.targets) {
        auto plan = make_cohorts(state.set.remotes, state.report.too_close, requirements,
                                 selection_seed(state.cohort_secret, target.requested()));
        if (plan.empty()) {
            issues.push_back({"invalid-perspective-count",
                              "no cohort of " + std::to_string(effective.perspective_count) +
                                  " distinct perspectives spanning two RIRs can be formed from the configured set"});
            break;
        }
        if (effective.cohort_for_single_attempt &&
            static_cast<std::size_t>(*effective.cohort_for_single_attempt) > plan.cohorts.size()) {
            issues.push_back({"invalid-cohort-for-single-attempt",
                              "cohort_for_single_attempt " + std::to_string(*effective.cohort_for_single_attempt) +
                                  " exceeds the " + std::to_string(plan.cohorts.size()) + " cohorts available"});
            break;
        }
        plans.push_back(std::move(plan));
    }
    if (!issues.empty()) {
        done({std::nullopt, std::move(issues), {}});
        return;
    }

    // Admission: the total of perspective checks in flight is bounded; over it the request is refused whole
    // (HTTP 503), never queued without bound.
    const std::size_t units = request.targets.size() * (request.kind == request_kind::dcv_with_caa ? 2 : 1);
    const std::size_t needed =
        units * (static_cast<std::size_t>(effective.perspective_count) + (state.primary_index ? 1 : 0));
    if (state.checks_in_flight.load(std::memory_order_relaxed) + needed > config.max_in_flight_checks) {
        state.requests_refused_overload.fetch_add(1, std::memory_order_relaxed);
        done({std::nullopt, {}, make_error_code(errc::queue_full)});
        return;
    }
    auto holder = r.in_flight().enter();
    if (!holder) {
        done({std::nullopt, {}, make_error_code(errc::shutting_down)});
        return;
    }
    state.requests_started.fetch_add(1, std::memory_order_relaxed);
    const auto id = slot.next_run_id++;
    auto gate_hold = std::make_shared<core::gate::holder>(std::move(*holder));
    // A run may answer before start_request_run returns (every check failing synchronously); it is registered
    // for shutdown only if it is still running then.
    auto answered = std::make_shared<bool>(false);
    auto on_response = [&r, &slot, id, gate_hold, answered, done = std::move(done)](mpic_response&& response) {
        *answered = true;
        slot.runs.erase(id);
        done({std::move(response), {}, {}});
        release_hold(r, gate_hold);
    };
    auto run = start_request_run(state, *slot.services, r.loop(), std::move(request), std::move(effective),
                                 std::move(plans), std::move(on_response));
    if (!*answered) {
        slot.runs.emplace(id, std::move(run));
    }
}

engine::engine(std::unique_ptr<impl> state) : _impl(std::move(state)) {}

engine::~engine() {
    shutdown(std::chrono::milliseconds(0));
}

result<std::unique_ptr<engine>> engine::create(engine_config config, std::vector<std::string>& errors) {
    if (!validate_engine_config(config, errors)) {
        return make_error_code(errc::invalid_argument);
    }
    auto self = std::make_unique<impl>(config.reactors);
    auto& state = self->state;
    state.config = std::move(config);
    for (const auto& p : state.config.perspectives) {
        state.set.remotes.push_back(p.info);
        state.perspectives.push_back(&p);
    }
    if (state.config.primary) {
        state.set.primary = state.config.primary->info;
        state.primary_index = state.perspectives.size();
        state.perspectives.push_back(&*state.config.primary);
    }
    const auto date = state.today();
    const int default_count = state.config.default_perspective_count > 0 ? state.config.default_perspective_count
                                                                         : static_cast<int>(state.remote_count());
    state.report = check_perspective_set(state.set, date, default_count, state.config.policy);
    if (!state.report.accepted) {
        for (const auto& finding : state.report.findings) {
            if (finding.blocking) {
                errors.push_back("perspective set refused (policy in force on " + to_string(date) +
                                 "): " + finding.message);
            }
        }
        return make_error_code(errc::invalid_argument);
    }
    if (state.config.policy.development_override || !state.report.compliant) {
        state.compliance_note = "NOT BR-COMPLIANT: policy.development_override is on";
        if (const auto why = state.report.summary(); !state.report.compliant && !why.empty()) {
            state.compliance_note += "; " + why;
        }
    }
    state.cohort_secret = state.config.cohort_secret.empty() ? random_secret() : state.config.cohort_secret;

    if (auto started = self->pool.start(); !started) {
        errors.push_back("cannot start the reactors: " + started.error().message());
        return started.error();
    }
    self->slots.resize(self->pool.size());
    // Build every perspective's services on every reactor, on that reactor's thread, and wait for all of them.
    std::vector<std::future<std::error_code>> built;
    for (unsigned i = 0; i < self->pool.size(); ++i) {
        auto promise = std::make_shared<std::promise<std::error_code>>();
        built.push_back(promise->get_future());
        auto* raw = self.get();
        auto posted = self->pool.post(i, [raw, i, promise] {
            auto& r = raw->pool.at(i);
            auto services = reactor_services::create(r.loop(), raw->state.config, raw->state.perspectives);
            if (!services) {
                promise->set_value(services.error());
                return;
            }
            raw->slots[i].services = std::move(*services);
            r.on_stop([raw, i] {
                auto& slot = raw->slots[i];
                // Whatever still runs after the grace period is decided now, with deadline semantics.
                auto runs = slot.runs;
                for (auto& [id, run] : runs) {
                    expire_request_run(run);
                }
                slot.services.reset();
            });
            promise->set_value({});
        });
        if (!posted) {
            promise->set_value(posted.error());
        }
    }
    std::error_code first_error;
    for (auto& f : built) {
        if (auto ec = f.get(); ec && !first_error) {
            first_error = ec;
        }
    }
    if (first_error) {
        errors.push_back("cannot build the perspectives' services: " + first_error.message());
        self->pool.stop(std::chrono::milliseconds(0));
        self->stopped = true;
        return first_error;
    }
    return std::unique_ptr<engine>(new engine(std::move(self)));
}

void engine::submit(mpic_request request, submit_callback done) {
    auto& r = _impl->pick();
    auto shared_done = std::make_shared<submit_callback>(std::move(done));
    auto posted = r.post([self = _impl.get(), &r, request = std::move(request), shared_done]() mutable {
        self->handle(r, std::move(request), std::move(*shared_done));
    });
    if (!posted) {
        // The mailbox refused the task (full or stopping): answer here, the only case where done runs inside submit.
        _impl->state.requests_refused_overload.fetch_add(1, std::memory_order_relaxed);
        (*shared_done)({std::nullopt, {}, posted.error()});
    }
}

std::future<submit_outcome> engine::submit(mpic_request request) {
    auto promise = std::make_shared<std::promise<submit_outcome>>();
    auto future = promise->get_future();
    submit(std::move(request), [promise](submit_outcome&& outcome) { promise->set_value(std::move(outcome)); });
    return future;
}

void engine::run_check(std::string_view code, validators::check_request request, check_result_callback done) {
    std::optional<std::size_t> index;
    for (std::size_t i = 0; i < _impl->state.perspectives.size(); ++i) {
        const auto& p = *_impl->state.perspectives[i];
        if (p.info.code == code && !p.transport.is_agent()) {
            index = i;
        }
    }
    auto fail = [](validators::check_type type, std::string message) {
        validators::check_result r;
        r.type = type;
        r.errors.push_back(problem::make(problem_component::coordinator, "remote_check", std::move(message)));
        return r;
    };
    if (!index) {
        done(fail(request.type, "no in-process perspective \"" + std::string(code) + "\""));
        return;
    }
    auto& r = _impl->pick();
    auto shared_done = std::make_shared<check_result_callback>(std::move(done));
    if (request.type == validators::check_type::caa && request.caa.caa_domains.empty()) {
        request.caa.caa_domains = _impl->state.config.caa_issuer_domains; // the agent's configured issuer domains
    }
    auto shared_request = std::make_shared<const validators::check_request>(std::move(request));
    auto posted = r.post([self = _impl.get(), &r, i = *index, shared_request, shared_done] {
        auto& slot = self->slots[r.id()];
        if (!slot.services) {
            validators::check_result result;
            result.type = shared_request->type;
            result.errors.push_back(problem::make(problem_component::coordinator, "remote_check", "shutting down"));
            (*shared_done)(std::move(result));
            return;
        }
        auto& state = self->state;
        state.checks_in_flight.fetch_add(1, std::memory_order_relaxed);
        // The check arms its timeout from the loop's cached time, as old as this loop iteration: refresh it, or a
        // check started after other work in the same iteration times out early.
        uv_update_time(r.loop());
        validators::start_check(slot.services->at(i).runtime, shared_request, state.config.check_timeout_ms,
                                [&state, shared_done](validators::check_result&& result) {
                                    state.checks_in_flight.fetch_sub(1, std::memory_order_relaxed);
                                    (*shared_done)(std::move(result));
                                });
    });
    if (!posted) {
        (*shared_done)(fail(shared_request->type, "engine refused the check: " + posted.error().message()));
    }
}

core::stop_report engine::shutdown(std::chrono::milliseconds grace) {
    if (_impl->stopped.exchange(true)) {
        return _impl->stop_report;
    }
    _impl->stop_report = _impl->pool.stop(grace);
    return _impl->stop_report;
}

core::reactor_pool& engine::reactors() noexcept {
    return _impl->pool;
}
const engine_config& engine::config() const noexcept {
    return _impl->state.config;
}
const set_report& engine::perspective_report() const noexcept {
    return _impl->state.report;
}
bool engine::compliant() const noexcept {
    return _impl->state.compliance_note.empty();
}

engine_stats engine::stats() const noexcept {
    const auto& s = _impl->state;
    return {s.requests_started.load(std::memory_order_relaxed), s.requests_finished.load(std::memory_order_relaxed),
            s.checks_in_flight.load(std::memory_order_relaxed),
            s.requests_refused_overload.load(std::memory_order_relaxed)};
}

} // namespace mpic::quorum
