// The lab's BIND, checked with dig from each perspective's source address: views really differ per perspective,
// and every record kind a scenario can hold comes back as written.

#include <chrono>
#include <set>

#include <gtest/gtest.h>

#include "tests/lab/command.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::lab {
namespace {

using testing::dig;

struct poisoning {
    static std::string file() { return scenario_file("dns-poisoning.toml"); }
};
class lab_dns_poisoning : public lab_fixture<poisoning> {};

TEST_F(lab_dns_poisoning, only_perspective_3_sees_the_forged_txt_and_address) {
    for (int k = 1; k <= lab().perspectives(); ++k) {
        auto txt = dig(lab().perspective_address(k), lab().dns_port(), "_acme-challenge.poisoned.test", "TXT");
        auto a = dig(lab().perspective_address(k), lab().dns_port(), "poisoned.test", "A");
        ASSERT_EQ(txt.status, 0);
        if (k == 3) {
            EXPECT_EQ(txt.out, "\"attacker-dns01-digest\"\n");
            EXPECT_EQ(a.out, "127.0.0.250\n");
        } else {
            EXPECT_EQ(txt.out, "\"good-dns01-digest\"\n") << "perspective " << k;
            EXPECT_EQ(a.out, "127.0.0.1\n") << "perspective " << k;
        }
    }
}

TEST_F(lab_dns_poisoning, other_sources_get_the_default_view) {
    EXPECT_EQ(dig("127.0.0.1", lab().dns_port(), "_acme-challenge.poisoned.test", "TXT").out,
              "\"good-dns01-digest\"\n");
    EXPECT_EQ(dig("127.0.0.100", lab().dns_port(), "poisoned.test", "A").out, "127.0.0.1\n");
}

TEST_F(lab_dns_poisoning, unknown_names_are_nxdomain_and_foreign_zones_refused) {
    auto r = testing::run("dig +tries=1 +time=2 -b 127.0.0.2 @127.0.0.1 -p " + std::to_string(lab().dns_port()) +
                          " nothere.poisoned.test A");
    EXPECT_NE(r.out.find("status: NXDOMAIN"), std::string::npos) << r.out;
    r = testing::run("dig +tries=1 +time=2 @127.0.0.1 -p " + std::to_string(lab().dns_port()) + " example.com A");
    EXPECT_NE(r.out.find("status: REFUSED"), std::string::npos) << r.out;
}

struct caa_split {
    static std::string file() { return scenario_file("caa-split.toml"); }
};
class lab_dns_caa : public lab_fixture<caa_split> {};

TEST_F(lab_dns_caa, flags_and_tags_per_perspective) {
    const unsigned port = lab().dns_port();
    auto base = dig(lab().perspective_address(3), port, "split.test", "CAA").out;
    EXPECT_NE(base.find("0 issue \"ca.example; accounturi=https://ca.example/acct/1\""), std::string::npos) << base;
    EXPECT_NE(base.find("0 issuewild \";\""), std::string::npos);
    EXPECT_NE(base.find("0 iodef \"mailto:caa@split.test\""), std::string::npos);
    for (int k : {1, 2}) {
        EXPECT_EQ(dig(lab().perspective_address(k), port, "split.test", "CAA").out, "128 issue \"other-ca.example\"\n");
    }
    EXPECT_EQ(dig(lab().perspective_address(4), port, "split.test", "CAA").out, "");
    EXPECT_EQ(dig(lab().perspective_address(5), port, "split.test", "CAA").out,
              "128 tbs \"unknown-critical-property\"\n");
    // The CNAME at alias.split.test leads into the other zone for everyone; BIND 9.18 as a non-recursive server
    // answers with the CNAME only (the client follows it, as RFC 8659 §3 CAA processing does).
    auto alias = dig(lab().perspective_address(1), port, "alias.split.test", "CAA").out;
    EXPECT_EQ(alias, "target.other.test.\n");
    EXPECT_EQ(dig(lab().perspective_address(1), port, "target.other.test", "CAA").out, "0 issue \"ca.example\"\n");
}

struct every_kind {
    static std::string toml() {
        return R"(
[lab]
perspectives = 2
[zones."kinds.test"]
records = [
  { name = "@", type = "A", value = "127.0.0.1" },
  { name = "v6", type = "AAAA", value = "2001:db8::7" },
  { name = "multi", type = "TXT", value = ["first string", "second \"quoted\" string", "semi;colon $dollar"] },
  { name = "multi", type = "TXT", value = "another record" },
  { name = "www", type = "CNAME", value = "kinds.test" },
  { name = "old", type = "DNAME", value = "new.kinds.test" },
  { name = "host.new", type = "A", value = "127.0.0.9" },
  { name = "9.0.0.127.in-addr.arpa.kinds.test.", type = "PTR", value = "host.new.kinds.test" },
  { name = "*.wild", type = "TXT", value = "wildcard" },
  { name = "@", type = "CAA", flags = 0, tag = "issuemail", value = "mail-ca.example" },
  { name = "@", type = "CAA", flags = 1, tag = "contactemail", value = "dv@kinds.test" },
  { name = "_validation-contactphone", type = "TXT", value = "+1 555 0100" },
]
[[override]]
perspectives = [2]
records = [ { name = "multi.kinds.test", type = "TXT", value = ["hijacked", "two"] } ]
)";
    }
};
class lab_dns_kinds : public lab_fixture<every_kind> {};

TEST_F(lab_dns_kinds, multi_string_txt_keeps_its_strings) {
    auto out = dig("127.0.0.2", lab().dns_port(), "multi.kinds.test", "TXT").out;
    EXPECT_NE(out.find("\"first string\" \"second \\\"quoted\\\" string\" \"semi;colon $dollar\"\n"), std::string::npos)
        << out;
    EXPECT_NE(out.find("\"another record\"\n"), std::string::npos) << out;
    EXPECT_EQ(dig("127.0.0.3", lab().dns_port(), "multi.kinds.test", "TXT").out, "\"hijacked\" \"two\"\n");
}

TEST_F(lab_dns_kinds, cname_dname_ptr_aaaa_and_wildcard) {
    const unsigned port = lab().dns_port();
    EXPECT_EQ(dig("127.0.0.2", port, "www.kinds.test", "A").out, "kinds.test.\n127.0.0.1\n");
    // RFC 6672 §3.3: the server synthesises a CNAME from the DNAME and follows it within its zones.
    auto dname = dig("127.0.0.2", port, "host.old.kinds.test", "A").out;
    EXPECT_NE(dname.find("new.kinds.test."), std::string::npos) << dname;
    EXPECT_NE(dname.find("127.0.0.9"), std::string::npos) << dname;
    EXPECT_EQ(dig("127.0.0.2", port, "9.0.0.127.in-addr.arpa.kinds.test", "PTR").out, "host.new.kinds.test.\n");
    EXPECT_EQ(dig("127.0.0.2", port, "v6.kinds.test", "AAAA").out, "2001:db8::7\n");
    EXPECT_EQ(dig("127.0.0.2", port, "anything.wild.kinds.test", "TXT").out, "\"wildcard\"\n");
    auto caa = dig("127.0.0.2", port, "kinds.test", "CAA").out;
    EXPECT_NE(caa.find("0 issuemail \"mail-ca.example\""), std::string::npos) << caa;
    EXPECT_NE(caa.find("1 contactemail \"dv@kinds.test\""), std::string::npos) << caa;
}

TEST_F(lab_dns_kinds, tcp_answers_like_udp) {
    auto r = testing::run("dig +short +tcp +tries=1 +time=2 -b 127.0.0.3 @127.0.0.1 -p " +
                          std::to_string(lab().dns_port()) + " multi.kinds.test TXT");
    EXPECT_EQ(r.out, "\"hijacked\" \"two\"\n");
}

struct unreachable_and_stalled {
    static std::string toml() {
        return R"(
[lab]
perspectives = 3
[zones."slow.test"]
records = [ { name = "_acme-challenge", type = "TXT", value = "digest" },
            { name = "@", type = "A", value = "127.0.0.1" } ]
[[override]]
perspectives = [2]
dns = "unreachable"
[[override]]
perspectives = [3]
dns = "stalled"
stall_ms = 700
)";
    }
};
class lab_dns_faults : public lab_fixture<unreachable_and_stalled> {};

TEST_F(lab_dns_faults, unreachable_perspective_gets_no_answer) {
    auto r = dig(lab().perspective_address(2), lab().dns_port(), "_acme-challenge.slow.test", "TXT", 1);
    EXPECT_NE(r.status, 0);
    EXPECT_EQ(r.out.find("digest"), std::string::npos);
    EXPECT_EQ(dig(lab().perspective_address(1), lab().dns_port(), "_acme-challenge.slow.test", "TXT").out,
              "\"digest\"\n");
}

TEST_F(lab_dns_faults, stalled_perspective_is_answered_late_by_the_fault_dns) {
    ASSERT_TRUE(lab().fault_dns_port().has_value());
    endpoint e = lab().dns_for(3);
    EXPECT_EQ(e.port, *lab().fault_dns_port());
    EXPECT_EQ(lab().dns_for(1).port, lab().dns_port());
    auto t0 = std::chrono::steady_clock::now();
    auto r = dig(lab().perspective_address(3), e.port, "_acme-challenge.slow.test", "TXT", 3);
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.out, "\"digest\"\n");
    EXPECT_GE(took, std::chrono::milliseconds(700));
    EXPECT_LT(took, std::chrono::milliseconds(2500));
}

struct dnssec {
    static std::string file() { return scenario_file("dnssec.toml"); }
};
class lab_dns_dnssec : public lab_fixture<dnssec> {};

std::string dig_full(unsigned port, const std::string& name, const std::string& type, const std::string& extra = "") {
    return testing::run("dig +tries=1 +time=3 " + extra + " @127.0.0.1 -p " + std::to_string(port) + " " + name + " " +
                        type)
        .out;
}

TEST_F(lab_dns_dnssec, every_perspective_has_its_own_validating_resolver) {
    std::set<unsigned> ports;
    for (int k = 1; k <= lab().perspectives(); ++k) {
        auto r = lab().resolver_for(k);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(lab().dns_for(k), *r);
        EXPECT_NE(r->port, lab().dns_port());
        ports.insert(r->port);
    }
    EXPECT_EQ(ports.size(), static_cast<std::size_t>(lab().perspectives()));
}

TEST_F(lab_dns_dnssec, signed_answers_validate_with_the_ad_bit) {
    for (int k : {1, 3, 4, 5}) {
        std::string out = dig_full(lab().resolver_for(k)->port, "_acme-challenge.signed.test", "TXT");
        EXPECT_NE(out.find("status: NOERROR"), std::string::npos) << out;
        EXPECT_NE(out.find(" ad;"), std::string::npos) << "perspective " << k << ": " << out;
        EXPECT_NE(out.find("\"signed-dns01-digest\""), std::string::npos) << out;
    }
}

TEST_F(lab_dns_dnssec, forged_answer_is_bogus_for_the_poisoned_perspective) {
    std::string out = dig_full(lab().resolver_for(2)->port, "_acme-challenge.signed.test", "TXT");
    EXPECT_NE(out.find("status: SERVFAIL"), std::string::npos) << out;
    EXPECT_EQ(out.find("forged-dns01-digest"), std::string::npos) << out;
    // Asked directly from perspective 2's address, BIND serves the forged data, signed with the attacker's key.
    std::string direct = dig_full(lab().dns_port(), "_acme-challenge.signed.test", "TXT", "+dnssec -b 127.0.0.3");
    EXPECT_NE(direct.find("forged-dns01-digest"), std::string::npos) << direct;
    EXPECT_NE(direct.find("RRSIG"), std::string::npos) << direct;
}

TEST_F(lab_dns_dnssec, unsigned_zone_is_answered_without_ad) {
    std::string out = dig_full(lab().resolver_for(1)->port, "_acme-challenge.plain.test", "TXT");
    EXPECT_NE(out.find("status: NOERROR"), std::string::npos) << out;
    EXPECT_EQ(out.find(" ad;"), std::string::npos) << out;
    EXPECT_NE(out.find("\"unsigned-dns01-digest\""), std::string::npos) << out;
}

} // namespace
} // namespace mpic::lab
