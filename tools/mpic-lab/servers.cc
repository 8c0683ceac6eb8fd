// Each server's command line and readiness proof. Readiness is proven with this lab's random nonce (a foreign
// server that took the port cannot answer it); ports for BIND, nginx and unbound are picked by the lab because
// they cannot report an ephemeral port, the responders bind port 0 and report theirs.

#include "tools/mpic-lab/servers.hh"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "tools/mpic-lab/bind_config.hh"
#include "tools/mpic-lab/nginx_config.hh"
#include "tools/mpic-lab/probe.hh"

#ifndef MPIC_LAB_RESPONDERS_DIR
#define MPIC_LAB_RESPONDERS_DIR ""
#endif

namespace mpic::lab {

namespace fs = std::filesystem;

namespace {

/// How long one readiness probe may wait for its answer (the lab polls every 10 ms).
constexpr std::chrono::milliseconds probe_timeout{50};

result<void> write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
        return std::error_code(EIO, std::generic_category());
    }
    return {};
}

/// Parses "ready <port>" or "ready udp=<port> tcp=<port>" (responder_config.hh CLI contract).
std::optional<std::uint16_t> parse_ready_line(const std::string& out) {
    std::size_t at = out.find("ready ");
    if (at == std::string::npos || out.find('\n', at) == std::string::npos) {
        return std::nullopt;
    }
    std::string rest = out.substr(at + 6, out.find('\n', at) - at - 6);
    if (rest.rfind("udp=", 0) == 0) {
        rest = rest.substr(4);
    }
    unsigned long port = std::strtoul(rest.c_str(), nullptr, 10);
    if (port == 0 || port > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(port);
}

/// The lines of BIND's log that explain each "not loaded due to errors" (the reason precedes it).
std::string refused_zones(const std::string& log) {
    std::string out;
    const std::string marker = "not loaded due to errors";
    for (std::size_t at = log.find(marker); at != std::string::npos; at = log.find(marker, at + 1)) {
        std::size_t begin = log.rfind('\n', at);
        begin = begin == std::string::npos ? 0 : begin + 1;
        for (int up = 0; up < 2 && begin > 1; ++up) {
            std::size_t prev = log.rfind('\n', begin - 2);
            begin = prev == std::string::npos ? 0 : prev + 1;
        }
        out += log.substr(begin, log.find('\n', at) - begin) + "\n";
    }
    return out;
}

} // namespace

std::string read_file(const std::string& path) {
    // rdbuf() into a stringstream rather than istreambuf_iterator: the latter trips g++ 12's -Wnull-dereference at -O2.
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

bool mentions_port_in_use(const std::string& log) {
    // named: "binding TCP socket: address in use", or (9.18, when the listener cannot be created at all) "unable to
    // listen on any configured interfaces" before it exits; nginx: "bind() to ... failed (98: Address already in
    // use)", retried for 2.5 s before it exits; unbound: "can't bind socket: Address already in use".
    return log.find("address in use") != std::string::npos || log.find("Address already in use") != std::string::npos ||
           log.find("unable to listen on any configured interfaces") != std::string::npos;
}

std::string find_responder(const options& o, const std::string& name) {
    std::vector<fs::path> candidates;
    if (!o.responders_dir.empty()) {
        candidates.push_back(fs::path(o.responders_dir) / name);
    }
    if (std::string(MPIC_LAB_RESPONDERS_DIR).size() > 0) {
        candidates.push_back(fs::path(MPIC_LAB_RESPONDERS_DIR) / name);
    }
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        candidates.push_back(self.parent_path() / name);
        candidates.push_back(self.parent_path() / "responders" / name);
    }
    for (const fs::path& c : candidates) {
        if (access(c.c_str(), X_OK) == 0) {
            return c.string();
        }
    }
    return name; // PATH
}

managed_server make_named(const server_env& env) {
    managed_server m;
    m.name = "named";
    // `named -g` stays in the foreground, logs to stderr and reads no system config (environment.md §2).
    m.launch = [env](managed_server& self) -> result<void> {
        auto port = env.opts->pick_port();
        if (!port) {
            return port.error();
        }
        *env.dns_port = *port;
        auto conf = write_named_conf(*env.s, env.dns_dir, *port);
        if (!conf) {
            return conf.error();
        }
        std::vector<std::string> args = {"-g", "-4", "-n", "1", "-c", *conf};
        if (geteuid() == 0) {
            args.insert(args.end(), {"-u", "root"});
        }
        auto p = child_process::spawn({"named", args, env.dns_dir + "/named.log", "", env.dns_dir, {}, {}});
        if (!p) {
            return p.error();
        }
        self.proc.emplace(std::move(*p));
        return {};
    };
    m.ready = [env](managed_server&) { return dns_probe(*env.dns_port, readiness_name, env.nonce, probe_timeout); };
    // BIND keeps running when a zone does not load; a lab missing a scenario zone would be a lie, so that fails the
    // start with BIND's own words.
    m.check = [](managed_server& self) { return refused_zones(read_file(self.proc->log_path())); };
    return m;
}

managed_server make_nginx(const server_env& env, std::optional<uid_t> uid, std::optional<gid_t> gid) {
    managed_server m;
    m.name = "nginx";
    m.launch = [env, uid, gid](managed_server& self) -> result<void> {
        auto http = env.opts->pick_port();
        auto https = env.opts->pick_port();
        // Each pick closes its probe socket, so two picks can return the same number: ask again.
        for (int again = 0; http && https && *https == *http && again < 10; ++again) {
            https = env.opts->pick_port();
        }
        if (!http || !https) {
            return http ? https.error() : http.error();
        }
        *env.http_port = *http;
        *env.https_port = *https;
        // The access log sits in the lab's top directory (lab::access_log_path()), pre-created for nginx's user,
        // who cannot create files there.
        const std::string access_log = env.dir + "/access.log";
        { std::ofstream touch(access_log, std::ios::app); }
        if (uid && chown(access_log.c_str(), *uid, *gid) != 0) {
            return std::error_code(errno, std::generic_category());
        }
        nginx_layout layout{env.web_dir, env.cert_path, env.key_path, *http,
                            *https,      env.nonce,     access_log,   env.fault_http_port->value_or(0)};
        if (auto w = write_text(env.web_dir + "/nginx.conf", render_nginx_conf(*env.s, layout)); !w) {
            return w.error();
        }
        // nginx's prefix (pid file, logs, temp dirs) and key must belong to the user it runs as.
        if (uid) {
            std::error_code ec;
            for (const auto& e : fs::recursive_directory_iterator(env.web_dir, ec)) {
                if (chown(e.path().c_str(), *uid, *gid) != 0) {
                    return std::error_code(errno, std::generic_category());
                }
            }
            if (ec || chown(env.web_dir.c_str(), *uid, *gid) != 0) {
                return ec ? ec : std::error_code(errno, std::generic_category());
            }
        }
        auto p = child_process::spawn({"nginx",
                                       {"-e", "stderr", "-p", env.web_dir + "/", "-c", env.web_dir + "/nginx.conf"},
                                       env.dir + "/nginx.log",
                                       "",
                                       env.web_dir,
                                       uid,
                                       gid});
        if (!p) {
            return p.error();
        }
        self.proc.emplace(std::move(*p));
        return {};
    };
    m.ready = [env](managed_server&) { return http_probe(*env.http_port, nginx_ready_path, env.nonce, probe_timeout); };
    return m;
}

managed_server make_unbound(const server_env& env, int k) {
    managed_server m;
    m.name = "unbound" + std::to_string(k);
    m.after_bind = true;
    const std::string udir = env.dir + "/unbound/" + std::to_string(k);
    const std::size_t slot = static_cast<std::size_t>(k);
    m.launch = [env, k, udir, slot](managed_server& self) -> result<void> {
        std::error_code ec;
        fs::create_directories(udir, ec);
        if (ec) {
            return ec;
        }
        auto port = env.opts->pick_port();
        if (!port) {
            return port.error();
        }
        (*env.resolver_ports)[slot] = *port;
        const std::string conf = udir + "/unbound.conf";
        if (auto w = write_text(
                conf, render_unbound_conf(*env.s, k, udir, *port, *env.dns_port, *env.dnssec_keys, env.nonce));
            !w) {
            return w.error();
        }
        auto p = child_process::spawn({"unbound", {"-d", "-c", conf}, udir + "/unbound.log", "", udir, {}, {}});
        if (!p) {
            return p.error();
        }
        self.proc.emplace(std::move(*p));
        return {};
    };
    // The readiness name is local data in unbound itself, so a perspective whose BIND traffic is blackholed still
    // proves its resolver is up.
    m.ready = [env, slot](managed_server&) {
        return dns_probe((*env.resolver_ports)[slot], readiness_name, env.nonce, probe_timeout);
    };
    return m;
}

managed_server make_responder(const server_env& env, const std::string& name, const std::string& program,
                              const std::string& conf, std::optional<std::uint16_t>* port_slot) {
    managed_server m;
    m.name = name;
    const std::string stdout_path = env.dir + "/" + name + ".out";
    m.launch = [env, name, program, conf, stdout_path](managed_server& self) -> result<void> {
        auto p = child_process::spawn(
            {program, {"--config", conf}, env.dir + "/" + name + ".log", stdout_path, env.dir, {}, {}});
        if (!p) {
            return p.error();
        }
        self.proc.emplace(std::move(*p));
        return {};
    };
    m.ready = [stdout_path, port_slot](managed_server&) {
        *port_slot = parse_ready_line(read_file(stdout_path));
        return port_slot->has_value();
    };
    return m;
}

} // namespace mpic::lab
