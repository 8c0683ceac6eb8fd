#include "quorum/decision.hh"

#include <bit>
#include <cassert>

namespace mpic::quorum {

namespace {

// The packed counter word. Every input changes it with one CAS, so the rule always sees a consistent tally and
// exactly one CAS can set `decided` (the linearisation point of the decision).
//   bits  0..6   passed remotes              (7 bits, <= 120)
//   bits  7..13  failed remotes              (7 bits)
//   bits 14..43  pending remotes per RIR     (5 x 6 bits, <= 63 each)
//   bits 44..48  RIRs of passed remotes      (mask)
//   bits 49..50  primary_state
//   bit  51      deadline
//   bit  52      decided
//   bits 53..59  unsettled inputs            (7 bits): counted inputs still publishing their slot
constexpr int k_passed_shift = 0;
constexpr int k_failed_shift = 7;
constexpr int k_pending_shift = 14;
constexpr int k_pending_bits = 6;
constexpr int k_passed_rir_shift = 44;
constexpr int k_primary_shift = 49;
constexpr std::uint64_t k_deadline = std::uint64_t{1} << 51;
constexpr std::uint64_t k_decided = std::uint64_t{1} << 52;
constexpr int k_unsettled_shift = 53;
constexpr std::uint64_t k_unsettled_one = std::uint64_t{1} << k_unsettled_shift;
constexpr std::uint64_t k_count_mask = 0x7f;
constexpr std::uint64_t k_pending_mask = (std::uint64_t{1} << k_pending_bits) - 1;

static_assert(k_unsettled_shift + 7 <= 64, "packed word overflows 64 bits");
static_assert(quorum_decision::max_remotes + 2 <= 127, "unsettled counter too narrow");

constexpr int pending_shift(rir region) {
    return k_pending_shift + static_cast<int>(region) * k_pending_bits;
}

std::uint8_t rir_bit(rir region) {
    return static_cast<std::uint8_t>(1u << static_cast<unsigned>(region));
}

tally unpack(std::uint64_t word) noexcept {
    tally t;
    t.passed = static_cast<int>((word >> k_passed_shift) & k_count_mask);
    t.failed = static_cast<int>((word >> k_failed_shift) & k_count_mask);
    for (int r = 0; r < rir_count; ++r) {
        const int n = static_cast<int>((word >> (k_pending_shift + r * k_pending_bits)) & k_pending_mask);
        t.pending += n;
        if (n > 0) {
            t.pending_rirs = static_cast<std::uint8_t>(t.pending_rirs | (1u << r));
        }
    }
    t.passed_rirs = static_cast<std::uint8_t>((word >> k_passed_rir_shift) & 0x1f);
    t.primary = static_cast<primary_state>((word >> k_primary_shift) & 0x3);
    t.deadline = (word & k_deadline) != 0;
    return t;
}

std::uint64_t with_primary(std::uint64_t word, primary_state p) noexcept {
    return (word & ~(std::uint64_t{0x3} << k_primary_shift)) | (static_cast<std::uint64_t>(p) << k_primary_shift);
}

int unsettled(std::uint64_t word) noexcept {
    return static_cast<int>((word >> k_unsettled_shift) & k_count_mask);
}

report_state state_of(const validators::check_result& r) noexcept {
    // check.hh invariant: passed implies completed. A result claiming passed without completed is treated as not
    // completed: corroboration requires an affirmative determination (BR.md 1200–1203).
    if (r.completed) {
        return r.passed ? report_state::passed : report_state::failed;
    }
    return report_state::not_completed;
}

/// Builds the audit record from a fixed decision and the per-remote states.
quorum_outcome build_outcome(const decision_config& config, const rule_decision& d, primary_state primary,
                             const validators::check_result* primary_result, std::span<const report_state> states,
                             std::span<const validators::check_result* const> results) {
    quorum_outcome out;
    out.decision = d.decision;
    out.reason = d.reason;
    out.is_valid = d.decision != verdict::invalid;
    out.quorum_met = d.quorum_met;
    out.compliant = config.rule.compliant;
    out.mode = config.mode;
    out.attempt = config.attempt;
    out.perspective_count = config.rule.perspective_count;
    out.required = config.rule.required;
    out.primary = primary;
    out.primary_result = primary_result;
    std::uint8_t rirs = 0;
    int incomplete = 0;
    out.perspectives.reserve(states.size());
    for (std::size_t i = 0; i < states.size(); ++i) {
        const remote_slot& remote = config.remotes[i];
        out.perspectives.push_back({i, remote.code, remote.region, states[i], results[i]});
        switch (states[i]) {
        case report_state::passed:
            ++out.passed;
            rirs = static_cast<std::uint8_t>(rirs | rir_bit(remote.region));
            out.passed_perspectives.push_back(remote.code);
            break;
        case report_state::failed:
            ++out.failed;
            out.failed_perspectives.push_back(remote.code);
            break;
        case report_state::not_completed:
            ++out.failed;
            ++incomplete;
            out.failed_perspectives.push_back(remote.code);
            break;
        case report_state::pending:
            ++out.pending;
            ++incomplete;
            out.failed_perspectives.push_back(remote.code); // did not corroborate (Boulder: cancelled = failed)
            break;
        }
    }
    for (int r = 0; r < rir_count; ++r) {
        if (rirs & (1u << r)) {
            out.passed_rirs.push_back(static_cast<rir>(r));
        }
    }
    // BR §5.4.1 item 2.8: "3/4" = three of four attempted perspectives corroborated.
    out.quorum_result = std::to_string(out.passed) + "/" + std::to_string(out.perspective_count);
    // api.md: "the number of perspectives that could not complete is at most perspective_count - quorum_count".
    out.mpic_completed = incomplete <= out.perspective_count - out.required;
    return out;
}

} // namespace

std::string_view to_string(verdict v) noexcept {
    switch (v) {
    case verdict::valid:
        return "valid";
    case verdict::invalid:
        return "invalid";
    case verdict::monitoring:
        return "monitoring";
    }
    return "invalid"; // LCOV_EXCL_LINE: DefensiveCoding
}

std::string_view to_string(decided_by reason) noexcept {
    switch (reason) {
    case decided_by::quorum_reached:
        return "quorum-reached";
    case decided_by::quorum_unreachable:
        return "quorum-unreachable";
    case decided_by::rir_unreachable:
        return "rir-unreachable";
    case decided_by::primary_failed:
        return "primary-failed";
    case decided_by::deadline:
        return "deadline";
    case decided_by::all_reported:
        return "all-reported";
    }
    return "deadline"; // LCOV_EXCL_LINE: DefensiveCoding
}

std::optional<rule_decision> decide(const quorum_rule& rule, corroboration_mode mode, const tally& t) noexcept {
    int pending = t.pending;
    std::uint8_t pending_rirs = t.pending_rirs;
    primary_state primary = t.primary;
    if (t.deadline) {
        // A perspective that has not answered by the deadline "does not corroborate" (standards §1.6, Q10); a
        // primary that has not answered made no determination, so there is nothing to corroborate.
        pending = 0;
        pending_rirs = 0;
        if (primary == primary_state::pending) {
            primary = primary_state::failed;
        }
    }
    const bool rirs_met = !rule.rir_rule || std::popcount(t.passed_rirs) >= 2;
    const bool met = t.passed >= rule.required && rirs_met;
    const bool count_reachable = t.passed + pending >= rule.required;
    // Exact: both conditions are monotone in the pending results, so the quorum is reachable iff it is met when
    // every pending remote passes.
    const bool rirs_reachable =
        !rule.rir_rule || std::popcount(static_cast<unsigned>(t.passed_rirs | pending_rirs)) >= 2;
    const bool primary_mode = mode == corroboration_mode::primary_decides;

    // standards §1.4, Q11: the primary's determination decides; remotes cannot overturn a failure.
    if (primary_mode && primary == primary_state::failed) {
        return rule_decision{verdict::invalid,
                             t.primary == primary_state::failed ? decided_by::primary_failed : decided_by::deadline,
                             met};
    }
    if (rule.monitoring) {
        // BR.md 1263 (monitor-only phase) / Open MPIC quorum 0: the result never blocks, but it is logged in
        // full, so wait for everyone (or the deadline).
        if (pending > 0 || (primary_mode && primary == primary_state::pending)) {
            return std::nullopt;
        }
        return rule_decision{verdict::monitoring, t.deadline ? decided_by::deadline : decided_by::all_reported, met};
    }
    if (!count_reachable) {
        return rule_decision{verdict::invalid, t.deadline ? decided_by::deadline : decided_by::quorum_unreachable,
                             false};
    }
    if (!rirs_reachable) {
        return rule_decision{verdict::invalid, t.deadline ? decided_by::deadline : decided_by::rir_unreachable, false};
    }
    if (met && !(primary_mode && primary == primary_state::pending)) {
        return rule_decision{verdict::valid, decided_by::quorum_reached, true};
    }
    return std::nullopt;
}

quorum_outcome evaluate(const decision_config& config, primary_state primary, std::span<const report_state> remotes) {
    assert(remotes.size() == config.remotes.size());
    tally t;
    t.primary = primary;
    for (std::size_t i = 0; i < remotes.size(); ++i) {
        const std::uint8_t bit = rir_bit(config.remotes[i].region);
        switch (remotes[i]) {
        case report_state::passed:
            ++t.passed;
            t.passed_rirs = static_cast<std::uint8_t>(t.passed_rirs | bit);
            break;
        case report_state::failed:
        case report_state::not_completed:
            ++t.failed;
            break;
        case report_state::pending:
            ++t.pending;
            t.pending_rirs = static_cast<std::uint8_t>(t.pending_rirs | bit);
            break;
        }
    }
    // Complete information: whatever is still pending will never answer.
    std::optional<rule_decision> d = decide(config.rule, config.mode, t);
    if (!d) {
        t.deadline = true;
        d = decide(config.rule, config.mode, t);
    }
    std::vector<const validators::check_result*> no_results(remotes.size(), nullptr);
    return build_outcome(config, *d, primary, nullptr, remotes, no_results);
}

// --- the state machine ---------------------------------------------------------------------------------------

/// One reporter's result. `state` moves empty → claimed (by the one reporter that wins the CAS) → counted or late
/// (release, after `result` is written). Readers look at `result` only after an acquire load saw counted or late.
struct quorum_decision::slot {
    enum : std::uint8_t { empty, claimed, counted, late };
    std::atomic<std::uint8_t> state{empty};
    validators::check_result result;
};

result<std::unique_ptr<quorum_decision>> quorum_decision::create(decision_config config, callback on_decided) {
    const quorum_rule& rule = config.rule;
    if (rule.perspective_count != static_cast<int>(config.remotes.size()) || rule.required < 0 ||
        rule.required > rule.perspective_count) {
        return mpic::errc::invalid_argument;
    }
    if (rule.perspective_count > max_remotes) {
        return mpic::errc::limit_exceeded;
    }
    int per_rir[rir_count] = {};
    for (const remote_slot& r : config.remotes) {
        if (++per_rir[static_cast<int>(r.region)] > max_per_rir) {
            return mpic::errc::limit_exceeded;
        }
    }
    return std::unique_ptr<quorum_decision>(new quorum_decision(std::move(config), std::move(on_decided)));
}

quorum_decision::quorum_decision(decision_config config, callback on_decided)
    : _config(std::move(config)), _on_decided(std::move(on_decided)),
      _slots(std::make_unique<slot[]>(_config.remotes.size() + 1)) {
    std::uint64_t word = 0;
    for (const remote_slot& r : _config.remotes) {
        word += std::uint64_t{1} << pending_shift(r.region);
    }
    const primary_state p =
        _config.mode == corroboration_mode::primary_decides ? primary_state::pending : primary_state::absent;
    _word.store(with_primary(word, p), std::memory_order_relaxed);
}

quorum_decision::~quorum_decision() = default;

report_effect quorum_decision::report_remote(std::size_t index, validators::check_result result) {
    if (index >= _config.remotes.size()) {
        return report_effect::rejected;
    }
    return report(index, std::move(result), false);
}

report_effect quorum_decision::report_primary(validators::check_result result) {
    if (_config.mode != corroboration_mode::primary_decides) {
        return report_effect::rejected;
    }
    return report(_config.remotes.size(), std::move(result), true);
}

report_effect quorum_decision::report(std::size_t slot_index, validators::check_result&& result, bool is_primary) {
    slot& s = _slots[slot_index];
    std::uint8_t expected = slot::empty;
    if (!s.state.compare_exchange_strong(expected, slot::claimed, std::memory_order_acq_rel)) {
        return report_effect::duplicate; // each slot is written by exactly one reporter
    }
    s.result = std::move(result);
    const report_state st = state_of(s.result);

    std::uint64_t old = _word.load(std::memory_order_acquire);
    for (;;) {
        if (old & k_decided) {
            // Decided without us: keep the result for the record (stored_result), never count it.
            s.state.store(slot::late, std::memory_order_release);
            return report_effect::late;
        }
        std::uint64_t next = old;
        if (is_primary) {
            next = with_primary(next, st == report_state::passed ? primary_state::passed : primary_state::failed);
        } else {
            const rir region = _config.remotes[slot_index].region;
            next -= std::uint64_t{1} << pending_shift(region);
            if (st == report_state::passed) {
                next += std::uint64_t{1} << k_passed_shift;
                next |= static_cast<std::uint64_t>(rir_bit(region)) << k_passed_rir_shift;
            } else {
                next += std::uint64_t{1} << k_failed_shift;
            }
        }
        const bool fixes = decide(_config.rule, _config.mode, unpack(next)).has_value();
        if (fixes) {
            next |= k_decided;
        }
        next += k_unsettled_one;
        if (_word.compare_exchange_weak(old, next, std::memory_order_acq_rel, std::memory_order_acquire)) {
            s.state.store(slot::counted, std::memory_order_release);
            // `decided` goes to the one call that settles (and so ran the callback), not necessarily the one that
            // fixed the decision: that is the call after which outcome() is guaranteed, which is what callers need.
            return settle_one() ? report_effect::decided : report_effect::counted;
        }
    }
}

bool quorum_decision::expire() {
    std::uint64_t old = _word.load(std::memory_order_acquire);
    for (;;) {
        if (old & k_decided) {
            return false;
        }
        // With the deadline set the rule always decides: nothing is pending any more.
        const std::uint64_t next = old | k_deadline | k_decided;
        if (_word.compare_exchange_weak(old, next + k_unsettled_one, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
            return settle_one();
        }
    }
}

bool quorum_decision::settle_one() {
    // After `decided` is set no input adds to `unsettled`, so exactly one decrement observes (decided, 0): that
    // thread finalises, and it sees every counted slot published (each reporter's release store precedes its
    // decrement in the release sequence of _word).
    const std::uint64_t now = _word.fetch_sub(k_unsettled_one, std::memory_order_acq_rel) - k_unsettled_one;
    if ((now & k_decided) && unsettled(now) == 0) {
        finalize(now);
        return true;
    }
    return false;
}

void quorum_decision::finalize(std::uint64_t word) {
    const tally t = unpack(word);
    const std::optional<rule_decision> d = decide(_config.rule, _config.mode, t);
    assert(d.has_value()); // `decided` is only ever set together with a decidable tally
    const std::size_t n = _config.remotes.size();
    std::vector<report_state> states(n, report_state::pending);
    std::vector<const validators::check_result*> results(n, nullptr);
    for (std::size_t i = 0; i < n; ++i) {
        if (_slots[i].state.load(std::memory_order_acquire) == slot::counted) {
            states[i] = state_of(_slots[i].result);
            results[i] = &_slots[i].result;
        }
    }
    const slot& primary = _slots[n];
    const validators::check_result* primary_result =
        primary.state.load(std::memory_order_acquire) == slot::counted ? &primary.result : nullptr;
    _outcome = build_outcome(_config, *d, t.primary, primary_result, states, results);
    _settled.store(true, std::memory_order_release);
    if (_on_decided) {
        _on_decided(_outcome);
    }
}

bool quorum_decision::decided() const noexcept {
    return (_word.load(std::memory_order_acquire) & k_decided) != 0;
}

const quorum_outcome* quorum_decision::outcome() const noexcept {
    return _settled.load(std::memory_order_acquire) ? &_outcome : nullptr;
}

std::optional<std::size_t> quorum_decision::index_of(std::string_view code) const noexcept {
    for (std::size_t i = 0; i < _config.remotes.size(); ++i) {
        if (_config.remotes[i].code == code) {
            return i;
        }
    }
    return std::nullopt;
}

const validators::check_result* quorum_decision::stored_result(std::size_t index) const noexcept {
    if (index >= _config.remotes.size()) {
        return nullptr;
    }
    const std::uint8_t st = _slots[index].state.load(std::memory_order_acquire);
    return (st == slot::counted || st == slot::late) ? &_slots[index].result : nullptr;
}

} // namespace mpic::quorum
