// The CLI contract's failure half: a bad config makes every responder exit non-zero with a clear message on
// stderr and nothing on stdout (no "ready" line), without binding anything.

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/lab_responders/lab_process.hh"

namespace mpic::lab::test {
namespace {

using ::testing::HasSubstr;

const char* const binaries[] = {MPIC_LAB_ALPN_BIN, MPIC_LAB_FAULTDNS_BIN, MPIC_LAB_FAULTHTTP_BIN};

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct outcome {
    int status;
    std::string ready;
    std::string stderr_text;
};

outcome start_with(const std::string& binary, const std::filesystem::path& config, const temp_dir& dir) {
    responder_process p(binary, config, dir.path() / "stderr.txt");
    outcome o;
    o.ready = p.wait_ready(std::chrono::seconds(5));
    o.status = p.wait_exit(std::chrono::seconds(5));
    o.stderr_text = slurp(dir.path() / "stderr.txt");
    return o;
}

TEST(ResponderBadConfig, MissingFile) {
    temp_dir dir;
    for (const char* bin : binaries) {
        const outcome o = start_with(bin, dir.path() / "nope.toml", dir);
        EXPECT_EQ(o.status, 2) << bin;
        EXPECT_EQ(o.ready, "") << bin;
        EXPECT_THAT(o.stderr_text, HasSubstr("error: " + (dir.path() / "nope.toml").string() + ": cannot open")) << bin;
    }
}

TEST(ResponderBadConfig, TomlSyntaxError) {
    temp_dir dir;
    const auto cfg = dir.write("bad.toml", "[listen]\nport = 0\n[[rule\n");
    for (const char* bin : binaries) {
        const outcome o = start_with(bin, cfg, dir);
        EXPECT_EQ(o.status, 2) << bin;
        EXPECT_EQ(o.ready, "") << bin;
        EXPECT_THAT(o.stderr_text, HasSubstr("TOML syntax error at line 3")) << bin << o.stderr_text;
    }
}

TEST(ResponderBadConfig, UnknownKeyAndBadValues) {
    temp_dir dir;
    const auto alpn =
        start_with(MPIC_LAB_ALPN_BIN, dir.write("a.toml", "[[cert]]\nname = \"a\"\nvariant = \"x\"\n"), dir);
    EXPECT_EQ(alpn.status, 2);
    EXPECT_THAT(alpn.stderr_text, HasSubstr("cert[0]: variant 'x' is not one of: valid,"));
    const auto dns =
        start_with(MPIC_LAB_FAULTDNS_BIN, dir.write("d.toml", "[[rule]]\nqname = \"a\"\nbehavior = 1\n"), dir);
    EXPECT_EQ(dns.status, 2);
    EXPECT_THAT(dns.stderr_text, HasSubstr("rule[0]: unknown key 'behavior'"));
    const auto http = start_with(MPIC_LAB_FAULTHTTP_BIN, dir.write("h.toml", "[listen]\naddress = \"example\"\n"), dir);
    EXPECT_EQ(http.status, 2);
    EXPECT_THAT(http.stderr_text, HasSubstr("listen: address 'example' is not an IP literal"));
}

TEST(ResponderBadConfig, NoConfigOptionPrintsUsage) {
    for (const char* bin : binaries) {
        const auto r = run_command(std::string(bin) + " 2>&1", 10);
        EXPECT_NE(r.status, 0) << bin;
        EXPECT_THAT(r.output, HasSubstr("--config")) << bin;
    }
}

TEST(ResponderBadConfig, PortInUseFailsWithBindError) {
    temp_dir dir;
    // Take a port with a first HTTP responder, then ask every binary for that same port.
    responder_process first(MPIC_LAB_FAULTHTTP_BIN, dir.write("first.toml", ""), dir.path() / "first.txt");
    const int port = port_from_ready(first.wait_ready());
    ASSERT_GT(port, 0);
    const auto cfg = dir.write("busy.toml", "[listen]\nport = " + std::to_string(port) + "\n");
    for (const char* bin : binaries) {
        const outcome o = start_with(bin, cfg, dir);
        EXPECT_EQ(o.status, 1) << bin;
        EXPECT_EQ(o.ready, "") << bin;
        EXPECT_THAT(o.stderr_text, HasSubstr("bind 127.0.0.1:" + std::to_string(port))) << bin;
    }
    EXPECT_EQ(first.stop(), 0);
}

} // namespace
} // namespace mpic::lab::test
