#pragma once
// result<T>: a value or a std::error_code, for the I/O path where exceptions are not used (style.md §6).

#include <cassert>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/error.hh"

namespace mpic {

/// Holds either a T or a non-zero std::error_code. Invariant: an error-holding result never holds a zero code.
template <class T>
class [[nodiscard]] result {
public:
    result(T value) : _state(std::in_place_index<0>, std::move(value)) {}
    result(std::error_code error) : _state(std::in_place_index<1>, error) { assert(error); }
    template <class E, std::enable_if_t<std::is_error_code_enum_v<E> || std::is_error_condition_enum_v<E>, int> = 0>
    result(E error) : result(std::error_code(make_error_code(error))) {}

    bool has_value() const noexcept { return _state.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    /// Precondition: has_value().
    T& value() & { return std::get<0>(_state); }
    const T& value() const& { return std::get<0>(_state); }
    T&& value() && { return std::get<0>(std::move(_state)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    /// The error, or a zero code when the result holds a value.
    std::error_code error() const noexcept { return has_value() ? std::error_code{} : std::get<1>(_state); }

    template <class U>
    T value_or(U&& fallback) const& {
        return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
    }

private:
    std::variant<T, std::error_code> _state;
};

/// result<void>: success, or a non-zero std::error_code.
template <>
class [[nodiscard]] result<void> {
public:
    result() = default;
    result(std::error_code error) : _error(error) {}
    template <class E, std::enable_if_t<std::is_error_code_enum_v<E> || std::is_error_condition_enum_v<E>, int> = 0>
    result(E error) : _error(make_error_code(error)) {}

    bool has_value() const noexcept { return !_error; }
    explicit operator bool() const noexcept { return has_value(); }
    std::error_code error() const noexcept { return _error; }

private:
    std::error_code _error;
};

} // namespace mpic
