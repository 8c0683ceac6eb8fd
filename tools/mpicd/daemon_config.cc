#include "tools/mpicd/daemon_config.hh"

#include "net/addr/host_port.hh"
#include "quorum/engine/toml_section.hh"

namespace mpic::mpicd {
result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text) {
    auto parsed = net::addr::parse_host_port(text);
    if (!parsed || !parsed->port) {
        return make_error_code(errc::invalid_argument); // a listener needs an explicit port (0 = any free port)
    }
    return std::pair{parsed->host, *parsed->port};
}

result<daemon_config> daemon_config_from_toml(std::string_view toml_text, std::string_view source_name,
                                              std::vector<std::string>& errors) {
    toml::table doc;
    try {
        doc = toml::parse(toml_text, source_name);
    } catch (const toml::parse_error& e) {
        errors.push_back(std::string(source_name) + ":" + std::to_string(e.source().begin.line) + ": " +
                         std::string(e.description()));
        return make_error_code(errc::invalid_argument);
    }
    const auto before = errors.size();
    daemon_config config;

    quorum::toml_section api(doc["api"].as_table(), "api", errors);
    std::string role_text = "coordinator";
    api.read("role", role_text);
    if (role_text == "coordinator") {
        config.daemon_role = role::coordinator;
    } else if (role_text == "perspective") {
        config.daemon_role = role::perspective;
    } else {
        api.error("role", "must be \"coordinator\" or \"perspective\"");
    }
    api.read("perspective_code", config.perspective_code);
    std::string listen;
    api.read("listen", listen);
    if (!listen.empty()) {
        if (auto parsed = parse_listen(listen)) {
            config.listen_host = parsed->first;
            config.listen_port = parsed->second;
        } else {
            api.error("listen", "must be host:port");
        }
    }
    api.read("tls_cert_file", config.tls_cert_file);
    api.read("tls_key_file", config.tls_key_file);
    api.read("client_ca_file", config.client_ca_file);
    api.read("max_body_bytes", config.max_body_bytes);
    api.read("max_head_bytes", config.max_head_bytes);
    api.read("head_timeout_ms", config.head_timeout_ms);
    api.read("body_timeout_ms", config.body_timeout_ms);
    api.read("idle_timeout_ms", config.idle_timeout_ms);
    api.read("max_connections", config.max_connections);
    api.read("shutdown_grace_ms", config.shutdown_grace_ms);
    api.reject_unknown();

    quorum::toml_section auth(doc["auth"].as_table(), "auth", errors);
    if (const auto* tokens = auth.raw("tokens")) {
        const auto* array = tokens->as_array();
        if (array == nullptr) {
            auth.error("tokens", "must be an array of {name, token} tables");
        } else {
            std::size_t i = 0;
            for (const auto& item : *array) {
                const auto* t = item.as_table();
                quorum::toml_section tr(t, "auth.tokens[" + std::to_string(i++) + "]", errors);
                api_token token;
                tr.read("name", token.name);
                tr.read("token", token.secret);
                tr.reject_unknown();
                if (token.name.empty() || token.secret.size() < 16) {
                    tr.error("token", "every token needs a name and a secret of at least 16 characters");
                    continue;
                }
                config.tokens.push_back(std::move(token));
            }
        }
    }
    auth.read("allow_client_certificates", config.allow_client_certificates);
    auth.read("disabled", config.auth_disabled);
    auth.reject_unknown();

    quorum::toml_section limits(doc["limits"].as_table(), "limits", errors);
    limits.read("requests_per_second_per_client", config.requests_per_second_per_client);
    limits.read("burst_per_client", config.burst_per_client);
    if (config.requests_per_second_per_client <= 0 || config.burst_per_client < 1) {
        limits.error("requests_per_second_per_client", "the rate must be positive and the burst at least 1");
    }
    limits.read("concurrent_requests_per_client", config.concurrent_requests_per_client);
    limits.reject_unknown();

    quorum::toml_section audit(doc["audit"].as_table(), "audit", errors);
    audit.read("path", config.audit_path);
    audit.read("rotate_bytes", config.audit_rotate_bytes);
    audit.read("keep", config.audit_keep);
    audit.read("sync", config.audit_sync);
    audit.reject_unknown();

    quorum::toml_section log(doc["log"].as_table(), "log", errors);
    log.read("level", config.log_level);
    log.read("file", config.log_file);
    log.reject_unknown();

    if (errors.size() != before) {
        return make_error_code(errc::invalid_argument);
    }
    return config;
}

bool validate_daemon_config(const daemon_config& config, std::vector<std::string>& errors) {
    const auto before = errors.size();
    if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
        errors.push_back("api.tls_cert_file and api.tls_key_file must be given together");
    }
    if (!config.client_ca_file.empty() && config.tls_cert_file.empty()) {
        errors.push_back("api.client_ca_file needs TLS (api.tls_cert_file and api.tls_key_file)");
    }
    if (config.allow_client_certificates && config.client_ca_file.empty()) {
        errors.push_back("auth.allow_client_certificates needs api.client_ca_file (mutual TLS)");
    }
    if (config.daemon_role == role::coordinator && config.tokens.empty() && !config.allow_client_certificates &&
        !config.auth_disabled) {
        errors.push_back("auth: configure at least one token, or client certificates, or set auth.disabled = true "
                         "(development only)");
    }
    if (config.daemon_role == role::perspective && config.client_ca_file.empty() && !config.auth_disabled) {
        // Agents accept only the coordinator's client certificate (BR.md 1207: authenticated, encrypted channel).
        errors.push_back("api.client_ca_file: a perspective agent requires mutual TLS with the coordinator's CA");
    }
    if (config.daemon_role == role::perspective && !config.client_ca_file.empty() &&
        !config.allow_client_certificates && config.tokens.empty() && !config.auth_disabled) {
        // Without this the TLS layer admits the coordinator and the API then answers it 401: nobody is served.
        errors.push_back("auth.allow_client_certificates: a perspective agent authenticates the coordinator by its "
                         "client certificate; set it to true (or configure auth.tokens)");
    }
    if (config.daemon_role == role::perspective && config.perspective_code.empty()) {
        errors.push_back("api.perspective_code: a perspective agent must name the perspective it runs");
    }
    if (config.audit_path.empty() && config.daemon_role == role::coordinator) {
        errors.push_back("audit.path: the coordinator needs an audit log");
    }
    return errors.size() == before;
}

} // namespace mpic::mpicd
