#include "quorum/cohort.hh"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <memory>
#include <string>

#include "core/ascii.hh"
#include "core/sha256.hh"

namespace mpic::quorum {

namespace {

/// xoshiro256** (Blackman & Vigna, 2018): small, fast, and fully specified, so the shuffle is reproducible across
/// platforms and library versions (std::shuffle's use of the engine is implementation-defined).
class xoshiro256ss {
public:
    explicit xoshiro256ss(const std::array<std::uint8_t, 32>& seed) noexcept {
        for (int i = 0; i < 4; ++i) {
            std::uint64_t word = 0;
            for (int b = 0; b < 8; ++b) {
                word = (word << 8) | seed[static_cast<std::size_t>(i * 8 + b)]; // big-endian: platform-independent
            }
            _s[i] = word;
        }
        if ((_s[0] | _s[1] | _s[2] | _s[3]) == 0) {
            _s[0] = 0x9e3779b97f4a7c15ULL; // the all-zero state is a fixed point; SHA-256 makes this unreachable
        }
    }

    std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(_s[1] * 5, 7) * 9;
        const std::uint64_t t = _s[1] << 17;
        _s[2] ^= _s[0];
        _s[3] ^= _s[1];
        _s[1] ^= _s[2];
        _s[0] ^= _s[3];
        _s[2] ^= t;
        _s[3] = rotl(_s[3], 45);
        return result;
    }

    /// Uniform in [0, bound) without modulo bias (rejection of the short tail). Precondition: bound > 0.
    std::uint64_t below(std::uint64_t bound) noexcept {
        const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
        std::uint64_t x = next();
        while (x >= limit) {
            x = next();
        }
        return x % bound;
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    std::uint64_t _s[4];
};

/// Working state of one make_cohorts run: the shuffled order, per-RIR queues, availability flags.
struct pool {
    std::vector<std::vector<std::size_t>> by_rir; // remote indices per RIR (in rir_order), shuffled order
    std::vector<rir> rir_order;                   // RIRs in order of first appearance
    std::vector<bool> available;                  // by remote index

    /// First available member of RIR slot `r` accepted by `fits`, or SIZE_MAX.
    template <class Fits>
    std::size_t first(std::size_t r, Fits&& fits) const {
        for (std::size_t idx : by_rir[r]) {
            if (available[idx] && fits(idx)) {
                return idx;
            }
        }
        return SIZE_MAX;
    }
};

} // namespace

std::array<std::uint8_t, 32> selection_seed(std::string_view secret, std::string_view target) {
    // core::sha256 aborts rather than return a zero digest: selecting with a constant seed silently would defeat
    // the anti-shopping property.
    return core::sha256({secret, core::ascii_lower(target)});
}

const cohort& cohort_plan::for_attempt(int attempt) const noexcept {
    assert(!cohorts.empty() && attempt >= 1);
    return cohorts[static_cast<std::size_t>(attempt - 1) % cohorts.size()];
}

cohort_plan make_cohorts(std::span<const perspective_info> remotes, const too_close_relation& too_close,
                         const cohort_requirements& requirements, const std::array<std::uint8_t, 32>& seed) {
    cohort_plan plan;
    const std::size_t n = remotes.size();
    const std::size_t size = requirements.size;
    if (size < 2 || size > n || too_close.size() != n) {
        return plan;
    }

    // 1. Deterministic base order (by code, as Open MPIC sorts before shuffling), then the keyed shuffle.
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) {
        order[i] = i;
    }
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return remotes[a].code < remotes[b].code; });
    xoshiro256ss rng(seed);
    for (std::size_t i = n - 1; i > 0; --i) {
        std::swap(order[i], order[static_cast<std::size_t>(rng.below(i + 1))]);
    }

    // 2. Group by RIR, RIRs in order of first appearance (Python dict insertion order in Open MPIC).
    pool p;
    p.available.assign(n, true);
    for (std::size_t idx : order) {
        auto it = std::find(p.rir_order.begin(), p.rir_order.end(), remotes[idx].region);
        if (it == p.rir_order.end()) {
            p.rir_order.push_back(remotes[idx].region);
            p.by_rir.emplace_back();
            it = p.rir_order.end() - 1;
        }
        p.by_rir[static_cast<std::size_t>(it - p.rir_order.begin())].push_back(idx);
    }
    const std::size_t rirs = p.rir_order.size();
    if (requirements.two_rirs && rirs < 2) {
        return plan; // BR.md 1261–1271: cannot span two RIRs with one
    }

    // 3. Seeding: each cohort opens with two distinct RIRs (BR "at least two (2) distinct Regional Internet
    // Registries" for the corroborating remotes; seeding guarantees it can hold even if the others fail).
    std::vector<cohort> open;
    std::size_t cursor = 0; // rotates the first RIR of each seed so the cohorts share the RIRs fairly
    const std::size_t max_cohorts = n / size;
    while (open.size() < max_cohorts) {
        bool seeded = false;
        for (std::size_t step = 0; step < rirs && !seeded; ++step) {
            const std::size_t r1 = (cursor + step) % rirs;
            const std::size_t first = p.first(r1, [](std::size_t) { return true; });
            if (first == SIZE_MAX) {
                continue;
            }
            auto not_close = [&](std::size_t idx) { return !too_close(first, idx); };
            std::size_t second = SIZE_MAX;
            for (std::size_t k = 1; k < rirs && second == SIZE_MAX; ++k) {
                second = p.first((r1 + k) % rirs, not_close);
            }
            if (second == SIZE_MAX && !requirements.two_rirs) {
                second = p.first(r1, [&](std::size_t idx) { return idx != first && not_close(idx); });
            }
            if (second == SIZE_MAX) {
                continue;
            }
            p.available[first] = false;
            p.available[second] = false;
            open.push_back({first, second});
            cursor = (r1 + 1) % rirs;
            seeded = true;
        }
        if (!seeded) {
            break;
        }
    }

    // 4. Filling, one cohort at a time, cycling through the RIRs for diversity and skipping too-close candidates.
    for (cohort& c : open) {
        std::size_t r = cursor;
        std::size_t misses = 0;
        while (c.size() < size && misses < rirs) {
            const std::size_t pick = p.first(r, [&](std::size_t idx) {
                return std::none_of(c.begin(), c.end(), [&](std::size_t m) { return too_close(m, idx); });
            });
            r = (r + 1) % rirs;
            if (pick == SIZE_MAX) {
                ++misses;
                continue;
            }
            misses = 0;
            p.available[pick] = false;
            c.push_back(pick);
        }
        cursor = r;
        if (c.size() == size) {
            plan.cohorts.push_back(std::move(c));
        } else {
            for (std::size_t m : c) {
                p.available[m] = true; // dissolved: its members may still complete a later cohort
            }
        }
    }
    return plan;
}

} // namespace mpic::quorum
