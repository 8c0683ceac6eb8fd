#pragma once
// The lab's servers as uniform records: how to (re)launch one, how to prove it is ready, and what to check once it
// is. lab.cc drives them; this file knows each server's command line and readiness proof. Internal to the lab.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "core/result.hh"
#include "tools/mpic-lab/dnssec.hh"
#include "tools/mpic-lab/lab.hh"
#include "tools/mpic-lab/process.hh"

namespace mpic::lab {

/// One server under the lab's control. Invariant: `proc` is engaged from a successful launch until the server is
/// stopped or found dead.
struct managed_server {
    std::string name;
    std::optional<child_process> proc;
    std::function<result<void>(managed_server&)> launch; ///< picks ports, writes its config, spawns
    std::function<bool(managed_server&)> ready;          ///< one readiness probe, bounded by a short timeout
    std::function<std::string(managed_server&)> check;   ///< after ready: "" or why it does not serve the scenario
    bool is_ready = false;
    int launches = 0;
    bool after_bind = false; ///< launched once BIND has been (re)launched: it needs BIND's port
    int launched_for = 0;    ///< BIND's launch count when this server was last launched (after_bind only)
};

/// What the server builders share with the lab: paths, the readiness nonce, and where to publish the ports they
/// pick (the lab's own fields, which outlive every launch).
struct server_env {
    const scenario* s = nullptr;
    const options* opts = nullptr;
    std::string dir;     ///< the lab's temporary directory
    std::string dns_dir; ///< BIND's directory (zone files written by write_bind_zones)
    std::string web_dir; ///< nginx's prefix directory
    std::string cert_path;
    std::string key_path;
    std::string nonce;
    std::uint16_t* dns_port = nullptr;
    std::uint16_t* http_port = nullptr;
    std::uint16_t* https_port = nullptr;
    const std::optional<std::uint16_t>* fault_http_port = nullptr; ///< known before nginx launches when needed
    std::vector<std::uint16_t>* resolver_ports = nullptr;          ///< sized N+1 before make_unbound
    std::shared_ptr<const std::vector<zone_keys>> dnssec_keys;     ///< filled before BIND (and so unbound) launch
};

/// BIND 9 (`named -g`): ready when it answers the nonce TXT; checked for zones it refused to load.
managed_server make_named(const server_env& env);

/// nginx as `run_as` (nobody when the lab is root): ready when GET /.mpic-lab/ready returns the nonce.
managed_server make_nginx(const server_env& env, std::optional<uid_t> uid, std::optional<gid_t> gid);

/// unbound validating resolver for perspective k (0 = everybody else); launched after BIND.
managed_server make_unbound(const server_env& env, int k);

/// A lab responder (`program --config conf`): ready when it prints "ready <port>", which lands in `port_slot`.
managed_server make_responder(const server_env& env, const std::string& name, const std::string& program,
                              const std::string& conf, std::optional<std::uint16_t>* port_slot);

/// The responder binary `name`: options::responders_dir, the build tree, next to the running executable, PATH.
std::string find_responder(const options& o, const std::string& name);

/// True when a server's log says its port was taken (named, nginx and unbound wordings).
bool mentions_port_in_use(const std::string& log);

/// The whole file ("" when unreadable).
std::string read_file(const std::string& path);

} // namespace mpic::lab
