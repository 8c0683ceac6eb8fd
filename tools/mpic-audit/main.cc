// mpic-audit: reads mpicd's audit log (BR §5.4.1 records, one JSON object per line), including its rotated files,
// and answers an auditor's questions: what was decided for this trace id, this name, in this period; which
// perspectives failed to corroborate; is the log intact.
//
//   mpic-audit [--trace ID] [--target NAME] [--since UNIX_MS] [--until UNIX_MS] [--invalid] [--json] [--stats] PATH
//
// PATH is the active log; PATH.N ... PATH.1 (rotated, oldest first) are read before it. Exit status: 0 when every
// line is a well-formed record, 1 when some line is malformed (reported with file and line), 2 on usage errors.
// A final line without its newline is reported as an incomplete record: mpicd answers only after a record and its
// newline are durable, so such a line was never acknowledged to a client.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace {

using json = nlohmann::json;

struct filters {
    std::string trace;
    std::string target;
    std::optional<std::int64_t> since;
    std::optional<std::int64_t> until;
    bool invalid_only = false;
};

/// The active file's rotated siblings, oldest first, then the active file.
std::vector<std::filesystem::path> files_of(const std::filesystem::path& active) {
    std::vector<std::filesystem::path> out;
    for (int i = 1; i < 1000; ++i) {
        auto rotated = active;
        rotated += "." + std::to_string(i);
        if (!std::filesystem::exists(rotated)) {
            break;
        }
        out.insert(out.begin(), rotated);
    }
    out.push_back(active);
    return out;
}

bool matches(const json& record, const filters& f) {
    if (!f.trace.empty() && record.value("trace_identifier", "") != f.trace) {
        return false;
    }
    const auto decided = record.value("decided_unix_ms", std::int64_t{0});
    if ((f.since && decided < *f.since) || (f.until && decided > *f.until)) {
        return false;
    }
    if (f.invalid_only && record.value("is_valid", true)) {
        return false;
    }
    if (!f.target.empty()) {
        bool found = false;
        for (const auto& r : record.value("results", json::array())) {
            found = found || r.value("target", "") == f.target;
        }
        return found;
    }
    return true;
}

void print_text(const json& record) {
    std::cout << record.value("decided_unix_ms", std::int64_t{0}) << "  " << record.value("check_type", "?") << "  "
              << (record.value("is_valid", false) ? "VALID  " : "INVALID")
              << "  trace=" << record.value("trace_identifier", "") << "  client=" << record.value("client", "");
    if (record.value("lab_mode", false)) {
        std::cout << "  [lab]";
    }
    if (!record.value("compliant", true)) {
        std::cout << "  [non-compliant]";
    }
    std::cout << "\n";
    for (const auto& r : record.value("results", json::array())) {
        std::cout << "    " << r.value("target", "?") << " " << r.value("check", "?");
        if (r.contains("method")) {
            std::cout << " (" << r.value("method", "") << ")";
        }
        std::cout << ": " << (r.value("is_valid", false) ? "valid" : "invalid") << " quorum "
                  << r.value("quorum_result", "?") << " attempts " << r.value("attempt_count", 0) << "\n";
        const auto attempts = r.value("attempts", json::array());
        if (!attempts.empty()) {
            for (const auto& p : attempts.back()) {
                const auto result = p.value("result", "?");
                if (result == "pass" || result == "permission") {
                    continue;
                }
                std::cout << "      " << p.value("perspective", "?") << " (" << p.value("rir", "?") << "): " << result;
                const auto errors = p.value("errors", json::array());
                if (!errors.empty()) {
                    std::cout << " " << errors.front().value("type", "");
                }
                std::cout << "\n";
            }
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"mpic-audit: read and check mpicd's audit log"};
    filters f;
    std::string path;
    bool as_json = false;
    bool stats = false;
    std::int64_t since = -1;
    std::int64_t until = -1;
    app.add_option("path", path, "the active audit log (rotated PATH.N files are read first)")->required();
    app.add_option("--trace", f.trace, "only this trace_identifier");
    app.add_option("--target", f.target, "only decisions about this name or IP");
    app.add_option("--since", since, "only decisions at or after this time (Unix ms)");
    app.add_option("--until", until, "only decisions at or before this time (Unix ms)");
    app.add_flag("--invalid", f.invalid_only, "only negative decisions");
    app.add_flag("--json", as_json, "print the matching records as JSON lines");
    app.add_flag("--stats", stats, "print counts per check type and outcome, and per perspective non-corroborations");
    CLI11_PARSE(app, argc, argv);
    if (since >= 0) {
        f.since = since;
    }
    if (until >= 0) {
        f.until = until;
    }
    if (!std::filesystem::exists(path)) {
        std::cerr << "mpic-audit: " << path << ": no such file\n";
        return 2;
    }

    int malformed = 0;
    std::size_t records = 0;
    std::map<std::string, std::size_t> outcomes;
    std::map<std::string, std::size_t> non_corroborations;
    for (const auto& file : files_of(path)) {
        std::ifstream in(file, std::ios::binary);
        std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::size_t line_no = 0;
        std::size_t start = 0;
        while (start < content.size()) {
            auto end = content.find('\n', start);
            const bool complete = end != std::string::npos;
            std::string line = content.substr(start, complete ? end - start : std::string::npos);
            start = complete ? end + 1 : content.size();
            ++line_no;
            auto record = json::parse(line, nullptr, false);
            if (record.is_discarded() || !record.is_object() || !record.contains("audit_version")) {
                ++malformed;
                std::cerr << file.string() << ":" << line_no << ": "
                          << (complete ? "malformed record" : "incomplete record at the end (never acknowledged)")
                          << "\n";
                continue;
            }
            ++records;
            if (!matches(record, f)) {
                continue;
            }
            if (stats) {
                outcomes[record.value("check_type", "?") +
                         std::string(record.value("is_valid", false) ? " valid" : " invalid")]++;
                for (const auto& r : record.value("results", json::array())) {
                    const auto attempts = r.value("attempts", json::array());
                    if (attempts.empty()) {
                        continue;
                    }
                    for (const auto& p : attempts.back()) {
                        const auto result = p.value("result", "");
                        if (result != "pass" && result != "permission") {
                            non_corroborations[p.value("perspective", "?")]++;
                        }
                    }
                }
            } else if (as_json) {
                std::cout << line << "\n";
            } else {
                print_text(record);
            }
        }
    }
    if (stats) {
        std::cout << records << " records\n";
        for (const auto& [what, n] : outcomes) {
            std::cout << "  " << what << ": " << n << "\n";
        }
        std::cout << "non-corroborations by perspective (deciding attempt):\n";
        for (const auto& [who, n] : non_corroborations) {
            std::cout << "  " << who << ": " << n << "\n";
        }
    }
    return malformed == 0 ? 0 : 1;
}
