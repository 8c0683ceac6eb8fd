// How a CA embeds the engine (docs/embedding.md): configure it from a TOML file, submit requests from the
// CA's own thread, receive each result by future or by callback, shut down cleanly. No HTTP involved.
//
//   mpic-embed-example CONFIG.toml DOMAIN TOKEN KEY_AUTHORIZATION
//
// Runs an acme-http-01 validation of DOMAIN (future style), then a CAA check of DOMAIN (callback style), and
// prints each decision. Exit status: 0 when both are valid, 1 when a decision is negative, 2 on usage or
// configuration errors.

#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

#include "net/name/identifier.hh"
#include "quorum/engine/engine.hh"

using namespace mpic;

namespace {

void print(std::string_view what, const quorum::mpic_response& response) {
    std::cout << what << ": is_valid=" << (response.is_valid() ? "true" : "false");
    for (const auto& target : response.targets) {
        for (const auto* outcome : {target.dcv ? &*target.dcv : nullptr, target.caa ? &*target.caa : nullptr}) {
            if (outcome == nullptr) {
                continue;
            }
            std::cout << " quorum=" << outcome->quorum_result << " attempts=" << outcome->attempt_count;
            for (const auto& p : outcome->perspectives) {
                std::cout << "\n  " << p.code << " (" << p.rir << "): "
                          << (p.result.passed           ? "corroborates"
                              : p.result.errors.empty() ? "fails"
                                                        : p.result.errors.front().type);
            }
        }
    }
    std::cout << std::endl;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: " << argv[0] << " CONFIG.toml DOMAIN TOKEN KEY_AUTHORIZATION\n";
        return 2;
    }
    std::ifstream in(argv[1]);
    std::stringstream text;
    text << in.rdbuf();
    std::vector<std::string> errors;
    auto config = quorum::engine_config_from_toml(text.str(), argv[1], errors);
    auto target = net::parse_identifier(argv[2]);
    if (!config || !target) {
        for (const auto& e : errors) {
            std::cerr << "config: " << e << "\n";
        }
        if (!target) {
            std::cerr << "domain: " << target.error().message() << "\n";
        }
        return 2;
    }

    // 1. Configure and start: validates the configuration and the perspective set against today's BR phase.
    auto created = quorum::engine::create(std::move(*config), errors);
    if (!created) {
        for (const auto& e : errors) {
            std::cerr << "engine: " << e << "\n";
        }
        return 2;
    }
    auto& engine = **created;

    // 2. A DCV request, future style: submit from any thread, wait where convenient.
    quorum::mpic_request http01;
    http01.kind = quorum::request_kind::dcv;
    http01.targets = {*target};
    http01.trace_identifier = "embed-example-http01";
    http01.dcv.method = validators::validation_method::acme_http_01;
    http01.dcv.token = argv[3];
    http01.dcv.key_authorization = argv[4];
    auto dcv = engine.submit(std::move(http01)).get();

    // 3. A CAA request, callback style: the callback runs once, on an engine reactor thread.
    quorum::mpic_request caa;
    caa.kind = quorum::request_kind::caa;
    caa.targets = {*target};
    caa.trace_identifier = "embed-example-caa";
    std::promise<quorum::submit_outcome> caa_done;
    engine.submit(std::move(caa),
                  [&caa_done](quorum::submit_outcome&& outcome) { caa_done.set_value(std::move(outcome)); });
    auto caa_outcome = caa_done.get_future().get();

    // 4. Shut down: stop intake, let what runs finish within the grace period, close every handle.
    auto report = engine.shutdown(std::chrono::seconds(2));

    int status = 0;
    for (auto* outcome : {&dcv, &caa_outcome}) {
        if (!outcome->response) {
            std::cerr << "request refused: "
                      << (outcome->issues.empty() ? outcome->error.message() : outcome->issues.front().message) << "\n";
            return 2;
        }
        print(outcome == &dcv ? "acme-http-01" : "caa", *outcome->response);
        status = outcome->response->is_valid() ? status : 1;
    }
    std::cout << "shutdown: " << (report.clean() ? "clean" : "forced") << std::endl;
    return status;
}
