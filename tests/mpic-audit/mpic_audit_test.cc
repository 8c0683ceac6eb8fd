// The audit log reader against synthetic logs: filters, rotated files read oldest first, malformed and torn lines.

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

std::string record(const std::string& trace, bool valid, std::int64_t ms, const std::string& target) {
    return R"({"audit_version":1,"decided_unix_ms":)" + std::to_string(ms) + R"(,"trace_identifier":")" + trace +
           R"(","check_type":"dcv","is_valid":)" + (valid ? "true" : "false") +
           R"(,"client":"c","results":[{"target":")" + target +
           R"(","check":"dcv","is_valid":true,"quorum_result":"5/6","attempt_count":1,"attempts":[[{"perspective":"p1","rir":"ARIN","result":"fail","errors":[{"type":"mpic_error:dcv_checker:mismatch"}]}]]}]})";
}

class mpic_audit : public ::testing::Test {
protected:
    void SetUp() override {
        _dir = fs::temp_directory_path() / ("mpic-audit-test-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(_dir);
    }
    void TearDown() override { fs::remove_all(_dir); }

    fs::path write(const std::string& name, const std::string& text) {
        auto path = _dir / name;
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }

    static std::pair<int, std::string> run(const std::string& args) {
        std::string output;
        FILE* pipe = ::popen((std::string(MPIC_AUDIT_BINARY) + " " + args + " 2>&1").c_str(), "r");
        std::array<char, 4096> buf{};
        while (pipe != nullptr && std::fgets(buf.data(), buf.size(), pipe) != nullptr) {
            output += buf.data();
        }
        int status = pipe != nullptr ? ::pclose(pipe) : -1;
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
    }

    fs::path _dir;
};

TEST_F(mpic_audit, filters_by_trace_target_time_and_outcome) {
    auto log =
        write("audit.jsonl", record("a", true, 1000, "x.example") + "\n" + record("b", false, 2000, "y.example") +
                                 "\n" + record("c", true, 3000, "y.example") + "\n");
    auto [status, out] = run("--trace b --json " + log.string());
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(out.find("\"trace_identifier\":\"b\""), std::string::npos);
    EXPECT_EQ(out.find("\"trace_identifier\":\"a\""), std::string::npos);

    std::tie(status, out) = run("--target y.example --since 2500 --json " + log.string());
    EXPECT_NE(out.find("\"trace_identifier\":\"c\""), std::string::npos) << out;
    EXPECT_EQ(out.find("\"trace_identifier\":\"b\""), std::string::npos) << out;

    std::tie(status, out) = run("--invalid " + log.string());
    EXPECT_NE(out.find("INVALID  trace=b"), std::string::npos) << out;
    EXPECT_EQ(out.find("trace=a"), std::string::npos) << out;
    EXPECT_NE(out.find("p1 (ARIN): fail mpic_error:dcv_checker:mismatch"), std::string::npos) << out;
}

TEST_F(mpic_audit, reads_rotated_files_oldest_first) {
    write("audit.jsonl.2", record("oldest", true, 1, "x") + "\n");
    write("audit.jsonl.1", record("older", true, 2, "x") + "\n");
    auto log = write("audit.jsonl", record("newest", true, 3, "x") + "\n");
    auto [status, out] = run("--json " + log.string());
    EXPECT_EQ(status, 0) << out;
    auto oldest = out.find("oldest"), older = out.find("older\""), newest = out.find("newest");
    ASSERT_NE(oldest, std::string::npos);
    ASSERT_NE(older, std::string::npos);
    ASSERT_NE(newest, std::string::npos);
    EXPECT_LT(oldest, older);
    EXPECT_LT(older, newest);
    std::tie(status, out) = run("--stats " + log.string());
    EXPECT_NE(out.find("3 records"), std::string::npos) << out;
    EXPECT_NE(out.find("p1: 3"), std::string::npos) << out;
}

TEST_F(mpic_audit, reports_malformed_and_torn_records) {
    auto log = write("audit.jsonl", record("a", true, 1, "x") + "\nnot json\n" + R"({"audit_version":1,"trunc)");
    auto [status, out] = run(log.string());
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find(":2: malformed record"), std::string::npos) << out;
    EXPECT_NE(out.find(":3: incomplete record at the end (never acknowledged)"), std::string::npos) << out;
}

TEST_F(mpic_audit, usage_errors_exit_2) {
    EXPECT_EQ(run((_dir / "missing.jsonl").string()).first, 2);
    EXPECT_EQ(run("--no-such-flag x").first, 109); // CLI11's exit code for an unknown option
}

} // namespace
