// libFuzzer target for the configuration file (docs/configuration.md): the same TOML text goes to the engine's
// reader (engine_config_from_toml, sections [engine] [policy] [dns] [http] [lab] [primary] [[perspective]]) and to
// mpicd's (daemon_config_from_toml, sections [api] [auth] [limits] [audit] [log]), as `mpicd --config` does.
// Arbitrary bytes must never crash, throw out of the reader or hang, and the readers' contract must hold:
//   - a refused file gets at least one message, each non-empty (the key that caused it, docs/configuration.md);
//   - an accepted file yields a configuration whose cross-key checks (validate_*_config) run to completion and
//     report problems only as non-empty messages.
// Built only with -DMPIC_FUZZ=ON (clang).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/engine/config.hh"
#include "tools/mpicd/daemon_config.hh"

namespace {

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

void require_messages(const std::vector<std::string>& errors, std::size_t from) {
    for (std::size_t i = from; i < errors.size(); ++i) {
        require(!errors[i].empty());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    std::vector<std::string> errors;
    auto engine = mpic::quorum::engine_config_from_toml(text, "fuzz.toml", errors);
    if (!engine) {
        require(!errors.empty());
    } else {
        const auto before = errors.size();
        (void)mpic::quorum::validate_engine_config(engine.value(), errors);
        require_messages(errors, before);
    }
    require_messages(errors, 0);

    errors.clear();
    auto daemon = mpic::mpicd::daemon_config_from_toml(text, "fuzz.toml", errors);
    if (!daemon) {
        require(!errors.empty());
    } else {
        const auto before = errors.size();
        (void)mpic::mpicd::validate_daemon_config(daemon.value(), errors);
        require_messages(errors, before);
        require(daemon.value().listen_host.empty() || daemon.value().listen_host.size() <= 4096);
    }
    require_messages(errors, 0);
    return 0;
}
