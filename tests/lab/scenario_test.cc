// Scenario reader and config writers, without starting any server: every rejection names its key and line, every
// shipped scenario parses, and per-perspective overlays mean what docs/lab.md says.

#include <filesystem>

#include <gtest/gtest.h>

#include "tools/mpic-lab/bind_config.hh"
#include "tools/mpic-lab/lab_environment.hh"
#include "tools/mpic-lab/nginx_config.hh"
#include "tools/mpic-lab/responder_configs.hh"
#include "tools/mpic-lab/scenario.hh"
#include "tools/mpic-lab/views.hh"

namespace mpic::lab {
namespace {

const char* const good = R"(
[lab]
perspectives = 3

[zones."example.test"]
records = [
  { name = "@", type = "A", value = "127.0.0.1" },
  { name = "@", type = "AAAA", value = "::1" },
  { name = "www", type = "CNAME", value = "example.test." },
  { name = "old", type = "DNAME", value = "new.example.test" },
  { name = "_acme-challenge", type = "TXT", value = ["first", "second \"quoted\"", "back\\slash"] },
  { name = "@", type = "CAA", flags = 128, tag = "issue", value = "ca.example; accounturi=x" },
  { name = "1.0.0.127.in-addr.arpa.example.test.", type = "PTR", value = "example.test" },
  { name = "@", type = "MX", preference = 5, value = "mail.example.test" },
  { name = "raw", type = "TYPE65280", rdata = "\\# 2 abcd" },
]

[[http]]
host = "example.test"
path = "/.well-known/acme-challenge/t"
body = "t.k"
headers = { "X-One" = "1" }

[[override]]
perspectives = [2]
records = [ { name = "_acme-challenge.example.test", type = "TXT", value = "evil" } ]
http_rules = [ { host = "example.test", path = "/.well-known/acme-challenge/t", status = 404, body = "gone" } ]
)";

scenario_error error_of(const std::string& text) {
    parse_result r = parse_scenario(text, "t.toml");
    EXPECT_FALSE(r.has_value()) << "expected a rejection";
    return r.has_value() ? scenario_error{} : r.error();
}

TEST(lab_scenario, parses_every_record_kind) {
    parse_result r = parse_scenario(good);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    const scenario& s = r.value();
    EXPECT_EQ(s.perspectives, 3);
    ASSERT_EQ(s.zones.size(), 1u);
    const auto& recs = s.zones[0].records;
    ASSERT_EQ(recs.size(), 9u);
    EXPECT_EQ(recs[2].owner, "www.example.test");
    EXPECT_EQ(recs[2].rdata, "example.test.");
    EXPECT_EQ(recs[3].type, "DNAME");
    EXPECT_EQ(recs[4].rdata, R"("first" "second \"quoted\"" "back\\slash")");
    EXPECT_EQ(recs[4].strings.size(), 3u);
    EXPECT_EQ(recs[5].rdata, R"(128 issue "ca.example; accounturi=x")");
    EXPECT_EQ(recs[6].owner, "1.0.0.127.in-addr.arpa.example.test");
    EXPECT_EQ(recs[7].rdata, "5 mail.example.test.");
    EXPECT_EQ(recs[8].rdata, "\\# 2 abcd");
    ASSERT_EQ(s.http.size(), 1u);
    EXPECT_EQ(s.http[0].headers.at(0).first, "X-One");
}

TEST(lab_scenario, every_shipped_scenario_parses) {
    int count = 0;
    for (const auto& e : std::filesystem::directory_iterator(scenario_file(""))) {
        if (e.path().extension() == ".toml") {
            parse_result r = load_scenario(e.path().string());
            EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
            ++count;
        }
    }
    EXPECT_GE(count, 6);
}

TEST(lab_scenario, rejections_name_the_key_and_line) {
    struct bad_case {
        std::string text;
        const char* key;
        const char* words;
    };
    const bad_case cases[] = {
        {"[zones.\"a.test\"]\n", "lab", "missing"},
        {"[lab]\nperspectives = 0\n", "lab.perspectives", "between 1 and 253"},
        {"[lab]\nperspectives = 1\nperspektives = 2\n", "lab.perspektives", "unknown key"},
        {"[lab]\nperspectives = 2\n[zones.\"a.test\"]\nrecrods = []\n", "zones.\"a.test\".recrods", "unknown key"},
        {"[lab]\nperspectives = 2\n[zones.\"a.test\"]\nrecords = [ {type=\"A\", value=\"1.2.3.4\"},\n {type=\"WKS\", "
         "value=\"x\"} ]\n",
         "zones.\"a.test\".records[1].type", "unsupported type"},
        {"[lab]\nperspectives = 2\n[zones.\"a.test\"]\nrecords = [ {type=\"A\", value=\"1.2.3\"} ]\n",
         "zones.\"a.test\".records[0].value", "not an IPv4 address"},
        {"[lab]\nperspectives = 2\n[zones.\"a.test\"]\nrecords = [ {type=\"AAAA\", value=\"1.2.3.4\"} ]\n",
         "zones.\"a.test\".records[0].value", "not an IPv6 address"},
        {"[lab]\nperspectives = 2\n[zones.\"a.test\"]\nrecords = [ {type=\"CAA\", tag=\"is sue\", value=\"x\"} ]\n",
         "zones.\"a.test\".records[0].tag", "RFC 8659"},
        {"[lab]\nperspectives = 2\n[zones.\"a.test\"]\nrecords = [ {type=\"CAA\", flags=256, tag=\"issue\", "
         "value=\"x\"} ]\n",
         "zones.\"a.test\".records[0].flags", "between 0 and 255"},
        {"[lab]\nperspectives = 2\n[zones.\"a.test\"]\nrecords = [ {type=\"TXT\", value=[\"ok\", \"" +
             std::string(256, 'x') + "\"]} ]\n",
         "zones.\"a.test\".records[0].value[1]", "255 octets"},
        {"[lab]\nperspectives = 2\n[zones.\"a.test\"]\nrecords = [ {name=\"b.other.test.\", type=\"A\", "
         "value=\"1.2.3.4\"} ]\n",
         "zones.\"a.test\".records[0].name", "outside the zone"},
        {"[lab]\nperspectives = 2\n[zones.\"a.test\"]\nrecords = [ {name=\"w\", type=\"CNAME\", value=\"a.test\"}, "
         "{name=\"w\", type=\"A\", value=\"1.2.3.4\"} ]\n",
         "zones.\"a.test\".records", "CNAME beside other data"},
        {"[lab]\nperspectives = 2\n[[override]]\nperspectives = [1, 3]\n", "override[0].perspectives[1]",
         "between 1 and 2"},
        {"[lab]\nperspectives = 2\n[zones.\"a.test\"]\n[[override]]\nperspectives = [1]\nrecords = [ "
         "{name=\"x.b.test\", "
         "type=\"A\", value=\"1.2.3.4\"} ]\n",
         "override[0].records[0].name", "in no zone"},
        {"[lab]\nperspectives = 2\n[[override]]\nperspectives = [1]\ndns = \"sometimes\"\n", "override[0].dns",
         "unknown value"},
        {"[lab]\nperspectives = 2\n[[http]]\npath = \"/x\"\nredirect = \"/y\"\nstatus = 200\n", "http[0].status",
         "redirect needs status"},
        {"[lab]\nperspectives = 2\n[[http]]\npath = \"no-slash\"\n", "http[0].path", "starts with '/'"},
        {"[lab]\nperspectives = 2\n[[http]]\npath = \"/x\"\nheaders = { \"Bad Name\" = \"v\" }\n",
         "http[0].headers.\"Bad Name\"", "header name"},
        {"[lab]\nperspectives = 2\n[[tls_alpn]]\nname = \"a.test\"\nkey_authorization = \"k\"\nvariant = \"broken\"\n",
         "tls_alpn[0].variant", "unknown variant"},
        {"[lab]\nperspectives = 2\n[[tls_alpn]]\nkey_authorization = \"k\"\n", "tls_alpn[0].name", "missing"},
        {"[lab]\nperspectives = 2\n[zones.\"a..test\"]\n", "zones.\"a..test\"", "empty label"},
        {"[lab]\nperspectives = 2\n[zones.\"a.test\"]\ndnssec = \"yes\"\n", "zones.\"a.test\".dnssec", "true or false"},
        {"[lab]\nperspectives = 2\n[fault_dns]\nfallback = \"explode\"\n", "fault_dns", ""},
        {"[lab]\nperspectives = 2\n[[override]]\nperspectives = [1]\ndns = \"fault\"\n", "override[0].dns",
         "[fault_dns]"},
        {"[lab]\nperspectives = 2\n[[override]]\nperspectives = [2]\nhttp = \"fault\"\n", "override[0].http",
         "[fault_http]"},
        {"[lab]\nperspectives = 2\n[[override]]\nperspectives = [2]\nhttp = \"slow\"\n", "override[0].http",
         "unknown value"},
    };
    for (const bad_case& c : cases) {
        scenario_error e = error_of(c.text);
        EXPECT_EQ(e.key, c.key) << c.text;
        EXPECT_NE(e.message.find(c.words), std::string::npos) << e.to_string();
        EXPECT_EQ(e.file, "t.toml");
    }
}

TEST(lab_scenario, reports_line_and_column) {
    scenario_error e = error_of("[lab]\nperspectives = 2\n\n[zones.\"a.test\"]\nrecords = [\n  { type = \"A\", "
                                "value = \"nope\" },\n]\n");
    EXPECT_EQ(e.key, "zones.\"a.test\".records[0].value");
    EXPECT_EQ(e.line, 6);
    EXPECT_GT(e.column, 1);
    EXPECT_EQ(e.to_string().rfind("t.toml:6:", 0), 0u) << e.to_string();
}

TEST(lab_scenario, toml_syntax_errors_carry_the_line) {
    scenario_error e = error_of("[lab]\nperspectives = 2\nbroken = = 3\n");
    EXPECT_EQ(e.line, 3);
    EXPECT_FALSE(e.message.empty());
}

TEST(lab_scenario, missing_file_is_an_error_not_a_crash) {
    parse_result r = load_scenario("/nonexistent/scenario.toml");
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("cannot open"), std::string::npos);
}

TEST(lab_views, override_replaces_rrsets_and_cname_replaces_everything) {
    parse_result r = parse_scenario(R"(
[lab]
perspectives = 2
[zones."a.test"]
records = [
  { name = "w", type = "A", value = "1.1.1.1" },
  { name = "w", type = "TXT", value = "t" },
  { name = "@", type = "CAA", tag = "issue", value = "x" },
  { name = "@", type = "CAA", tag = "iodef", value = "mailto:a@a.test" },
]
[[override]]
perspectives = [1]
records = [ { name = "w.a.test", type = "CNAME", value = "elsewhere.test" } ]
remove = [ { name = "a.test", type = "CAA" } ]
[[override]]
perspectives = [2]
records = [ { name = "a.test", type = "CAA", tag = "issue", value = "y" },
            { name = "a.test", type = "CAA", tag = "issue", value = "z" } ]
)");
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    const scenario& s = r.value();
    const zone& z = s.zones[0];
    EXPECT_EQ(view_records(s, z, 0).size(), 4u);
    auto p1 = view_records(s, z, 1);
    ASSERT_EQ(p1.size(), 1u);
    EXPECT_EQ(p1[0].type, "CNAME");
    auto p2 = view_records(s, z, 2);
    int caa = 0;
    for (const record& rec : p2) {
        caa += rec.type == "CAA" ? 1 : 0;
        EXPECT_NE(rec.rdata, "0 iodef \"mailto:a@a.test\"");
    }
    EXPECT_EQ(caa, 2);
    EXPECT_TRUE(has_own_dns_view(s, 1));
    EXPECT_FALSE(has_own_http_view(s, 1));
}

TEST(lab_config, zone_file_has_soa_ns_and_absolute_owners) {
    record txt;
    txt.owner = "_acme-challenge.a.test";
    txt.type = "TXT";
    txt.rdata = "\"x\" \"y\"";
    std::string z = render_zone("a.test", {txt});
    EXPECT_NE(z.find("a.test. 60 IN SOA ns.mpic-lab.invalid. hostmaster.a.test."), std::string::npos) << z;
    EXPECT_NE(z.find("a.test. 60 IN NS ns.mpic-lab.invalid."), std::string::npos);
    EXPECT_NE(z.find("_acme-challenge.a.test. 60 IN TXT \"x\" \"y\"\n"), std::string::npos);
}

TEST(lab_config, named_conf_has_views_only_for_overridden_perspectives_and_blackholes) {
    parse_result r = parse_scenario(R"(
[lab]
perspectives = 4
[zones."a.test"]
records = [ { type = "A", value = "1.1.1.1" } ]
[[override]]
perspectives = [2]
records = [ { name = "a.test", type = "A", value = "2.2.2.2" } ]
[[override]]
perspectives = [4]
dns = "unreachable"
)");
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    std::string conf = render_named_conf(r.value(), "/d", 5353);
    EXPECT_NE(conf.find("view \"p2\""), std::string::npos);
    EXPECT_NE(conf.find("match-clients { 127.0.0.3/32; }"), std::string::npos);
    EXPECT_EQ(conf.find("view \"p1\""), std::string::npos);
    EXPECT_NE(conf.find("blackhole { 127.0.0.5; }"), std::string::npos);
    EXPECT_NE(conf.find("listen-on port 5353 { 127.0.0.1; }"), std::string::npos);
}

TEST(lab_config, nginx_strings_escape_quotes_backslashes_and_dollars) {
    EXPECT_EQ(nginx_quote("a\"b\\c$d\n"), "\"a\\\"b\\\\c${mpic_dollar}d\\n\"");
}

TEST(lab_config, nginx_maps_each_perspective_to_its_variant) {
    parse_result r = parse_scenario(good);
    ASSERT_TRUE(r.has_value());
    nginx_layout l{"/d", "/d/c.pem", "/d/k.pem", 8080, 8443, "nonce", "/logs/access.log"};
    std::string conf = render_nginx_conf(r.value(), l);
    EXPECT_NE(conf.find("127.0.0.3 2;"), std::string::npos); // geo: perspective 2's address
    EXPECT_NE(conf.find("2 /__mpic/r0/v1;"), std::string::npos) << conf;
    EXPECT_NE(conf.find("return 404 \"gone\";"), std::string::npos);
    EXPECT_NE(conf.find("add_header X-One \"1\" always;"), std::string::npos);
    EXPECT_NE(conf.find("server_name example.test;"), std::string::npos);
    EXPECT_NE(conf.find("access_log /logs/access.log;"), std::string::npos);
}

TEST(lab_config, stalled_perspective_becomes_delayed_fault_dns_rules) {
    parse_result r = load_scenario(scenario_file("stalled-perspective.toml"));
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    responders::dns_config c = fault_dns_config_of(r.value());
    ASSERT_FALSE(c.rules.empty());
    for (const auto& rule : c.rules) {
        EXPECT_EQ(rule.source, std::optional<std::string>("127.0.0.5"));
        EXPECT_EQ(rule.behaviour, responders::dns_behaviour::delay);
        EXPECT_EQ(rule.delay_ms, 3000u);
    }
    EXPECT_EQ(c.rules.back().qname, "*");
    // The text round-trips through the responders' own parser.
    EXPECT_TRUE(responders::parse_dns_config(fault_dns_config_for(r.value())));
}

} // namespace
} // namespace mpic::lab
