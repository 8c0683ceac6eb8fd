// Scenario TOML reader. toml++ is built with exceptions on Debian (only the `ex` ABI is shipped), so the one
// toml::parse call is wrapped and its parse_error turned into a scenario_error; everything after that walks the
// node tree without throwing. Every rejection names the dotted key path and the source position, because a
// scenario author's first question is "which line?".

#include "tools/mpic-lab/scenario.hh"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "tools/mpic-lab/scenario_names.hh"
#include "tools/mpic-lab/views.hh"

namespace mpic::lab {

std::string perspective_address(int k) {
    return "127.0.0." + std::to_string(k + 1);
}

bool scenario::needs_fault_dns() const {
    return fault_dns.has_value() || std::any_of(overrides.begin(), overrides.end(), [](const perspective_override& o) {
               return o.dns == dns_behaviour::stalled || o.dns == dns_behaviour::fault;
           });
}

std::string scenario_error::to_string() const {
    std::string out = file.empty() ? std::string("<scenario>") : file;
    if (line > 0) {
        out += ":" + std::to_string(line) + ":" + std::to_string(column);
    }
    out += ": ";
    if (!key.empty()) {
        out += key + ": ";
    }
    return out + message;
}

namespace {

/// Thrown only inside this file, from the tree walk to parse_scenario; never crosses the public API.
struct reject {
    scenario_error error;
};

/// A dotted key path plus the file name, for error messages.
class reader {
public:
    explicit reader(std::string file) : _file(std::move(file)) {}

    [[noreturn]] void fail(const std::string& key, const toml::node* at, std::string message) const {
        scenario_error e{_file, key, std::move(message), 0, 0};
        if (at != nullptr) {
            e.line = static_cast<int>(at->source().begin.line);
            e.column = static_cast<int>(at->source().begin.column);
        }
        throw reject{std::move(e)};
    }

    static std::string child(const std::string& parent, std::string_view key) {
        bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
        });
        std::string k = bare ? std::string(key) : "\"" + std::string(key) + "\"";
        return parent.empty() ? k : parent + "." + k;
    }
    static std::string index(const std::string& parent, std::size_t i) {
        return parent + "[" + std::to_string(i) + "]";
    }

    /// Rejects keys of `t` not in `allowed`: a typo must not silently mean "default".
    void only_keys(const toml::table& t, const std::string& path,
                   std::initializer_list<std::string_view> allowed) const {
        for (auto&& [k, v] : t) {
            if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
                fail(child(path, k.str()), &v, "unknown key");
            }
        }
    }

    const toml::table& table_at(const toml::node& n, const std::string& path) const {
        if (!n.is_table()) {
            fail(path, &n, "expected a table");
        }
        return *n.as_table();
    }
    const toml::array& array_at(const toml::node& n, const std::string& path) const {
        if (!n.is_array()) {
            fail(path, &n, "expected an array");
        }
        return *n.as_array();
    }
    std::string string_at(const toml::node& n, const std::string& path) const {
        if (!n.is_string()) {
            fail(path, &n, "expected a string");
        }
        return n.as_string()->get();
    }
    std::int64_t int_at(const toml::node& n, const std::string& path, std::int64_t lo, std::int64_t hi) const {
        if (!n.is_integer()) {
            fail(path, &n, "expected an integer");
        }
        std::int64_t v = n.as_integer()->get();
        if (v < lo || v > hi) {
            fail(path, &n, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
        }
        return v;
    }
    bool bool_at(const toml::node& n, const std::string& path) const {
        if (!n.is_boolean()) {
            fail(path, &n, "expected true or false");
        }
        return n.as_boolean()->get();
    }
    const toml::node& required(const toml::table& t, const std::string& path, std::string_view key) const {
        const toml::node* n = t.get(key);
        if (n == nullptr) {
            fail(child(path, key), &t, "required key is missing");
        }
        return *n;
    }
    std::string required_string(const toml::table& t, const std::string& path, std::string_view key) const {
        return string_at(required(t, path, key), child(path, key));
    }
    /// Precondition: `name` is a syntactically checked domain name in the text of node `n`.
    std::string domain_at(const toml::node& n, const std::string& path) const {
        std::string s = string_at(n, path);
        std::string why = check_domain_name(s);
        if (!why.empty()) {
            fail(path, &n, why);
        }
        return normalise_name(s);
    }

private:
    std::string _file;
};

void read_lab(const reader& r, const toml::table& t, scenario& s) {
    r.only_keys(t, "lab", {"perspectives", "description"});
    const toml::node* n = t.get("perspectives");
    if (n == nullptr) {
        r.fail("lab.perspectives", &t, "required key is missing");
    }
    s.perspectives = static_cast<int>(r.int_at(*n, "lab.perspectives", 1, max_perspectives));
    if (const toml::node* d = t.get("description")) {
        s.description = r.string_at(*d, "lab.description");
    }
}

/// Reads one record table. `origin` is the zone for relative names, or empty when names must be absolute
/// (per-perspective overrides, where a record may belong to any zone).
record read_record(const reader& r, const toml::table& t, const std::string& path, const std::string& origin) {
    r.only_keys(t, path, {"name", "type", "ttl", "value", "flags", "tag", "rdata", "preference"});
    record rec;
    std::string name = "@";
    if (const toml::node* n = t.get("name")) {
        name = r.string_at(*n, reader::child(path, "name"));
    }
    std::string owner_error;
    rec.owner = resolve_owner(name, origin, owner_error);
    if (!owner_error.empty()) {
        r.fail(reader::child(path, "name"), t.get("name") != nullptr ? t.get("name") : &t, owner_error);
    }
    rec.type = r.required_string(t, path, "type");
    std::transform(rec.type.begin(), rec.type.end(), rec.type.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (const toml::node* n = t.get("ttl")) {
        rec.ttl = static_cast<std::uint32_t>(r.int_at(*n, reader::child(path, "ttl"), 0, 2147483647));
    }
    const std::string vpath = reader::child(path, "value");
    const toml::node* value = t.get("value");
    const toml::node* rdata = t.get("rdata");
    auto need_value = [&]() -> const toml::node& {
        if (value == nullptr) {
            r.fail(vpath, &t, "required key is missing for type " + rec.type);
        }
        return *value;
    };
    auto forbid = [&](std::string_view key) {
        if (const toml::node* n = t.get(key)) {
            r.fail(reader::child(path, key), n, "not allowed for type " + rec.type);
        }
    };
    if (rdata != nullptr) {
        // Raw presentation-form RDATA: the escape hatch for any type BIND knows (MX, SRV, TYPE65534, ...).
        if (value != nullptr) {
            r.fail(vpath, value, "give either value or rdata, not both");
        }
        std::string why = check_raw_type(rec.type);
        if (!why.empty()) {
            r.fail(reader::child(path, "type"), t.get("type"), why);
        }
        rec.rdata = r.string_at(*rdata, reader::child(path, "rdata"));
        if (rec.rdata.empty() || rec.rdata.find_first_of(std::string("\n\r\0", 3)) != std::string::npos) {
            r.fail(reader::child(path, "rdata"), rdata, "must be one non-empty line");
        }
        return rec;
    }
    if (rec.type != "CAA") {
        forbid("flags");
        forbid("tag");
    }
    if (rec.type != "MX") {
        forbid("preference");
    }
    if (rec.type == "A" || rec.type == "AAAA") {
        std::string v = r.string_at(need_value(), vpath);
        unsigned char buf[16];
        if (inet_pton(rec.type == "A" ? AF_INET : AF_INET6, v.c_str(), buf) != 1) {
            r.fail(vpath, value, "'" + v + "' is not an IPv" + (rec.type == "A" ? "4" : "6") + " address");
        }
        rec.rdata = v;
        rec.value = v;
    } else if (rec.type == "CNAME" || rec.type == "DNAME" || rec.type == "PTR" || rec.type == "NS") {
        rec.value = r.domain_at(need_value(), vpath);
        rec.rdata = rec.value + ".";
    } else if (rec.type == "MX") {
        std::int64_t pref = 10;
        if (const toml::node* p = t.get("preference")) {
            pref = r.int_at(*p, reader::child(path, "preference"), 0, 65535);
        }
        rec.value = r.domain_at(need_value(), vpath);
        rec.preference = static_cast<int>(pref);
        rec.rdata = std::to_string(pref) + " " + rec.value + ".";
    } else if (rec.type == "TXT") {
        // RFC 1035 §3.3.14: TXT-DATA is one or more <character-string>s of at most 255 octets each.
        std::vector<std::string> strings;
        const toml::node& v = need_value();
        if (v.is_array()) {
            const toml::array& a = *v.as_array();
            if (a.empty()) {
                r.fail(vpath, &v, "a TXT record needs at least one string");
            }
            for (std::size_t i = 0; i < a.size(); ++i) {
                strings.push_back(r.string_at(a[i], reader::index(vpath, i)));
            }
        } else {
            strings.push_back(r.string_at(v, vpath));
        }
        for (std::size_t i = 0; i < strings.size(); ++i) {
            if (strings[i].size() > 255) {
                r.fail(v.is_array() ? reader::index(vpath, i) : vpath, &v,
                       "a TXT character-string holds at most 255 octets (RFC 1035 §3.3.14)");
            }
            rec.rdata += (i ? " " : "") + quote_character_string(strings[i]);
        }
        rec.strings = std::move(strings);
    } else if (rec.type == "CAA") {
        // RFC 8659 §4.1: flags is one octet; the tag is 1..15 ASCII letters and digits; the value is free-form.
        std::int64_t flags = 0;
        if (const toml::node* f = t.get("flags")) {
            flags = r.int_at(*f, reader::child(path, "flags"), 0, 255);
        }
        std::string tag = r.required_string(t, path, "tag");
        if (tag.empty() || tag.size() > 15 ||
            !std::all_of(tag.begin(), tag.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); })) {
            r.fail(reader::child(path, "tag"), t.get("tag"), "a CAA tag is 1 to 15 letters and digits (RFC 8659 §4.1)");
        }
        std::string v = r.string_at(need_value(), vpath);
        rec.rdata = std::to_string(flags) + " " + tag + " " + quote_character_string(v);
        rec.value = v;
        rec.caa_flags = static_cast<int>(flags);
        rec.caa_tag = tag;
    } else {
        r.fail(reader::child(path, "type"), t.get("type"),
               "unsupported type '" + rec.type + "' (use A, AAAA, CNAME, DNAME, TXT, CAA, PTR, NS, MX, or give rdata)");
    }
    return rec;
}

std::vector<record> read_records(const reader& r, const toml::node& n, const std::string& path,
                                 const std::string& origin) {
    std::vector<record> out;
    const toml::array& a = r.array_at(n, path);
    for (std::size_t i = 0; i < a.size(); ++i) {
        out.push_back(read_record(r, r.table_at(a[i], reader::index(path, i)), reader::index(path, i), origin));
    }
    return out;
}

zone read_zone(const reader& r, std::string_view key, const toml::node& n, const std::string& path) {
    const toml::table& t = r.table_at(n, path);
    r.only_keys(t, path, {"dnssec", "records"});
    zone z;
    std::string why = check_domain_name(std::string(key));
    if (!why.empty()) {
        r.fail(path, &n, "zone name: " + why);
    }
    z.name = normalise_name(std::string(key));
    if (const toml::node* d = t.get("dnssec")) {
        z.dnssec = r.bool_at(*d, reader::child(path, "dnssec"));
    }
    if (const toml::node* recs = t.get("records")) {
        z.records = read_records(r, *recs, reader::child(path, "records"), z.name);
    }
    return z;
}

http_rule read_http_rule(const reader& r, const toml::table& t, const std::string& path) {
    r.only_keys(t, path, {"host", "path", "status", "body", "headers", "redirect"});
    http_rule rule;
    if (const toml::node* h = t.get("host")) {
        std::string host = r.string_at(*h, reader::child(path, "host"));
        rule.host = host == "*" ? host : r.domain_at(*h, reader::child(path, "host"));
    }
    rule.path = r.required_string(t, path, "path");
    if (rule.path.empty() || rule.path[0] != '/' ||
        std::any_of(rule.path.begin(), rule.path.end(), [](unsigned char c) { return c <= ' ' || c >= 0x7f; }) ||
        rule.path.find_first_of("\"\\{};$?#") != std::string::npos) {
        r.fail(reader::child(path, "path"), t.get("path"),
               "a path starts with '/' and holds no spaces, control characters, quotes, '\\', '{', '}', ';', '$', "
               "'?' or '#'");
    }
    if (const toml::node* b = t.get("body")) {
        rule.body = r.string_at(*b, reader::child(path, "body"));
        if (rule.body.find('\0') != std::string::npos) {
            r.fail(reader::child(path, "body"), b, "a body may not contain NUL");
        }
    }
    if (const toml::node* rd = t.get("redirect")) {
        rule.redirect = r.string_at(*rd, reader::child(path, "redirect"));
        rule.status = 302;
        if (rule.redirect->empty() ||
            std::any_of(rule.redirect->begin(), rule.redirect->end(), [](unsigned char c) { return c < ' '; })) {
            r.fail(reader::child(path, "redirect"), rd, "a redirect target is a non-empty single-line URL");
        }
    }
    if (const toml::node* s = t.get("status")) {
        // 200..599 plus nginx's 444 ("close the connection without answering"), which is in range already.
        rule.status = static_cast<int>(r.int_at(*s, reader::child(path, "status"), 200, 599));
    }
    if (rule.redirect && rule.status != 301 && rule.status != 302 && rule.status != 303 && rule.status != 307 &&
        rule.status != 308) {
        r.fail(reader::child(path, "status"), t.get("status"), "a redirect needs status 301, 302, 303, 307 or 308");
    }
    if (const toml::node* hs = t.get("headers")) {
        const std::string hpath = reader::child(path, "headers");
        for (auto&& [k, v] : r.table_at(*hs, hpath)) {
            std::string name(k.str());
            std::string value = r.string_at(v, reader::child(hpath, name));
            if (name.empty() || !std::all_of(name.begin(), name.end(),
                                             [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; })) {
                r.fail(reader::child(hpath, name), &v, "a header name is letters, digits, '-' and '_'");
            }
            if (std::any_of(value.begin(), value.end(), [](unsigned char c) { return c < ' ' || c == 0x7f; })) {
                r.fail(reader::child(hpath, name), &v, "a header value holds no control characters");
            }
            rule.headers.emplace_back(std::move(name), std::move(value));
        }
    }
    return rule;
}

std::vector<http_rule> read_http_rules(const reader& r, const toml::node& n, const std::string& path) {
    std::vector<http_rule> out;
    const toml::array& a = r.array_at(n, path);
    for (std::size_t i = 0; i < a.size(); ++i) {
        out.push_back(read_http_rule(r, r.table_at(a[i], reader::index(path, i)), reader::index(path, i)));
    }
    return out;
}

alpn_cert read_alpn(const reader& r, const toml::table& t, const std::string& path) {
    r.only_keys(t, path, {"name", "key_authorization", "variant"});
    alpn_cert c;
    c.name = r.domain_at(r.required(t, path, "name"), reader::child(path, "name"));
    c.key_authorization = r.required_string(t, path, "key_authorization");
    if (c.key_authorization.empty()) {
        r.fail(reader::child(path, "key_authorization"), t.get("key_authorization"), "must not be empty");
    }
    if (const toml::node* d = t.get("variant")) {
        std::string v = r.string_at(*d, reader::child(path, "variant"));
        std::optional<responders::alpn_variant> parsed = responders::alpn_variant_from_string(v);
        if (!parsed) {
            r.fail(reader::child(path, "variant"), d,
                   "unknown variant '" + v + "' (valid, wrong_digest, not_critical, extra_san, no_alpn, ...)");
        }
        c.variant = *parsed;
    }
    return c;
}

std::vector<alpn_cert> read_alpns(const reader& r, const toml::node& n, const std::string& path) {
    std::vector<alpn_cert> out;
    const toml::array& a = r.array_at(n, path);
    for (std::size_t i = 0; i < a.size(); ++i) {
        out.push_back(read_alpn(r, r.table_at(a[i], reader::index(path, i)), reader::index(path, i)));
    }
    return out;
}

perspective_override read_override(const reader& r, const toml::table& t, const std::string& path, int n) {
    r.only_keys(t, path, {"perspectives", "dns", "stall_ms", "http", "records", "remove", "http_rules", "tls_alpn"});
    perspective_override o;
    const toml::node* ps = t.get("perspectives");
    if (ps == nullptr) {
        r.fail(reader::child(path, "perspectives"), &t, "required key is missing");
    }
    const std::string ppath = reader::child(path, "perspectives");
    const toml::array& pa = r.array_at(*ps, ppath);
    if (pa.empty()) {
        r.fail(ppath, ps, "list at least one perspective");
    }
    for (std::size_t i = 0; i < pa.size(); ++i) {
        o.perspectives.push_back(static_cast<int>(r.int_at(pa[i], reader::index(ppath, i), 1, n)));
    }
    if (const toml::node* d = t.get("dns")) {
        std::string v = r.string_at(*d, reader::child(path, "dns"));
        if (v == "normal") {
            o.dns = dns_behaviour::normal;
        } else if (v == "unreachable") {
            o.dns = dns_behaviour::unreachable;
        } else if (v == "stalled") {
            o.dns = dns_behaviour::stalled;
            o.stall_ms = 5000;
        } else if (v == "fault") {
            o.dns = dns_behaviour::fault;
        } else {
            r.fail(reader::child(path, "dns"), d, "unknown value '" + v + "' (normal, unreachable, stalled, fault)");
        }
    }
    if (const toml::node* s = t.get("stall_ms")) {
        if (o.dns != dns_behaviour::stalled) {
            r.fail(reader::child(path, "stall_ms"), s, "only meaningful with dns = \"stalled\"");
        }
        o.stall_ms = static_cast<std::uint32_t>(r.int_at(*s, reader::child(path, "stall_ms"), 0, 600000));
    }
    if (const toml::node* h = t.get("http")) {
        std::string v = r.string_at(*h, reader::child(path, "http"));
        if (v == "normal") {
            o.http = http_behaviour::normal;
        } else if (v == "unreachable") {
            o.http = http_behaviour::unreachable;
        } else if (v == "fault") {
            o.http = http_behaviour::fault;
        } else {
            r.fail(reader::child(path, "http"), h, "unknown value '" + v + "' (normal, unreachable, fault)");
        }
    }
    if (const toml::node* recs = t.get("records")) {
        o.records = read_records(r, *recs, reader::child(path, "records"), "");
    }
    if (const toml::node* rm = t.get("remove")) {
        const std::string rpath = reader::child(path, "remove");
        const toml::array& a = r.array_at(*rm, rpath);
        for (std::size_t i = 0; i < a.size(); ++i) {
            const std::string ipath = reader::index(rpath, i);
            const toml::table& it = r.table_at(a[i], ipath);
            r.only_keys(it, ipath, {"name", "type"});
            rrset_key k;
            k.owner = r.domain_at(r.required(it, ipath, "name"), reader::child(ipath, "name"));
            k.type = r.required_string(it, ipath, "type");
            std::transform(k.type.begin(), k.type.end(), k.type.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            o.remove.push_back(std::move(k));
        }
    }
    if (const toml::node* hr = t.get("http_rules")) {
        o.http_rules = read_http_rules(r, *hr, reader::child(path, "http_rules"));
    }
    if (const toml::node* ta = t.get("tls_alpn")) {
        o.tls_alpn = read_alpns(r, *ta, reader::child(path, "tls_alpn"));
    }
    return o;
}

scenario read_scenario(const reader& r, const toml::table& root) {
    r.only_keys(root, "", {"lab", "zones", "http", "tls_alpn", "override", "fault_dns", "fault_http"});
    scenario s;
    const toml::node* lab = root.get("lab");
    if (lab == nullptr) {
        r.fail("lab", nullptr, "required table [lab] is missing");
    }
    read_lab(r, r.table_at(*lab, "lab"), s);
    if (const toml::node* zs = root.get("zones")) {
        for (auto&& [k, v] : r.table_at(*zs, "zones")) {
            s.zones.push_back(read_zone(r, k.str(), v, reader::child("zones", k.str())));
        }
        std::set<std::string> seen;
        for (const zone& z : s.zones) {
            if (!seen.insert(z.name).second) {
                r.fail(reader::child("zones", z.name), zs, "zone declared twice (names compare case-insensitively)");
            }
        }
    }
    if (const toml::node* h = root.get("http")) {
        s.http = read_http_rules(r, *h, "http");
    }
    if (const toml::node* ta = root.get("tls_alpn")) {
        s.tls_alpn = read_alpns(r, *ta, "tls_alpn");
    }
    if (const toml::node* ov = root.get("override")) {
        const toml::array& a = r.array_at(*ov, "override");
        for (std::size_t i = 0; i < a.size(); ++i) {
            s.overrides.push_back(read_override(r, r.table_at(a[i], reader::index("override", i)),
                                                reader::index("override", i), s.perspectives));
        }
    }
    // The fault responders own their TOML format (responders/responder_config.hh); their parser checks it, so the
    // table is handed over re-serialised and its verdict reported under the table's key.
    if (const toml::node* fd = root.get("fault_dns")) {
        std::ostringstream text;
        text << r.table_at(*fd, "fault_dns");
        auto parsed = responders::parse_dns_config(text.str());
        if (!parsed) {
            r.fail("fault_dns", fd, parsed.error);
        }
        s.fault_dns = std::move(*parsed.config);
    }
    if (const toml::node* fh = root.get("fault_http")) {
        std::ostringstream text;
        text << r.table_at(*fh, "fault_http");
        auto parsed = responders::parse_http_config(text.str());
        if (!parsed) {
            r.fail("fault_http", fh, parsed.error);
        }
        s.fault_http = std::move(*parsed.config);
    }
    for (std::size_t i = 0; i < s.overrides.size(); ++i) {
        if (s.overrides[i].dns == dns_behaviour::fault && !s.fault_dns) {
            r.fail(reader::index("override", i) + ".dns", nullptr, "dns = \"fault\" needs a [fault_dns] table");
        }
        if (s.overrides[i].http == http_behaviour::fault && !s.fault_http) {
            r.fail(reader::index("override", i) + ".http", nullptr, "http = \"fault\" needs a [fault_http] table");
        }
    }
    // Override records must land in a zone the lab serves: the owner picks its zone by longest suffix.
    for (std::size_t i = 0; i < s.overrides.size(); ++i) {
        for (std::size_t j = 0; j < s.overrides[i].records.size(); ++j) {
            if (find_zone(s, s.overrides[i].records[j].owner) == nullptr) {
                r.fail(reader::child(reader::index(reader::index("override", i) + ".records", j), "name"), nullptr,
                       "'" + s.overrides[i].records[j].owner + "' is in no zone of this scenario");
            }
        }
    }
    for (const zone& z : s.zones) {
        std::string why = check_zone_consistency(z);
        if (!why.empty()) {
            r.fail(reader::child("zones", z.name) + ".records", nullptr, why);
        }
    }
    if (std::string why = check_views(s); !why.empty()) {
        r.fail("override", nullptr, why);
    }
    return s;
}

} // namespace

parse_result parse_scenario(std::string_view toml_text, std::string_view file) {
    reader r{std::string(file)};
    toml::table root;
    try {
        root = toml::parse(toml_text, file);
    } catch (const toml::parse_error& e) {
        return scenario_error{std::string(file), "", std::string(e.description()),
                              static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column)};
    }
    try {
        return read_scenario(r, root);
    } catch (const reject& rej) {
        return rej.error;
    }
}

parse_result load_scenario(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return scenario_error{path, "", "cannot open the scenario file", 0, 0};
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    return parse_scenario(buf.str(), path);
}

} // namespace mpic::lab
