// Tests for core/metrics.hh: per-shard writes merged on read, series identity, name/label validation, and the
// Prometheus text format 0.0.4 rendering (HELP/TYPE, escaping, cumulative buckets, _sum/_count).
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hh"
#include "core/metrics.hh"

namespace mpic::core {
namespace {

TEST(metrics, counters_merge_across_shards) {
    metrics_registry reg;
    auto c = reg.add_counter("mpic_checks_total", "Checks run.");
    ASSERT_TRUE(c);
    std::vector<std::thread> threads;
    for (std::size_t shard = 0; shard < 5; ++shard) {
        threads.emplace_back([&, shard] {
            bind_metrics_shard(shard == 4 ? 0 : shard + 1); // shard 0 is shared with this test thread
            for (int i = 0; i < 10000; ++i) {
                c->inc();
            }
        });
    }
    for (int i = 0; i < 10000; ++i) {
        c->inc(2);
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(reg.read(*c), 5U * 10000U + 20000U);
}

TEST(metrics, gauge_is_sum_of_shard_contributions) {
    metrics_registry reg;
    auto g = reg.add_gauge("mpic_in_flight", "Checks in flight.");
    ASSERT_TRUE(g);
    std::thread a([&] {
        bind_metrics_shard(1);
        g->add(5);
        g->sub(2);
    });
    std::thread b([&] {
        bind_metrics_shard(2);
        g->set(10);
    });
    a.join();
    b.join();
    g->sub(20); // shard 0 goes negative: the sum may legitimately be below a shard's own value
    EXPECT_EQ(reg.read(*g), 3 + 10 - 20);
}

TEST(metrics, histogram_buckets_are_le_bounds) {
    metrics_registry reg;
    auto h = reg.add_histogram("mpic_latency_seconds", "Latency.");
    ASSERT_TRUE(h);
    h->observe_us(0);                          // bucket le=1µs
    h->observe_us(1);                          // le=1µs (bounds are inclusive)
    h->observe_us(2);                          // le=2µs
    h->observe_us(3);                          // le=5µs
    h->observe_us(60'000'000);                 // +Inf
    h->observe(std::chrono::milliseconds(-1)); // negative durations count as 0
    auto snap = reg.read(*h);
    EXPECT_EQ(snap.count, 6U);
    EXPECT_EQ(snap.buckets[0], 3U);
    EXPECT_EQ(snap.buckets[1], 1U);
    EXPECT_EQ(snap.buckets[2], 1U);
    EXPECT_EQ(snap.buckets.back(), 1U);
    EXPECT_EQ(snap.sum_us, 60'000'006U);
}

TEST(metrics, default_handles_are_inert) {
    counter c;
    gauge g;
    histogram h;
    c.inc();
    g.add(3);
    g.set(1);
    h.observe_us(10);
    SUCCEED() << "updates to unregistered handles are discarded, not crashes";
    metrics_registry reg;
    EXPECT_EQ(reg.render_prometheus(), "");
}

TEST(metrics, same_name_and_labels_is_same_series_regardless_of_label_order) {
    metrics_registry reg;
    auto a = reg.add_counter("x_total", "X.", {{"b", "2"}, {"a", "1"}});
    auto b = reg.add_counter("x_total", "X.", {{"a", "1"}, {"b", "2"}});
    auto other = reg.add_counter("x_total", "X.", {{"a", "1"}, {"b", "3"}});
    ASSERT_TRUE(a && b && other);
    a->inc();
    b->inc();
    other->inc(7);
    EXPECT_EQ(reg.read(*a), 2U);
    EXPECT_EQ(reg.read(*other), 7U);
}

TEST(metrics, rejects_invalid_names_labels_and_type_conflicts) {
    metrics_registry reg;
    auto invalid = make_error_code(errc::invalid_argument);
    EXPECT_EQ(reg.add_counter("", "h").error(), invalid);
    EXPECT_EQ(reg.add_counter("9starts_with_digit", "h").error(), invalid);
    EXPECT_EQ(reg.add_counter("has-dash", "h").error(), invalid);
    EXPECT_EQ(reg.add_counter("ok_name", "h", {{"__reserved", "v"}}).error(), invalid);
    EXPECT_EQ(reg.add_counter("ok_name", "h", {{"bad-label", "v"}}).error(), invalid);
    EXPECT_EQ(reg.add_counter("ok_name", "h", {{"a", "1"}, {"a", "2"}}).error(), invalid);
    EXPECT_EQ(reg.add_histogram("h_seconds", "h", {{"le", "1"}}).error(), invalid);
    ASSERT_TRUE(reg.add_counter("ns:sub_total", "colons are legal in metric names"));
    ASSERT_TRUE(reg.add_gauge("typed", "h"));
    EXPECT_EQ(reg.add_counter("typed", "h").error(), invalid);
    // Failed registrations leave nothing behind in the exposition.
    EXPECT_EQ(reg.render_prometheus().find("ok_name"), std::string::npos);
}

TEST(metrics, cell_space_exhaustion_is_reported) {
    metrics_registry reg(3 * metrics_registry::block_cells);
    std::size_t made = 0;
    result<histogram> last = histogram();
    // Each histogram takes 26 cells; a series never straddles a block, so 39 fit in one 1024-cell block.
    for (;; ++made) {
        last = reg.add_histogram("h", "h", {{"i", std::to_string(made)}});
        if (!last) {
            break;
        }
    }
    EXPECT_EQ(last.error(), make_error_code(errc::limit_exceeded));
    EXPECT_EQ(made, 39U * 3U);
    // 3 blocks hold 117 histograms (3042 cells); the last block's 10-cell tail still takes 1-cell series.
    for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(reg.add_counter("c_total", "c", {{"n", std::to_string(i)}}));
    }
    EXPECT_EQ(reg.add_counter("c_total", "c", {{"n", "10"}}).error(), make_error_code(errc::limit_exceeded));
    EXPECT_EQ(reg.render_prometheus().find("n=\"10\""), std::string::npos);
}

TEST(metrics, prometheus_text_format) {
    metrics_registry reg;
    auto c = reg.add_counter("mpic_checks_total", "Checks run.\nSecond line \\ backslash.",
                             {{"result", "ok"}, {"challenge_type", "dns-01"}});
    auto bare = reg.add_counter("mpic_bare_total", "No labels.");
    auto g = reg.add_gauge("mpic_in_flight", "In flight.");
    auto h = reg.add_histogram("mpic_latency_seconds", "Latency.", {{"operation", "caa \"quoted\"\nnl"}});
    ASSERT_TRUE(c && bare && g && h);
    c->inc(3);
    g->add(-4);
    h->observe_us(1);
    h->observe_us(1500);        // le=0.002
    h->observe_us(100'000'000); // +Inf
    std::string text = reg.render_prometheus();

    std::string expected_head = "# HELP mpic_checks_total Checks run.\\nSecond line \\\\ backslash.\n"
                                "# TYPE mpic_checks_total counter\n"
                                "mpic_checks_total{challenge_type=\"dns-01\",result=\"ok\"} 3\n"
                                "# HELP mpic_bare_total No labels.\n"
                                "# TYPE mpic_bare_total counter\n"
                                "mpic_bare_total 0\n"
                                "# HELP mpic_in_flight In flight.\n"
                                "# TYPE mpic_in_flight gauge\n"
                                "mpic_in_flight -4\n"
                                "# HELP mpic_latency_seconds Latency.\n"
                                "# TYPE mpic_latency_seconds histogram\n";
    ASSERT_EQ(text.substr(0, expected_head.size()), expected_head);

    const std::string labels = "operation=\"caa \\\"quoted\\\"\\nnl\"";
    auto has = [&](const std::string& line) {
        EXPECT_NE(text.find(line + "\n"), std::string::npos) << "missing: " << line << "\nin:\n" << text;
    };
    has("mpic_latency_seconds_bucket{" + labels + ",le=\"0.000001\"} 1");
    has("mpic_latency_seconds_bucket{" + labels + ",le=\"0.001\"} 1");
    has("mpic_latency_seconds_bucket{" + labels + ",le=\"0.002\"} 2");
    has("mpic_latency_seconds_bucket{" + labels + ",le=\"50\"} 2");
    has("mpic_latency_seconds_bucket{" + labels + ",le=\"+Inf\"} 3");
    has("mpic_latency_seconds_sum{" + labels + "} 100.001501");
    has("mpic_latency_seconds_count{" + labels + "} 3");

    // Structural check of every line: comments or "name{labels} value", buckets cumulative and ending in +Inf.
    std::istringstream in(text);
    std::size_t buckets = 0;
    std::uint64_t previous = 0;
    for (std::string line; std::getline(in, line);) {
        ASSERT_FALSE(line.empty());
        if (line[0] == '#') {
            EXPECT_TRUE(line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) << line;
            continue;
        }
        auto space = line.rfind(' ');
        ASSERT_NE(space, std::string::npos) << line;
        if (line.find("_bucket{") != std::string::npos) {
            std::uint64_t v = std::stoull(line.substr(space + 1));
            EXPECT_GE(v, previous) << "buckets must be cumulative: " << line;
            previous = v;
            ++buckets;
        }
    }
    EXPECT_EQ(buckets, histogram_bounds_us.size() + 1);
}

} // namespace
} // namespace mpic::core
