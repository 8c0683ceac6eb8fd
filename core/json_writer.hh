#pragma once
// A streaming JSON text writer (RFC 8259): appends to a string the caller owns, with no tree and no allocation of
// its own. The renderers on the request path (API responses, audit records, the checker API bodies) and the
// logger write through it.

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace mpic::core {

/// Appends `s` as the inside of a JSON string (no quotes). `"` and `\` are escaped, control characters
/// (< 0x20) and DEL (0x7f) are written as \b \f \n \r \t or \u00XX. Well-formed UTF-8 (RFC 3629 §4) is copied as
/// is. Bytes that are not become U+FFFD (written as its three UTF-8 bytes), one per maximal ill-formed subpart:
/// a lead byte that can never start a sequence (80..C1, F5..FF) is one replacement; a valid lead followed by
/// fewer continuation bytes than it needs (before another byte or the end of the input) is one replacement for
/// the lead and the valid continuations seen, and the byte that broke the sequence is read again. That is what
/// nlohmann::json's dump() does with error_handler_t::replace, which the API renderers used before this writer.
void append_json_escaped(std::string& out, std::string_view s);

/// Appends `s` as a JSON string: `"` + append_json_escaped(s) + `"`.
void append_json_quoted(std::string& out, std::string_view s);

/// Writes one JSON text into a caller-owned string. Commas between members and elements are automatic. Every
/// value inside an object must follow key(). Only well-formed sequences of calls produce valid JSON (an object
/// member without a value, or an unbalanced end_*, is a bug in the caller, caught by assert in debug builds);
/// strings need not be valid UTF-8 (see append_json_escaped). Nesting depth is limited to 64 (checked by assert).
/// The writer never allocates: the only allocation is the output string growing, so callers reserve() it.
class json_writer {
public:
    /// Appends to `out` (existing contents are kept, so a caller may write a prefix first).
    explicit json_writer(std::string& out) noexcept : _out(out) {}

    json_writer& begin_object();
    json_writer& end_object();
    json_writer& begin_array();
    json_writer& end_array();

    /// An object member's name; the next call writes its value.
    json_writer& key(std::string_view name);

    json_writer& string(std::string_view value);
    json_writer& boolean(bool value);
    json_writer& null();
    json_writer& integer(std::int64_t value);
    json_writer& unsigned_integer(std::uint64_t value);
    /// Any integer type but bool (bool would otherwise convert silently): signed ones as integer(), unsigned ones as
    /// unsigned_integer().
    template <std::integral T>
    requires(!std::same_as<T, bool>) json_writer& number(T value) {
        if constexpr (std::is_signed_v<T>) {
            return integer(value);
        } else {
            return unsigned_integer(value);
        }
    }
    /// A double in its shortest round-trip form, always with a fraction or an exponent ("12.0", "0.64", "1e+21")
    /// so a reader keeps it a floating-point number. NaN and infinities have no JSON form (RFC 8259 §6): null.
    json_writer& floating(double value);
    /// An array of strings (any range whose elements convert to std::string_view).
    template <class Range>
    json_writer& string_array(const Range& items) {
        begin_array();
        for (const auto& item : items) {
            string(item);
        }
        return end_array();
    }
    /// Appends `json` as one value, unchecked: the caller guarantees it is a complete, valid JSON text.
    json_writer& raw(std::string_view json);

    /// True when every begun object and array has been ended.
    bool complete() const noexcept { return _depth == 0; }

    /// The output string (for callers that need its size while writing).
    std::string& out() noexcept { return _out; }

private:
    /// Writes the comma that separates this value from the previous member or element, if any.
    void before_value() {
        if (_need_comma) {
            _out += ',';
        }
    }
    void open(char bracket, bool is_object);
    void close(char bracket, bool is_object);

    std::string& _out;
    bool _need_comma = false;     ///< a value was completed in the current container and no key() followed
    unsigned _depth = 0;          ///< open containers
    std::uint64_t _is_object = 0; ///< bit d: the container at depth d+1 is an object (debug checks only)
};

} // namespace mpic::core
