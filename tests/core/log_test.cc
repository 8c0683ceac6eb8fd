// Tests for core/log.hh: every line is one valid JSON object with the fixed fields, hostile strings (control
// characters, quotes, invalid UTF-8) are escaped into valid JSON, the level filter holds, and concurrent writers
// never interleave lines.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.hh"
#include "core/log.hh"

namespace mpic::core {
namespace {

using json = nlohmann::json;

json parse_line(const std::string& line) {
    EXPECT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one line";
    return json::parse(line); // throws (failing the test) on invalid JSON or invalid UTF-8
}

std::string escaped(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

TEST(log_format, fixed_fields_and_typed_values) {
    // 2026-11-30T04:28:10.000042Z
    std::int64_t us = 1796012890LL * 1'000'000 + 42;
    std::string line = format_log_line(us, log_level::warn, "check_done", "trace-7", 3,
                                       {{"perspective", "eu-west"},
                                        {"elapsed_us", std::uint64_t{1234}},
                                        {"delta", -5},
                                        {"ratio", 0.25},
                                        {"ok", true}});
    json j = parse_line(line);
    EXPECT_EQ(j["ts"], "2026-11-30T04:28:10.000042Z");
    EXPECT_EQ(j["level"], "warn");
    EXPECT_EQ(j["event"], "check_done");
    EXPECT_EQ(j["trace_id"], "trace-7");
    EXPECT_EQ(j["reactor"], 3);
    EXPECT_EQ(j["perspective"], "eu-west");
    EXPECT_EQ(j["elapsed_us"], 1234);
    EXPECT_EQ(j["delta"], -5);
    EXPECT_DOUBLE_EQ(j["ratio"].get<double>(), 0.25);
    EXPECT_EQ(j["ok"], true);
    // Field order is fixed: ts first, so lines sort and grep well.
    EXPECT_EQ(line.rfind("{\"ts\":", 0), 0U);
}

TEST(log_format, empty_trace_and_no_reactor_are_null) {
    json j = parse_line(format_log_line(0, log_level::info, "boot", "", -1, {}));
    EXPECT_TRUE(j["trace_id"].is_null());
    EXPECT_TRUE(j["reactor"].is_null());
    EXPECT_EQ(j["ts"], "1970-01-01T00:00:00.000000Z");
}

TEST(log_format, reserved_keys_are_not_shadowed) {
    json j = parse_line(format_log_line(0, log_level::info, "e", "t", 0, {{"level", "fake"}, {"ts", 1}}));
    EXPECT_EQ(j["level"], "info");
    EXPECT_EQ(j["_level"], "fake");
    EXPECT_EQ(j["_ts"], 1);
}

TEST(log_format, non_finite_numbers_become_null) {
    json j = parse_line(format_log_line(0, log_level::info, "e", "", -1,
                                        {{"nan", std::nan("")}, {"inf", std::numeric_limits<double>::infinity()}}));
    EXPECT_TRUE(j["nan"].is_null());
    EXPECT_TRUE(j["inf"].is_null());
}

TEST(log_escape, quotes_backslashes_and_control_characters) {
    EXPECT_EQ(escaped("a\"b\\c"), R"("a\"b\\c")");
    EXPECT_EQ(escaped("\n\r\t\b\f"), R"("\n\r\t\b\f")");
    EXPECT_EQ(escaped(std::string("\x01\x1f\x7f", 3)), R"("\u0001\u001f\u007f")");
    EXPECT_EQ(escaped(std::string("nul\0byte", 8)), R"("nul\u0000byte")");
}

TEST(log_escape, valid_utf8_passes_through) {
    std::string s = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x92 \xED\x9F\xBF \xF4\x8F\xBF\xBF"; // é € 🔒 U+D7FF U+10FFFF
    EXPECT_EQ(escaped(s), "\"" + s + "\"");
}

TEST(log_escape, invalid_utf8_is_replaced) {
    // The escaper is core/json_writer's (tests/core/json_writer_test.cc has every case): one U+FFFD per maximal
    // ill-formed subpart, written as its UTF-8 bytes.
    struct sample {
        std::string bytes;
        std::string expected;
    };
    const std::string r = "\xEF\xBF\xBD";
    std::vector<sample> samples = {
        {"\xC3", "\"" + r + "\""},                         // truncated 2-byte sequence
        {"\x80", "\"" + r + "\""},                         // lone continuation byte
        {"\xC0\xAF", "\"" + r + r + "\""},                 // overlong '/'
        {"\xE0\x80\xAF", "\"" + r + r + r + "\""},         // overlong 3-byte
        {"\xED\xA0\x80", "\"" + r + r + r + "\""},         // UTF-16 surrogate U+D800
        {"\xF4\x90\x80\x80", "\"" + r + r + r + r + "\""}, // above U+10FFFF
        {"\xFF"
         "ok",
         "\"" + r + "ok\""}, // never-valid byte, then resync
        {"a\xE2\x82"
         "b",
         "\"a" + r + "b\""}, // truncated 3-byte before ASCII: one replacement
    };
    for (const auto& s : samples) {
        std::string out = escaped(s.bytes);
        EXPECT_EQ(out, s.expected);
        EXPECT_TRUE(json::accept(out)) << out;
    }
    // Hostile input inside a full line (a peer-controlled value reaching the log) still yields valid JSON.
    json j = parse_line(format_log_line(0, log_level::error, "bad\xFF\nevent", "t\x01", 0,
                                        {{"body", std::string_view("\xC3\x28\"}\n{\"x\":1", 11)}}));
    EXPECT_EQ(j["event"], "bad\xEF\xBF\xBD\nevent");
    EXPECT_EQ(j["body"], "\xEF\xBF\xBD(\"}\n{\"x\":1");
}

TEST(log_level_names, round_trip_and_rejects_unknown) {
    for (auto level :
         {log_level::trace, log_level::debug, log_level::info, log_level::warn, log_level::error, log_level::off}) {
        auto parsed = parse_log_level(to_string(level));
        ASSERT_TRUE(parsed);
        EXPECT_EQ(*parsed, level);
    }
    auto bad = parse_log_level("WARN");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), make_error_code(errc::invalid_argument));
    EXPECT_FALSE(parse_log_level(""));
}

class log_file_test : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/mpic-log-test-XXXXXX";
        int fd = mkstemp(tmpl);
        ASSERT_GE(fd, 0);
        ::close(fd);
        _path = tmpl;
    }
    void TearDown() override { std::remove(_path.c_str()); }
    std::vector<std::string> lines() {
        std::ifstream in(_path);
        std::vector<std::string> out;
        for (std::string line; std::getline(in, line);) {
            out.push_back(line + "\n");
        }
        return out;
    }
    std::string _path;
};

TEST_F(log_file_test, level_filter_drops_lower_levels) {
    logger l;
    ASSERT_TRUE(l.open_file(_path));
    l.set_level(log_level::warn);
    EXPECT_FALSE(l.enabled(log_level::info));
    EXPECT_TRUE(l.enabled(log_level::error));
    l.write(log_level::debug, "dropped", "", {});
    l.write(log_level::info, "dropped", "", {});
    l.write(log_level::warn, "kept_warn", "", {});
    l.write(log_level::error, "kept_error", "", {{"k", "v"}});
    l.set_level(log_level::off);
    EXPECT_FALSE(l.enabled(log_level::error));
    l.write(log_level::error, "dropped", "", {});
    auto got = lines();
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(parse_line(got[0])["event"], "kept_warn");
    EXPECT_EQ(parse_line(got[1])["k"], "v");
    EXPECT_EQ(l.dropped(), 0U);
}

TEST_F(log_file_test, open_file_failure_keeps_previous_destination) {
    logger l;
    ASSERT_TRUE(l.open_file(_path));
    auto r = l.open_file("/nonexistent-dir/x.log");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::error_code(ENOENT, std::generic_category()));
    l.write(log_level::error, "still_here", "", {});
    ASSERT_EQ(lines().size(), 1U);
}

TEST_F(log_file_test, write_failure_is_counted_not_thrown) {
    logger l;
    l.use_fd(-1);
    l.write(log_level::error, "lost", "", {});
    EXPECT_EQ(l.dropped(), 1U);
}

TEST_F(log_file_test, concurrent_writers_never_interleave) {
    logger l;
    ASSERT_TRUE(l.open_file(_path));
    constexpr int threads = 4;
    constexpr int per_thread = 500;
    std::string payload(300, 'x'); // long enough that interleaving would be visible
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
        writers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                l.write(log_level::info, "line", "", {{"thread", t}, {"i", i}, {"payload", payload}});
            }
        });
    }
    for (auto& w : writers) {
        w.join();
    }
    auto got = lines();
    ASSERT_EQ(got.size(), static_cast<std::size_t>(threads * per_thread));
    std::vector<int> next(threads, 0);
    for (const auto& line : got) {
        json j = parse_line(line);
        int t = j["thread"];
        EXPECT_EQ(j["i"], next[t]++) << "per-thread order";
        EXPECT_EQ(j["payload"], payload);
    }
}

} // namespace
} // namespace mpic::core
