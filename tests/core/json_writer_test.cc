// Tests for core/json_writer.hh: every escape, UTF-8 kept when well-formed and replaced the way nlohmann::json's
// error_handler_t::replace does when not (checked case by case and against nlohmann itself on random bytes),
// numbers, nesting and commas, raw values, and a round trip of a whole document through nlohmann::json::parse.

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/json_writer.hh"

namespace mpic::core {
namespace {

using json = nlohmann::json;

const std::string fffd = "\xEF\xBF\xBD";

std::string as_json(std::string_view s) {
    std::string out;
    append_json_quoted(out, s);
    return out;
}

/// What nlohmann::json (the renderers' previous engine) writes for the string `s` with error_handler_t::replace.
std::string nlohmann_quoted(const std::string& s) {
    return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

TEST(json_escape, quotes_backslash_and_named_escapes) {
    EXPECT_EQ(as_json("a\"b\\c/d"), R"("a\"b\\c/d")"); // '/' needs no escape (RFC 8259 §7)
    EXPECT_EQ(as_json("\n\r\t\b\f"), R"("\n\r\t\b\f")");
    EXPECT_EQ(as_json(""), R"("")");
}

TEST(json_escape, every_other_control_character_del_and_nul_as_u00xx) {
    for (int c = 0; c < 0x20; ++c) {
        if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
            continue;
        }
        char expected[16];
        std::snprintf(expected, sizeof expected, "\"\\u%04x\"", c);
        EXPECT_EQ(as_json(std::string(1, static_cast<char>(c))), expected) << c;
    }
    EXPECT_EQ(as_json("\x7f"), R"("\u007f")");
    EXPECT_EQ(as_json(std::string("nul\0byte", 8)), R"("nul\u0000byte")");
    EXPECT_EQ(as_json(std::string("\0", 1)), R"("\u0000")");
    // Printable ASCII other than '"' and '\' passes through untouched.
    std::string printable;
    for (char c = 0x20; c < 0x7f; ++c) {
        if (c != '"' && c != '\\') {
            printable += c;
        }
    }
    EXPECT_EQ(as_json(printable), "\"" + printable + "\"");
}

TEST(json_escape, well_formed_utf8_is_kept) {
    // 2, 3 and 4-byte forms, and the edges of each range: U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF,
    // U+10000, U+10FFFF.
    const std::string s = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x92 \xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF"
                          "\xEE\x80\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF";
    EXPECT_EQ(as_json(s), "\"" + s + "\"");
    EXPECT_EQ(json::parse(as_json(s)).get<std::string>(), s);
}

TEST(json_escape, invalid_utf8_is_replaced_by_maximal_subpart) {
    struct sample {
        std::string bytes;
        std::string expected; // inside the quotes
        const char* what;
    };
    const std::string r = fffd;
    const std::vector<sample> samples = {
        {"\x80", r, "lone continuation byte"},
        {"\xBF", r, "lone continuation byte (last)"},
        {"\xC0\xAF", r + r, "overlong '/' (C0 never leads)"},
        {"\xC1\xBF", r + r, "overlong (C1 never leads)"},
        {"\xE0\x80\xAF", r + r + r, "overlong 3-byte (E0 needs A0..BF)"},
        {"\xF0\x8F\xBF\xBF", r + r + r + r, "overlong 4-byte (F0 needs 90..BF)"},
        {"\xED\xA0\x80", r + r + r, "UTF-16 high surrogate U+D800"},
        {"\xED\xBF\xBF", r + r + r, "UTF-16 low surrogate U+DFFF"},
        {"\xF4\x90\x80\x80", r + r + r + r, "above U+10FFFF"},
        {"\xF5\x80\x80\x80", r + r + r + r, "F5 never leads"},
        {"\xF8", r, "F8"},
        {"\xFE\xFF", r + r, "FE FF"},
        {"\xC3", r, "2-byte sequence truncated at the end"},
        {"\xE2\x82", r, "3-byte sequence truncated at the end: one replacement"},
        {"\xF0\x9F\x98", r, "4-byte sequence truncated at the end: one replacement"},
        {"a\xE2\x82"
         "b",
         "a" + r + "b", "truncated 3-byte before ASCII: one replacement, the ASCII byte kept"},
        {"\xC3\x28", r + "(", "bad continuation: the breaking byte is read again"},
        {"\xE2\x82\xE2\x82\xAC", r + "\xE2\x82\xAC", "truncated sequence, then a whole one"},
        {"\xF0\x9F\xC3\xA9", r + "\xC3\xA9", "truncated 4-byte, then a 2-byte"},
        {"\xE2\x82\"", r + "\\\"", "truncated before a quote: the quote is still escaped"},
        {"\xC3\n", r + "\\n", "truncated before a control character"},
        {"\xFF"
         "ok",
         r + "ok", "never-valid byte, then resync"},
    };
    for (const auto& s : samples) {
        const std::string out = as_json(s.bytes);
        EXPECT_EQ(out, "\"" + s.expected + "\"") << s.what;
        EXPECT_EQ(out, nlohmann_quoted(s.bytes)) << s.what;
        EXPECT_TRUE(json::accept(out)) << s.what;
    }
}

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 0xf];
        out += ' ';
    }
    return out;
}

TEST(json_escape, matches_nlohmann_replace_on_random_bytes) {
    // Biased towards the bytes that matter: UTF-8 leads and continuations, controls, quotes. DEL is the one byte
    // we escape and nlohmann does not; both decode to the same string.
    std::mt19937 rng(20260315);
    const unsigned char interesting[] = {0x00, 0x0a, 0x1f, '"',  '\\', 'a',  0x7f, 0x80, 0x8f, 0x90,
                                         0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed,
                                         0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xfe, 0xff};
    std::uniform_int_distribution<int> length(0, 24);
    std::uniform_int_distribution<int> pick(0, static_cast<int>(sizeof interesting) - 1);
    std::uniform_int_distribution<int> any(0, 255);
    for (int round = 0; round < 20000; ++round) {
        std::string s(static_cast<std::size_t>(length(rng)), '\0');
        for (auto& c : s) {
            c = static_cast<char>(round % 2 == 0 ? interesting[pick(rng)] : any(rng));
        }
        std::string ours = as_json(s);
        std::string theirs = nlohmann_quoted(s);
        for (std::size_t at; (at = theirs.find('\x7f')) != std::string::npos;) {
            theirs.replace(at, 1, "\\u007f");
        }
        ASSERT_EQ(ours, theirs) << "input (hex) " << hex(s);
    }
}

TEST(json_writer, commas_nesting_and_every_value_kind) {
    std::string out = "prefix:"; // the writer appends
    json_writer w(out);
    w.begin_object();
    w.key("s").string("x");
    w.key("t").boolean(true);
    w.key("f").boolean(false);
    w.key("n").null();
    w.key("i").integer(-42);
    w.key("u").unsigned_integer(std::numeric_limits<std::uint64_t>::max());
    w.key("imin").number(std::numeric_limits<std::int64_t>::min());
    w.key("small").number(std::uint8_t{7});
    w.key("d").floating(0.64);
    w.key("empty_object").begin_object().end_object();
    w.key("empty_array").begin_array().end_array();
    w.key("nested").begin_array();
    w.begin_array().begin_object().end_object().end_array();
    w.begin_object().key("a").begin_array().number(1).number(2).end_array().key("b").string("").end_object();
    w.string_array(std::vector<std::string>{"p", "q"});
    w.raw(R"({"pre":[1,"two"]})");
    w.number(3);
    w.end_array();
    w.key("raw").raw("[true]");
    w.end_object();
    EXPECT_TRUE(w.complete());
    EXPECT_EQ(out, "prefix:"
                   R"({"s":"x","t":true,"f":false,"n":null,"i":-42,"u":18446744073709551615,)"
                   R"("imin":-9223372036854775808,"small":7,"d":0.64,"empty_object":{},"empty_array":[],)"
                   R"("nested":[[{}],{"a":[1,2],"b":""},["p","q"],{"pre":[1,"two"]},3],"raw":[true]})");
}

TEST(json_writer, top_level_scalars_and_completion) {
    std::string out;
    json_writer w(out);
    w.string("alone");
    EXPECT_TRUE(w.complete());
    EXPECT_EQ(out, R"("alone")");
    std::string open;
    json_writer partial(open);
    partial.begin_array().begin_object();
    EXPECT_FALSE(partial.complete());
    partial.end_object();
    EXPECT_FALSE(partial.complete());
    partial.end_array();
    EXPECT_TRUE(partial.complete());
    EXPECT_EQ(open, "[{}]");
}

TEST(json_writer, keys_are_escaped_like_strings) {
    std::string out;
    json_writer w(out);
    w.begin_object().key("a\"b\x01\xff").number(1).end_object();
    EXPECT_EQ(out, "{\"a\\\"b\\u0001" + fffd + "\":1}");
    EXPECT_EQ(json::parse(out).begin().key(), "a\"b\x01" + fffd);
}

TEST(json_writer, doubles_keep_a_fraction_or_exponent_and_round_trip) {
    auto text = [](double d) {
        std::string out;
        json_writer(out).floating(d);
        return out;
    };
    EXPECT_EQ(text(12.0), "12.0");
    EXPECT_EQ(text(0.0), "0.0");
    EXPECT_EQ(text(-0.0), "-0.0");
    EXPECT_EQ(text(12.5), "12.5");
    EXPECT_EQ(text(0.64), "0.64");
    EXPECT_EQ(text(0.001), "0.001");
    EXPECT_EQ(text(1e21), "1e+21");
    EXPECT_EQ(text(1e-7), "1e-07");
    EXPECT_EQ(text(std::nan("")), "null");
    EXPECT_EQ(text(std::numeric_limits<double>::infinity()), "null");
    EXPECT_EQ(text(-std::numeric_limits<double>::infinity()), "null");
    for (double d : {12.0, 0.1, 1.0 / 3, 123456.789, 1e300, 5e-324, -2.5e-10, 123456789.0 / 1000, 0.64}) {
        const auto parsed = json::parse(text(d));
        ASSERT_TRUE(parsed.is_number_float()) << text(d);
        EXPECT_EQ(parsed.get<double>(), d) << text(d); // shortest form, exact round trip
        EXPECT_EQ(parsed, json(d)) << text(d);         // the same value nlohmann would hold
    }
}

TEST(json_writer, document_round_trips_through_nlohmann) {
    const std::string hostile("k\"\\\x01\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x92\0z", 16);
    std::string out;
    json_writer w(out);
    w.begin_object();
    w.key("list").begin_array();
    for (int i = 0; i < 5; ++i) {
        w.begin_object().key("i").number(i).key("s").string(hostile).key("ok").boolean(i % 2 == 0).end_object();
    }
    w.end_array();
    w.key(hostile).string(hostile);
    w.key("none").null();
    w.key("ratio").floating(0.25);
    w.key("big").unsigned_integer(1ULL << 63);
    w.end_object();
    ASSERT_TRUE(w.complete());

    json expected = json::object();
    expected["list"] = json::array();
    for (int i = 0; i < 5; ++i) {
        expected["list"].push_back({{"i", i}, {"s", hostile}, {"ok", i % 2 == 0}});
    }
    expected[hostile] = hostile;
    expected["none"] = nullptr;
    expected["ratio"] = 0.25;
    expected["big"] = 1ULL << 63;
    const auto parsed = json::parse(out);
    EXPECT_EQ(parsed, expected) << out;
    EXPECT_EQ(parsed.dump(), expected.dump());
}

TEST(json_writer, writes_only_into_the_reserved_buffer) {
    // No allocation of its own: a reserved output large enough is never reallocated.
    std::string out;
    out.reserve(4096);
    const char* before = out.data();
    json_writer w(out);
    w.begin_object();
    for (int i = 0; i < 50; ++i) {
        w.key("k").string("some value \xff with \"escapes\"").key("n").floating(i / 3.0);
    }
    w.end_object();
    EXPECT_LE(out.size(), 4096U);
    EXPECT_EQ(out.data(), before);
    EXPECT_FALSE(json::parse(out, nullptr, false).is_discarded());
}

} // namespace
} // namespace mpic::core
