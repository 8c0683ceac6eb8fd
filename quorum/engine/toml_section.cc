#include "quorum/engine/toml_section.hh"

namespace mpic::quorum {

void toml_section::error(std::string_view key, std::string_view message) {
    _errors.push_back(_name + "." + std::string(key) + ": " + std::string(message));
}

const toml::node* toml_section::raw(std::string_view key) {
    _seen.emplace(key);
    return _table != nullptr ? _table->get(key) : nullptr;
}

void toml_section::reject_unknown() {
    if (_table == nullptr) {
        return;
    }
    for (const auto& [key, value] : *_table) {
        if (!_seen.contains(key.str())) {
            error(key.str(), "unknown key");
        }
    }
}

} // namespace mpic::quorum
