// TOML reading and writing of the responder configs. Parsing is strict (unknown keys are errors) because a typo in a
// scenario would otherwise silently turn a fault test into a happy-path test.
//
// Exceptions are used internally (config_error, toml::parse_error): this runs once at start-up, never on the I/O
// path, and every public entry point converts them into a config_result.

#include "tools/mpic-lab/responders/responder_config.hh"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cctype>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <toml++/toml.h>

namespace mpic::lab::responders {
namespace {

struct config_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

template <class Enum, std::size_t N>
using name_table = std::array<std::pair<Enum, std::string_view>, N>;

constexpr name_table<alpn_variant, 13> alpn_names{{
    {alpn_variant::valid, "valid"},
    {alpn_variant::wrong_digest, "wrong_digest"},
    {alpn_variant::not_critical, "not_critical"},
    {alpn_variant::extra_san, "extra_san"},
    {alpn_variant::no_alpn, "no_alpn"},
    {alpn_variant::missing_extension, "missing_extension"},
    {alpn_variant::wrong_san, "wrong_san"},
    {alpn_variant::not_self_signed, "not_self_signed"},
    {alpn_variant::uppercase_san, "uppercase_san"},
    {alpn_variant::digest_wrong_length, "digest_wrong_length"},
    {alpn_variant::many_sans, "many_sans"},
    {alpn_variant::expired, "expired"},
    {alpn_variant::duplicate_extension, "duplicate_extension"},
}};

constexpr name_table<dns_behaviour, 15> dns_names{{
    {dns_behaviour::answer, "answer"},
    {dns_behaviour::delay, "delay"},
    {dns_behaviour::drop, "drop"},
    {dns_behaviour::servfail, "servfail"},
    {dns_behaviour::refused, "refused"},
    {dns_behaviour::nxdomain, "nxdomain"},
    {dns_behaviour::truncate, "truncate"},
    {dns_behaviour::truncate_tcp, "truncate_tcp"},
    {dns_behaviour::wrong_id, "wrong_id"},
    {dns_behaviour::malformed_garbage, "malformed_garbage"},
    {dns_behaviour::malformed_short, "malformed_short"},
    {dns_behaviour::malformed_counts, "malformed_counts"},
    {dns_behaviour::pointer_loop, "pointer_loop"},
    {dns_behaviour::cname_chain, "cname_chain"},
    {dns_behaviour::oversized_txt, "oversized_txt"},
}};

constexpr name_table<http_behaviour, 8> http_names{{
    {http_behaviour::respond, "respond"},
    {http_behaviour::slow_headers, "slow_headers"},
    {http_behaviour::dribble, "dribble"},
    {http_behaviour::oversized, "oversized"},
    {http_behaviour::reset_mid_body, "reset_mid_body"},
    {http_behaviour::no_response, "no_response"},
    {http_behaviour::chunked, "chunked"},
    {http_behaviour::redirect, "redirect"},
}};

template <class Enum, std::size_t N>
std::string_view name_of(const name_table<Enum, N>& table, Enum value) noexcept {
    for (const auto& [e, name] : table) {
        if (e == value) {
            return name;
        }
    }
    return "?";
}

template <class Enum, std::size_t N>
std::optional<Enum> value_of(const name_table<Enum, N>& table, std::string_view name) noexcept {
    for (const auto& [e, n] : table) {
        if (n == name) {
            return e;
        }
    }
    return std::nullopt;
}

bool is_ip_literal(const std::string& s) {
    std::array<unsigned char, 16> buf{};
    return inet_pton(AF_INET, s.c_str(), buf.data()) == 1 || inet_pton(AF_INET6, s.c_str(), buf.data()) == 1;
}

// Rejects keys not in `allowed`, so that "behavior" or "delay" instead of "delay_ms" fails loudly.
void check_keys(const toml::table& t, std::initializer_list<std::string_view> allowed, const std::string& where) {
    for (const auto& [key, node] : t) {
        (void)node;
        if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
            throw config_error(where + ": unknown key '" + std::string(key.str()) + "'");
        }
    }
}

std::optional<std::string> opt_string(const toml::table& t, std::string_view key, const std::string& where) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    if (!n->is_string()) {
        throw config_error(where + ": '" + std::string(key) + "' must be a string");
    }
    return n->as_string()->get();
}

std::string req_string(const toml::table& t, std::string_view key, const std::string& where) {
    auto s = opt_string(t, key, where);
    if (!s || s->empty()) {
        throw config_error(where + ": '" + std::string(key) + "' is required (non-empty string)");
    }
    return *s;
}

template <class Int>
std::optional<Int> opt_int(const toml::table& t, std::string_view key, std::int64_t lo, std::int64_t hi,
                           const std::string& where) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    if (!n->is_integer()) {
        throw config_error(where + ": '" + std::string(key) + "' must be an integer");
    }
    const std::int64_t v = n->as_integer()->get();
    if (v < lo || v > hi) {
        throw config_error(where + ": '" + std::string(key) + "' = " + std::to_string(v) + " is outside [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return static_cast<Int>(v);
}

template <class Int>
void read_int(const toml::table& t, std::string_view key, std::int64_t lo, std::int64_t hi, const std::string& where,
              Int& out) {
    if (auto v = opt_int<Int>(t, key, lo, hi, where)) {
        out = *v;
    }
}

// "perspective" = k | "IP" | "default"
std::optional<std::string> read_source(const toml::table& t, const std::string& where) {
    const toml::node* n = t.get("perspective");
    if (n == nullptr) {
        return std::nullopt;
    }
    if (n->is_integer()) {
        const std::int64_t k = n->as_integer()->get();
        if (k < 0 || k > 253) {
            throw config_error(where + ": perspective index " + std::to_string(k) + " is outside [0, 253]");
        }
        return perspective_address(static_cast<unsigned>(k));
    }
    if (n->is_string()) {
        const std::string& s = n->as_string()->get();
        if (s == "default") {
            return std::nullopt;
        }
        if (!is_ip_literal(s)) {
            throw config_error(where + ": perspective '" + s + "' is neither an index, an IP literal nor 'default'");
        }
        return s;
    }
    throw config_error(where + ": 'perspective' must be an integer or a string");
}

template <class Enum, std::size_t N>
Enum read_enum(const toml::table& t, std::string_view key, const name_table<Enum, N>& table, Enum fallback,
               const std::string& where) {
    auto s = opt_string(t, key, where);
    if (!s) {
        return fallback;
    }
    auto v = value_of(table, *s);
    if (!v) {
        std::string names;
        for (const auto& [e, name] : table) {
            (void)e;
            names += names.empty() ? "" : ", ";
            names += name;
        }
        throw config_error(where + ": " + std::string(key) + " '" + *s + "' is not one of: " + names);
    }
    return *v;
}

const toml::array* opt_array(const toml::table& t, std::string_view key, const std::string& where) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return nullptr;
    }
    if (!n->is_array()) {
        throw config_error(where + ": '" + std::string(key) + "' must be an array");
    }
    return n->as_array();
}

// Iterates an array of tables ([[key]]), calling fn(table, "key[i]").
template <class Fn>
void for_each_table(const toml::table& t, std::string_view key, const std::string& where, Fn&& fn) {
    const toml::array* arr = opt_array(t, key, where);
    if (arr == nullptr) {
        return;
    }
    std::size_t i = 0;
    for (const toml::node& n : *arr) {
        std::string here = (where.empty() ? "" : where + ".") + std::string(key) + "[" + std::to_string(i++) + "]";
        if (!n.is_table()) {
            throw config_error(here + ": must be a table");
        }
        fn(*n.as_table(), here);
    }
}

listen_config read_listen(const toml::table& root) {
    listen_config l;
    const toml::node* n = root.get("listen");
    if (n == nullptr) {
        return l;
    }
    if (!n->is_table()) {
        throw config_error("listen: must be a table");
    }
    const toml::table& t = *n->as_table();
    check_keys(t, {"address", "port"}, "listen");
    if (auto a = opt_string(t, "address", "listen")) {
        if (!is_ip_literal(*a)) {
            throw config_error("listen: address '" + *a + "' is not an IP literal");
        }
        l.address = *a;
    }
    read_int(t, "port", 0, 65535, "listen", l.port);
    return l;
}

void write_listen(toml::table& root, const listen_config& l) {
    root.insert("listen", toml::table{{"address", l.address}, {"port", static_cast<std::int64_t>(l.port)}});
}

void write_source(toml::table& t, const std::optional<std::string>& source) {
    if (source) {
        t.insert("perspective", *source);
    }
}

std::string dump(const toml::table& root) {
    std::ostringstream out;
    out << root << '\n';
    return out.str();
}

template <class Config, class Fn>
config_result<Config> parse_with(std::string_view text, Fn&& fn) {
    config_result<Config> r;
    try {
        toml::table root = toml::parse(text);
        r.config = fn(root);
    } catch (const toml::parse_error& e) {
        std::ostringstream msg;
        msg << "TOML syntax error at line " << e.source().begin.line << ", column " << e.source().begin.column << ": "
            << e.description();
        r.error = msg.str();
    } catch (const config_error& e) {
        r.error = e.what();
    }
    return r;
}

template <class Config, class Parse>
config_result<Config> read_with(const std::filesystem::path& file, Parse&& parse) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return {std::nullopt, file.string() + ": cannot open for reading"};
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) {
        return {std::nullopt, file.string() + ": read error"};
    }
    config_result<Config> r = parse(buf.str());
    if (!r) {
        r.error = file.string() + ": " + r.error;
    }
    return r;
}

std::string write_text(const std::filesystem::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out) {
        return file.string() + ": cannot open for writing";
    }
    out << text;
    out.flush();
    return out ? std::string{} : file.string() + ": write error";
}

// ----- alpn -----

alpn_config alpn_from(const toml::table& root) {
    check_keys(root, {"listen", "cert"}, "top level");
    alpn_config c;
    c.listen = read_listen(root);
    for_each_table(root, "cert", "", [&](const toml::table& t, const std::string& where) {
        check_keys(t, {"name", "key_authorization", "variant", "perspective", "many_sans_count"}, where);
        alpn_cert_entry e;
        e.name = req_string(t, "name", where);
        e.key_authorization = opt_string(t, "key_authorization", where).value_or("");
        e.variant = read_enum(t, "variant", alpn_names, alpn_variant::valid, where);
        e.source = read_source(t, where);
        read_int(t, "many_sans_count", 1, 100000, where, e.many_sans_count);
        c.certs.push_back(std::move(e));
    });
    return c;
}

// ----- http -----

http_config http_from(const toml::table& root) {
    check_keys(root, {"listen", "rule"}, "top level");
    http_config c;
    c.listen = read_listen(root);
    for_each_table(root, "rule", "", [&](const toml::table& t, const std::string& where) {
        check_keys(t,
                   {"path", "host", "perspective", "behaviour", "status", "headers", "body", "delay_ms",
                    "dribble_interval_ms", "declared_length", "actual_length", "reset_after", "chunk_size", "location"},
                   where);
        http_rule r;
        r.path = req_string(t, "path", where);
        r.host = opt_string(t, "host", where);
        r.source = read_source(t, where);
        r.behaviour = read_enum(t, "behaviour", http_names, http_behaviour::respond, where);
        read_int(t, "status", 100, 999, where, r.status);
        if (const toml::array* h = opt_array(t, "headers", where)) {
            for (const toml::node& pair : *h) {
                const toml::array* p = pair.as_array();
                if (p == nullptr || p->size() != 2 || !(*p)[0].is_string() || !(*p)[1].is_string()) {
                    throw config_error(where + ": headers must be an array of [name, value] string pairs");
                }
                std::string name = (*p)[0].as_string()->get();
                std::string value = (*p)[1].as_string()->get();
                // A CR or LF would let a scenario inject a header block; keep the lab's own output well-formed.
                if (name.empty() || name.find_first_of(":\r\n \t") != std::string::npos ||
                    value.find_first_of("\r\n") != std::string::npos) {
                    throw config_error(where + ": bad header name or value '" + name + "'");
                }
                r.headers.emplace_back(std::move(name), std::move(value));
            }
        }
        r.body = opt_string(t, "body", where).value_or("");
        read_int(t, "delay_ms", 0, 600000, where, r.delay_ms);
        read_int(t, "dribble_interval_ms", 0, 60000, where, r.dribble_interval_ms);
        constexpr std::int64_t max_len = std::int64_t{1} << 50;
        r.declared_length = opt_int<std::uint64_t>(t, "declared_length", 0, max_len, where);
        read_int(t, "actual_length", 0, max_len, where, r.actual_length);
        read_int(t, "reset_after", 0, max_len, where, r.reset_after);
        read_int(t, "chunk_size", 1, 1 << 20, where, r.chunk_size);
        r.location = opt_string(t, "location", where).value_or("");
        if (r.location.find_first_of("\r\n") != std::string::npos) {
            throw config_error(where + ": location must not contain CR or LF");
        }
        if (r.behaviour == http_behaviour::redirect && r.location.empty()) {
            throw config_error(where + ": behaviour 'redirect' needs a location");
        }
        c.rules.push_back(std::move(r));
    });
    return c;
}

// ----- dns -----

dns_record dns_record_from(const toml::table& t, const std::string& where) {
    check_keys(t, {"name", "type", "ttl", "value", "strings", "mx_preference", "caa_flags", "caa_tag"}, where);
    dns_record r;
    r.name = opt_string(t, "name", where);
    r.type = req_string(t, "type", where);
    std::transform(r.type.begin(), r.type.end(), r.type.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    read_int(t, "ttl", 0, std::numeric_limits<std::int32_t>::max(), where, r.ttl);
    r.value = opt_string(t, "value", where).value_or("");
    if (const toml::array* a = opt_array(t, "strings", where)) {
        for (const toml::node& n : *a) {
            if (!n.is_string() || n.as_string()->get().size() > 255) {
                throw config_error(where + ": strings must be strings of at most 255 octets");
            }
            r.strings.push_back(n.as_string()->get());
        }
    }
    read_int(t, "mx_preference", 0, 65535, where, r.mx_preference);
    read_int(t, "caa_flags", 0, 255, where, r.caa_flags);
    r.caa_tag = opt_string(t, "caa_tag", where).value_or("");
    std::array<unsigned char, 16> buf{};
    const bool ok = (r.type == "A" && inet_pton(AF_INET, r.value.c_str(), buf.data()) == 1) ||
                    (r.type == "AAAA" && inet_pton(AF_INET6, r.value.c_str(), buf.data()) == 1) ||
                    ((r.type == "CNAME" || r.type == "NS" || r.type == "PTR" || r.type == "MX") && !r.value.empty()) ||
                    r.type == "TXT" || (r.type == "CAA" && !r.caa_tag.empty() && r.caa_tag.size() <= 255);
    if (!ok) {
        throw config_error(where + ": bad " + r.type +
                           " record (types: A AAAA CNAME NS PTR MX TXT CAA; value must parse for the type)");
    }
    return r;
}

dns_config dns_from(const toml::table& root) {
    check_keys(root, {"listen", "fallback", "rule"}, "top level");
    dns_config c;
    c.listen = read_listen(root);
    c.fallback = read_enum(root, "fallback", dns_names, dns_behaviour::nxdomain, "top level");
    if (c.fallback != dns_behaviour::nxdomain && c.fallback != dns_behaviour::refused &&
        c.fallback != dns_behaviour::servfail && c.fallback != dns_behaviour::drop) {
        throw config_error("top level: fallback must be nxdomain, refused, servfail or drop");
    }
    for_each_table(root, "rule", "", [&](const toml::table& t, const std::string& where) {
        check_keys(
            t, {"qname", "qtype", "perspective", "behaviour", "record", "delay_ms", "cname_chain_length", "txt_size"},
            where);
        dns_rule r;
        r.qname = req_string(t, "qname", where);
        r.qtype = opt_string(t, "qtype", where);
        if (r.qtype) {
            std::transform(r.qtype->begin(), r.qtype->end(), r.qtype->begin(),
                           [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
        }
        r.source = read_source(t, where);
        r.behaviour = read_enum(t, "behaviour", dns_names, dns_behaviour::answer, where);
        for_each_table(t, "record", where, [&](const toml::table& rt, const std::string& rwhere) {
            r.records.push_back(dns_record_from(rt, rwhere));
        });
        read_int(t, "delay_ms", 0, 600000, where, r.delay_ms);
        read_int(t, "cname_chain_length", 1, 1000, where, r.cname_chain_length);
        read_int(t, "txt_size", 1, 65000, where, r.txt_size);
        c.rules.push_back(std::move(r));
    });
    return c;
}

} // namespace

std::string perspective_address(unsigned k) {
    return "127.0.0." + std::to_string(k + 1);
}

std::string_view to_string(alpn_variant v) noexcept {
    return name_of(alpn_names, v);
}
std::string_view to_string(dns_behaviour b) noexcept {
    return name_of(dns_names, b);
}
std::string_view to_string(http_behaviour b) noexcept {
    return name_of(http_names, b);
}
std::optional<alpn_variant> alpn_variant_from_string(std::string_view s) noexcept {
    return value_of(alpn_names, s);
}
std::optional<dns_behaviour> dns_behaviour_from_string(std::string_view s) noexcept {
    return value_of(dns_names, s);
}
std::optional<http_behaviour> http_behaviour_from_string(std::string_view s) noexcept {
    return value_of(http_names, s);
}

std::string to_toml(const alpn_config& config) {
    toml::table root;
    write_listen(root, config.listen);
    toml::array certs;
    for (const auto& e : config.certs) {
        toml::table t{{"name", e.name},
                      {"key_authorization", e.key_authorization},
                      {"variant", std::string(to_string(e.variant))},
                      {"many_sans_count", static_cast<std::int64_t>(e.many_sans_count)}};
        write_source(t, e.source);
        certs.push_back(std::move(t));
    }
    root.insert("cert", std::move(certs));
    return dump(root);
}

std::string to_toml(const dns_config& config) {
    toml::table root;
    write_listen(root, config.listen);
    root.insert("fallback", std::string(to_string(config.fallback)));
    toml::array rules;
    for (const auto& r : config.rules) {
        toml::table t{{"qname", r.qname},
                      {"behaviour", std::string(to_string(r.behaviour))},
                      {"delay_ms", static_cast<std::int64_t>(r.delay_ms)},
                      {"cname_chain_length", static_cast<std::int64_t>(r.cname_chain_length)},
                      {"txt_size", static_cast<std::int64_t>(r.txt_size)}};
        if (r.qtype) {
            t.insert("qtype", *r.qtype);
        }
        write_source(t, r.source);
        toml::array records;
        for (const auto& rec : r.records) {
            toml::table rt{{"type", rec.type},
                           {"ttl", static_cast<std::int64_t>(rec.ttl)},
                           {"value", rec.value},
                           {"mx_preference", static_cast<std::int64_t>(rec.mx_preference)},
                           {"caa_flags", static_cast<std::int64_t>(rec.caa_flags)},
                           {"caa_tag", rec.caa_tag}};
            if (rec.name) {
                rt.insert("name", *rec.name);
            }
            if (!rec.strings.empty()) {
                toml::array strings;
                for (const auto& s : rec.strings) {
                    strings.push_back(s);
                }
                rt.insert("strings", std::move(strings));
            }
            records.push_back(std::move(rt));
        }
        t.insert("record", std::move(records));
        rules.push_back(std::move(t));
    }
    root.insert("rule", std::move(rules));
    return dump(root);
}

std::string to_toml(const http_config& config) {
    toml::table root;
    write_listen(root, config.listen);
    toml::array rules;
    for (const auto& r : config.rules) {
        toml::table t{{"path", r.path},
                      {"behaviour", std::string(to_string(r.behaviour))},
                      {"status", static_cast<std::int64_t>(r.status)},
                      {"body", r.body},
                      {"delay_ms", static_cast<std::int64_t>(r.delay_ms)},
                      {"dribble_interval_ms", static_cast<std::int64_t>(r.dribble_interval_ms)},
                      {"actual_length", static_cast<std::int64_t>(r.actual_length)},
                      {"reset_after", static_cast<std::int64_t>(r.reset_after)},
                      {"chunk_size", static_cast<std::int64_t>(r.chunk_size)},
                      {"location", r.location}};
        if (r.host) {
            t.insert("host", *r.host);
        }
        write_source(t, r.source);
        if (r.declared_length) {
            t.insert("declared_length", static_cast<std::int64_t>(*r.declared_length));
        }
        toml::array headers;
        for (const auto& [name, value] : r.headers) {
            headers.push_back(toml::array{name, value});
        }
        t.insert("headers", std::move(headers));
        rules.push_back(std::move(t));
    }
    root.insert("rule", std::move(rules));
    return dump(root);
}

config_result<alpn_config> parse_alpn_config(std::string_view text) {
    return parse_with<alpn_config>(text, alpn_from);
}
config_result<dns_config> parse_dns_config(std::string_view text) {
    return parse_with<dns_config>(text, dns_from);
}
config_result<http_config> parse_http_config(std::string_view text) {
    return parse_with<http_config>(text, http_from);
}

config_result<alpn_config> read_alpn_config(const std::filesystem::path& file) {
    return read_with<alpn_config>(file, parse_alpn_config);
}
config_result<dns_config> read_dns_config(const std::filesystem::path& file) {
    return read_with<dns_config>(file, parse_dns_config);
}
config_result<http_config> read_http_config(const std::filesystem::path& file) {
    return read_with<http_config>(file, parse_http_config);
}

std::string write_config(const std::filesystem::path& file, const alpn_config& config) {
    return write_text(file, to_toml(config));
}
std::string write_config(const std::filesystem::path& file, const dns_config& config) {
    return write_text(file, to_toml(config));
}
std::string write_config(const std::filesystem::path& file, const http_config& config) {
    return write_text(file, to_toml(config));
}

} // namespace mpic::lab::responders
