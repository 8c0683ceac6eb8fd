// Keys and signatures come from BIND's own tools rather than OpenSSL calls: the zone files they sign are the ones
// BIND loads, and a lab that signs the way operators sign is the point of the exercise.

#include "tools/mpic-lab/dnssec.hh"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tools/mpic-lab/bind_config.hh"
#include "tools/mpic-lab/process.hh"
#include "tools/mpic-lab/views.hh"

namespace mpic::lab {

namespace fs = std::filesystem;

bool has_dnssec(const scenario& s) {
    return std::any_of(s.zones.begin(), s.zones.end(), [](const zone& z) { return z.dnssec; });
}

bool signed_with_zone_key(const scenario& s, const zone& z, int k) {
    return view_records(s, z, k) == z.records;
}

namespace {

/// The DNSKEY line of the only *.key file in `dir` ("" when there is none).
std::string read_dnskey(const std::string& dir) {
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() != ".key") {
            continue;
        }
        std::ifstream in(e.path());
        std::string line;
        while (std::getline(in, line)) {
            if (!line.empty() && line[0] != ';') {
                return line;
            }
        }
    }
    return "";
}

} // namespace

result<std::vector<zone_keys>> sign_dnssec_zones(const scenario& s, const std::string& dir, const std::string& bind_dir,
                                                 std::chrono::milliseconds timeout, std::string& failure) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto left = [&] {
        return std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                          deadline - std::chrono::steady_clock::now()));
    };
    std::vector<zone_keys> keys;
    std::vector<spawn_options> keygen;
    std::error_code ec;
    for (const zone& z : s.zones) {
        if (!z.dnssec) {
            continue;
        }
        zone_keys k{z.name, dir + "/keys/" + z.name + "/real", dir + "/keys/" + z.name + "/attacker", ""};
        for (const std::string& d : {k.real_dir, k.attacker_dir}) {
            fs::create_directories(d, ec);
            if (ec) {
                failure = "cannot create " + d;
                return ec;
            }
            // -f KSK: the key is published with the SEP flag (257), the trust anchor unbound will hold.
            keygen.push_back({"dnssec-keygen",
                              {"-q", "-a", "ECDSAP256SHA256", "-f", "KSK", "-K", d, z.name},
                              d + "/keygen.log",
                              "",
                              d,
                              {},
                              {}});
        }
        keys.push_back(std::move(k));
    }
    if (auto r = run_all(keygen, left(), failure); !r) {
        return r.error();
    }
    for (zone_keys& k : keys) {
        k.trust_anchor = read_dnskey(k.real_dir);
        if (k.trust_anchor.empty()) {
            failure = "dnssec-keygen wrote no key for " + k.zone;
            return make_error_code(errc::io_error);
        }
    }
    std::vector<spawn_options> signing;
    for (int v = 0; v <= s.perspectives; ++v) {
        if (v != 0 && !has_own_dns_view(s, v)) {
            continue;
        }
        const std::string view_dir = bind_dir + "/" + bind_view_dir(v);
        for (const zone_keys& k : keys) {
            const zone& z =
                *std::find_if(s.zones.begin(), s.zones.end(), [&](const zone& c) { return c.name == k.zone; });
            const std::string& key_dir = signed_with_zone_key(s, z, v) ? k.real_dir : k.attacker_dir;
            // -S: smart signing (adds the DNSKEY RRset from -K); -z: the single KSK also signs the zone data.
            signing.push_back({"dnssec-signzone",
                               {"-q", "-z", "-S", "-K", key_dir, "-o", z.name, "-f", view_dir + "/" + zone_file_name(z),
                                view_dir + "/" + z.name + ".zone"},
                               view_dir + "/" + z.name + ".sign.log",
                               "",
                               view_dir,
                               {},
                               {}});
        }
    }
    if (auto r = run_all(signing, left(), failure); !r) {
        return r.error();
    }
    return keys;
}

std::string render_unbound_conf(const scenario& s, int k, const std::string& dir, std::uint16_t port,
                                std::uint16_t bind_port, const std::vector<zone_keys>& keys, const std::string& nonce) {
    const std::string source = k == 0 ? std::string("127.0.0.1") : perspective_address(k);
    std::string out = "# Written by mpic-lab for one run; removed with the lab's directory.\nserver:\n";
    out += "    username: \"\"\n    chroot: \"\"\n    directory: \"" + dir + "\"\n";
    out += "    pidfile: \"" + dir + "/unbound.pid\"\n    use-syslog: no\n    logfile: \"\"\n    verbosity: 1\n";
    out += "    num-threads: 1\n    so-reuseport: no\n    do-ip6: no\n";
    out += "    interface: 127.0.0.1@" + std::to_string(port) + "\n    port: " + std::to_string(port) + "\n";
    // The resolver's own queries leave from the perspective's address: that is what selects BIND's view.
    out += "    outgoing-interface: " + source + "\n";
    out += "    access-control: 127.0.0.0/8 allow\n    do-not-query-localhost: no\n";
    // ede: RFC 8914 Extended DNS Errors on SERVFAIL ("DNSSEC Bogus"), so the engine can tell a validation failure
    // from an outage (BR 3.2.2.8.1) the way it will against a production resolver that sends them.
    out += "    module-config: \"validator iterator\"\n    val-log-level: 2\n    qname-minimisation: no\n    ede: yes\n";
    out += "    prefetch: no\n    aggressive-nsec: no\n";
    // RFC 6761 names the lab uses are special-cased by unbound (local answers); switch that off.
    for (const char* z : {"test.", "invalid.", "localhost.", "onion.", "home.arpa.", "127.in-addr.arpa."}) {
        out += std::string("    local-zone: \"") + z + "\" nodefault\n";
    }
    out += "    unblock-lan-zones: yes\n    insecure-lan-zones: yes\n";
    out += std::string("    local-data: \"") + readiness_name + ". 60 IN TXT \\\"" + nonce + "\\\"\"\n";
    for (const zone_keys& key : keys) {
        out += "    trust-anchor: \"" + key.trust_anchor + "\"\n";
    }
    out += "remote-control:\n    control-enable: no\n";
    for (const zone& z : s.zones) {
        out +=
            "stub-zone:\n    name: \"" + z.name + ".\"\n    stub-addr: 127.0.0.1@" + std::to_string(bind_port) + "\n";
    }
    return out;
}

} // namespace mpic::lab
