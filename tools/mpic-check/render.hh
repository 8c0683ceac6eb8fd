#pragma once
// Output of a diagnosis: the human table (optionally coloured) and the JSON document for machines.

#include <string>

#include <nlohmann/json.hpp>

#include "tools/mpic-check/report.hh"

namespace mpic::mpic_check {

/// Text rendering options. Colour only when stdout is a terminal and NO_COLOR is unset (main.cc decides).
struct text_options {
    bool colour = false;
    std::size_t max_cell = 64; ///< longer cells are cut with "..." (the JSON keeps them whole)
};

/// The table per section (disagreeing cells in bold red with colour, marked '*' without), each section's verdict,
/// the errors, the likely causes and the overall verdict line.
std::string render_text(const report& r, const text_options& options);

/// The diagnosis as JSON: {"would_pass", "verdict", "agreement", "lab_mode", "compliant", "sections": [...],
/// "causes": [{"kind", "target", "check", "text", "perspectives"}]} (docs/mpic-check.md).
nlohmann::json render_json(const report& r);

/// One line per --watch round: "round 2: 4/6 agree ... would FAIL ...".
std::string render_round_line(int round, double elapsed_s, const report& r);

} // namespace mpic::mpic_check
