// Runs the embedding example (tools/embed-example) against the lab's demo scenario: the engine, configured from a
// TOML file in lab mode, must corroborate good.test and refuse the hijacked bad.test.

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tools/mpic-lab/lab_environment.hh"

namespace {

struct demo {
    static std::string file() { return mpic::lab::scenario_file("demo.toml"); }
};
class embed_example : public mpic::lab::lab_fixture<demo> {
protected:
    /// Writes an engine configuration with six in-process perspectives pointed at the lab.
    std::string write_config() {
        auto path = std::filesystem::temp_directory_path() / ("embed-example-" + std::to_string(::getpid()) + ".toml");
        std::ofstream out(path);
        const auto& l = lab();
        out << "[engine]\nreactors = 1\ncaa_issuer_domains = [\"ca.example\"]\n"
            << "[policy]\ndevelopment_override = true\n"
            << "[lab]\nenabled = true\nhttp_port = " << l.http_port() << "\nhttps_port = " << l.https_port()
            << "\ntls_alpn_port = " << l.tls_alpn_port().value_or(l.https_port()) << "\n";
        const char* sites[][4] = {
            {"us-east", "ARIN", "39.0", "-77.5"},       {"us-west", "ARIN", "45.6", "-121.2"},
            {"eu-west", "RIPE", "53.3", "-6.3"},        {"eu-central", "RIPE", "50.1", "8.7"},
            {"ap-northeast", "APNIC", "35.7", "139.7"}, {"ap-southeast", "APNIC", "1.35", "103.8"}};
        for (int k = 1; k <= 6; ++k) {
            const auto* s = sites[k - 1];
            out << "[[perspective]]\ncode = \"" << s[0] << "\"\nrir = \"" << s[1] << "\"\nlocation = [" << s[2] << ", "
                << s[3] << "]\nsource_ipv4 = \"" << l.perspective_address(k)
                << "\"\nresolvers = [\"127.0.0.1:" << l.dns_for(k).port << "\"]\n";
        }
        return path.string();
    }

    static std::pair<int, std::string> run(const std::string& command) {
        std::string output;
        FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
        if (pipe == nullptr) {
            return {-1, {}};
        }
        std::array<char, 4096> buf{};
        while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) {
            output += buf.data();
        }
        int status = ::pclose(pipe);
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
    }
};

TEST_F(embed_example, corroborates_a_clean_domain) {
    auto config = write_config();
    auto [status, output] =
        run(std::string(MPIC_EMBED_EXAMPLE) + " " + config + " good.test tok-good tok-good.thumbprint");
    std::filesystem::remove(config);
    EXPECT_EQ(status, 0) << output;
    EXPECT_NE(output.find("acme-http-01: is_valid=true"), std::string::npos) << output;
    EXPECT_NE(output.find("caa: is_valid=true"), std::string::npos) << output;
    EXPECT_NE(output.find("shutdown: clean"), std::string::npos) << output;
}

TEST_F(embed_example, refuses_a_domain_hijacked_for_three_of_six) {
    auto config = write_config();
    auto [status, output] =
        run(std::string(MPIC_EMBED_EXAMPLE) + " " + config + " bad.test tok-bad tok-bad.thumbprint");
    std::filesystem::remove(config);
    EXPECT_EQ(status, 1) << output;
    EXPECT_NE(output.find("acme-http-01: is_valid=false"), std::string::npos) << output;
    EXPECT_NE(output.find("mpic_error:dcv_checker:mismatch"), std::string::npos) << output;
}

TEST_F(embed_example, rejects_a_bad_configuration_with_the_key_named) {
    auto path = std::filesystem::temp_directory_path() / "embed-example-bad.toml";
    std::ofstream(path)
        << "[[perspective]]\ncode = \"x\"\nrir = \"MARS\"\nlocation = [0, 0]\nresolvers = [\"1.2.3.4\"]\n";
    auto [status, output] = run(std::string(MPIC_EMBED_EXAMPLE) + " " + path.string() + " good.test t k");
    std::filesystem::remove(path);
    EXPECT_EQ(status, 2) << output;
    EXPECT_NE(output.find("perspective[0].rir"), std::string::npos) << output;
}

} // namespace
