// mpicd: the MPIC daemon. Reads its configuration (or uses the embedded default), starts the engine, serves the
// API on every reactor from one shared listening socket, and shuts down gracefully on SIGTERM/SIGINT. All
// validation logic is the library's (quorum::engine); this file wires configuration, sockets and signals.

#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include "core/log.hh"
#include "quorum/engine/engine.hh"
#include "tools/mpicd/api_service.hh"
#include "tools/mpicd/daemon_config.hh"
#include "tools/mpicd/effective_config.hh"

namespace {

using namespace mpic;

int fail(const std::vector<std::string>& errors, std::string_view what) {
    std::cerr << "mpicd: " << what << "\n";
    for (const auto& e : errors) {
        std::cerr << "  - " << e << "\n";
    }
    return 2;
}

std::string random_token() {
    unsigned char bytes[24];
    RAND_bytes(bytes, sizeof bytes);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"mpicd: multi-perspective issuance corroboration daemon (CA/B Forum BR 3.2.2.9)"};
    std::string config_path, role_override, listen_override, lab_path, audit_override, port_file, date_override;
    std::string log_level;
    std::vector<std::string> tokens;
    unsigned reactors = 0;
    bool check_only = false;
    bool no_auth = false;
    app.add_option("-c,--config", config_path, "TOML configuration (docs/configuration.md); none = embedded default");
    app.add_option("--role", role_override, "coordinator or perspective (overrides api.role)")
        ->check(CLI::IsMember({"coordinator", "perspective"}));
    app.add_option("--listen", listen_override, "host:port to listen on (port 0 = any free port)");
    app.add_option("--lab", lab_path, "lab mode: point every in-process perspective at this mpic-lab summary (JSON)");
    app.add_option("--token", tokens, "add an API bearer token, NAME:SECRET (repeatable)");
    app.add_option("--audit-log", audit_override, "audit log path (overrides audit.path)");
    app.add_option("--reactors", reactors, "reactor threads (0 = one per core)");
    app.add_option("--date", date_override, "evaluate the BR phase-in as of YYYY-MM-DD (overrides policy.date)");
    app.add_option("--port-file", port_file, "write the bound port to this file once listening");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
    app.add_flag("--check-config", check_only, "validate the configuration and exit (0 = valid)");
    app.add_flag("--no-auth", no_auth, "development only: accept unauthenticated API requests");
    CLI11_PARSE(app, argc, argv);

    std::vector<std::string> errors;
    quorum::engine_config engine_config;
    mpicd::daemon_config daemon_config;
    const bool embedded = config_path.empty();
    if (embedded) {
        engine_config = quorum::embedded_default_config();
    } else {
        std::ifstream in(config_path);
        if (!in) {
            return fail({"cannot read " + config_path}, "configuration error");
        }
        std::stringstream text;
        text << in.rdbuf();
        auto e = quorum::engine_config_from_toml(text.str(), config_path, errors);
        auto d = mpicd::daemon_config_from_toml(text.str(), config_path, errors);
        if (!e || !d) {
            return fail(errors, "configuration error in " + config_path);
        }
        engine_config = std::move(*e);
        daemon_config = std::move(*d);
    }
    if (!role_override.empty()) {
        daemon_config.daemon_role =
            role_override == "perspective" ? mpicd::role::perspective : mpicd::role::coordinator;
    }
    if (!listen_override.empty()) {
        auto parsed = mpicd::parse_listen(listen_override);
        if (!parsed) {
            return fail({"--listen must be host:port"}, "command-line error");
        }
        daemon_config.listen_host = parsed->first;
        daemon_config.listen_port = parsed->second;
    }
    for (const auto& token : tokens) {
        auto colon = token.find(':');
        if (colon == std::string::npos || colon == 0 || token.size() - colon - 1 < 16) {
            return fail({"--token must be NAME:SECRET with a secret of at least 16 characters"}, "command-line error");
        }
        daemon_config.tokens.push_back({token.substr(0, colon), token.substr(colon + 1)});
    }
    if (!audit_override.empty()) {
        daemon_config.audit_path = audit_override;
    }
    if (reactors != 0) {
        engine_config.reactors = reactors;
    }
    if (!date_override.empty()) {
        auto d = quorum::parse_civil_date(date_override);
        if (!d) {
            return fail({"--date must be YYYY-MM-DD"}, "command-line error");
        }
        engine_config.date_override = *d;
    }
    if (!log_level.empty()) {
        daemon_config.log_level = log_level;
    }
    if (no_auth) {
        daemon_config.auth_disabled = true;
    }
    std::string generated_token;
    if (embedded && daemon_config.tokens.empty() && !daemon_config.auth_disabled) {
        // The embedded default must start without a file, yet never unauthenticated: mint a token for this run.
        generated_token = random_token();
        daemon_config.tokens.push_back({"default", generated_token});
    }
    if (!lab_path.empty() && !quorum::apply_lab_summary(lab_path, engine_config, errors)) {
        return fail(errors, "lab error");
    }
    if (!quorum::validate_engine_config(engine_config, errors) |
        !mpicd::validate_daemon_config(daemon_config, errors)) {
        return fail(errors, "configuration error");
    }
    if (auto level = core::parse_log_level(daemon_config.log_level)) {
        core::logger::global().set_level(*level);
    } else {
        return fail({"log.level: must be trace, debug, info, warn, error or off"}, "configuration error");
    }
    if (!daemon_config.log_file.empty()) {
        if (auto opened = core::logger::global().open_file(daemon_config.log_file); !opened) {
            return fail({"log.file: " + opened.error().message()}, "configuration error");
        }
    }

    if (check_only) {
        // Validation only: nothing is bound, created or started.
        std::cout << "mpicd: configuration is valid\n";
        return 0;
    }

    // Signals are handled by sigwait on this thread; block them before any reactor thread exists.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    std::unique_ptr<core::append_log> audit;
    if (daemon_config.daemon_role == mpicd::role::coordinator) {
        core::append_log_config audit_config{daemon_config.audit_path, daemon_config.audit_rotate_bytes,
                                             daemon_config.audit_keep, 65536, daemon_config.audit_sync};
        auto opened = core::append_log::open(audit_config);
        if (!opened) {
            return fail({"audit.path " + daemon_config.audit_path + ": " + opened.error().message()},
                        "audit log error");
        }
        audit = std::move(*opened);
    }

    auto listener = net::server::listener::bind(daemon_config.listen_host, daemon_config.listen_port);
    if (!listener) {
        return fail({daemon_config.listen_host + ":" + std::to_string(daemon_config.listen_port) + ": " +
                     listener.error().message()},
                    "cannot listen");
    }
    auto created = quorum::engine::create(engine_config, errors);
    if (!created) {
        return fail(errors, "the engine refused to start");
    }
    auto& engine = **created;
    if (!engine.compliant()) {
        std::cerr
            << "mpicd: WARNING: NOT BR-COMPLIANT. One machine is not a set of distinct network perspectives "
               "(BR 3.2.2.9); every response says \"compliant\": false. Use this for development and tests only.\n";
    }
    if (engine.config().lab) {
        std::cerr << "mpicd: LAB MODE: loopback targets allowed and ports 80/443 mapped to the lab's; every response "
                     "says \"lab_mode\": true.\n";
    }
    if (daemon_config.auth_disabled) {
        std::cerr << "mpicd: WARNING: authentication is disabled (development only).\n";
    }

    mpicd::api_service api(daemon_config, engine, audit.get(),
                           mpicd::render_effective_config(engine.config(), daemon_config));
    net::server::server_limits limits;
    limits.max_body_bytes = daemon_config.max_body_bytes;
    limits.max_head_bytes = daemon_config.max_head_bytes;
    limits.head_timeout = std::chrono::milliseconds(daemon_config.head_timeout_ms);
    limits.body_timeout = std::chrono::milliseconds(daemon_config.body_timeout_ms);
    limits.idle_timeout = std::chrono::milliseconds(daemon_config.idle_timeout_ms);
    limits.max_connections = daemon_config.max_connections;

    // One server per reactor over the shared listening socket; each closes itself when its reactor stops.
    auto& pool = engine.reactors();
    std::vector<std::future<std::string>> started;
    std::vector<net::server::http_server*> servers(pool.size(), nullptr);
    for (unsigned i = 0; i < pool.size(); ++i) {
        auto promise = std::make_shared<std::promise<std::string>>();
        started.push_back(promise->get_future());
        auto posted = pool.post(i, [&, i, promise] {
            auto& r = pool.at(i);
            std::shared_ptr<const net::server::tls_server_context> tls;
            if (!daemon_config.tls_cert_file.empty()) {
                auto ctx = net::server::tls_server_context::create(
                    {daemon_config.tls_cert_file, daemon_config.tls_key_file, daemon_config.client_ca_file});
                if (!ctx) {
                    promise->set_value("TLS: " + ctx.error().message());
                    return;
                }
                tls = std::make_shared<const net::server::tls_server_context>(std::move(*ctx));
            }
            auto server = net::server::http_server::start(
                r.loop(), listener->fd(), limits, tls,
                [&api](net::server::request&& req, net::server::responder res) { api.handle(std::move(req), res); });
            if (!server) {
                promise->set_value("server: " + server.error().message());
                return;
            }
            auto* raw = server->release();
            servers[i] = raw;
            r.on_stop([raw] { delete raw; });
            promise->set_value({});
        });
        if (!posted) {
            promise->set_value("reactor refused: " + posted.error().message());
        }
    }
    for (auto& f : started) {
        if (auto problem = f.get(); !problem.empty()) {
            engine.shutdown(std::chrono::milliseconds(0));
            return fail({problem}, "cannot start the API server");
        }
    }
    std::cout << "mpicd: "
              << (daemon_config.daemon_role == mpicd::role::coordinator ? "coordinator" : "perspective agent")
              << " listening on " << daemon_config.listen_host << ":" << listener->port() << " with "
              << engine.config().perspectives.size() << " perspectives, " << pool.size() << " reactors" << std::endl;
    if (!generated_token.empty()) {
        std::cout << "mpicd: API token for this run: " << generated_token << "  (curl -H 'Authorization: Bearer "
                  << generated_token << "' ...)" << std::endl;
    }
    if (!port_file.empty()) {
        std::ofstream(port_file) << listener->port() << "\n";
    }
    core::log_info("mpicd.started", "", {{"port", static_cast<std::uint64_t>(listener->port())}});

    int signal = 0;
    sigwait(&signals, &signal);
    std::cerr << "mpicd: signal " << signal << ", shutting down (grace " << daemon_config.shutdown_grace_ms << " ms)"
              << std::endl;
    api.begin_shutdown();
    for (unsigned i = 0; i < pool.size(); ++i) {
        (void)pool.post(i, [&servers, i] {
            if (servers[i] != nullptr) {
                servers[i]->stop_accepting();
            }
        });
    }
    // The servers closed their dups; closing this last descriptor makes the kernel refuse new connections instead
    // of queueing them for nobody during the drain.
    listener->close();
    auto report = engine.shutdown(std::chrono::milliseconds(daemon_config.shutdown_grace_ms));
    if (audit) {
        audit->flush();
        audit->close();
    }
    std::cerr << "mpicd: stopped" << (report.clean() ? "" : " (some handles were force-closed)") << std::endl;
    return 0;
}
