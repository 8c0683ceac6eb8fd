#include "core/metrics.hh"

#include <algorithm>
#include <cassert>

#include "core/error.hh"

namespace mpic::core {
namespace {

thread_local std::size_t t_shard = 0;

/// Cells a series of each kind occupies: counters and gauges one; histograms one per bucket (+Inf included)
/// plus the sum. The count is not stored: it is the sum of the buckets, so _count always equals the +Inf bucket
/// even when a scrape races with an observation.
constexpr std::size_t histogram_cells = histogram_bounds_us.size() + 2;
constexpr std::size_t histogram_sum_cell = histogram_bounds_us.size() + 1;

bool valid_metric_name(std::string_view name) {
    // Prometheus data model: [a-zA-Z_:][a-zA-Z0-9_:]*
    if (name.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (i > 0 && c >= '0' && c <= '9');
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool valid_label_name(std::string_view name) {
    // Prometheus data model: [a-zA-Z_][a-zA-Z0-9_]*, names starting with "__" are reserved.
    if (name.empty() || name.starts_with("__")) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
        if (!ok) {
            return false;
        }
    }
    return true;
}

// Text format 0.0.4: label values escape backslash, double quote and line feed.
void append_label_value(std::string& out, std::string_view value) {
    for (char c : value) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += c;
        }
    }
}

// Text format 0.0.4: HELP text escapes backslash and line feed only.
void append_help(std::string& out, std::string_view help) {
    for (char c : help) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += c;
        }
    }
}

/// Exact decimal seconds for a whole number of microseconds ("0.0025", "50", "1.000001").
std::string seconds_from_us(std::uint64_t us) {
    std::string s = std::to_string(us / 1'000'000);
    if (std::uint64_t frac = us % 1'000'000; frac != 0) {
        std::string digits = std::to_string(frac);
        s += '.';
        s.append(6 - digits.size(), '0');
        s += digits;
        while (s.back() == '0') {
            s.pop_back();
        }
    }
    return s;
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix, std::string_view labels,
                   std::string_view extra_label, std::string_view value) {
    out += name;
    out += suffix;
    if (!labels.empty() || !extra_label.empty()) {
        out += '{';
        out += labels;
        if (!labels.empty() && !extra_label.empty()) {
            out += ',';
        }
        out += extra_label;
        out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
}

} // namespace

struct metrics_registry::block {
    std::array<std::atomic<std::uint64_t>, block_cells> cells{};
};

struct metrics_registry::shard {
    std::array<std::atomic<block*>, max_blocks> blocks{};
};

void bind_metrics_shard(std::size_t shard) noexcept {
    t_shard = shard < metrics_registry::max_shards ? shard : 0;
}

metrics_registry::metrics_registry(std::size_t cell_limit)
    : _block_limit(std::min(max_blocks, std::max<std::size_t>(1, (cell_limit + block_cells - 1) / block_cells))) {}

metrics_registry::~metrics_registry() {
    for (auto& slot : _shards) {
        if (shard* s = slot.load(std::memory_order_relaxed)) {
            for (auto& b : s->blocks) {
                delete b.load(std::memory_order_relaxed);
            }
            delete s;
        }
    }
}

metrics_registry& metrics_registry::global() {
    static metrics_registry instance;
    return instance;
}

metrics_registry::shard* metrics_registry::make_shard_locked(std::size_t index) {
    if (shard* existing = _shards[index].load(std::memory_order_acquire)) {
        return existing;
    }
    auto* s = new shard;
    for (std::size_t b = 0; b < _blocks_used; ++b) {
        s->blocks[b].store(new block, std::memory_order_relaxed);
    }
    _shards[index].store(s, std::memory_order_release); // publishes the blocks too
    if (index + 1 > _shard_end.load(std::memory_order_relaxed)) {
        _shard_end.store(index + 1, std::memory_order_release);
    }
    return s;
}

bool metrics_registry::reserve_cells_locked(std::size_t cells) {
    // A series never straddles two blocks, so a histogram update resolves its block once.
    std::size_t start = _cells_used;
    if (start / block_cells != (start + cells - 1) / block_cells) {
        start = (start / block_cells + 1) * block_cells;
    }
    std::size_t blocks_needed = (start + cells + block_cells - 1) / block_cells;
    if (blocks_needed > _block_limit) {
        return false;
    }
    // Writers only ever touch cells of series registered before they got their handle, so allocating the new
    // blocks in every existing shard here (and in make_shard_locked for later shards) means writers never
    // allocate and never see a null block.
    for (auto& slot : _shards) {
        if (shard* s = slot.load(std::memory_order_relaxed)) {
            for (std::size_t b = _blocks_used; b < blocks_needed; ++b) {
                s->blocks[b].store(new block, std::memory_order_release);
            }
        }
    }
    _blocks_used = std::max(_blocks_used, blocks_needed);
    _cells_used = start + cells;
    return true;
}

result<std::uint32_t> metrics_registry::add(kind type, std::string_view name, std::string_view help, label_set labels) {
    if (!valid_metric_name(name)) {
        return errc::invalid_argument;
    }
    std::sort(labels.begin(), labels.end());
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (!valid_label_name(labels[i].first) || (type == kind::histogram && labels[i].first == "le") ||
            (i > 0 && labels[i].first == labels[i - 1].first)) {
            return errc::invalid_argument;
        }
    }
    std::string rendered;
    for (const auto& [label, value] : labels) {
        if (!rendered.empty()) {
            rendered += ',';
        }
        rendered += label;
        rendered += "=\"";
        append_label_value(rendered, value);
        rendered += '"';
    }

    std::lock_guard lock(_mutex);
    auto [it, inserted] = _family_index.try_emplace(std::string(name), _families.size());
    if (inserted) {
        _families.push_back(family{std::string(name), std::string(help), type, {}, {}});
    }
    family& fam = _families[it->second];
    if (fam.type != type) {
        return errc::invalid_argument;
    }
    if (auto found = fam.by_labels.find(rendered); found != fam.by_labels.end()) {
        return found->second;
    }
    std::size_t cells = type == kind::histogram ? histogram_cells : 1;
    if (!reserve_cells_locked(cells)) {
        if (fam.members.empty()) {
            // Do not leave an empty family behind: it would render HELP/TYPE with no samples.
            _family_index.erase(it);
            _families.pop_back();
        }
        return errc::limit_exceeded;
    }
    auto cell = static_cast<std::uint32_t>(_cells_used - cells);
    fam.by_labels.emplace(rendered, cell);
    fam.members.push_back(series{std::move(rendered), cell});
    return cell;
}

result<counter> metrics_registry::add_counter(std::string_view name, std::string_view help, label_set labels) {
    auto cell = add(kind::counter, name, help, std::move(labels));
    if (!cell) {
        return cell.error();
    }
    return counter(this, *cell);
}

result<gauge> metrics_registry::add_gauge(std::string_view name, std::string_view help, label_set labels) {
    auto cell = add(kind::gauge, name, help, std::move(labels));
    if (!cell) {
        return cell.error();
    }
    return gauge(this, *cell);
}

result<histogram> metrics_registry::add_histogram(std::string_view name, std::string_view help, label_set labels) {
    auto cell = add(kind::histogram, name, help, std::move(labels));
    if (!cell) {
        return cell.error();
    }
    return histogram(this, *cell);
}

std::atomic<std::uint64_t>& metrics_registry::local_cell(std::uint32_t cell) noexcept {
    shard* s = _shards[t_shard].load(std::memory_order_acquire);
    if (s == nullptr) {
        // First write from this shard: once per thread and registry, then never again.
        std::lock_guard lock(_mutex);
        s = make_shard_locked(t_shard);
    }
    block* b = s->blocks[cell / block_cells].load(std::memory_order_acquire);
    return b->cells[cell % block_cells];
}

std::uint64_t metrics_registry::merged(std::uint32_t cell) const noexcept {
    std::uint64_t total = 0;
    std::size_t end = _shard_end.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < end; ++i) {
        if (const shard* s = _shards[i].load(std::memory_order_acquire)) {
            if (const block* b = s->blocks[cell / block_cells].load(std::memory_order_acquire)) {
                total += b->cells[cell % block_cells].load(std::memory_order_relaxed);
            }
        }
    }
    return total;
}

void counter::inc(std::uint64_t n) noexcept {
    if (_registry == nullptr) {
        return; // a default-constructed (unregistered) handle discards updates
    }
    // Relaxed RMW on a cell only this shard's thread writes: uncontended, no cross-reactor cache traffic.
    _registry->local_cell(_cell).fetch_add(n, std::memory_order_relaxed);
}

void gauge::add(std::int64_t n) noexcept {
    if (_registry == nullptr) {
        return;
    }
    // Two's complement wrap-around makes unsigned addition of a negative delta exact; read() casts back.
    _registry->local_cell(_cell).fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
}

void gauge::set(std::int64_t value) noexcept {
    if (_registry == nullptr) {
        return;
    }
    _registry->local_cell(_cell).store(static_cast<std::uint64_t>(value), std::memory_order_relaxed);
}

void histogram::observe_us(std::uint64_t us) noexcept {
    if (_registry == nullptr) {
        return;
    }
    auto bucket = static_cast<std::size_t>(
        std::lower_bound(histogram_bounds_us.begin(), histogram_bounds_us.end(), us) - histogram_bounds_us.begin());
    std::atomic<std::uint64_t>* base = &_registry->local_cell(_cell); // a series never straddles blocks
    base[bucket].fetch_add(1, std::memory_order_relaxed);
    base[histogram_sum_cell].fetch_add(us, std::memory_order_relaxed);
}

void histogram::observe(std::chrono::nanoseconds d) noexcept {
    observe_us(d.count() <= 0 ? 0 : static_cast<std::uint64_t>(d.count() / 1000));
}

std::uint64_t metrics_registry::read(const counter& c) const noexcept {
    return merged(c._cell);
}

std::int64_t metrics_registry::read(const gauge& g) const noexcept {
    return static_cast<std::int64_t>(merged(g._cell));
}

histogram_snapshot metrics_registry::read(const histogram& h) const noexcept {
    histogram_snapshot snap;
    for (std::size_t i = 0; i < snap.buckets.size(); ++i) {
        snap.buckets[i] = merged(h._cell + static_cast<std::uint32_t>(i));
        snap.count += snap.buckets[i];
    }
    snap.sum_us = merged(h._cell + static_cast<std::uint32_t>(histogram_sum_cell));
    return snap;
}

std::string metrics_registry::render_prometheus() const {
    std::string out;
    std::lock_guard lock(_mutex);
    for (const family& fam : _families) {
        out += "# HELP ";
        out += fam.name;
        out += ' ';
        append_help(out, fam.help);
        out += "\n# TYPE ";
        out += fam.name;
        out += fam.type == kind::counter ? " counter\n" : fam.type == kind::gauge ? " gauge\n" : " histogram\n";
        for (const series& s : fam.members) {
            switch (fam.type) {
            case kind::counter:
                append_sample(out, fam.name, "", s.labels, "", std::to_string(merged(s.cell)));
                break;
            case kind::gauge:
                append_sample(out, fam.name, "", s.labels, "",
                              std::to_string(static_cast<std::int64_t>(merged(s.cell))));
                break;
            case kind::histogram: {
                std::uint64_t cumulative = 0;
                for (std::size_t i = 0; i <= histogram_bounds_us.size(); ++i) {
                    cumulative += merged(s.cell + static_cast<std::uint32_t>(i));
                    std::string le = i < histogram_bounds_us.size()
                                         ? "le=\"" + seconds_from_us(histogram_bounds_us[i]) + "\""
                                         : std::string("le=\"+Inf\"");
                    append_sample(out, fam.name, "_bucket", s.labels, le, std::to_string(cumulative));
                }
                std::uint64_t sum = merged(s.cell + static_cast<std::uint32_t>(histogram_sum_cell));
                append_sample(out, fam.name, "_sum", s.labels, "", seconds_from_us(sum));
                append_sample(out, fam.name, "_count", s.labels, "", std::to_string(cumulative));
                break;
            }
            }
        }
    }
    return out;
}

} // namespace mpic::core
