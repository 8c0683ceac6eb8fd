#pragma once
// metrics: counters, gauges and latency histograms with labels, exported in the Prometheus text format 0.0.4
// (style.md §21: latency histograms labelled {operation, perspective, challenge_type, problem_type, result} like
// Boulder's validation_latency; per-loop counters). Shared-nothing writes: each reactor thread writes cells in its
// own shard (relaxed atomics on cache lines no other writer touches); render/read merge the shards.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.hh"

namespace mpic::core {

/// Binds the calling thread to metrics shard `shard` for every registry. Reactors bind id + 1 at thread start;
/// threads that never bind (main, tests, tools) share shard 0. Shards >= metrics_registry::max_shards fold into
/// shard 0.
void bind_metrics_shard(std::size_t shard) noexcept;

/// Label pairs (name, value). Order does not matter: a series is identified by its labels sorted by name.
using label_set = std::vector<std::pair<std::string, std::string>>;

/// Upper bounds of the latency histogram buckets, in microseconds: 1-2-5 steps from 1 µs to 50 s (log-spaced,
/// three per decade), plus an implicit +Inf bucket. Rendered in seconds, Prometheus' base unit.
inline constexpr std::array<std::uint64_t, 24> histogram_bounds_us = {
    1,       2,       5,         10,        20,        50,         100,        200,
    500,     1000,    2000,      5000,      10'000,    20'000,     50'000,     100'000,
    200'000, 500'000, 1'000'000, 2'000'000, 5'000'000, 10'000'000, 20'000'000, 50'000'000};

/// Merged state of one histogram series. `buckets` are per-bucket (not cumulative); the last is +Inf.
struct histogram_snapshot {
    std::array<std::uint64_t, histogram_bounds_us.size() + 1> buckets{};
    std::uint64_t count = 0;  ///< sum of buckets
    std::uint64_t sum_us = 0; ///< sum of observations in microseconds
};

class metrics_registry;

/// A monotonically increasing counter series. Cheap to copy; valid as long as its registry. Any thread.
/// Default-constructed handles (of every kind) are inert: updates to them are discarded.
class counter {
public:
    counter() = default;
    /// Adds n to this thread's shard.
    void inc(std::uint64_t n = 1) noexcept;

private:
    friend class metrics_registry;
    counter(metrics_registry* registry, std::uint32_t cell) : _registry(registry), _cell(cell) {}
    metrics_registry* _registry = nullptr;
    std::uint32_t _cell = 0;
};

/// A gauge series. Each shard holds its own contribution; the exported value is the sum over shards, so per-
/// reactor quantities (checks in flight, pooled connections) are add()/sub()ed by the reactor that owns them.
/// set() sets only the calling thread's contribution.
class gauge {
public:
    gauge() = default;
    void add(std::int64_t n = 1) noexcept;
    void sub(std::int64_t n = 1) noexcept { add(-n); }
    void set(std::int64_t value) noexcept;

private:
    friend class metrics_registry;
    gauge(metrics_registry* registry, std::uint32_t cell) : _registry(registry), _cell(cell) {}
    metrics_registry* _registry = nullptr;
    std::uint32_t _cell = 0;
};

/// A latency histogram series with the fixed buckets of histogram_bounds_us.
class histogram {
public:
    histogram() = default;
    /// Records one observation of `us` microseconds.
    void observe_us(std::uint64_t us) noexcept;
    /// Records a duration (negative durations count as 0; rounded down to whole microseconds).
    void observe(std::chrono::nanoseconds d) noexcept;

private:
    friend class metrics_registry;
    histogram(metrics_registry* registry, std::uint32_t cell) : _registry(registry), _cell(cell) {}
    metrics_registry* _registry = nullptr;
    std::uint32_t _cell = 0;
};

/// The set of metric families. Registration takes a mutex (do it at start-up or per new label combination, not
/// per event); updates through handles are lock-free; reads and rendering merge all shards.
class metrics_registry {
public:
    /// Shards available (index 0 is the shared one).
    static constexpr std::size_t max_shards = 257;
    /// Cells per shard block and blocks per shard: at most 1,048,576 cells (a histogram series takes 26).
    static constexpr std::size_t block_cells = 1024;
    static constexpr std::size_t max_blocks = 1024;

    /// `cell_limit` caps the cells (and so the series) this registry may use; it is rounded up to whole blocks
    /// and clamped to block_cells * max_blocks. Registration beyond it fails with errc::limit_exceeded.
    explicit metrics_registry(std::size_t cell_limit = block_cells * max_blocks);
    ~metrics_registry();
    metrics_registry(const metrics_registry&) = delete;
    metrics_registry& operator=(const metrics_registry&) = delete;

    /// The process-wide registry the daemon exports.
    static metrics_registry& global();

    /// Registers (or finds) the series `name{labels}`. Registering the same name and labels again returns the
    /// same series. Errors: errc::invalid_argument for a name not matching [a-zA-Z_:][a-zA-Z0-9_:]*, a label
    /// name not matching [a-zA-Z_][a-zA-Z0-9_]* or starting with "__", a duplicate label name, "le" on a
    /// histogram, or a name already registered with another type; errc::limit_exceeded when cells run out.
    result<counter> add_counter(std::string_view name, std::string_view help, label_set labels = {});
    result<gauge> add_gauge(std::string_view name, std::string_view help, label_set labels = {});
    result<histogram> add_histogram(std::string_view name, std::string_view help, label_set labels = {});

    /// Merged values. Any thread; concurrent updates may or may not be included.
    std::uint64_t read(const counter& c) const noexcept;
    std::int64_t read(const gauge& g) const noexcept;
    histogram_snapshot read(const histogram& h) const noexcept;

    /// Every family in registration order, as Prometheus text exposition format 0.0.4: "# HELP" and "# TYPE"
    /// lines, then one sample per series; histograms as name_bucket{...,le="..."} (cumulative, ending with
    /// le="+Inf"), name_sum (seconds) and name_count. Content type "text/plain; version=0.0.4".
    std::string render_prometheus() const;

private:
    friend class counter;
    friend class gauge;
    friend class histogram;

    enum class kind { counter, gauge, histogram };
    struct block;
    struct shard;
    struct series {
        std::string labels; ///< rendered label pairs without braces, sorted by name: a="x",b="y"
        std::uint32_t cell;
    };
    struct family {
        std::string name;
        std::string help;
        kind type;
        std::vector<series> members;                              ///< in registration order (render order)
        std::unordered_map<std::string, std::uint32_t> by_labels; ///< rendered labels -> cell
    };

    result<std::uint32_t> add(kind type, std::string_view name, std::string_view help, label_set labels);
    bool reserve_cells_locked(std::size_t cells);
    shard* make_shard_locked(std::size_t index);
    std::atomic<std::uint64_t>& local_cell(std::uint32_t cell) noexcept;
    std::uint64_t merged(std::uint32_t cell) const noexcept;

    mutable std::mutex _mutex;
    std::vector<family> _families;
    std::unordered_map<std::string, std::size_t> _family_index;
    std::size_t _cells_used = 0;  ///< guarded by _mutex
    std::size_t _blocks_used = 0; ///< guarded by _mutex
    std::size_t _block_limit;     ///< at most max_blocks
    std::array<std::atomic<shard*>, max_shards> _shards{};
    /// One past the highest shard index created: readers scan [0, _shard_end) instead of all max_shards slots.
    std::atomic<std::size_t> _shard_end{0};
};

} // namespace mpic::core
