#pragma once
// nginx configuration for a scenario: `geo` on the client address names the perspective, one `map` per
// (host, path) rule picks that perspective's variant, and each variant is an internal location that answers with
// its status, headers and body. Perspectives whose HTTP is "unreachable" get their connections closed (444).

#include <cstdint>
#include <string>

#include "tools/mpic-lab/scenario.hh"

namespace mpic::lab {

/// Files and ports nginx is configured with. All paths absolute.
struct nginx_layout {
    std::string dir;       ///< nginx prefix (-p); pid, logs and temp directories live here
    std::string cert_path; ///< PEM certificate for the HTTPS listener
    std::string key_path;  ///< PEM key for the HTTPS listener
    std::uint16_t http_port = 0;
    std::uint16_t https_port = 0;
    std::string nonce;                 ///< body of GET /.mpic-lab/ready (readiness proof)
    std::string access_log;            ///< nginx's access log ("" = `dir`/access.log)
    std::uint16_t fault_http_port = 0; ///< the fault HTTP responder, for perspectives with http = "fault"
};

/// Path answered with the nonce on the default server.
inline constexpr const char* nginx_ready_path = "/.mpic-lab/ready";

/// nginx.conf text for scenario `s`.
std::string render_nginx_conf(const scenario& s, const nginx_layout& layout);

/// An nginx double-quoted string holding `raw` literally: '"' and '\' escaped, newline/CR/tab as \n \r \t, and '$'
/// through the $mpic_dollar variable (nginx has no escape for '$' in strings that take variables).
std::string nginx_quote(const std::string& raw);

} // namespace mpic::lab
