// lab_environment: one lab for the whole test binary, registered before main() runs (gtest_main is used).

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/lab/command.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::lab {
namespace {

[[maybe_unused]] ::testing::Environment* const environment =
    ::testing::AddGlobalTestEnvironment(new lab_environment(scenario_file("http-hijack.toml")));

TEST(lab_environment_test, the_binarys_lab_is_running_and_answers) {
    lab* l = lab_environment::current();
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(l->perspectives(), 6);
    EXPECT_TRUE(std::filesystem::exists(l->dir()));
    EXPECT_TRUE(l->exited_servers().empty());
    auto r = testing::run("curl -s --max-time 5 --interface 127.0.0.3 -H 'Host: hijacked.test' http://127.0.0.1:" +
                          std::to_string(l->http_port()) + "/.well-known/acme-challenge/tok-h");
    EXPECT_EQ(r.out, "tok-h.ATTACKER-thumbprint");
}

} // namespace
} // namespace mpic::lab
