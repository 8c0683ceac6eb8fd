// The engine configuration's declaration of DNSSEC-validating resolvers (BR 3.2.2.8 condition 3 depends on it):
// `[dns] resolver_validates_dnssec`, a perspective's own override, and lab mode deriving it from the lab summary.

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "quorum/engine/config.hh"

namespace mpic::quorum {
namespace {

std::string perspectives_toml(std::string_view extra_first = "") {
    std::string text;
    const char* sites[][3] = {{"a", "ARIN", "[39.0, -77.0]"}, {"b", "RIPE", "[53.0, -6.0]"}};
    bool first = true;
    for (const auto& site : sites) {
        text += std::string("[[perspective]]\ncode = \"") + site[0] + "\"\nrir = \"" + site[1] +
                "\"\nlocation = " + site[2] + "\nresolvers = [\"127.0.0.1\"]\n";
        if (first) {
            text += extra_first;
            first = false;
        }
    }
    return text;
}

result<engine_config> parse(const std::string& text, std::vector<std::string>& errors) {
    return engine_config_from_toml("[policy]\ndevelopment_override = true\n" + text, "test.toml", errors);
}

TEST(EngineConfigDnssec, DefaultDeclaresNoValidatingResolver) {
    std::vector<std::string> errors;
    auto config = parse(perspectives_toml(), errors);
    ASSERT_TRUE(config) << (errors.empty() ? "" : errors.front());
    EXPECT_FALSE(config->dns_resolver_validates_dnssec);
    EXPECT_FALSE(config->perspectives[0].transport.resolver_validates_dnssec.has_value());
}

TEST(EngineConfigDnssec, EngineKeyAndPerspectiveOverride) {
    std::vector<std::string> errors;
    auto config = parse(
        "[dns]\nresolver_validates_dnssec = true\n" + perspectives_toml("resolver_validates_dnssec = false\n"), errors);
    ASSERT_TRUE(config) << (errors.empty() ? "" : errors.front());
    EXPECT_TRUE(config->dns_resolver_validates_dnssec);
    ASSERT_TRUE(config->perspectives[0].transport.resolver_validates_dnssec.has_value());
    EXPECT_FALSE(*config->perspectives[0].transport.resolver_validates_dnssec);
    EXPECT_FALSE(config->perspectives[1].transport.resolver_validates_dnssec.has_value());
}

TEST(EngineConfigDnssec, WrongTypesNameTheirKeys) {
    std::vector<std::string> errors;
    EXPECT_FALSE(parse("[dns]\nresolver_validates_dnssec = \"yes\"\n" + perspectives_toml(), errors));
    ASSERT_FALSE(errors.empty());
    EXPECT_NE(errors.front().find("dns.resolver_validates_dnssec"), std::string::npos) << errors.front();
    errors.clear();
    EXPECT_FALSE(parse(perspectives_toml("resolver_validates_dnssec = \"no\"\n"), errors));
    ASSERT_FALSE(errors.empty());
    EXPECT_NE(errors.front().find("perspective[0].resolver_validates_dnssec"), std::string::npos) << errors.front();
    // An integer is not a boolean: toml++ would convert 1 to true; the key must be refused instead.
    errors.clear();
    EXPECT_FALSE(parse("[dns]\nresolver_validates_dnssec = 1\n" + perspectives_toml(), errors));
    ASSERT_FALSE(errors.empty());
    EXPECT_NE(errors.front().find("dns.resolver_validates_dnssec"), std::string::npos) << errors.front();
    EXPECT_NE(errors.front().find("boolean"), std::string::npos) << errors.front();
}

class LabSummary : public testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/mpic-config-test.XXXXXX";
        const int fd = mkstemp(pattern);
        ASSERT_GE(fd, 0);
        ::close(fd);
        _path = pattern;
    }
    void TearDown() override { std::remove(_path.c_str()); }
    void write(const std::string& text) { std::ofstream(_path) << text; }
    std::string _path;
};

TEST_F(LabSummary, PerspectivesBehindTheLabsUnboundAreValidatingTheOthersAreNot) {
    // Perspective 1 resolves through unbound (port 5301, listed in validating_resolvers), perspective 2 through the
    // fault responder (port 5400, a stalled perspective): only the first may confirm "Insecure".
    write(R"({"perspectives":[{"index":1,"dns":{"address":"127.0.0.1","port":5301}},
                              {"index":2,"dns":{"address":"127.0.0.1","port":5400}}],
              "http":{"port":8080},"https":{"port":8443},"tls_alpn":null,
              "validating_resolvers":[{"perspective":0,"address":"127.0.0.1","port":5300},
                                      {"perspective":1,"address":"127.0.0.1","port":5301},
                                      {"perspective":2,"address":"127.0.0.1","port":5302}]})");
    std::vector<std::string> errors;
    auto config = parse("[dns]\nresolver_validates_dnssec = true\n" + perspectives_toml(), errors);
    ASSERT_TRUE(config);
    ASSERT_TRUE(apply_lab_summary(_path, *config, errors)) << (errors.empty() ? "" : errors.front());
    EXPECT_EQ(config->perspectives[0].transport.resolver_validates_dnssec, std::optional<bool>(true));
    EXPECT_EQ(config->perspectives[1].transport.resolver_validates_dnssec, std::optional<bool>(false));
}

TEST_F(LabSummary, WithoutValidatingResolversNothingValidates) {
    // An unsigned scenario: BIND answers everyone, and BIND here does not validate, whatever [dns] declared.
    for (const char* resolvers : {"", R"(,"validating_resolvers":[])", R"(,"validating_resolvers":"bad")",
                                  R"(,"validating_resolvers":[{"address":1,"port":"x"}])"}) {
        write(std::string(R"({"perspectives":[{"dns":{"address":"127.0.0.1","port":5301}},
                                             {"dns":{"address":"127.0.0.1","port":5301}}],
                             "http":{"port":8080},"https":{"port":8443})") +
              resolvers + "}");
        std::vector<std::string> errors;
        auto config = parse("[dns]\nresolver_validates_dnssec = true\n" + perspectives_toml(), errors);
        ASSERT_TRUE(config);
        ASSERT_TRUE(apply_lab_summary(_path, *config, errors)) << resolvers;
        for (const auto& p : config->perspectives) {
            EXPECT_EQ(p.transport.resolver_validates_dnssec, std::optional<bool>(false)) << resolvers;
        }
    }
}

} // namespace
} // namespace mpic::quorum
