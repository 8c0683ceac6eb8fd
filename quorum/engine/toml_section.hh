#pragma once
// Typed reading of one TOML table for configuration files: every problem becomes a message naming its key
// ("perspective[2].rir: must be ..."), and keys nobody asked for are reported as unknown, so a typo in a
// security-relevant key cannot silently fall back to a default. Shared by the engine's and mpicd's sections.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace mpic::quorum {

/// One TOML table being read. It refers to the caller's error list, which must outlive it. Typical use: read()
/// every known key, then reject_unknown().
class toml_section {
public:
    /// `table` may be null (the section is absent: every read leaves its default). `name` prefixes every message.
    toml_section(const toml::table* table, std::string name, std::vector<std::string>& errors)
        : _table(table), _name(std::move(name)), _errors(errors) {}

    /// True when the table exists in the document.
    bool present() const noexcept { return _table != nullptr; }
    /// Records "<name>.<key>: <message>" in the error list.
    void error(std::string_view key, std::string_view message);

    /// Reads `key` into `out` when present; a value of the wrong type (or an integer out of T's range, or negative)
    /// is an error and leaves `out` unchanged. Supported: bool, unsigned/signed integers (non-negative), double,
    /// std::string, std::optional<std::string>, std::vector<std::string>.
    template <class T>
    void read(std::string_view key, T& out);

    /// The raw node (marks the key as known); null when absent.
    const toml::node* raw(std::string_view key);

    /// Reports every key of the table that no read()/raw() asked for.
    void reject_unknown();

private:
    const toml::table* _table;
    std::string _name;
    std::vector<std::string>& _errors;
    std::set<std::string, std::less<>> _seen;
};

template <class T>
void toml_section::read(std::string_view key, T& out) {
    const toml::node* node = raw(key);
    if (node == nullptr) {
        return;
    }
    if constexpr (std::is_same_v<T, bool>) {
        // is_boolean() first: toml++'s value<bool>() converts an integer node (`sync = 1` would read as true),
        // and a configuration that means something else than it says must be refused, naming its key.
        if (auto v = node->is_boolean() ? node->value<bool>() : std::nullopt) {
            out = *v;
        } else {
            error(key, "must be a boolean");
        }
    } else if constexpr (std::is_integral_v<T>) {
        // is_integer() first: toml++ 3.x's value<int64_t>() on a float node casts the double before its range
        // check (UB for 1e300; found by tests/fuzz/config_toml_fuzz).
        auto v = node->is_integer() ? node->value<std::int64_t>() : std::nullopt;
        if (!v) {
            error(key, "must be an integer");
        } else if (*v < 0 ||
                   static_cast<std::uint64_t>(*v) > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
            error(key, "is out of range");
        } else {
            out = static_cast<T>(*v);
        }
    } else if constexpr (std::is_same_v<T, double>) {
        if (auto v = node->value<double>()) {
            out = *v;
        } else {
            error(key, "must be a number");
        }
    } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::optional<std::string>>) {
        if (auto v = node->value<std::string>()) {
            out = *v;
        } else {
            error(key, "must be a string");
        }
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        const auto* array = node->as_array();
        std::vector<std::string> values;
        bool ok = array != nullptr;
        for (std::size_t i = 0; ok && i < array->size(); ++i) {
            auto v = (*array)[i].value<std::string>();
            ok = v.has_value();
            if (ok) {
                values.push_back(*v);
            }
        }
        if (ok) {
            out = std::move(values);
        } else {
            error(key, "must be an array of strings");
        }
    } else {
        static_assert(sizeof(T) == 0, "unsupported configuration value type");
    }
}

} // namespace mpic::quorum
