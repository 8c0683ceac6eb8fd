// Why rewrite-to-internal-location instead of `if ($perspective)` blocks: nginx's `if` inside a location is only
// safe with return/rewrite, and add_header inside it behaves surprisingly. A map yields the variant's location
// name, `rewrite ... last` jumps there, and each variant location is an ordinary, fully configurable location.

#include "tools/mpic-lab/nginx_config.hh"

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "tools/mpic-lab/views.hh"

namespace mpic::lab {

namespace {

/// One (host, path) and what each perspective gets for it.
struct rule_key {
    std::string host;
    std::string path;
    std::vector<std::optional<http_rule>> variants; ///< distinct answers; nullopt = 404 (no rule in that view)
    std::vector<std::size_t> by_perspective;        ///< index into variants for perspective 0..N
};

std::string variant_location(std::size_t key, std::size_t variant) {
    return "/__mpic/r" + std::to_string(key) + "/v" + std::to_string(variant);
}

/// The location a faulted perspective's requests are rewritten to: the original request line goes to the fault HTTP
/// responder from the perspective's own address (proxy_bind; 127.0.0.0/8 is local, so no transparency is needed),
/// unbuffered both ways so slow, dribbled, oversized or reset answers reach the client as the responder sends them.
std::string render_fault_proxy(std::uint16_t port) {
    if (port == 0) {
        return "";
    }
    return "        location = /__mpic/fault {\n            internal;\n"
           "            proxy_pass http://127.0.0.1:" +
           std::to_string(port) +
           "$request_uri;\n"
           "            proxy_bind $remote_addr;\n            proxy_http_version 1.1;\n"
           "            proxy_set_header Host $http_host;\n            proxy_set_header Connection \"\";\n"
           "            proxy_buffering off;\n            proxy_request_buffering off;\n"
           "            proxy_read_timeout 600s;\n            proxy_pass_header Server;\n        }\n";
}

std::string render_variant(const std::optional<http_rule>& rule, const std::string& location) {
    std::string out = "        location = " + location + " {\n            internal;\n";
    if (!rule) {
        return out + "            return 404;\n        }\n";
    }
    for (const auto& [name, value] : rule->headers) {
        if (name == "Content-Type" || name == "content-type") {
            out += "            default_type " + nginx_quote(value) + ";\n";
        } else {
            out += "            add_header " + name + " " + nginx_quote(value) + " always;\n";
        }
    }
    if (rule->redirect) {
        out += "            return " + std::to_string(rule->status) + " " + nginx_quote(*rule->redirect) + ";\n";
    } else if (rule->status == 444 || rule->status == 204 || rule->status == 304) {
        out += "            return " + std::to_string(rule->status) + ";\n";
    } else {
        out += "            return " + std::to_string(rule->status) + " " + nginx_quote(rule->body) + ";\n";
    }
    return out + "        }\n";
}

} // namespace

std::string nginx_quote(const std::string& raw) {
    std::string out = "\"";
    for (char c : raw) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '$':
            out += "${mpic_dollar}";
            break;
        default:
            out += c;
        }
    }
    return out + "\"";
}

std::string render_nginx_conf(const scenario& s, const nginx_layout& l) {
    const int n = s.perspectives;
    std::vector<std::vector<http_rule>> views;
    for (int k = 0; k <= n; ++k) {
        views.push_back(view_http_rules(s, k));
    }
    // Every (host, path) any perspective knows, in first-seen order so the config is stable.
    std::vector<rule_key> keys;
    std::map<std::pair<std::string, std::string>, std::size_t> index;
    for (const auto& v : views) {
        for (const http_rule& r : v) {
            if (index.emplace(std::make_pair(r.host, r.path), keys.size()).second) {
                keys.push_back(rule_key{r.host, r.path, {}, {}});
            }
        }
    }
    for (rule_key& key : keys) {
        for (int k = 0; k <= n; ++k) {
            std::optional<http_rule> mine;
            for (const http_rule& r : views[static_cast<std::size_t>(k)]) {
                if (r.host == key.host && r.path == key.path) {
                    mine = r;
                }
            }
            std::size_t v = 0;
            while (v < key.variants.size() && key.variants[v] != mine) {
                ++v;
            }
            if (v == key.variants.size()) {
                key.variants.push_back(mine);
            }
            key.by_perspective.push_back(v);
        }
    }

    std::string out;
    out += "# Written by mpic-lab for one run; removed with the lab's directory.\n";
    out += "worker_processes 1;\ndaemon off;\nmaster_process on;\n";
    out += "pid " + l.dir + "/nginx.pid;\nerror_log stderr notice;\n";
    out += "events { worker_connections 1024; }\n";
    out += "http {\n";
    out += "    access_log " + (l.access_log.empty() ? l.dir + "/access.log" : l.access_log) + ";\n";
    for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
        out += std::string("    ") + t + "_temp_path " + l.dir + "/tmp/" + t + ";\n";
    }
    out += "    default_type text/plain;\n    server_tokens off;\n    absolute_redirect off;\n";
    out += "    keepalive_timeout 5s;\n";
    out += "    server_names_hash_bucket_size 128;\n    server_names_hash_max_size 4096;\n";
    out += "    variables_hash_bucket_size 128;\n    variables_hash_max_size 8192;\n";
    out += "    ssl_certificate " + l.cert_path + ";\n    ssl_certificate_key " + l.key_path + ";\n";
    out += "    ssl_protocols TLSv1.2 TLSv1.3;\n"; // 1.22's default lacks TLSv1.3 (environment.md §3)
    out += "    geo $mpic_dollar { default \"$\"; }\n";
    // The perspective is named by the client's source address: perspective k connects from 127.0.0.(k+1).
    out += "    geo $mpic_p {\n        default 0;\n";
    for (int k = 1; k <= n; ++k) {
        out += "        " + perspective_address(k) + " " + std::to_string(k) + ";\n";
    }
    out += "    }\n    map $mpic_p $mpic_down {\n        default 0;\n";
    for (int k = 1; k <= n; ++k) {
        if (view_http_behaviour(s, k) == http_behaviour::unreachable) {
            out += "        " + std::to_string(k) + " 1;\n";
        }
    }
    out += "    }\n    map $mpic_p $mpic_fault {\n        default 0;\n";
    for (int k = 1; k <= n; ++k) {
        if (view_http_behaviour(s, k) == http_behaviour::fault && l.fault_http_port != 0) {
            out += "        " + std::to_string(k) + " 1;\n";
        }
    }
    out += "    }\n";
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const rule_key& key = keys[i];
        out += "    map $mpic_p $mpic_r" + std::to_string(i) + " {\n        default " +
               variant_location(i, key.by_perspective[0]) + ";\n";
        for (int k = 1; k <= n; ++k) {
            std::size_t v = key.by_perspective[static_cast<std::size_t>(k)];
            if (v != key.by_perspective[0]) {
                out += "        " + std::to_string(k) + " " + variant_location(i, v) + ";\n";
            }
        }
        out += "    }\n";
    }
    std::set<std::string> hosts = {"*"};
    for (const rule_key& key : keys) {
        hosts.insert(key.host);
    }
    const std::string listen = "        listen 127.0.0.1:" + std::to_string(l.http_port);
    const std::string listen_tls = "        listen 127.0.0.1:" + std::to_string(l.https_port) + " ssl";
    for (const std::string& host : hosts) {
        const bool fallback = host == "*";
        out += "    server {\n";
        out += listen + (fallback ? " default_server" : "") + ";\n";
        out += listen_tls + (fallback ? " default_server" : "") + ";\n";
        out += "        server_name " + (fallback ? std::string("_") : host) + ";\n";
        out += "        if ($mpic_down) { return 444; }\n";
        out += "        if ($mpic_fault) { rewrite ^ /__mpic/fault last; }\n";
        out += render_fault_proxy(l.fault_http_port);
        if (fallback) {
            out += std::string("        location = ") + nginx_ready_path + " { return 200 \"" + l.nonce + "\"; }\n";
        }
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (keys[i].host != host) {
                continue;
            }
            out += "        location = " + keys[i].path + " { rewrite ^ $mpic_r" + std::to_string(i) + " last; }\n";
            for (std::size_t v = 0; v < keys[i].variants.size(); ++v) {
                out += render_variant(keys[i].variants[v], variant_location(i, v));
            }
        }
        out += "        location / { return 404; }\n";
        out += "    }\n";
    }
    out += "}\n";
    return out;
}

} // namespace mpic::lab
