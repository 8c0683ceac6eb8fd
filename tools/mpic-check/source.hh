#pragma once
// Where mpic-check gets every perspective's answer: an in-process engine built like mpicd's (a config file or the
// embedded default, optionally pointed at a lab), or a running coordinator's POST /mpic.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quorum/api/model.hh"
#include "quorum/engine/config.hh"
#include "tools/mpic-check/report.hh"
#include "tools/mpic-check/request_body.hh"

namespace mpic::mpic_check {

/// One round's answers. Exactly one of: `targets` filled (every perspective's result per name and check), or
/// `errors` non-empty. `refused` marks a request the engine or coordinator refused (a usage error: exit 2).
struct answer {
    std::vector<quorum::target_outcome> targets;
    bool lab_mode = false;
    bool non_compliant = false;
    std::string compliance_note;
    std::vector<std::string> errors;
    bool refused = false;
};

/// Called about every 200 ms while a round runs, with the time spent so far (the progress line).
using progress_callback = std::function<void(std::chrono::milliseconds)>;

/// A source of answers. run() blocks until every perspective has answered (or the request deadline passed).
class source {
public:
    virtual ~source() = default;
    virtual answer run(const check_plan& plan, const progress_callback& progress) = 0;
    /// The policy the verdict is computed under, as the deployment would apply it.
    virtual verdict_context context() const = 0;
    /// Perspectives that will report (for the progress line); 0 when unknown.
    virtual int perspective_count() const = 0;
};

/// How to build the in-process engine (mpicd's own options).
struct engine_options {
    std::string config_path; ///< "" = the embedded default
    std::string lab_path;    ///< mpic-lab summary JSON; "" = no lab
    std::string date;        ///< YYYY-MM-DD: evaluate the BR phase-in as of this date; "" = today / policy.date
    unsigned reactors = 1;   ///< one is plenty for one request at a time
};

/// Loads the configuration and starts the engine. On failure appends one message per problem to `errors` (each
/// naming its key or file) and returns null.
std::unique_ptr<source> make_engine_source(const engine_options& options, std::vector<std::string>& errors);

/// How to reach a running coordinator.
struct coordinator_options {
    std::string url;     ///< "http://IP:port" or "https://IP:port" (an IP literal or localhost), optional path prefix
    std::string token;   ///< bearer token
    std::string ca_file; ///< https: extra trust anchors; "" = the system store
    std::string date;    ///< as engine_options::date; "" = the coordinator's policy.date, else today
    std::chrono::milliseconds timeout{150'000};
};

/// Reads the coordinator's /configz (perspectives, primary, policy) when it can, for the verdict. Null (with a
/// message in `errors`) for a malformed URL or --date.
std::unique_ptr<source> make_coordinator_source(const coordinator_options& options, std::vector<std::string>& errors);

/// Reads an Open MPIC / extension-shape POST /mpic response body into `out` (targets, lab_mode, compliance).
/// Returns false (with a message in out.errors) when the body is not such a response.
bool parse_response_body(std::string_view body, answer& out);

} // namespace mpic::mpic_check
