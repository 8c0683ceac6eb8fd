#pragma once
// mpicd's own configuration: the listener, authentication, per-client limits, the audit log and logging. The
// engine's sections ([engine], [policy], [dns], [http], [lab], [primary], [[perspective]]) are read by
// quorum::engine_config_from_toml from the same file. Every key is documented in docs/configuration.md.

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hh"

namespace mpic::mpicd {

enum class role { coordinator, perspective };

/// One API bearer token. The secret is compared in constant time and never logged or shown by /configz.
struct api_token {
    std::string name; ///< who holds it (audit "client", metrics label)
    std::string secret;
};

struct daemon_config {
    role daemon_role = role::coordinator;
    std::string perspective_code; ///< role perspective: the in-process perspective that answers /dcv and /caa

    // [api]
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8400;
    std::string tls_cert_file; ///< empty = plain HTTP
    std::string tls_key_file;
    std::string client_ca_file; ///< non-empty = mutual TLS: clients must present a certificate from this CA
    std::size_t max_body_bytes = 1 << 20;
    std::size_t max_head_bytes = 16 * 1024;
    std::uint32_t head_timeout_ms = 10'000;
    std::uint32_t body_timeout_ms = 10'000;
    std::uint32_t idle_timeout_ms = 30'000;
    std::size_t max_connections = 4096; ///< per reactor
    std::uint32_t shutdown_grace_ms = 10'000;

    // [auth]
    std::vector<api_token> tokens;
    bool allow_client_certificates = false; ///< a verified client certificate authenticates (needs client_ca_file)
    bool auth_disabled = false;             ///< development only: every request is let in (logged loudly)

    // [limits]
    double requests_per_second_per_client = 500;
    double burst_per_client = 1000;
    std::size_t concurrent_requests_per_client = 512;

    // [audit]
    std::string audit_path = "mpicd-audit.jsonl";
    std::uint64_t audit_rotate_bytes = 256ull << 20;
    unsigned audit_keep = 8;
    bool audit_sync = true;

    // [log]
    std::string log_level = "info";
    std::string log_file; ///< empty = stderr
};

/// Reads mpicd's sections ([api], [auth], [limits], [audit], [log]) from TOML text; sections owned by the
/// engine are left to it. Unknown keys in mpicd's sections are errors; each error names its key.
result<daemon_config> daemon_config_from_toml(std::string_view toml_text, std::string_view source_name,
                                              std::vector<std::string>& errors);

/// Checks cross-key rules (TLS files in pairs, client certificates need a CA, some authentication configured).
bool validate_daemon_config(const daemon_config& config, std::vector<std::string>& errors);

/// Parses "host:port" / "[v6]:port". Errors: errc::invalid_argument.
result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text);

} // namespace mpic::mpicd
