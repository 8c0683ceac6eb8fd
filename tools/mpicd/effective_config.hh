#pragma once
// GET /configz: the configuration in effect, as JSON, with every secret redacted (token secrets are never shown;
// file paths are shown, file contents are not).

#include <string>

#include "quorum/engine/config.hh"
#include "tools/mpicd/daemon_config.hh"

namespace mpic::mpicd {

std::string render_effective_config(const quorum::engine_config& engine, const daemon_config& daemon);

} // namespace mpic::mpicd
