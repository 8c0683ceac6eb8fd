#pragma once
// ASCII-only case folding for protocol text: DNS names (RFC 4343 §3), HTTP field names (RFC 9110 §5.1), CAA tags
// (RFC 8659 §4.1), RIR names. Never locale-dependent (std::tolower would fold bytes >= 0x80 under some locales),
// so a UTF-8 byte in a record or header can never compare equal to an ASCII letter.

#include <cstddef>
#include <string>
#include <string_view>

namespace mpic::core {

/// 'A'..'Z' mapped to 'a'..'z'; every other byte, including bytes >= 0x80, unchanged.
constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// A copy of `text` with ascii_lower applied to every byte; the length never changes.
inline std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        c = ascii_lower(c);
    }
    return out;
}

/// True when `a` and `b` have the same length and are equal byte for byte after ascii_lower.
constexpr bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

/// Character predicate for std::search and friends: ascii_lower(a) == ascii_lower(b).
constexpr bool ascii_iequal_char(char a, char b) noexcept {
    return ascii_lower(a) == ascii_lower(b);
}

} // namespace mpic::core
