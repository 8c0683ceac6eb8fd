// A 10,000-link CNAME chain served by the lab's BIND (issue #4): whether the perspective asks BIND directly or its
// validating resolver (unbound, which chases the chain itself and gives up), the check ends well before its
// deadline with a typed result and bounded memory. The scenario is generated inline (10,000 records).

#include <sstream>

#include <gtest/gtest.h>

#include "tests/integration/lab_perspective.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::test {
namespace {

using namespace std::chrono_literals;
using validators::check_result;
using validators::validation_method;

constexpr int chain_length = 10000;

struct long_chain_scenario {
    static std::string toml() {
        std::ostringstream out;
        // The signed zone only makes the lab start one validating resolver per perspective.
        out << "[lab]\nperspectives = 1\n[zones.\"sig\"]\ndnssec = true\nrecords = [ { name = \"@\", type = \"TXT\","
            << " value = \"x\" } ]\n[zones.\"pln\"]\nrecords = [\n";
        out << "  { name = \"_acme-challenge.chain\", type = \"CNAME\", value = \"c0.chain.pln\" },\n";
        for (int i = 0; i < chain_length - 1; ++i) {
            out << "  { name = \"c" << i << ".chain\", type = \"CNAME\", value = \"c" << i + 1 << ".chain.pln\" },\n";
        }
        out << "  { name = \"c" << chain_length - 1 << ".chain\", type = \"TXT\", value = \"chain-digest\" },\n]\n";
        return out.str();
    }
};

class checks_long_chain : public lab::lab_fixture<long_chain_scenario> {
protected:
    check_result run(std::optional<std::uint16_t> dns_port, std::chrono::milliseconds* elapsed) {
        auto options = at(1).with_dns_timeout(1500);
        if (dns_port) {
            options.with_dns_port(*dns_port);
        }
        lab_perspective p(lab(), options);
        auto request = dcv_request("chain.pln", validation_method::acme_dns_01);
        request.dcv.key_authorization_hash = "chain-digest";
        return p.run(request, 8000, elapsed);
    }
};

TEST_F(checks_long_chain, validating_resolver_gives_up_and_the_check_reports_a_lookup_error) {
    const long before = peak_rss_kib();
    std::chrono::milliseconds elapsed{};
    auto r = run(std::nullopt, &elapsed);
    EXPECT_FALSE(r.passed);
    EXPECT_FALSE(r.completed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:dcv_checker:lookup") << r.errors[0].message;
    EXPECT_EQ(r.details.response_code, "SERVFAIL");
    EXPECT_LT(elapsed, 8000ms);
    EXPECT_LT(peak_rss_kib() - before, 32 * 1024) << "KiB of peak RSS growth";
}

TEST_F(checks_long_chain, authoritative_server_stops_the_chain_and_the_check_reports_a_lookup_error) {
    // BIND follows the in-zone chain for a dozen links, then answers SERVFAIL with EDE 0 "max. restarts reached".
    const long before = peak_rss_kib();
    std::chrono::milliseconds elapsed{};
    auto r = run(lab().dns_port(), &elapsed);
    EXPECT_FALSE(r.passed);
    EXPECT_FALSE(r.completed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:dcv_checker:lookup") << r.errors[0].message;
    EXPECT_NE(r.errors[0].message.find("max. restarts"), std::string::npos) << r.errors[0].message;
    EXPECT_EQ(r.details.response_code, "SERVFAIL");
    EXPECT_GT(r.details.cname_chain.size(), 1U);
    EXPECT_LE(r.details.cname_chain.size(), 17U); // never more than the resolver's 16-step cap (+ the qname)
    EXPECT_LT(elapsed, 8000ms);
    EXPECT_LT(peak_rss_kib() - before, 32 * 1024) << "KiB of peak RSS growth";
}

} // namespace
} // namespace mpic::test
