#pragma once
// The quorum decision of one MPIC attempt for one (name, check type): a lock-free state machine fed by the
// primary's determination, the remote perspectives' results (from any thread) and a deadline. It fires exactly
// once, as soon as the quorum is reached or can no longer be reached (BR §3.2.2.9; standards §1.4, §5.2–5.3).
//
// The rule itself is a pure function of a tally (decide()), shared by the state machine and by evaluate(), the
// table-driven form used for tests and offline replays (style.md §19).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hh"
#include "core/function.hh"
#include "core/result.hh"
#include "quorum/perspective.hh"
#include "quorum/policy.hh"
#include "validators/check.hh"

namespace mpic::quorum {

/// Who makes the determination.
enum class corroboration_mode : std::uint8_t {
    /// BR §3.2.2.9 / standards §1.4: the primary's determination decides; remotes only corroborate it. A failed
    /// primary fails the attempt whatever the remotes say (Q11); a passing primary still needs the quorum.
    primary_decides,
    /// Open MPIC (no primary concept): every selected perspective is a corroborator and is_valid =
    /// passed >= quorum_count and, with the RIR rule, the passing ones span >= 2 RIRs (api.md).
    all_remote,
};

/// The decision.
enum class verdict : std::uint8_t {
    valid,      ///< quorum met (and the primary passed, in primary_decides mode)
    invalid,    ///< quorum failed, or the primary failed
    monitoring, ///< monitoring mode: the primary did not fail; is_valid regardless of the quorum, which is logged
};
std::string_view to_string(verdict v) noexcept;

/// What fixed the decision.
enum class decided_by : std::uint8_t {
    quorum_reached,     ///< enough passes (and RIRs) before every perspective answered, or exactly at the end
    quorum_unreachable, ///< too many failures: even if every pending remote passed, passes < required
    rir_unreachable,    ///< passes still possible but the passing remotes could no longer span 2 RIRs
    primary_failed,     ///< the primary's determination was a failure (primary_decides mode)
    deadline,           ///< the deadline passed; pending perspectives counted as failures
    all_reported,       ///< monitoring mode: every perspective answered
};
std::string_view to_string(decided_by reason) noexcept;

/// The state of one remote's report, as seen by the rule.
enum class report_state : std::uint8_t {
    pending,       ///< no result (yet)
    passed,        ///< check_result.completed && passed: corroborates
    failed,        ///< completed with a definite failure: does not corroborate
    not_completed, ///< error, timeout, cancelled: does not corroborate (BR: "do not corroborate", Q10)
};

/// The state of the primary's determination.
enum class primary_state : std::uint8_t { pending, passed, failed, absent };

/// Counts the rule decides from. Invariant: RIR masks use bit (1 << rir); pending_rirs has a bit for every RIR
/// with at least one pending remote.
struct tally {
    int passed = 0;
    int failed = 0; ///< failed + not_completed
    int pending = 0;
    std::uint8_t passed_rirs = 0;
    std::uint8_t pending_rirs = 0;
    primary_state primary = primary_state::absent;
    bool deadline = false; ///< pending perspectives (and a pending primary) count as failures
};

/// The rule (pure). nullopt = not decidable yet. Precondition: mode == all_remote ⇔ t.primary == absent.
/// Early decisions: invalid as soon as the quorum (or the RIR span) is unreachable or the primary failed; valid as
/// soon as the quorum is met and the primary passed. Monitoring: only when everything answered (or deadline).
struct rule_decision {
    verdict decision;
    decided_by reason;
    bool quorum_met;
};
std::optional<rule_decision> decide(const quorum_rule& rule, corroboration_mode mode, const tally& t) noexcept;

/// One remote of the attempt, in cohort order. The RIR is the configured one, never the one a response claims.
struct remote_slot {
    std::string code;
    rir region = rir::arin;
};

/// Everything fixed when the attempt starts.
struct decision_config {
    quorum_rule rule; ///< rule.perspective_count must equal remotes.size()
    corroboration_mode mode = corroboration_mode::primary_decides;
    std::vector<remote_slot> remotes;
    std::string primary_code = "primary"; ///< for the audit record (primary_decides mode)
    int attempt = 1;                      ///< 1-based, for the audit record
};

/// Per-perspective line of the audit record (BR §5.4.1 item 2.7: identifier, result).
struct perspective_record {
    std::size_t index = 0; ///< position in decision_config::remotes
    std::string code;
    rir region = rir::arin;
    report_state state = report_state::pending; ///< pending = no result before the decision (cancelled/timed out)
    /// The reported result when counted (state != pending); null otherwise. Points into the decision object.
    const validators::check_result* result = nullptr;
};

/// The decision and its audit record. Invariants: passed + failed + pending == perspective_count;
/// quorum_result == passed "/" perspective_count; passed_perspectives and failed_perspectives partition the
/// remotes (pending ones are listed as failed: they did not corroborate).
struct quorum_outcome {
    verdict decision = verdict::invalid;
    decided_by reason = decided_by::quorum_unreachable;
    bool is_valid = false;       ///< decision != invalid
    bool quorum_met = false;     ///< the rule's quorum (and RIR span) was met by the counted results
    bool mpic_completed = false; ///< remotes without a completed result <= perspective_count - quorum_count
    bool compliant = true;       ///< from the rule (false under the development override)
    corroboration_mode mode = corroboration_mode::primary_decides;
    int attempt = 1;
    int perspective_count = 0;
    int required = 0;
    int passed = 0;
    int failed = 0;            ///< counted failures (definite or not completed)
    int pending = 0;           ///< no result before the decision
    std::string quorum_result; ///< "p/n", BR §5.4.1 ("3/4" = three of four attempted corroborated)
    std::vector<rir> passed_rirs;
    primary_state primary = primary_state::absent;
    const validators::check_result* primary_result = nullptr;
    std::vector<perspective_record> perspectives; ///< one per remote, in config order
    std::vector<std::string> passed_perspectives;
    std::vector<std::string> failed_perspectives;
};

/// Complete-information evaluation (pure): `remotes[i]` is remote i's state; pending ones count as failures (as at
/// a deadline). Precondition: remotes.size() == config.remotes.size(); primary == absent ⇔ all_remote mode.
quorum_outcome evaluate(const decision_config& config, primary_state primary, std::span<const report_state> remotes);

/// What a report did.
enum class report_effect : std::uint8_t {
    counted, ///< counted; the decision is still open (or fixed, but settled by another concurrent call)
    /// Counted, and this call settled the decision: the callback has run on this thread and outcome() is non-null
    /// on return. Exactly one call among all report_* and expire() settles. With a single reporting thread (one
    /// reactor) the settling call is the one whose input fixed the decision; with concurrent reporters it may be a
    /// reporter counted just before, still publishing its slot.
    decided,
    late,      ///< the decision was already fixed: stored for the record, not counted
    duplicate, ///< this perspective already reported: ignored
    rejected,  ///< bad index, or a primary report in all_remote mode: ignored
};

/// The state machine. Thread-safe: report_remote, report_primary and expire may be called concurrently from any
/// threads. Lock-free: the counters live in one 64-bit atomic updated by CAS; each result slot is written once by
/// the single reporter that claimed it, then published. The callback runs exactly once, on the thread that
/// settles the decision (the decider, or the last counted reporter still publishing its slot), after which
/// outcome() is non-null. Lifetime: the object must outlive every reporter (share it with the reporters).
class quorum_decision {
public:
    /// Move-only, so a coordinator can capture owning handles (a mailbox post, a completion).
    using callback = core::unique_function<void(const quorum_outcome&)>;

    /// Hard limits of the packed counter: at most 120 remotes, at most 63 in one RIR.
    static constexpr int max_remotes = 120;
    static constexpr int max_per_rir = 63;

    /// errc::invalid_argument if rule.perspective_count != remotes.size() or required > perspective_count;
    /// errc::limit_exceeded past the limits above. A rule that is already decidable (e.g. 0 remotes) fires
    /// during the first report or expire().
    static result<std::unique_ptr<quorum_decision>> create(decision_config config, callback on_decided = {});

    ~quorum_decision();
    quorum_decision(const quorum_decision&) = delete;
    quorum_decision& operator=(const quorum_decision&) = delete;

    /// Remote `index`'s result. passed = result.completed && result.passed.
    report_effect report_remote(std::size_t index, validators::check_result result);
    /// The primary's determination (primary_decides mode only).
    report_effect report_primary(validators::check_result result);
    /// The deadline passed: pending perspectives become failures and the decision is fixed now (if still open).
    /// Returns true if this call settled it (as report_effect::decided: callback run, outcome() non-null); false
    /// if it was already fixed, or if a concurrent reporter settles it.
    bool expire();

    /// True once the decision is fixed (the callback may still be running or about to run).
    bool decided() const noexcept;
    /// The outcome once settled (after the callback started); null before.
    const quorum_outcome* outcome() const noexcept;
    /// Index of the remote with `code`, if any.
    std::optional<std::size_t> index_of(std::string_view code) const noexcept;
    /// Remote `index`'s stored result, counted or late; null if none published. Safe to call at any time.
    const validators::check_result* stored_result(std::size_t index) const noexcept;
    const decision_config& config() const noexcept { return _config; }

private:
    struct slot;
    quorum_decision(decision_config config, callback on_decided);
    report_effect report(std::size_t slot_index, validators::check_result&& result, bool is_primary);
    /// Drops one unsettled input; true if this call finalised (ran the callback).
    bool settle_one();
    void finalize(std::uint64_t word);

    decision_config _config;
    callback _on_decided;
    std::unique_ptr<slot[]> _slots; ///< remotes, then the primary at index remotes.size()
    std::atomic<std::uint64_t> _word;
    std::atomic<bool> _settled{false};
    quorum_outcome _outcome;
};

} // namespace mpic::quorum
