// named.conf and zone files. The options below switch off everything a lab does not want from a production
// authoritative server: recursion, NOTIFY, the control channel, interface scanning and the name-syntax checks
// that would refuse deliberately odd test data (underscores in host names, CNAME targets without addresses).

#include "tools/mpic-lab/bind_config.hh"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "tools/mpic-lab/views.hh"

namespace mpic::lab {

namespace {

std::string view_name(int k) {
    return k == 0 ? "default" : "p" + std::to_string(k);
}

result<void> write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
        return std::error_code(EIO, std::generic_category());
    }
    return {};
}

} // namespace

std::string render_zone(const std::string& apex, const std::vector<record>& records) {
    std::string out = "$TTL 60\n";
    // RFC 1035 §3.3.13 SOA; RFC 2308 §4: the last field (60 s) is the negative-caching TTL.
    out += apex + ". 60 IN SOA " + lab_ns_name + ". hostmaster." + apex + ". 1 3600 600 86400 60\n";
    bool has_apex_ns = false;
    for (const record& r : records) {
        has_apex_ns = has_apex_ns || (r.owner == apex && r.type == "NS");
    }
    if (!has_apex_ns) {
        out += apex + ". 60 IN NS " + lab_ns_name + ".\n";
    }
    for (const record& r : records) {
        out += r.owner + ". " + std::to_string(r.ttl) + " IN " + r.type + " " + r.rdata + "\n";
    }
    return out;
}

std::string render_named_conf(const scenario& s, const std::string& dir, std::uint16_t port) {
    std::string blackhole;
    for (int k = 1; k <= s.perspectives; ++k) {
        if (view_dns_behaviour(s, k) == dns_behaviour::unreachable) {
            blackhole += perspective_address(k) + "; ";
        }
    }
    std::string out;
    out += "# Written by mpic-lab for one run; removed with the lab's directory.\n";
    out += "options {\n";
    out += "    directory \"" + dir + "\";\n";
    out += "    pid-file \"" + dir + "/named.pid\";\n";
    out += "    session-keyfile \"" + dir + "/session.key\";\n";
    out += "    managed-keys-directory \"" + dir + "\";\n";
    out += "    listen-on port " + std::to_string(port) + " { 127.0.0.1; };\n";
    out += "    listen-on-v6 { none; };\n";
    out += "    recursion no;\n    dnssec-validation no;\n    allow-query { any; };\n    notify no;\n";
    out += "    automatic-interface-scan no;\n    interface-interval 0;\n";
    out += "    check-names primary ignore;\n    check-names secondary ignore;\n    check-names response ignore;\n";
    out += "    check-integrity no;\n    check-mx ignore;\n    check-wildcard no;\n    check-sibling no;\n";
    out += "    minimal-responses no;\n";
    // One named worker (-n 1) with the default 208 KiB socket buffer holds ~270 queries: a burst from the engine
    // (400 concurrent submissions x 3 perspectives in tests/quorum_e2e, 1,000 in flight in bench/dns) overflowed it,
    // and the retries, sent together 2 s later, overflowed it again. A lab that drops what a real resolver farm
    // would absorb makes the engine look flaky; 4 MiB (the kernel caps it at net.core.rmem_max) absorbs those bursts.
    out += "    udp-receive-buffer 4194304;\n";
    if (!blackhole.empty()) {
        out += "    blackhole { " + blackhole + "};\n";
    }
    out += "};\ncontrols { };\n";
    out += "logging { channel lab { stderr; severity info; print-time yes; }; category default { lab; }; };\n";
    for (int k = 1; k <= s.perspectives; ++k) {
        if (!has_own_dns_view(s, k)) {
            continue;
        }
        out += "view \"" + view_name(k) + "\" {\n    match-clients { " + perspective_address(k) + "/32; };\n";
        for (const zone& z : s.zones) {
            out += "    zone \"" + z.name + "\" { type primary; file \"" + view_name(k) + "/" + zone_file_name(z) +
                   "\"; };\n";
        }
        out += "};\n";
    }
    out += "view \"default\" {\n    match-clients { any; };\n";
    out += std::string("    zone \"") + readiness_zone + "\" { type primary; file \"default/" + readiness_zone +
           ".zone\"; };\n";
    for (const zone& z : s.zones) {
        out += "    zone \"" + z.name + "\" { type primary; file \"default/" + zone_file_name(z) + "\"; };\n";
    }
    out += "};\n";
    return out;
}

result<void> write_bind_zones(const scenario& s, const std::string& dir, const std::string& nonce) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (int k = 0; k <= s.perspectives; ++k) {
        if (k != 0 && !has_own_dns_view(s, k)) {
            continue;
        }
        fs::path vdir = fs::path(dir) / view_name(k);
        fs::create_directories(vdir, ec);
        if (ec) {
            return ec;
        }
        for (const zone& z : s.zones) {
            auto w = write_file(vdir / (z.name + ".zone"), render_zone(z.name, view_records(s, z, k)));
            if (!w) {
                return w.error();
            }
        }
    }
    // The readiness zone holds the lab's name server name, so that name needs an address (BIND refuses an in-zone
    // NS without one).
    record ready;
    ready.owner = readiness_name;
    ready.type = "TXT";
    ready.rdata = "\"" + nonce + "\"";
    record ns_address;
    ns_address.owner = lab_ns_name;
    ns_address.type = "A";
    ns_address.rdata = "127.0.0.1";
    return write_file(fs::path(dir) / "default" / (std::string(readiness_zone) + ".zone"),
                      render_zone(readiness_zone, {ready, ns_address}));
}

result<std::string> write_named_conf(const scenario& s, const std::string& dir, std::uint16_t port) {
    std::string conf = (std::filesystem::path(dir) / "named.conf").string();
    auto w = write_file(conf, render_named_conf(s, dir, port));
    if (!w) {
        return w.error();
    }
    return conf;
}

std::string bind_view_dir(int k) {
    return view_name(k);
}

std::string zone_file_name(const zone& z) {
    return z.name + (z.dnssec ? ".zone.signed" : ".zone");
}

} // namespace mpic::lab
