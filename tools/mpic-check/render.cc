// Rendering of a diagnosis. The text form is for a person at a terminal; every fact in it is also in the JSON form,
// which keeps cell values uncut.

#include "tools/mpic-check/render.hh"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace mpic::mpic_check {
namespace {

constexpr std::string_view red = "\033[1;31m";
constexpr std::string_view green = "\033[1;32m";
constexpr std::string_view bold = "\033[1m";
constexpr std::string_view reset = "\033[0m";

/// Display width in code points (UTF-8 continuation bytes do not advance the cursor).
std::size_t width(std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

/// Cuts the middle out of a long cell: the start and the end of a URL or a record are the informative parts.
std::string cut(const std::string& s, std::size_t max) {
    if (width(s) <= max || max < 8) {
        return s;
    }
    std::vector<std::string> points; // code points
    for (char c : s) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80 || points.empty()) {
            points.emplace_back(1, c);
        } else {
            points.back() += c;
        }
    }
    const std::size_t keep = max - 3;
    const std::size_t head = (keep + 1) / 2;
    std::string out;
    for (std::size_t i = 0; i < head; ++i) {
        out += points[i];
    }
    out += "...";
    for (std::size_t i = points.size() - (keep - head); i < points.size(); ++i) {
        out += points[i];
    }
    return out;
}

std::string paint(std::string_view text, std::string_view colour, bool on) {
    return on ? std::string(colour) + std::string(text) + std::string(reset) : std::string(text);
}

std::string pad(const std::string& s, std::size_t to) {
    return s + std::string(to > width(s) ? to - width(s) : 0, ' ');
}

std::string verdict_paint(const std::string& line, bool pass, bool colour) {
    return paint(line, pass ? green : red, colour);
}

} // namespace

std::string render_text(const report& r, const text_options& options) {
    std::string out;
    bool any_marked = false;
    for (const auto& s : r.sections) {
        out += paint(s.target + "  " + s.what, bold, options.colour) + ": " +
               verdict_paint(s.verdict.line, s.verdict.would_pass, options.colour) + "\n";
        std::vector<std::string> header{"perspective", "RIR"};
        header.insert(header.end(), s.columns.begin(), s.columns.end());
        std::vector<std::vector<std::pair<std::string, bool>>> lines;
        for (const auto& row : s.rows) {
            std::vector<std::pair<std::string, bool>> line{{row.code + (row.primary ? " (primary)" : ""), false},
                                                           {row.rir, false}};
            for (const auto& c : row.cells) {
                std::string v = cut(c.value, options.max_cell);
                if (c.disagrees && !options.colour) {
                    v += "*";
                }
                any_marked = any_marked || c.disagrees;
                line.push_back({v, c.disagrees});
            }
            lines.push_back(std::move(line));
        }
        std::vector<std::size_t> widths(header.size(), 0);
        for (std::size_t i = 0; i < header.size(); ++i) {
            widths[i] = width(header[i]);
            for (const auto& line : lines) {
                widths[i] = std::max(widths[i], width(line[i].first));
            }
        }
        std::string head = "  ";
        for (std::size_t i = 0; i < header.size(); ++i) {
            head += pad(header[i], widths[i] + 2);
        }
        while (!head.empty() && head.back() == ' ') {
            head.pop_back();
        }
        out += paint(head, bold, options.colour) + "\n";
        for (const auto& line : lines) {
            std::string text = "  ";
            for (std::size_t i = 0; i < line.size(); ++i) {
                const std::string padded = i + 1 == line.size() ? line[i].first : pad(line[i].first, widths[i] + 2);
                text += line[i].second ? paint(padded, red, options.colour) : padded;
            }
            out += text + "\n";
        }
        bool first = true;
        for (const auto& row : s.rows) {
            for (const auto& e : row.errors) {
                if (first) {
                    out += "  errors:\n";
                    first = false;
                }
                out += "    " + row.code + ": " + e.type + ": " + e.message + "\n";
            }
        }
        out += "\n";
    }
    if (any_marked && !options.colour) {
        out += "(* = differs from the majority of perspectives)\n\n";
    }
    if (!r.causes.empty()) {
        out += paint("Likely causes:", bold, options.colour) + "\n";
        for (const auto& c : r.causes) {
            out += "  - " + c.target + " " + c.check + ": " + c.text + "\n";
        }
        out += "\n";
    }
    if (r.lab_mode) {
        out += "note: lab mode (loopback targets, lab ports): never a real validation\n";
    }
    if (r.non_compliant) {
        out += "note: the perspective set is not BR-compliant" +
               (r.compliance_note.empty() ? std::string() : " (" + r.compliance_note + ")") + "\n";
    }
    out += "verdict: " + verdict_paint(r.verdict_line, r.would_pass, options.colour) + "\n";
    return out;
}

nlohmann::json render_json(const report& r) {
    using json = nlohmann::json;
    json sections = json::array();
    for (const auto& s : r.sections) {
        json rows = json::array();
        for (const auto& row : s.rows) {
            json cells = json::object();
            for (std::size_t c = 0; c < s.columns.size(); ++c) {
                cells[s.columns[c]] = {{"value", row.cells[c].value}, {"disagrees", row.cells[c].disagrees}};
            }
            json errors = json::array();
            for (const auto& e : row.errors) {
                errors.push_back({{"error_type", e.type}, {"error_message", e.message}});
            }
            rows.push_back({{"perspective", row.code},
                            {"rir", row.rir},
                            {"primary", row.primary},
                            {"completed", row.completed},
                            {"passed", row.passed},
                            {"errors", errors},
                            {"cells", cells}});
        }
        const auto& v = s.verdict;
        sections.push_back({{"target", s.target},
                            {"check_type", s.type == validators::check_type::caa ? "caa" : "dcv"},
                            {"check", s.what},
                            {"columns", s.columns},
                            {"agreement", s.agreement},
                            {"verdict",
                             {{"would_pass", v.would_pass},
                              {"line", v.line},
                              {"corroborating", v.passed},
                              {"perspective_count", v.perspective_count},
                              {"required", v.required},
                              {"rir_rule", v.rir_rule},
                              {"corroborating_rirs", v.passed_rirs},
                              {"decided_by", v.reason},
                              {"monitor_only", v.monitoring}}},
                            {"rows", rows}});
    }
    json causes = json::array();
    for (const auto& c : r.causes) {
        causes.push_back({{"kind", c.kind},
                          {"target", c.target},
                          {"check", c.check},
                          {"text", c.text},
                          {"perspectives", c.perspectives}});
    }
    return {{"would_pass", r.would_pass},
            {"verdict", r.verdict_line},
            {"agreement", r.agreement},
            {"lab_mode", r.lab_mode},
            {"compliant", !r.non_compliant},
            {"sections", sections},
            {"causes", causes}};
}

std::string render_round_line(int round, double elapsed_s, const report& r) {
    int rows = 0;
    int agreeing = 0;
    for (const auto& s : r.sections) {
        for (const auto& row : s.rows) {
            ++rows;
            agreeing += std::none_of(row.cells.begin(), row.cells.end(), [](const cell& c) { return c.disagrees; });
        }
    }
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.1f", elapsed_s);
    return "round " + std::to_string(round) + " (" + elapsed + " s): " +
           (r.agreement ? std::string("every perspective agrees")
                        : std::to_string(agreeing) + "/" + std::to_string(rows) + " answers match the majority") +
           "; " + r.verdict_line;
}

} // namespace mpic::mpic_check
