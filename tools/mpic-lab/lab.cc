// Start-up is parallel: every server is spawned first (BIND once DNSSEC signing, if any, is done; the validating
// resolvers once BIND has its port), then one loop polls them all every 10 ms: process alive? log says its port
// was taken? readiness probe answered? Servers start in 50-250 ms each (environment.md §2-3), so a scenario is up
// in about the time of its slowest server rather than the sum.

#include "tools/mpic-lab/lab.hh"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tools/mpic-lab/bind_config.hh"
#include "tools/mpic-lab/dnssec.hh"
#include "tools/mpic-lab/probe.hh"
#include "tools/mpic-lab/responder_configs.hh"
#include "tools/mpic-lab/self_signed.hh"
#include "tools/mpic-lab/servers.hh"
#include "tools/mpic-lab/views.hh"

namespace mpic::lab {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

namespace {

/// How often start-up polls each server.
constexpr milliseconds poll_interval{10};
/// A server that loses its port to another process is relaunched on a new port at most this often.
constexpr int max_launches = 5;

/// The user nginx runs as: nobody when the lab is root (the issue's `runuser -u nobody`), else the lab's own.
std::pair<std::optional<uid_t>, std::optional<gid_t>> web_user() {
    if (geteuid() == 0) {
        if (passwd* pw = getpwnam("nobody")) {
            return {pw->pw_uid, pw->pw_gid};
        }
    }
    return {std::nullopt, std::nullopt};
}

/// Every host any perspective's HTTP rules name, for the HTTPS certificate's SANs.
std::vector<std::string> https_names(const scenario& s) {
    std::vector<std::string> names;
    for (int k = 0; k <= s.perspectives; ++k) {
        for (const http_rule& r : view_http_rules(s, k)) {
            if (r.host != "*" && std::find(names.begin(), names.end(), r.host) == names.end()) {
                names.push_back(r.host);
            }
        }
    }
    names.push_back("localhost");
    return names;
}

} // namespace

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

    auto keys = std::make_shared<std::vector<zone_keys>>();
    server_env env;
    env.s = &l->_scenario;
    env.opts = &l->_options;
    env.dir = l->_dir;
    env.dns_dir = l->_dir + "/dns";
    env.web_dir = l->_dir + "/nginx";
    env.cert_path = env.web_dir + "/cert.pem";
    env.key_path = env.web_dir + "/key.pem";
    env.nonce = random_hex(24);
    env.dns_port = &l->_dns_port;
    env.http_port = &l->_http_port;
    env.https_port = &l->_https_port;
    env.resolver_ports = &l->_resolver_ports;
    env.fault_http_port = &l->_fault_http_port;
    env.dnssec_keys = keys;
    l->_cert_path = env.cert_path;

    std::error_code ec;
    fs::create_directories(env.dns_dir, ec);
    fs::create_directories(env.web_dir + "/tmp", ec);
    if (ec) {
        return fail("cannot create the lab's directories", ec);
    }
    if (auto w = write_bind_zones(s, env.dns_dir, env.nonce); !w) {
        return fail("cannot write the zone files", w.error());
    }
    if (auto w = write_self_signed(https_names(s), env.cert_path, env.key_path); !w) {
        return fail("cannot create the HTTPS certificate", w.error());
    }

    std::vector<managed_server>& servers = l->_impl->servers;
    servers.push_back(make_named(env)); // first: the loop below relies on it
    auto [uid, gid] = web_user();
    servers.push_back(make_nginx(env, uid, gid));
    // One validating resolver per perspective (and one for everybody else) when a zone is signed: each keeps its
    // own cache (BR 3.2.2.9: no result reuse across perspectives) and queries BIND from its perspective's address.
    if (has_dnssec(s)) {
        l->_resolver_ports.assign(static_cast<std::size_t>(s.perspectives) + 1, 0);
        for (int k = 0; k <= s.perspectives; ++k) {
            servers.push_back(make_unbound(env, k));
        }
    }
    // The responders bind port 0 themselves and print "ready <port>": no port race to handle for them.
    struct responder_plan {
        bool wanted;
        const char* name;
        const char* binary;
        std::string (*config)(const scenario&);
        std::optional<std::uint16_t>* port;
    };
    const responder_plan plans[] = {
        {!s.tls_alpn.empty(), "alpn", "mpic-lab-alpn", alpn_config_for, &l->_alpn_port},
        {s.needs_fault_dns(), "faultdns", "mpic-lab-faultdns", fault_dns_config_for, &l->_fault_dns_port},
        {s.fault_http.has_value(), "faulthttp", "mpic-lab-faulthttp", fault_http_config_for, &l->_fault_http_port},
    };
    for (const responder_plan& p : plans) {
        if (!p.wanted) {
            continue;
        }
        const std::string conf = l->_dir + "/" + p.name + ".toml";
        std::ofstream out(conf, std::ios::trunc);
        out << p.config(s);
        out.close();
        if (!out) {
            return fail(std::string("cannot write ") + conf, std::error_code(EIO, std::generic_category()));
        }
        servers.push_back(make_responder(env, p.name, find_responder(opts, p.binary), conf, p.port));
    }

    managed_server& bind_server = servers.front();
    // nginx proxies http = "fault" perspectives to the fault HTTP responder, so it needs that port in its config:
    // start the responder first (it reports its port within milliseconds).
    bool fault_proxy = false;
    for (int k = 1; k <= s.perspectives; ++k) {
        fault_proxy = fault_proxy || view_http_behaviour(s, k) == http_behaviour::fault;
    }
    if (fault_proxy) {
        managed_server& fh = servers.back(); // faulthttp is the last responder pushed (the scenario requires it)
        ++fh.launches;
        if (auto r = fh.launch(fh); !r) {
            return fail("cannot start " + fh.name, r.error());
        }
        while (!fh.ready(fh)) {
            if (!fh.proc->running() || clock_type::now() > t0 + opts.start_timeout) {
                return fail("faulthttp did not start; its log ends with:\n" + tail_of_file(fh.proc->log_path()),
                            make_error_code(errc::timed_out));
            }
            std::this_thread::sleep_for(milliseconds(2));
        }
        fh.is_ready = true;
    }
    for (managed_server& m : servers) {
        if (m.launches > 0) {
            continue;
        }
        if (m.after_bind || &m == &bind_server) {
            continue;
        }
        ++m.launches;
        if (auto r = m.launch(m); !r) {
            return fail("cannot start " + m.name, r.error());
        }
    }
    // Signing runs while nginx and the responders start; BIND needs the signed files.
    if (has_dnssec(s)) {
        std::string why;
        auto signed_zones = sign_dnssec_zones(s, l->_dir, env.dns_dir, opts.start_timeout, why);
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
        // Resolvers point at BIND's port: (re)launch them as soon as BIND was (re)launched on a new one, before
        // any probing, so they start in parallel with BIND.
        for (managed_server& m : servers) {
            if (m.after_bind && m.launched_for != bind_server.launches) {
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
            }
        }
        for (managed_server& m : servers) {
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
            // Dead, or stopped above because its port was taken: relaunch on a new port, or give up.
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
            for (const managed_server& m : servers) {
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
        ps.push_back(
            {{"index", k},
             {"source", perspective_address(k)},
             {"dns", {{"address", d.address}, {"port", d.port}}},
             {"dns_behaviour", view_dns_behaviour(_scenario, k) == dns_behaviour::normal        ? "normal"
                               : view_dns_behaviour(_scenario, k) == dns_behaviour::unreachable ? "unreachable"
                               : view_dns_behaviour(_scenario, k) == dns_behaviour::stalled     ? "stalled"
                                                                                                : "fault"},
             {"http_behaviour", view_http_behaviour(_scenario, k) == http_behaviour::normal        ? "normal"
                                : view_http_behaviour(_scenario, k) == http_behaviour::unreachable ? "unreachable"
                                                                                                   : "fault"}});
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
