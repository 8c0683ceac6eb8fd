#include "core/json_writer.hh"

#include <array>
#include <cassert>
#include <charconv>
#include <cmath>

namespace mpic::core {
namespace {

/// Byte classes for the escaper: plain ASCII is copied in runs, the rest is looked at one by one.
enum : unsigned char { plain = 0, escape = 1, multibyte = 2 };

constexpr std::array<unsigned char, 256> byte_classes = [] {
    std::array<unsigned char, 256> t{};
    for (int c = 0; c < 256; ++c) {
        t[c] = c < 0x20 || c == '"' || c == '\\' || c == 0x7f ? escape : c >= 0x80 ? multibyte : plain;
    }
    return t;
}();

constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD

/// How many bytes from s[i] (a byte >= 0x80) form a well-formed UTF-8 sequence, and if they do not, how many of
/// them are the ill-formed subpart to replace. RFC 3629 §4: the second byte's range depends on the lead, which
/// excludes overlongs (E0 80..9F, F0 80..8F), UTF-16 surrogates (ED A0..BF) and code points above U+10FFFF
/// (F4 90..); C0, C1 and F5..FF never lead.
struct utf8_scan {
    std::size_t length; ///< bytes consumed: the whole sequence, or the subpart replaced by one U+FFFD
    bool valid;
};

utf8_scan scan_utf8(std::string_view s, std::size_t i) noexcept {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    std::size_t need = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 3;
        lo = b0 == 0xE0 ? 0xA0 : 0x80;
        hi = b0 == 0xED ? 0x9F : 0xBF;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 4;
        lo = b0 == 0xF0 ? 0x90 : 0x80;
        hi = b0 == 0xF4 ? 0x8F : 0xBF;
    } else {
        return {1, false};
    }
    std::size_t k = 1;
    for (; k < need && i + k < s.size(); ++k) {
        const unsigned char b = byte(i + k);
        if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) {
            break;
        }
    }
    // k < need: the byte at i+k (if any) broke the sequence; it is not part of the subpart and is read again.
    return {k, k == need};
}

template <class Number>
void append_chars(std::string& out, Number value) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, end);
}

} // namespace

void append_json_escaped(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        std::size_t run = i;
        while (run < n && byte_classes[static_cast<unsigned char>(s[run])] == plain) {
            ++run;
        }
        out.append(s.data() + i, run - i);
        i = run;
        if (i == n) {
            break;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            const auto scan = scan_utf8(s, i);
            if (scan.valid) {
                out.append(s.data() + i, scan.length);
            } else {
                out += replacement;
            }
            i += scan.length;
            continue;
        }
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default: {
            // The rest of 0x00..0x1f, and DEL: legal raw in JSON but not in a terminal or a log line.
            const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
            out.append(escaped, sizeof escaped);
        }
        }
        ++i;
    }
}

void append_json_quoted(std::string& out, std::string_view s) {
    out += '"';
    append_json_escaped(out, s);
    out += '"';
}

void json_writer::open(char bracket, bool is_object) {
    assert(_depth < 64);
    before_value();
    _out += bracket;
    const std::uint64_t bit = std::uint64_t{1} << (_depth % 64);
    _is_object = is_object ? (_is_object | bit) : (_is_object & ~bit);
    ++_depth;
    _need_comma = false;
}

void json_writer::close(char bracket, [[maybe_unused]] bool is_object) {
    assert(_depth > 0);
    --_depth;
    assert(((_is_object >> (_depth % 64)) & 1U) == (is_object ? 1U : 0U));
    _out += bracket;
    _need_comma = true;
}

json_writer& json_writer::begin_object() {
    open('{', true);
    return *this;
}

json_writer& json_writer::end_object() {
    close('}', true);
    return *this;
}

json_writer& json_writer::begin_array() {
    open('[', false);
    return *this;
}

json_writer& json_writer::end_array() {
    close(']', false);
    return *this;
}

json_writer& json_writer::key(std::string_view name) {
    assert(_depth > 0 && ((_is_object >> ((_depth - 1) % 64)) & 1U) != 0);
    before_value();
    append_json_quoted(_out, name);
    _out += ':';
    _need_comma = false;
    return *this;
}

json_writer& json_writer::string(std::string_view value) {
    before_value();
    append_json_quoted(_out, value);
    _need_comma = true;
    return *this;
}

json_writer& json_writer::boolean(bool value) {
    before_value();
    _out += value ? std::string_view("true") : std::string_view("false");
    _need_comma = true;
    return *this;
}

json_writer& json_writer::null() {
    before_value();
    _out += "null";
    _need_comma = true;
    return *this;
}

json_writer& json_writer::integer(std::int64_t value) {
    before_value();
    append_chars(_out, value);
    _need_comma = true;
    return *this;
}

json_writer& json_writer::unsigned_integer(std::uint64_t value) {
    before_value();
    append_chars(_out, value);
    _need_comma = true;
    return *this;
}

json_writer& json_writer::floating(double value) {
    if (!std::isfinite(value)) {
        return null();
    }
    before_value();
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    const std::string_view text(buf, static_cast<std::size_t>(end - buf));
    _out += text;
    // Shortest form of an integral double has neither '.' nor 'e' ("12"): a reader would take it for an integer.
    if (text.find_first_of(".e") == std::string_view::npos) {
        _out += ".0";
    }
    _need_comma = true;
    return *this;
}

json_writer& json_writer::raw(std::string_view json) {
    before_value();
    _out += json;
    _need_comma = true;
    return *this;
}

} // namespace mpic::core
