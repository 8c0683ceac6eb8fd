#pragma once
// Comparison of a renderer's output with its expected value (a golden_case): valid JSON, no key written twice
// (a parser would keep one silently), and the same value with the same types as the expected one (compared through
// nlohmann's canonical dump, which tells 12 from 12.0 and sorts keys). Key order is free.

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "render_fixtures.hh"

namespace mpic::quorum::test {

/// The first key found twice in one object, or "" when there is none (or the text is not JSON).
inline std::string duplicate_key(const std::string& text) {
    using json = nlohmann::json;
    std::vector<std::set<std::string>> open;
    std::string duplicate;
    json::parser_callback_t check = [&](int, json::parse_event_t event, json& value) {
        if (event == json::parse_event_t::object_start) {
            open.emplace_back();
        } else if (event == json::parse_event_t::object_end && !open.empty()) {
            open.pop_back();
        } else if (event == json::parse_event_t::key && !open.empty() &&
                   !open.back().insert(value.get<std::string>()).second && duplicate.empty()) {
            duplicate = value.get<std::string>();
        }
        return true;
    };
    const auto parsed = json::parse(text, check, false);
    return parsed.is_discarded() ? std::string() : duplicate;
}

/// Expects `text` to parse to `expected`. `adjust` may normalise fields that legitimately differ (the clock).
template <class Adjust>
void expect_same_json(const std::string& name, const std::string& text, const char* expected_text, Adjust adjust) {
    using json = nlohmann::json;
    auto actual = json::parse(text, nullptr, false);
    ASSERT_FALSE(actual.is_discarded()) << name << ": not JSON: " << text;
    EXPECT_EQ(duplicate_key(text), "") << name << ": " << text;
    adjust(actual);
    const auto expected = json::parse(expected_text);
    // json::diff compares numbers by value: an empty patch means a number changed type (12 against 12.0).
    EXPECT_EQ(actual.dump(), expected.dump())
        << name << ": differences (RFC 6902, expected -> actual): " << json::diff(expected, actual).dump();
}

/// Expects one golden case per fixture, in the same order and with the same names, and each rendering to match.
template <class T, std::size_t N, class Render, class Adjust>
void expect_golden(const std::vector<named<T>>& fixtures, const golden_case (&golden)[N], Render render,
                   Adjust adjust) {
    ASSERT_EQ(fixtures.size(), N) << "the fixtures and the expected renderings disagree; regenerate the .inc";
    for (std::size_t i = 0; i < N; ++i) {
        ASSERT_EQ(fixtures[i].name, golden[i].name);
        expect_same_json(fixtures[i].name, render(fixtures[i].value), golden[i].json, adjust);
    }
}

template <class T, std::size_t N, class Render>
void expect_golden(const std::vector<named<T>>& fixtures, const golden_case (&golden)[N], Render render) {
    expect_golden(fixtures, golden, render, [](nlohmann::json&) {});
}

} // namespace mpic::quorum::test
