// mpic-check end to end (integration): the real binary against lab scenarios, one per cause it names, checking the
// exit status (the verdict) and the named cause in --json output; usage errors; --watch stopping on agreement and
// at its deadline; the same diagnosis through a running mpicd coordinator. Every run is bounded by `timeout`.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/mpicd/mpicd_process.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace {

using json = nlohmann::json;

struct run_result {
    int status = -1;
    std::string out;
    std::string err;
    double seconds = 0;
};

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

/// Runs a shell command (which must bound itself), stdout captured.
run_result mpic_check_shell(const std::string& command) {
    run_result r;
    const auto started = std::chrono::steady_clock::now();
    FILE* p = ::popen(command.c_str(), "r");
    if (p != nullptr) {
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
            r.out.append(buf, n);
        }
        const int st = ::pclose(p);
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return r;
}

/// Runs mpic-check with `args` (bounded by `seconds`), stdout captured, stderr into a file.
run_result mpic_check(const std::vector<std::string>& args, int seconds = 40) {
    char err_path[] = "/tmp/mpic-check-test-err-XXXXXX";
    const int fd = ::mkstemp(err_path);
    if (fd >= 0) {
        ::close(fd);
    }
    std::string command = "timeout " + std::to_string(seconds) + " " + quote(MPIC_CHECK_BINARY);
    for (const auto& a : args) {
        command += " " + quote(a);
    }
    command += " 2>" + quote(err_path) + " </dev/null";
    run_result r = mpic_check_shell(command);
    r.err = mpic::test::read_text(err_path);
    std::remove(err_path);
    return r;
}

json parse(const run_result& r) {
    auto doc = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << "stdout is not JSON:\n" << r.out << "\nstderr:\n" << r.err;
    return doc;
}

/// The cause of `kind` in a --json document, or null.
json cause_of(const json& doc, const std::string& kind) {
    if (doc.is_object() && doc.contains("causes")) {
        for (const auto& c : doc["causes"]) {
            if (c["kind"] == kind) {
                return c;
            }
        }
    }
    return nullptr;
}

/// A lab started from a shipped scenario, with its summary written where --lab can read it.
template <class Scenario>
class check_lab : public mpic::lab::lab_fixture<Scenario> {
protected:
    std::string summary() {
        const std::string path = this->lab().dir() + "/mpic-check-summary.json";
        std::ofstream(path) << this->lab().summary_json();
        return path;
    }
    run_result check(std::vector<std::string> args, int seconds = 40) {
        args.insert(args.begin(), {"--lab", summary()});
        return mpic_check(args, seconds);
    }
};

#define MPIC_CHECK_SCENARIO(name, path)                                                                                \
    struct name##_scenario {                                                                                           \
        static std::string file() { return mpic::lab::scenario_file(path); }                                           \
    };                                                                                                                 \
    using name = check_lab<name##_scenario>

MPIC_CHECK_SCENARIO(split_horizon, "check-split-horizon.toml");
MPIC_CHECK_SCENARIO(stale_txt, "check-stale-txt.toml");
MPIC_CHECK_SCENARIO(port80, "check-port80.toml");
MPIC_CHECK_SCENARIO(caa_split, "check-caa-split.toml");
MPIC_CHECK_SCENARIO(san_unreachable, "check-san-unreachable.toml");
MPIC_CHECK_SCENARIO(demo, "demo.toml");

TEST_F(split_horizon, apnic_perspectives_see_another_txt_but_it_would_pass) {
    auto r = check({"horizon.test", "--dns01", "horizon-dns01-digest", "--json"});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    auto doc = parse(r);
    auto c = cause_of(doc, "split_horizon");
    ASSERT_FALSE(c.is_null()) << doc.dump(2);
    EXPECT_NE(c["text"].get<std::string>().find("perspectives in APNIC get a different TXT"), std::string::npos)
        << c["text"];
    EXPECT_NE(c["text"].get<std::string>().find("propagation or split-horizon DNS"), std::string::npos);
    EXPECT_EQ(c["perspectives"], json({"ap-northeast", "ap-southeast"}));
    EXPECT_TRUE(doc["would_pass"].get<bool>());
    EXPECT_FALSE(doc["agreement"].get<bool>());
    EXPECT_TRUE(doc["lab_mode"].get<bool>());
    // Every perspective reported (monitoring mode), none was cancelled by an early decision.
    const auto& rows = doc["sections"][0]["rows"];
    ASSERT_EQ(rows.size(), 6u);
    for (const auto& row : rows) {
        EXPECT_TRUE(row["completed"].get<bool>()) << row.dump();
    }
    EXPECT_EQ(doc["sections"][0]["verdict"]["line"], "would PASS: 4/6 corroborate (4 required), 2 RIRs (ARIN, RIPE)");
}

TEST_F(stale_txt, old_value_from_three_perspectives_would_fail) {
    auto r = check({"stale.test", "--dns01", "fresh-dns01-digest", "--json"});
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    auto doc = parse(r);
    auto c = cause_of(doc, "stale_record");
    ASSERT_FALSE(c.is_null()) << doc.dump(2);
    EXPECT_NE(c["text"].get<std::string>().find(
                  "TXT record is stale (old value \"old-dns01-digest\" seen by 3 of 6 perspectives"),
              std::string::npos)
        << c["text"];
    EXPECT_EQ(doc["verdict"], "would FAIL: stale.test acme-dns-01 (3/6 corroborate, 4 required)");
}

TEST_F(stale_txt, text_output_has_no_colour_when_not_a_terminal) {
    auto r = check({"stale.test", "--dns01", "fresh-dns01-digest"});
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(r.out.find("\033["), std::string::npos);
    EXPECT_NE(r.out.find("\"old-dns01-digest\"*"), std::string::npos) << r.out; // marked as differing
    EXPECT_NE(r.out.find("Likely causes:"), std::string::npos);
    EXPECT_NE(r.out.find("verdict: would FAIL"), std::string::npos);
    EXPECT_EQ(r.err.find("checking"), std::string::npos); // no progress line off a terminal
}

TEST_F(stale_txt, colour_and_progress_only_on_a_terminal) {
    // script(1) gives mpic-check a pseudo-terminal for stdout and stderr.
    std::string inner =
        quote(MPIC_CHECK_BINARY) + " --lab " + quote(summary()) + " stale.test --dns01 fresh-dns01-digest";
    auto on_tty = [&](const std::string& env) {
        return mpic_check_shell("timeout 40 script -qec " + quote(env + inner) + " /dev/null </dev/null");
    };
    auto coloured = on_tty("");
    EXPECT_EQ(coloured.status, 1) << coloured.out;
    EXPECT_NE(coloured.out.find("\033[1;31m"), std::string::npos) << coloured.out; // red: would FAIL, differing cells
    EXPECT_NE(coloured.out.find("checking 1 name from 6 perspectives"), std::string::npos) << coloured.out;
    auto plain = on_tty("NO_COLOR=1 ");
    EXPECT_EQ(plain.status, 1) << plain.out;
    EXPECT_EQ(plain.out.find("\033[1;"), std::string::npos) << plain.out;
    EXPECT_NE(plain.out.find("\"old-dns01-digest\"*"), std::string::npos) << plain.out;
}

TEST_F(stale_txt, watch_gives_up_at_the_deadline) {
    auto r = check(
        {"stale.test", "--dns01", "fresh-dns01-digest", "--json", "--watch", "--interval", "0.5", "--until", "1.5"});
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_LT(r.seconds, 15.0);
    auto doc = parse(r);
    EXPECT_FALSE(doc["watch"]["agreement_reached"].get<bool>());
    EXPECT_GE(doc["watch"]["rounds"].size(), 2u) << doc["watch"].dump();
    EXPECT_NE(r.err.find("round 1"), std::string::npos) << r.err; // one line per round (stderr with --json)
}

TEST_F(port80, port_closed_from_two_of_six_would_pass) {
    auto r = check({"web.test", "--http01", "tok-web", "tok-web.thumbprint", "--json"});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    auto doc = parse(r);
    auto c = cause_of(doc, "port_unreachable");
    ASSERT_FALSE(c.is_null()) << doc.dump(2);
    EXPECT_NE(c["text"].get<std::string>().find("port 80"), std::string::npos) << c["text"];
    EXPECT_NE(c["text"].get<std::string>().find("from 2 of 6 perspectives (us-west, eu-central)"), std::string::npos)
        << c["text"];
    EXPECT_NE(c["text"].get<std::string>().find("check firewall and geo-blocking"), std::string::npos);
}

TEST_F(caa_split, caa_forbids_from_one_perspective) {
    auto r = check({"caa.test", "--caa", "--json"});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    auto doc = parse(r);
    ASSERT_EQ(doc["sections"].size(), 1u);
    EXPECT_EQ(doc["sections"][0]["check"], "caa");
    auto c = cause_of(doc, "caa_split");
    ASSERT_FALSE(c.is_null()) << doc.dump(2);
    EXPECT_NE(c["text"].get<std::string>().find("CAA at caa.test forbids ca.example from 1 of 6 perspectives "
                                                "(ap-southeast)"),
              std::string::npos)
        << c["text"];
    EXPECT_NE(c["text"].get<std::string>().find("CAA visible in one region and not another"), std::string::npos);
}

TEST_F(caa_split, caa_for_another_issuer_would_fail_everywhere_but_one) {
    auto r = check({"caa.test", "--caa", "--issuer-domain", "other-ca.example", "--json"});
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    auto doc = parse(r);
    auto c = cause_of(doc, "caa_split");
    ASSERT_FALSE(c.is_null()) << doc.dump(2);
    EXPECT_NE(c["text"].get<std::string>().find("forbids other-ca.example from 5 of 6 perspectives"), std::string::npos)
        << c["text"];
}

TEST_F(san_unreachable, one_san_unreachable_from_arin) {
    auto r = check({"a.test", "b.test", "--http01", "tok-san", "tok-san.thumbprint", "--json"});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    auto doc = parse(r);
    ASSERT_EQ(doc["sections"].size(), 4u); // a.test dcv + caa, b.test dcv + caa
    auto c = cause_of(doc, "san_unreachable");
    ASSERT_FALSE(c.is_null()) << doc.dump(2);
    EXPECT_EQ(c["target"], "b.test");
    EXPECT_NE(c["text"].get<std::string>().find("SAN b.test unreachable from the ARIN perspectives"), std::string::npos)
        << c["text"];
    EXPECT_NE(c["text"].get<std::string>().find("127.0.0.250"), std::string::npos) << c["text"];
}

TEST_F(demo, watch_stops_when_every_perspective_agrees) {
    auto r = check({"good.test", "--dns01", "good-dns01-digest", "--watch", "--interval", "5", "--until", "60"});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_LT(r.seconds, 15.0); // one round, no waiting
    EXPECT_NE(r.out.find("round 1"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("round 2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("every perspective agrees"), std::string::npos);
    EXPECT_NE(r.out.find("verdict: would PASS"), std::string::npos);
}

TEST_F(demo, hijack_of_three_perspectives_would_fail) {
    auto r = check({"bad.test", "--http01", "tok-bad", "tok-bad.thumbprint", "--no-caa", "--json"});
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    auto doc = parse(r);
    ASSERT_EQ(doc["sections"].size(), 1u);
    EXPECT_FALSE(cause_of(doc, "body_mismatch").is_null()) << doc.dump(2);
}

TEST_F(stale_txt, through_a_running_coordinator) {
    char tmpl[] = "/tmp/mpic-check-coord-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    const std::string secret = "mpic-check-test-secret-0123456789";
    mpic::test::mpicd_process mpicd(dir);
    ASSERT_TRUE(mpicd.start({"--lab", summary(), "--listen", "127.0.0.1:0", "--token", "test:" + secret, "--reactors",
                             "1", "--audit-log", dir + "/audit.jsonl"}))
        << mpicd.failure();
    const std::string url = "http://127.0.0.1:" + std::to_string(mpicd.port());
    auto r =
        mpic_check({"--coordinator", url, "--token", secret, "stale.test", "--dns01", "fresh-dns01-digest", "--json"});
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    auto doc = parse(r);
    EXPECT_FALSE(cause_of(doc, "stale_record").is_null()) << doc.dump(2);
    ASSERT_GE(doc["sections"].size(), 1u);
    EXPECT_EQ(doc["sections"][0]["rows"].size(), 6u);
    EXPECT_EQ(doc["sections"][0]["rows"][0]["perspective"], "us-east"); // /configz gave the configuration order

    auto unauthorised = mpic_check(
        {"--coordinator", url, "--token", "wrong-token-wrong-token", "stale.test", "--dns01", "x", "--json"});
    EXPECT_EQ(unauthorised.status, 2) << unauthorised.out;
    EXPECT_NE(unauthorised.err.find("401"), std::string::npos) << unauthorised.err;

    mpicd.signal(SIGTERM);
    EXPECT_TRUE(mpicd.wait_exit(std::chrono::seconds(10)).has_value());
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

TEST(mpic_check_usage, errors_exit_2) {
    EXPECT_EQ(mpic_check({"a.test"}).status, 2);                                      // no method
    EXPECT_EQ(mpic_check({"a.test", "--dns01", "x", "--caa"}).status, 2);             // two methods
    EXPECT_EQ(mpic_check({"a.test", "--dns01", "x", "--tls-alpn01", "y"}).status, 2); // two methods
    EXPECT_EQ(mpic_check({"--dns01", "x"}).status, 2);                                // no name
    EXPECT_EQ(mpic_check({"a.test", "--no-such-option"}).status, 2);                  // CLI11
    EXPECT_EQ(mpic_check({"a.test", "--http01", "only-token"}).status, 2);            // needs 2 values
    EXPECT_EQ(mpic_check({"a.test", "--dns01", "x", "--record-type", "TXT2"}).status, 2);
    EXPECT_EQ(mpic_check({"a.test", "--dns01", "x", "--prefix", "_p"}).status, 2); // dns-change only
    EXPECT_EQ(mpic_check({"a.test", "--dns01", "x", "--coordinator", "http://127.0.0.1:1"}).status, 2); // no token
    EXPECT_EQ(mpic_check({"a.test", "--dns01", "x", "--coordinator", "ftp://x", "--token", "t"}).status, 2);
    EXPECT_EQ(mpic_check({"a.test", "--dns01", "x", "--coordinator", "http://127.0.0.1:1", "--token", "t", "--lab",
                          "/nonexistent"})
                  .status,
              2); // excluded together
    EXPECT_EQ(mpic_check({"a.test", "--dns01", "x", "--watch", "--interval", "0"}).status, 2);
    EXPECT_EQ(mpic_check({"--help"}).status, 0);
}

TEST(mpic_check_usage, configuration_errors_exit_2) {
    auto missing = mpic_check({"a.test", "--dns01", "x", "--lab", "/nonexistent/summary.json"});
    EXPECT_EQ(missing.status, 2);
    EXPECT_NE(missing.err.find("--lab: cannot read"), std::string::npos) << missing.err;
    auto config = mpic_check({"a.test", "--dns01", "x", "--config", "/nonexistent/mpic.toml"});
    EXPECT_EQ(config.status, 2);
    EXPECT_NE(config.err.find("cannot read /nonexistent/mpic.toml"), std::string::npos) << config.err;
    EXPECT_EQ(mpic_check({"a.test", "--dns01", "x", "--date", "2026-13-01"}).status, 2);
}

TEST(mpic_check_usage, a_request_mpicd_would_refuse_exits_2_with_its_issue) {
    auto r = mpic_check({"not a name", "--dns01", "x"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("invalid-target"), std::string::npos) << r.err;
    auto ip = mpic_check({"192.0.2.1", "--dns01", "x"}); // dns-01 cannot validate an IP (RFC 8738 §7)
    EXPECT_EQ(ip.status, 2);
    EXPECT_NE(ip.err.find("refused"), std::string::npos) << ip.err;
}

} // namespace
