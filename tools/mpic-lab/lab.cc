// Start-up is parallel: every server is spawned first, then one loop polls them all every 10 ms (process alive?
// log says its port was taken? readiness probe answered?). Servers start in 50-250 ms each (environment.md §2-3),
// so a scenario is up in about the time of its slowest server rather than the sum.

#include "tools/mpic-lab/lab.hh"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <iostream>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tools/mpic-lab/bind_config.hh"
#include "tools/mpic-lab/dnssec.hh"
#include "tools/mpic-lab/nginx_config.hh"
#include "tools/mpic-lab/probe.hh"
#include "tools/mpic-lab/process.hh"
#include "tools/mpic-lab/responder_configs.hh"
#include "tools/mpic-lab/self_signed.hh"
#include "tools/mpic-lab/views.hh"

#ifndef MPIC_LAB_RESPONDERS_DIR
#define MPIC_LAB_RESPONDERS_DIR ""
#endif

namespace mpic::lab {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

namespace {

/// How often start-up polls each server, and how long one probe may wait for its answer.
constexpr milliseconds poll_interval{10};
constexpr milliseconds probe_timeout{50};
/// A server that loses its port to another process is relaunched on a new port at most this often.
constexpr int max_launches = 5;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool mentions_port_in_use(const std::string& log) {
    // named: "binding TCP socket: address in use", or (9.18, when the listener cannot be created at all) "unable to
    // listen on any configured interfaces" before it exits; nginx: "bind() to ... failed (98: Address already in
    // use)", retried for 2.5 s before it exits.
    return log.find("address in use") != std::string::npos || log.find("Address already in use") != std::string::npos ||
           log.find("unable to listen on any configured interfaces") != std::string::npos;
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

} // namespace

/// One server under the lab's control.
struct managed_server {
    std::string name;
    std::optional<child_process> proc;
    std::function<result<void>(managed_server&)> launch; ///< picks ports, writes config, spawns
    std::function<bool(managed_server&)> ready;          ///< one readiness probe
    std::function<std::string(managed_server&)> check;   ///< after ready: "" or why the server is not what we asked
    bool is_ready = false;
    int launches = 0;
    bool after_named = false; ///< launched once BIND has been (re)launched: it needs BIND's port
    int launched_for = 0;     ///< BIND's launch count when this server was launched (after_named only)
};

struct lab::impl {
    std::vector<managed_server> servers;
};

lab::lab(scenario s) : _scenario(std::move(s)), _impl(std::make_unique<impl>()) {}

lab::~lab() {
    stop();
}

std::string lab::perspective_address(int k) const {
    return mpic::lab::perspective_address(k);
}

endpoint lab::dns_for(int k) const {
    dns_behaviour b = view_dns_behaviour(_scenario, k);
    if ((b == dns_behaviour::stalled || b == dns_behaviour::fault) && _fault_dns_port) {
        return {"127.0.0.1", *_fault_dns_port};
    }
    if (std::optional<endpoint> r = resolver_for(k)) {
        return *r;
    }
    return dns();
}

std::optional<endpoint> lab::resolver_for(int k) const {
    if (k < 0 || static_cast<std::size_t>(k) >= _resolver_ports.size()) {
        return std::nullopt;
    }
    return endpoint{"127.0.0.1", _resolver_ports[static_cast<std::size_t>(k)]};
}

std::vector<server_info> lab::servers() const {
    std::vector<server_info> out;
    for (const managed_server& m : _impl->servers) {
        if (m.proc && m.proc->pid() > 0) {
            out.push_back({m.name, m.proc->pid(), m.proc->log_path()});
        }
    }
    return out;
}

std::vector<std::string> lab::exited_servers() const {
    std::vector<std::string> out;
    for (const managed_server& m : _impl->servers) {
        if (!m.proc || !m.proc->running()) {
            out.push_back(m.name);
        }
    }
    return out;
}

std::vector<pid_t> lab::all_pids() const {
    std::vector<pid_t> out;
    for (const managed_server& m : _impl->servers) {
        if (m.proc && m.proc->pid() > 0) {
            for (pid_t p : m.proc->group_members()) {
                out.push_back(p);
            }
        }
    }
    return out;
}

void lab::stop() {
    if (!_impl) {
        return;
    }
    // Stop in parallel: SIGTERM everyone first, so the slowest server's shutdown bounds the total.
    for (managed_server& m : _impl->servers) {
        if (m.proc && m.proc->pid() > 0) {
            kill(m.proc->pid(), SIGTERM);
        }
    }
    for (managed_server& m : _impl->servers) {
        if (m.proc) {
            m.proc->stop(_options.stop_grace);
        }
    }
    _impl->servers.clear();
    if (!_dir.empty() && !_options.keep_dir) {
        std::error_code ec;
        fs::remove_all(_dir, ec);
    }
    _dir.clear();
}

result<std::unique_ptr<lab>> lab::start(const scenario& s, options opts) {
    const auto t0 = clock_type::now();
    if (!opts.pick_port) {
        opts.pick_port = pick_free_port;
    }
    if (!opts.log) {
        opts.log = [](std::string_view m) { std::cerr << "mpic-lab: " << m << "\n"; };
    }
    std::unique_ptr<lab> l(new lab(s));
    l->_options = opts;
    auto fail = [&](const std::string& why, std::error_code ec) -> result<std::unique_ptr<lab>> {
        l->_options.log(why + (ec ? ": " + ec.message() : std::string()));
        l->_options.keep_dir = opts.keep_dir;
        l->stop();
        return ec ? ec : std::error_code(make_error_code(errc::io_error));
    };

    // The private directory: 0711 so the unprivileged nginx can reach its own subdirectory and nothing else.
    std::string root = opts.temp_root;
    if (root.empty()) {
        const char* t = std::getenv("TMPDIR");
        root = t != nullptr && *t != '\0' ? t : "/tmp";
    }
    std::string tmpl = (fs::path(root) / "mpic-lab.XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
        return fail("cannot create a temporary directory under " + root,
                    std::error_code(errno, std::generic_category()));
    }
    l->_dir = tmpl;
    chmod(l->_dir.c_str(), 0711);
    const std::string nonce = random_hex(24);
    const std::string dns_dir = l->_dir + "/dns";
    const std::string web_dir = l->_dir + "/nginx";
    std::error_code ec;
    fs::create_directories(dns_dir, ec);
    fs::create_directories(web_dir + "/tmp", ec);
    if (ec) {
        return fail("cannot create the lab's directories", ec);
    }
    lab* self = l.get();
    if (auto w = write_bind_zones(s, dns_dir, nonce); !w) {
        return fail("cannot write the zone files", w.error());
    }
    // Filled by the signing step below, which runs while nginx and the responders start.
    auto keys = std::make_shared<std::vector<zone_keys>>();

    // BIND 9: `named -g` stays in the foreground and logs to stderr; no system config is read (environment.md §2).
    managed_server named;
    named.name = "named";
    named.launch = [self, dns_dir, nonce](managed_server& m) -> result<void> {
        auto port = self->_options.pick_port();
        if (!port) {
            return port.error();
        }
        self->_dns_port = *port;
        auto conf = write_named_conf(self->_scenario, dns_dir, *port);
        if (!conf) {
            return conf.error();
        }
        std::vector<std::string> args = {"-g", "-4", "-n", "1", "-c", *conf};
        if (geteuid() == 0) {
            args.insert(args.end(), {"-u", "root"});
        }
        auto p = child_process::spawn({"named", args, dns_dir + "/named.log", "", dns_dir, {}, {}});
        if (!p) {
            return p.error();
        }
        m.proc.emplace(std::move(*p));
        return {};
    };
    named.ready = [self, nonce](managed_server&) {
        return dns_probe(self->_dns_port, readiness_name, nonce, probe_timeout);
    };
    // BIND keeps running when a zone does not load; a lab missing a scenario zone would be a lie, so that fails the
    // start with BIND's own words.
    named.check = [](managed_server& m) -> std::string {
        std::string log = read_file(m.proc->log_path());
        std::string out;
        for (std::size_t at = log.find("not loaded due to errors"); at != std::string::npos;
             at = log.find("not loaded due to errors", at + 1)) {
            std::size_t begin = log.rfind('\n', at);
            begin = begin == std::string::npos ? 0 : begin + 1;
            // The reason is on the lines just before; quote from two lines up.
            for (int up = 0; up < 2 && begin > 1; ++up) {
                std::size_t prev = log.rfind('\n', begin - 2);
                begin = prev == std::string::npos ? 0 : prev + 1;
            }
            out += log.substr(begin, log.find('\n', at) - begin) + "\n";
        }
        return out;
    };

    // nginx, run as nobody (the issue's `runuser -u nobody`), but set up by the lab itself so that the PID we hold
    // is the master's and PR_SET_PDEATHSIG is set in it.
    std::optional<uid_t> web_uid;
    std::optional<gid_t> web_gid;
    if (geteuid() == 0) {
        if (passwd* pw = getpwnam("nobody")) {
            web_uid = pw->pw_uid;
            web_gid = pw->pw_gid;
        }
    }
    l->_cert_path = web_dir + "/cert.pem";
    std::vector<std::string> cert_names;
    for (int k = 0; k <= s.perspectives; ++k) {
        for (const http_rule& r : view_http_rules(s, k)) {
            if (r.host != "*" && std::find(cert_names.begin(), cert_names.end(), r.host) == cert_names.end()) {
                cert_names.push_back(r.host);
            }
        }
    }
    cert_names.push_back("localhost");
    if (auto w = write_self_signed(cert_names, l->_cert_path, web_dir + "/key.pem"); !w) {
        return fail("cannot create the HTTPS certificate", w.error());
    }
    managed_server web;
    web.name = "nginx";
    web.launch = [self, web_dir, nonce, web_uid, web_gid](managed_server& m) -> result<void> {
        auto http = self->_options.pick_port();
        auto https = self->_options.pick_port();
        // Each pick closes its probe socket, so two picks can return the same number: ask again.
        for (int again = 0; http && https && *https == *http && again < 10; ++again) {
            https = self->_options.pick_port();
        }
        if (!http || !https) {
            return http ? https.error() : http.error();
        }
        self->_http_port = *http;
        self->_https_port = *https;
        nginx_layout layout{web_dir, self->_cert_path, web_dir + "/key.pem", *http, *https, nonce};
        {
            std::ofstream conf(web_dir + "/nginx.conf", std::ios::trunc);
            conf << render_nginx_conf(self->_scenario, layout);
            if (!conf) {
                return std::error_code(EIO, std::generic_category());
            }
        }
        if (web_uid) {
            for (const auto& e : fs::recursive_directory_iterator(web_dir)) {
                if (chown(e.path().c_str(), *web_uid, *web_gid) != 0) {
                    return std::error_code(errno, std::generic_category());
                }
            }
            if (chown(web_dir.c_str(), *web_uid, *web_gid) != 0) {
                return std::error_code(errno, std::generic_category());
            }
        }
        auto p = child_process::spawn({"nginx",
                                       {"-e", "stderr", "-p", web_dir + "/", "-c", web_dir + "/nginx.conf"},
                                       self->_dir + "/nginx.log",
                                       "",
                                       web_dir,
                                       web_uid,
                                       web_gid});
        if (!p) {
            return p.error();
        }
        m.proc.emplace(std::move(*p));
        return {};
    };
    web.ready = [self, nonce](managed_server&) {
        return http_probe(self->_http_port, nginx_ready_path, nonce, probe_timeout);
    };

    l->_impl->servers.push_back(std::move(named));
    l->_impl->servers.push_back(std::move(web));

    // One validating resolver per perspective (and one for everybody else) when a zone is signed: each keeps its
    // own cache (BR 3.2.2.9: no result reuse across perspectives) and queries BIND from its perspective's address.
    if (has_dnssec(s)) {
        l->_resolver_ports.assign(static_cast<std::size_t>(s.perspectives) + 1, 0);
        for (int k = 0; k <= s.perspectives; ++k) {
            const std::string udir = l->_dir + "/unbound/" + std::to_string(k);
            fs::create_directories(udir, ec);
            if (ec) {
                return fail("cannot create " + udir, ec);
            }
            managed_server u;
            u.name = "unbound" + std::to_string(k);
            u.after_named = true;
            u.launch = [self, k, udir, keys, nonce](managed_server& m) -> result<void> {
                auto port = self->_options.pick_port();
                if (!port) {
                    return port.error();
                }
                self->_resolver_ports[static_cast<std::size_t>(k)] = *port;
                {
                    std::ofstream conf(udir + "/unbound.conf", std::ios::trunc);
                    conf << render_unbound_conf(self->_scenario, k, udir, *port, self->_dns_port, *keys, nonce);
                    if (!conf) {
                        return std::error_code(EIO, std::generic_category());
                    }
                }
                auto p = child_process::spawn(
                    {"unbound", {"-d", "-c", udir + "/unbound.conf"}, udir + "/unbound.log", "", udir, {}, {}});
                if (!p) {
                    return p.error();
                }
                m.proc.emplace(std::move(*p));
                return {};
            };
            u.ready = [self, k, nonce](managed_server&) {
                return dns_probe(self->_resolver_ports[static_cast<std::size_t>(k)], readiness_name, nonce,
                                 probe_timeout);
            };
            l->_impl->servers.push_back(std::move(u));
        }
    }

    // The responders bind port 0 themselves and print "ready <port>": no port race to handle for them.
    auto add_responder = [&](const std::string& name, const std::string& binary, const std::string& config_text,
                             std::optional<std::uint16_t>& port_slot) -> result<void> {
        const std::string conf = l->_dir + "/" + name + ".toml";
        std::ofstream out(conf, std::ios::trunc);
        out << config_text;
        out.close();
        if (!out) {
            return std::error_code(EIO, std::generic_category());
        }
        managed_server m;
        m.name = name;
        const std::string program = find_responder(opts, binary);
        const std::string stdout_path = l->_dir + "/" + name + ".out";
        m.launch = [self, program, conf, name, stdout_path](managed_server& ms) -> result<void> {
            auto p = child_process::spawn(
                {program, {"--config", conf}, self->_dir + "/" + name + ".log", stdout_path, self->_dir, {}, {}});
            if (!p) {
                return p.error();
            }
            ms.proc.emplace(std::move(*p));
            return {};
        };
        m.ready = [stdout_path, &port_slot](managed_server&) {
            port_slot = parse_ready_line(read_file(stdout_path));
            return port_slot.has_value();
        };
        l->_impl->servers.push_back(std::move(m));
        return {};
    };
    if (!s.tls_alpn.empty()) {
        if (auto r = add_responder("alpn", "mpic-lab-alpn", alpn_config_for(s), l->_alpn_port); !r) {
            return fail("cannot write the TLS-ALPN responder's config", r.error());
        }
    }
    if (s.needs_fault_dns()) {
        if (auto r = add_responder("faultdns", "mpic-lab-faultdns", fault_dns_config_for(s), l->_fault_dns_port); !r) {
            return fail("cannot write the fault DNS responder's config", r.error());
        }
    }
    if (s.fault_http) {
        if (auto r = add_responder("faulthttp", "mpic-lab-faulthttp", fault_http_config_for(s), l->_fault_http_port);
            !r) {
            return fail("cannot write the fault HTTP responder's config", r.error());
        }
    }

    managed_server& bind_server = l->_impl->servers.front();
    for (managed_server& m : l->_impl->servers) {
        if (m.after_named || &m == &bind_server) {
            continue;
        }
        ++m.launches;
        if (auto r = m.launch(m); !r) {
            return fail("cannot start " + m.name, r.error());
        }
    }
    if (has_dnssec(s)) {
        std::string why;
        auto signed_zones = sign_dnssec_zones(s, l->_dir, dns_dir, opts.start_timeout, why);
        if (!signed_zones) {
            return fail("cannot sign the DNSSEC zones: " + why, signed_zones.error());
        }
        *keys = std::move(*signed_zones);
    }
    ++bind_server.launches;
    if (auto r = bind_server.launch(bind_server); !r) {
        return fail("cannot start named", r.error());
    }
    const auto deadline = t0 + opts.start_timeout;
    for (;;) {
        bool all_ready = true;
        for (managed_server& m : l->_impl->servers) {
            // Resolvers point at BIND's port: (re)launch them whenever BIND was (re)launched on a new one.
            if (m.after_named && m.launched_for != bind_server.launches) {
                all_ready = false;
                if (m.proc) {
                    m.proc->stop(milliseconds(500));
                    m.proc.reset();
                }
                m.is_ready = false;
                m.launched_for = bind_server.launches;
                ++m.launches;
                if (auto r = m.launch(m); !r) {
                    return fail("cannot start " + m.name, r.error());
                }
                continue;
            }
            if (m.is_ready) {
                continue;
            }
            // A server that lost its port to another process says so in its log: named keeps running without the
            // listener, nginx retries for 2.5 s before exiting. Neither is worth waiting for.
            if (m.proc && m.proc->running() && mentions_port_in_use(read_file(m.proc->log_path()))) {
                m.proc->stop(milliseconds(500));
                m.proc.reset();
            }
            if (m.proc && m.proc->running() && m.ready(m)) {
                if (std::string why = m.check ? m.check(m) : std::string(); !why.empty()) {
                    return fail(m.name + " did not load the scenario:\n" + why, make_error_code(errc::malformed));
                }
                m.is_ready = true;
                continue;
            }
            all_ready = false;
            if (m.proc && m.proc->running()) {
                continue;
            }
            // Dead (or stopped by its probe because its port was taken): relaunch on a new port, or give up.
            std::string log = m.proc ? tail_of_file(m.proc->log_path()) : std::string();
            bool port_lost = !m.proc || mentions_port_in_use(log);
            if (m.proc) {
                m.proc->stop(milliseconds(100));
                m.proc.reset();
            }
            if (!port_lost || m.launches >= max_launches) {
                return fail(m.name + " exited during start-up; its log ends with:\n" + log, {});
            }
            ++m.launches;
            if (auto r = m.launch(m); !r) {
                return fail("cannot restart " + m.name, r.error());
            }
        }
        if (all_ready) {
            break;
        }
        if (clock_type::now() > deadline) {
            std::string late;
            for (const managed_server& m : l->_impl->servers) {
                if (!m.is_ready) {
                    late += " " + m.name;
                }
            }
            return fail("servers not ready within " + std::to_string(opts.start_timeout.count()) + " ms:" + late,
                        make_error_code(errc::timed_out));
        }
        std::this_thread::sleep_for(poll_interval);
    }
    l->_startup_time = std::chrono::duration_cast<milliseconds>(clock_type::now() - t0);
    return l;
}

std::string lab::summary_json() const {
    nlohmann::json j;
    j["dir"] = _dir;
    j["startup_ms"] = _startup_time.count();
    j["dns"] = {{"address", "127.0.0.1"}, {"port", _dns_port}};
    j["http"] = {{"address", "127.0.0.1"}, {"port", _http_port}};
    j["https"] = {{"address", "127.0.0.1"}, {"port", _https_port}, {"cert", _cert_path}};
    j["tls_alpn"] = _alpn_port ? nlohmann::json{{"address", "127.0.0.1"}, {"port", *_alpn_port}} : nlohmann::json();
    j["fault_dns"] =
        _fault_dns_port ? nlohmann::json{{"address", "127.0.0.1"}, {"port", *_fault_dns_port}} : nlohmann::json();
    j["fault_http"] =
        _fault_http_port ? nlohmann::json{{"address", "127.0.0.1"}, {"port", *_fault_http_port}} : nlohmann::json();
    nlohmann::json ps = nlohmann::json::array();
    for (int k = 1; k <= _scenario.perspectives; ++k) {
        endpoint d = dns_for(k);
        ps.push_back({{"index", k},
                      {"source", perspective_address(k)},
                      {"dns", {{"address", d.address}, {"port", d.port}}},
                      {"dns_behaviour", view_dns_behaviour(_scenario, k) == dns_behaviour::normal        ? "normal"
                                        : view_dns_behaviour(_scenario, k) == dns_behaviour::unreachable ? "unreachable"
                                        : view_dns_behaviour(_scenario, k) == dns_behaviour::stalled     ? "stalled"
                                                                                                         : "fault"},
                      {"http_behaviour",
                       view_http_behaviour(_scenario, k) == http_behaviour::normal ? "normal" : "unreachable"}});
    }
    j["perspectives"] = ps;
    nlohmann::json resolvers = nlohmann::json::array();
    for (std::size_t k = 0; k < _resolver_ports.size(); ++k) {
        resolvers.push_back({{"perspective", k}, {"address", "127.0.0.1"}, {"port", _resolver_ports[k]}});
    }
    j["validating_resolvers"] = resolvers;
    nlohmann::json procs = nlohmann::json::array();
    for (const server_info& si : servers()) {
        procs.push_back({{"name", si.name}, {"pid", si.pid}, {"log", si.log_path}});
    }
    j["servers"] = procs;
    return j.dump();
}

} // namespace mpic::lab
