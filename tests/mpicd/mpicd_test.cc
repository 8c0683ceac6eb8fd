// mpicd end to end: the real binary against the lab's demo scenario (real BIND, nginx, TLS-ALPN responder), spoken
// to over loopback HTTP/1.1 by a blocking client. Routes and their decisions, every API error (401 that never
// reaches a validator, 404, 405, 415, 400, 429, 503 when the audit log cannot be written), the operational
// endpoints, configuration errors naming their key, graceful SIGTERM, durability under SIGKILL (every 200 has its
// audit record), and the perspective-agent role behind mutual TLS.
//
// Each test is its own process (ctest); the lab starts lazily, once per process, only for the tests that need it.

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "tests/mpicd/mpicd_process.hh"
#include "tests/net/server/openssl_pki.hh"
#include "tests/net/server/server_harness.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* token_secret = "s3cret-token-for-the-mpicd-tests";
const std::string token_arg = std::string("tester:") + token_secret;
const std::string auth_header = std::string("Authorization: Bearer ") + token_secret + "\r\n";
const std::string json_type = "Content-Type: application/json\r\n";

/// The demo lab, started on first use and stopped when the process ends.
class lazy_lab : public ::testing::Environment {
public:
    static mpic::lab::lab* get() {
        if (!_lab) {
            _lab = mpic::lab::start_lab_or_fail(mpic::lab::scenario_file("demo.toml"), false);
        }
        return _lab.get();
    }
    void TearDown() override { _lab.reset(); }

private:
    static inline std::unique_ptr<mpic::lab::lab> _lab;
};
[[maybe_unused]] auto* const lab_env = ::testing::AddGlobalTestEnvironment(new lazy_lab);

std::string base64url_sha256(const std::string& text) {
    unsigned char digest[32];
    unsigned int len = 0;
    EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
    std::string out(64, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest, static_cast<int>(len));
    out.resize(static_cast<std::size_t>(n));
    for (auto& c : out) {
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    while (!out.empty() && out.back() == '=') {
        out.pop_back();
    }
    return out;
}

/// Six in-process perspectives (as the embedded default) and the sections a test adds.
std::string config_with(const std::string& extra) {
    return R"(
[engine]
reactors = 2
[policy]
development_override = true
[[perspective]]
code = "us-east"
rir = "ARIN"
location = [39.04, -77.49]
resolvers = ["127.0.0.1"]
[[perspective]]
code = "us-west"
rir = "ARIN"
location = [45.60, -121.18]
resolvers = ["127.0.0.1"]
[[perspective]]
code = "eu-west"
rir = "RIPE"
location = [53.35, -6.26]
resolvers = ["127.0.0.1"]
[[perspective]]
code = "eu-central"
rir = "RIPE"
location = [50.11, 8.68]
resolvers = ["127.0.0.1"]
[[perspective]]
code = "ap-northeast"
rir = "APNIC"
location = [35.68, 139.69]
resolvers = ["127.0.0.1"]
[[perspective]]
code = "ap-southeast"
rir = "APNIC"
location = [1.35, 103.82]
resolvers = ["127.0.0.1"]
)" + extra;
}

class mpicd_test : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/mpicd-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        _dir = tmpl;
        _audit = _dir + "/audit.jsonl";
    }
    void TearDown() override {
        _mpicd.reset();
        if (!HasFailure()) {
            std::error_code ec;
            fs::remove_all(_dir, ec);
        } else {
            std::cerr << "kept " << _dir << " for inspection\n";
        }
    }

    std::string write_file(const std::string& name, const std::string& text) {
        const auto path = _dir + "/" + name;
        std::ofstream(path) << text;
        return path;
    }

    std::string lab_summary() {
        auto* l = lazy_lab::get();
        if (l == nullptr) {
            return {};
        }
        return write_file("lab.json", l->summary_json());
    }

    /// Starts mpicd against the lab with the test token; `extra` adds arguments.
    bool start(std::vector<std::string> extra = {}, bool with_audit = true) {
        auto summary = lab_summary();
        if (summary.empty()) {
            return false;
        }
        std::vector<std::string> args = {"--lab",   summary,   "--listen",   "127.0.0.1:0",
                                         "--token", token_arg, "--reactors", "2"};
        if (with_audit) {
            args.insert(args.end(), {"--audit-log", _audit});
        }
        args.insert(args.end(), extra.begin(), extra.end());
        _mpicd = std::make_unique<mpicd_process>(_dir);
        const bool ok = _mpicd->start(args);
        EXPECT_TRUE(ok) << _mpicd->failure();
        return ok;
    }

    std::optional<http_reply> call(const std::string& request, std::chrono::milliseconds bound = 30s) {
        client_conn c(_mpicd->port(), bound);
        if (!c.ok() || !c.send(request)) {
            return std::nullopt;
        }
        return c.read_reply();
    }
    std::optional<http_reply> post_mpic(const json& body, const std::string& headers = auth_header + json_type) {
        return call(post_request("/mpic", body.dump(), headers));
    }

    /// The audit log's records (one JSON object per line).
    std::vector<json> audit_records() const {
        std::vector<json> out;
        std::ifstream in(_audit);
        for (std::string line; std::getline(in, line);) {
            auto j = json::parse(line, nullptr, false);
            EXPECT_FALSE(j.is_discarded()) << "audit line is not JSON: " << line;
            out.push_back(j);
        }
        return out;
    }
    std::set<std::string> audited_traces() const {
        std::set<std::string> out;
        for (const auto& r : audit_records()) {
            if (r.contains("trace_identifier") && r["trace_identifier"].is_string()) {
                out.insert(r["trace_identifier"].get<std::string>());
            }
        }
        return out;
    }

    std::string _dir;
    std::string _audit;
    std::unique_ptr<mpicd_process> _mpicd;
};

json http01(const std::string& target, const std::string& token, const std::string& trace) {
    return {{"check_type", "dcv"},
            {"domain_or_ip_target", target},
            {"trace_identifier", trace},
            {"dcv_check_parameters",
             {{"validation_method", "acme-http-01"}, {"token", token}, {"key_authorization", token + ".thumbprint"}}}};
}

json caa(const std::string& target, const std::string& trace) {
    return {{"check_type", "caa"}, {"domain_or_ip_target", target}, {"trace_identifier", trace}};
}

json body_of(const std::optional<http_reply>& reply) {
    if (!reply) {
        return nullptr;
    }
    auto j = json::parse(reply->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << reply->body;
    return j;
}

// --- decisions --------------------------------------------------------------------------------------------------

TEST_F(mpicd_test, decisions_for_caa_and_several_dcv_methods) {
    ASSERT_TRUE(start());
    struct expectation {
        json body;
        bool valid;
    };
    const std::vector<expectation> cases = {
        {caa("good.test", "caa-good"), true},
        {json{{"check_type", "caa"},
              {"domain_or_ip_target", "good.test"},
              {"trace_identifier", "caa-other-ca"},
              {"caa_check_parameters", {{"caa_domains", {"other-ca.example"}}}}},
         false}, // CAA names ca.example only
        {http01("good.test", "tok-good", "http01-good"), true},
        {http01("bad.test", "tok-bad", "http01-bad"), false}, // hijacked for 3 of 6
        {json{{"check_type", "dcv"},
              {"domain_or_ip_target", "good.test"},
              {"trace_identifier", "dns01-good"},
              {"dcv_check_parameters",
               {{"validation_method", "acme-dns-01"}, {"key_authorization_hash", "good-dns01-digest"}}}},
         true},
        {json{{"check_type", "dcv"},
              {"domain_or_ip_target", "bad.test"},
              {"trace_identifier", "dns01-bad"},
              {"dcv_check_parameters",
               {{"validation_method", "acme-dns-01"}, {"key_authorization_hash", "bad-dns01-digest"}}}},
         false},
        {json{{"check_type", "dcv"},
              {"domain_or_ip_target", "good.test"},
              {"trace_identifier", "dns-change-good"},
              {"dcv_check_parameters",
               {{"validation_method", "dns-change"},
                {"challenge_value", "good-dns01-digest"},
                {"dns_name_prefix", "_acme-challenge"}}}},
         true},
        {json{{"check_type", "dcv"},
              {"domain_or_ip_target", "good.test"},
              {"trace_identifier", "alpn-good"},
              {"dcv_check_parameters",
               {{"validation_method", "acme-tls-alpn-01"},
                {"key_authorization_hash", base64url_sha256("tok-good.thumbprint")}}}},
         true},
        {json{{"check_type", "dcv"},
              {"domain_or_ip_target", "bad.test"},
              {"trace_identifier", "alpn-bad"},
              {"dcv_check_parameters",
               {{"validation_method", "acme-tls-alpn-01"},
                {"key_authorization_hash", base64url_sha256("tok-bad.thumbprint")}}}},
         false},
    };
    for (const auto& c : cases) {
        auto reply = post_mpic(c.body);
        ASSERT_TRUE(reply.has_value()) << c.body.dump();
        ASSERT_EQ(reply->status, 200) << c.body.dump() << "\n" << reply->body;
        EXPECT_EQ(reply->header("content-type"), "application/json");
        auto doc = body_of(reply);
        EXPECT_EQ(doc["is_valid"], c.valid) << c.body.dump() << "\n" << doc.dump(1);
        EXPECT_EQ(doc["trace_identifier"], c.body["trace_identifier"]);
        EXPECT_EQ(doc["check_type"], c.body["check_type"]);
        EXPECT_EQ(doc["domain_or_ip_target"], c.body["domain_or_ip_target"]);
        EXPECT_EQ(doc["lab_mode"], true);
        EXPECT_EQ(doc["perspectives"].size(), doc["actual_orchestration_parameters"]["perspective_count"]);
    }
    // Every answered decision has its record, with the trace identifier and the client.
    auto records = audit_records();
    ASSERT_EQ(records.size(), cases.size());
    auto traces = audited_traces();
    for (const auto& c : cases) {
        EXPECT_TRUE(traces.contains(c.body["trace_identifier"].get<std::string>())) << c.body["trace_identifier"];
    }
    EXPECT_NE(records[0].dump().find("tester"), std::string::npos) << "the record names the client";
}

TEST_F(mpicd_test, extension_request_with_targets_and_dcv_with_caa) {
    ASSERT_TRUE(start());
    auto reply = post_mpic({{"check_type", "dcv_with_caa"},
                            {"targets", {"good.test", "bad.test"}},
                            {"trace_identifier", "ext-1"},
                            {"dcv_check_parameters",
                             {{"validation_method", "acme-http-01"},
                              {"token", "tok-good"},
                              {"key_authorization", "tok-good.thumbprint"}}}});
    ASSERT_TRUE(reply.has_value());
    ASSERT_EQ(reply->status, 200) << reply->body;
    auto doc = body_of(reply);
    ASSERT_EQ(doc["results"].size(), 2u) << doc.dump(1);
    EXPECT_EQ(doc["results"][0]["domain_or_ip_target"], "good.test");
    EXPECT_EQ(doc["results"][0]["is_valid"], true);
    EXPECT_EQ(doc["results"][1]["is_valid"], false); // bad.test has no tok-good file
    EXPECT_EQ(doc["is_valid"], false);
}

// --- authentication ---------------------------------------------------------------------------------------------

TEST_F(mpicd_test, unauthenticated_requests_are_refused_before_any_validator_runs) {
    ASSERT_TRUE(start());
    // A token path nothing else uses: if any perspective fetched it, nginx's access log would show it.
    const std::string marker = "tok-unauthenticated-probe";
    const auto body = http01("good.test", marker, "unauth-trace").dump();
    const std::vector<std::string> bad_headers = {
        json_type, // no Authorization at all
        "Authorization: Bearer wrong-secret-of-enough-length\r\n" + json_type,
        "Authorization: Bearer " + std::string(token_secret) + "x\r\n" + json_type, // a prefix match is no match
        "Authorization: Basic dGVzdGVyOnNlY3JldA==\r\n" + json_type,
        "Authorization: Bearer \r\n" + json_type,
        "Authorization: " + std::string(token_secret) + "\r\n" + json_type, // no scheme
    };
    for (const auto& headers : bad_headers) {
        auto reply = call(post_request("/mpic", body, headers));
        ASSERT_TRUE(reply.has_value()) << headers;
        EXPECT_EQ(reply->status, 401) << headers;
        EXPECT_EQ(reply->header("www-authenticate"), "Bearer");
        EXPECT_EQ(body_of(reply)["error"], "unauthorized");
    }
    // The same check with the right token does reach nginx: the probe below is sensitive.
    auto ok = call(post_request("/mpic", http01("good.test", "tok-authorised-probe", "auth-trace").dump(),
                                auth_header + json_type));
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(ok->status, 200);
    _mpicd->signal(SIGTERM);
    ASSERT_EQ(_mpicd->wait_exit(20s), 0);

    const auto access_log = read_text(lazy_lab::get()->dir() + "/access.log");
    EXPECT_EQ(access_log.find(marker), std::string::npos) << "an unauthenticated request reached a validator";
    EXPECT_NE(access_log.find("tok-authorised-probe"), std::string::npos) << "the probe is not sensitive";
    auto traces = audited_traces();
    EXPECT_FALSE(traces.contains("unauth-trace"));
    EXPECT_TRUE(traces.contains("auth-trace"));
    EXPECT_EQ(traces.size(), 1u);
}

// --- routing and request errors -------------------------------------------------------------------------------------

TEST_F(mpicd_test, routing_errors_404_405_415_and_400) {
    ASSERT_TRUE(start());
    auto not_found = call(get_request("/nope", auth_header));
    ASSERT_TRUE(not_found.has_value());
    EXPECT_EQ(not_found->status, 404);
    EXPECT_EQ(body_of(not_found)["error"], "not-found");
    // Agent routes do not exist on a coordinator.
    auto dcv = call(post_request("/dcv", "{}", auth_header + json_type));
    ASSERT_TRUE(dcv.has_value());
    EXPECT_EQ(dcv->status, 404);

    auto get_mpic = call(get_request("/mpic", auth_header));
    ASSERT_TRUE(get_mpic.has_value());
    EXPECT_EQ(get_mpic->status, 405);
    EXPECT_EQ(get_mpic->header("allow"), "POST");
    auto put = call("PUT /mpic HTTP/1.1\r\nHost: x\r\n" + auth_header + "Content-Length: 2\r\n\r\n{}");
    ASSERT_TRUE(put.has_value());
    EXPECT_EQ(put->status, 405);
    auto post_metrics = call(post_request("/metrics", "", auth_header));
    ASSERT_TRUE(post_metrics.has_value());
    EXPECT_EQ(post_metrics->status, 405);
    EXPECT_EQ(post_metrics->header("allow"), "GET");

    auto text = call(post_request("/mpic", caa("good.test", "t").dump(), auth_header + "Content-Type: text/plain\r\n"));
    ASSERT_TRUE(text.has_value());
    EXPECT_EQ(text->status, 415);

    auto malformed = post_mpic(json("not an object"));
    ASSERT_TRUE(malformed.has_value());
    EXPECT_EQ(malformed->status, 400);
    auto m = body_of(malformed);
    EXPECT_EQ(m["error"], "request-validation-failed");
    ASSERT_TRUE(m["validation_issues"].is_array()) << m.dump();
    EXPECT_EQ(m["validation_issues"][0]["issue_type"], "malformed-json");

    auto issues =
        post_mpic({{"check_type", "dcv"},
                   {"domain_or_ip_target", "192.0.2.1"},
                   {"dcv_check_parameters", {{"validation_method", "acme-dns-01"}, {"key_authorization_hash", ""}}}});
    ASSERT_TRUE(issues.has_value());
    EXPECT_EQ(issues->status, 400);
    std::set<std::string> types;
    const auto issue_doc = body_of(issues);
    for (const auto& i : issue_doc["validation_issues"]) {
        types.insert(i["issue_type"].get<std::string>());
    }
    EXPECT_TRUE(types.contains("empty-key-authorization-hash")) << issues->body;
    EXPECT_TRUE(types.contains("method-not-allowed-for-target")) << issues->body;

    // Orchestration ranges are judged by the engine, also a 400 with validation_issues.
    auto quorum = post_mpic({{"check_type", "caa"},
                             {"domain_or_ip_target", "good.test"},
                             {"orchestration_parameters", {{"perspective_count", 6}, {"quorum_count", 2}}}});
    ASSERT_TRUE(quorum.has_value());
    EXPECT_EQ(quorum->status, 400) << quorum->body;
    EXPECT_NE(quorum->body.find("invalid-quorum-count"), std::string::npos) << quorum->body;

    // The HTTP layer's own limits answer too (head too large ⇒ 431), and the daemon keeps serving.
    auto huge = call(get_request("/healthz", "X-Big: " + std::string(20000, 'b') + "\r\n"));
    ASSERT_TRUE(huge.has_value());
    EXPECT_EQ(huge->status, 431);
    // No decision was made, so nothing was audited.
    EXPECT_TRUE(audit_records().empty());
}

// --- limits -----------------------------------------------------------------------------------------------------

TEST_F(mpicd_test, rate_limit_gives_429_with_retry_after) {
    auto config = write_file("limits.toml", config_with(R"(
[limits]
requests_per_second_per_client = 0.2
burst_per_client = 2
)"));
    ASSERT_TRUE(start({"--config", config}));
    // Cheap requests (a 400 costs a token too): the burst of 2 passes, the third is refused.
    for (int i = 0; i < 2; ++i) {
        auto r = post_mpic(json::object());
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 400);
    }
    auto limited = post_mpic(caa("good.test", "limited"));
    ASSERT_TRUE(limited.has_value());
    EXPECT_EQ(limited->status, 429);
    EXPECT_EQ(body_of(limited)["error"], "rate-limited");
    const auto retry_after = std::atoi(limited->header("retry-after").c_str());
    EXPECT_GE(retry_after, 1);
    EXPECT_LE(retry_after, 5);
    EXPECT_FALSE(audited_traces().contains("limited"));
    // Unauthenticated requests are refused as 401 before the limiter (they cannot spend the client's budget).
    auto anon = call(post_request("/mpic", "{}", json_type));
    ASSERT_TRUE(anon.has_value());
    EXPECT_EQ(anon->status, 401);
}

TEST_F(mpicd_test, concurrency_limit_gives_429_with_retry_after) {
    auto config = write_file("limits.toml", config_with(R"(
[limits]
concurrent_requests_per_client = 1
)"));
    ASSERT_TRUE(start({"--config", config}));
    int ok = 0;
    int limited = 0;
    std::string retry_after;
    for (int round = 0; round < 5 && (limited == 0 || ok == 0); ++round) {
        std::vector<std::thread> threads;
        std::mutex m;
        for (int i = 0; i < 12; ++i) {
            threads.emplace_back([&, i] {
                auto r =
                    post_mpic(http01("good.test", "tok-good", "c-" + std::to_string(round) + "-" + std::to_string(i)));
                std::lock_guard lock(m);
                if (r && r->status == 200) {
                    ++ok;
                } else if (r && r->status == 429) {
                    ++limited;
                    retry_after = r->header("retry-after");
                    EXPECT_EQ(body_of(r)["error"], "too-many-concurrent-requests");
                } else {
                    ADD_FAILURE() << "unexpected answer " << (r ? r->status : 0);
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
    }
    EXPECT_GT(ok, 0);
    EXPECT_GT(limited, 0);
    EXPECT_GE(std::atoi(retry_after.c_str()), 1);
}

// --- audit failure ------------------------------------------------------------------------------------------------

TEST_F(mpicd_test, unwritable_audit_log_refuses_decisions_with_503) {
    ASSERT_EQ(::access("/dev/full", W_OK), 0) << "/dev/full is required (Linux)";
    ASSERT_TRUE(start({"--audit-log", "/dev/full"}, false));
    auto ready = call(get_request("/readyz"));
    ASSERT_TRUE(ready.has_value());
    EXPECT_EQ(ready->status, 200); // nothing has failed yet
    // The engine decides, but the record cannot be written (ENOSPC): the decision is never answered.
    auto first = post_mpic(http01("good.test", "tok-good", "full-1"));
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->status, 503) << first->body;
    EXPECT_EQ(body_of(first)["error"], "audit-unavailable");
    EXPECT_FALSE(first->header("retry-after").empty());
    EXPECT_EQ(first->body.find("is_valid"), std::string::npos);
    // From then on new work is refused up front, and readiness says why.
    auto second = post_mpic(caa("good.test", "full-2"));
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->status, 503);
    EXPECT_EQ(body_of(second)["error"], "audit-unavailable");
    auto not_ready = call(get_request("/readyz"));
    ASSERT_TRUE(not_ready.has_value());
    EXPECT_EQ(not_ready->status, 503);
    EXPECT_EQ(body_of(not_ready)["status"], "audit-unavailable");
    // Liveness is not readiness.
    auto health = call(get_request("/healthz"));
    ASSERT_TRUE(health.has_value());
    EXPECT_EQ(health->status, 200);
}

TEST_F(mpicd_test, audit_log_in_a_missing_directory_fails_start_up) {
    auto summary = lab_summary();
    ASSERT_FALSE(summary.empty());
    auto run = mpicd_process::run({"--lab", summary, "--listen", "127.0.0.1:0", "--token", token_arg, "--audit-log",
                                   _dir + "/missing/audit.jsonl"},
                                  _dir);
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_NE(run.err.find("audit"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("No such file"), std::string::npos) << run.err;
}

// --- operational endpoints -----------------------------------------------------------------------------------------

TEST_F(mpicd_test, health_ready_config_and_metrics) {
    ASSERT_TRUE(start());
    auto health = call(get_request("/healthz"));
    ASSERT_TRUE(health.has_value());
    EXPECT_EQ(health->status, 200);
    EXPECT_EQ(body_of(health)["status"], "ok");
    auto ready = call(get_request("/readyz"));
    ASSERT_TRUE(ready.has_value());
    EXPECT_EQ(ready->status, 200);
    EXPECT_EQ(body_of(ready)["status"], "ready");
    EXPECT_EQ(body_of(ready)["perspectives"], 6);

    auto anon_config = call(get_request("/configz"));
    ASSERT_TRUE(anon_config.has_value());
    EXPECT_EQ(anon_config->status, 401);
    auto config = call(get_request("/configz", auth_header));
    ASSERT_TRUE(config.has_value());
    ASSERT_EQ(config->status, 200);
    EXPECT_EQ(config->body.find(token_secret), std::string::npos) << "a token secret leaked through /configz";
    auto c = body_of(config);
    ASSERT_EQ(c["auth"]["tokens"].size(), 1u);
    EXPECT_EQ(c["auth"]["tokens"][0]["name"], "tester");
    EXPECT_EQ(c["auth"]["tokens"][0]["token"], "<redacted>");
    EXPECT_EQ(c["lab"]["enabled"], true);
    EXPECT_EQ(c["perspectives"].size(), 6u);
    EXPECT_EQ(c["audit"]["path"], _audit);
    // BR 3.2.2.8's "Insecure" confirmation needs validating resolvers; the default claims none (fail closed).
    EXPECT_EQ(c["dns"]["resolver_validates_dnssec"], false);

    auto anon_metrics = call(get_request("/metrics"));
    ASSERT_TRUE(anon_metrics.has_value());
    EXPECT_EQ(anon_metrics->status, 401);
    auto decided = post_mpic(http01("good.test", "tok-good", "metrics-1"));
    ASSERT_TRUE(decided.has_value());
    ASSERT_EQ(decided->status, 200);
    // The answer says how long it waited for its durable audit record (W3C Server-Timing, milliseconds).
    const auto timing = decided->header("server-timing");
    ASSERT_TRUE(timing.starts_with("audit;dur=")) << timing;
    EXPECT_GT(std::stod(timing.substr(10)), 0.0) << timing;
    auto metrics = call(get_request("/metrics", auth_header));
    ASSERT_TRUE(metrics.has_value());
    ASSERT_EQ(metrics->status, 200);
    EXPECT_EQ(metrics->header("content-type").rfind("text/plain", 0), 0u);
    const auto& text = metrics->body;
    EXPECT_NE(text.find("# TYPE mpic_api_requests_total counter"), std::string::npos) << text.substr(0, 2000);
    EXPECT_NE(text.find("mpic_api_requests_total{outcome=\"ok\"} 1"), std::string::npos) << text.substr(0, 4000);
    EXPECT_NE(text.find("mpic_api_requests_total{outcome=\"unauthorized\"} 2"), std::string::npos);
    EXPECT_NE(text.find("mpic_check_duration_seconds_bucket{"), std::string::npos);
    EXPECT_NE(text.find("mpic_audit_commit_seconds_count 1"), std::string::npos) << text.substr(0, 4000);
    EXPECT_NE(text.find("method=\"acme-http-01\""), std::string::npos);
    EXPECT_NE(text.find("perspective=\"us-east\""), std::string::npos);
    EXPECT_EQ(text.find(token_secret), std::string::npos);
}

// --- configuration errors -----------------------------------------------------------------------------------------

TEST_F(mpicd_test, check_config_names_the_bad_key_and_exits_2) {
    struct bad_case {
        std::string extra;
        std::string key; ///< must appear in stderr
    };
    const std::vector<bad_case> cases = {
        {"[api]\nmax_body_bytes = \"big\"\n", "api.max_body_bytes"},
        {"[api]\nlisten = \"nowhere\"\n", "api.listen"},
        {"[api]\nrole = \"observer\"\n", "api.role"},
        {"[api]\nbogus = 1\n", "api.bogus"},
        {"[limits]\nrequests_per_second_per_client = -3\n", "limits.requests_per_second_per_client"},
        {"[limits]\nburst = 3\n", "limits.burst"},
        {"[auth]\ntokens = [ { name = \"x\", token = \"short\" } ]\n", "auth.tokens[0].token"},
        {"[auth]\ntokens = \"x\"\n", "auth.tokens"},
        {"[audit]\nkeep = -1\n", "audit.keep"},
        {"[audit]\nsync = \"yes\"\n", "audit.sync"},
        {"[log]\nlevel = 3\n", "log.level"},
        {"[dns]\ntimeout_ms = \"x\"\n", "dns.timeout_ms"},
        {"[api]\ntls_cert_file = \"/x.pem\"\n[auth]\ntokens = [ { name = \"t\", token = \"0123456789abcdef0\" } ]\n",
         "api.tls_cert_file"},
        {"[auth]\nallow_client_certificates = true\n", "auth.allow_client_certificates"},
    };
    for (const auto& c : cases) {
        auto path = write_file("bad.toml", config_with(c.extra));
        auto run = mpicd_process::run(
            {"--check-config", "--config", path, "--listen", "127.0.0.1:0", "--audit-log", _dir + "/check-audit.jsonl"},
            _dir);
        EXPECT_EQ(run.exit_code, 2) << c.extra << "\n" << run.err;
        EXPECT_NE(run.err.find(c.key), std::string::npos) << "expected the key " << c.key << " in:\n" << run.err;
    }
    // A TOML syntax error names the line.
    auto syntax = write_file("syntax.toml", "[api]\nlisten = \n");
    auto run = mpicd_process::run({"--check-config", "--config", syntax}, _dir);
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_NE(run.err.find("syntax.toml:2"), std::string::npos) << run.err;
    // No authentication at all is refused for a coordinator.
    auto no_auth = write_file("noauth.toml", config_with(""));
    auto noauth_run = mpicd_process::run(
        {"--check-config", "--config", no_auth, "--listen", "127.0.0.1:0", "--audit-log", _dir + "/check-audit.jsonl"},
        _dir);
    EXPECT_EQ(noauth_run.exit_code, 2);
    EXPECT_NE(noauth_run.err.find("auth"), std::string::npos) << noauth_run.err;
    // A short --token secret is a command-line error.
    auto short_token = mpicd_process::run({"--check-config", "--token", "x:short"}, _dir);
    EXPECT_EQ(short_token.exit_code, 2);
    EXPECT_NE(short_token.err.find("--token"), std::string::npos);
    // And a good file passes.
    auto good =
        write_file("good.toml", config_with("[auth]\ntokens = [ { name = \"t\", token = \"0123456789abcdef0\" } ]\n"));
    auto good_run = mpicd_process::run(
        {"--check-config", "--config", good, "--listen", "127.0.0.1:0", "--audit-log", _dir + "/check-audit.jsonl"},
        _dir);
    EXPECT_EQ(good_run.exit_code, 0) << good_run.err;
}

// --- shutdown and durability -------------------------------------------------------------------------------------

TEST_F(mpicd_test, sigterm_answers_in_flight_requests_then_exits_0_with_the_audit_flushed) {
    ASSERT_TRUE(start());
    constexpr int clients = 8;
    // Open each connection with a first request, so every connection is accepted before the signal.
    std::vector<std::unique_ptr<client_conn>> conns;
    for (int i = 0; i < clients; ++i) {
        conns.push_back(std::make_unique<client_conn>(_mpicd->port(), 30s));
        ASSERT_TRUE(conns.back()->send(
            post_request("/mpic", caa("good.test", "warm-" + std::to_string(i)).dump(), auth_header + json_type)));
        auto warm = conns.back()->read_reply();
        ASSERT_TRUE(warm.has_value());
        ASSERT_EQ(warm->status, 200);
    }
    // Then all send a slower request at once, and the daemon is told to stop while they run.
    for (int i = 0; i < clients; ++i) {
        ASSERT_TRUE(conns[static_cast<std::size_t>(i)]->send(
            post_request("/mpic",
                         json{{"check_type", "dcv_with_caa"},
                              {"targets", {"good.test", "bad.test"}},
                              {"trace_identifier", "inflight-" + std::to_string(i)},
                              {"dcv_check_parameters",
                               {{"validation_method", "acme-tls-alpn-01"},
                                {"key_authorization_hash", base64url_sha256("tok-good.thumbprint")}}}}
                             .dump(),
                         auth_header + json_type)));
    }
    std::this_thread::sleep_for(5ms);
    _mpicd->signal(SIGTERM);
    std::set<std::string> answered_ok;
    int refused = 0;
    for (int i = 0; i < clients; ++i) {
        auto reply = conns[static_cast<std::size_t>(i)]->read_reply();
        ASSERT_TRUE(reply.has_value()) << "in-flight request " << i << " was dropped without an answer";
        if (reply->status == 200) {
            answered_ok.insert("inflight-" + std::to_string(i));
        } else {
            // Only a request that had not started yet may be turned away, and then as a retryable 503.
            EXPECT_EQ(reply->status, 503) << reply->body;
            ++refused;
        }
    }
    auto code = _mpicd->wait_exit(20s);
    ASSERT_TRUE(code.has_value()) << "mpicd did not exit after SIGTERM";
    EXPECT_EQ(*code, 0) << _mpicd->stderr_text();
    EXPECT_NE(_mpicd->stderr_text().find("stopped"), std::string::npos);
    auto traces = audited_traces();
    for (const auto& t : answered_ok) {
        EXPECT_TRUE(traces.contains(t)) << t << " was answered 200 without an audit record";
    }
    for (int i = 0; i < clients; ++i) {
        EXPECT_TRUE(traces.contains("warm-" + std::to_string(i)));
    }
    RecordProperty("answered_ok_after_sigterm", static_cast<int>(answered_ok.size()));
    RecordProperty("refused_after_sigterm", refused);
}

TEST_F(mpicd_test, sigkill_mid_load_every_acknowledged_decision_is_in_the_audit_log) {
    ASSERT_TRUE(start());
    constexpr int clients = 8;
    std::mutex m;
    std::vector<std::string> acknowledged;
    std::atomic<bool> stop{false};
    std::atomic<int> sent{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t) {
        threads.emplace_back([&, t] {
            client_conn c(_mpicd->port(), 10s);
            for (int i = 0; !stop.load(); ++i) {
                const std::string trace = "kill-" + std::to_string(t) + "-" + std::to_string(i);
                auto body = (i % 2 ? caa("good.test", trace) : http01("good.test", "tok-good", trace)).dump();
                if (!c.send(post_request("/mpic", body, auth_header + json_type))) {
                    return;
                }
                ++sent;
                auto reply = c.read_reply();
                if (!reply) {
                    return; // the daemon died with this request in flight: never acknowledged
                }
                if (reply->status == 200) {
                    std::lock_guard lock(m);
                    acknowledged.push_back(trace);
                }
            }
        });
    }
    // Let load build up, then kill the daemon with no chance to clean up.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        {
            std::lock_guard lock(m);
            if (acknowledged.size() >= 150) {
                break;
            }
        }
        std::this_thread::sleep_for(10ms);
    }
    _mpicd->signal(SIGKILL);
    auto code = _mpicd->wait_exit(10s);
    stop = true;
    for (auto& t : threads) {
        t.join();
    }
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 128 + SIGKILL);
    ASSERT_GE(acknowledged.size(), 20u) << "too little load to mean anything";
    auto traces = audited_traces();
    std::size_t missing = 0;
    for (const auto& t : acknowledged) {
        if (!traces.contains(t)) {
            ++missing;
            ADD_FAILURE() << t << " was acknowledged with 200 but has no audit record";
        }
    }
    EXPECT_EQ(missing, 0u);
    // Records may exist for decisions whose answer was lost with the process; never the reverse.
    EXPECT_GE(traces.size(), acknowledged.size());
    RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
    RecordProperty("sent", sent.load());
}

// --- perspective-agent role ------------------------------------------------------------------------------------------

TEST_F(mpicd_test, perspective_role_serves_checks_only_to_the_coordinator_certificate) {
    openssl_pki pki;
    ASSERT_TRUE(pki.make(_dir, "coordinator")) << read_text(_dir + "/openssl.log");
    auto config = write_file("agent.toml", config_with("[api]\nrole = \"perspective\"\nperspective_code = \"eu-west\"\n"
                                                       "tls_cert_file = \"" +
                                                       pki.server_cert +
                                                       "\"\n"
                                                       "tls_key_file = \"" +
                                                       pki.server_key +
                                                       "\"\n"
                                                       "client_ca_file = \"" +
                                                       pki.ca_cert +
                                                       "\"\n"
                                                       "[auth]\nallow_client_certificates = true\n"));
    auto summary = lab_summary();
    ASSERT_FALSE(summary.empty());
    _mpicd = std::make_unique<mpicd_process>(_dir);
    ASSERT_TRUE(_mpicd->start(
        {"--config", config, "--role", "perspective", "--lab", summary, "--listen", "127.0.0.1:0", "--reactors", "2"}))
        << _mpicd->failure();

    auto ctx_for = [&](const std::string& cert, const std::string& key) {
        SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        SSL_CTX_load_verify_locations(ctx, pki.ca_cert.c_str(), nullptr);
        if (!cert.empty()) {
            SSL_CTX_use_certificate_chain_file(ctx, cert.c_str());
            SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM);
        }
        return std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>(ctx, &SSL_CTX_free);
    };
    auto ask = [&](SSL_CTX* ctx, const std::string& request) -> std::optional<http_reply> {
        client_conn c(_mpicd->port(), 20s);
        if (!c.start_tls(ctx) || !c.send(request)) {
            return std::nullopt;
        }
        return c.read_reply();
    };
    const auto good_check = json{
        {"domain_or_ip_target", "good.test"},
        {"trace_identifier", "agent-1"},
        {"dcv_check_parameters",
         {{"validation_method", "acme-http-01"}, {"token", "tok-good"}, {"key_authorization", "tok-good.thumbprint"}}}};
    auto coordinator = ctx_for(pki.client_cert, pki.client_key);
    auto reply = ask(coordinator.get(), post_request("/dcv", good_check.dump(), json_type));
    ASSERT_TRUE(reply.has_value());
    ASSERT_EQ(reply->status, 200) << reply->body;
    auto check = body_of(reply);
    EXPECT_EQ(check["check_passed"], true) << check.dump(1);
    EXPECT_EQ(check["check_type"], "dcv");
    EXPECT_EQ(check["details"]["validation_method"], "acme-http-01");
    // The agent checks from its own vantage point: eu-west is perspective 3, which the demo hijacks for bad.test.
    auto bad_check = good_check;
    bad_check["domain_or_ip_target"] = "bad.test";
    bad_check["dcv_check_parameters"]["token"] = "tok-bad";
    bad_check["dcv_check_parameters"]["key_authorization"] = "tok-bad.thumbprint";
    auto hijacked = ask(coordinator.get(), post_request("/dcv", bad_check.dump(), json_type));
    ASSERT_TRUE(hijacked.has_value());
    ASSERT_EQ(hijacked->status, 200);
    EXPECT_EQ(body_of(hijacked)["check_passed"], false);
    auto caa_reply =
        ask(coordinator.get(), post_request("/caa", json{{"domain_or_ip_target", "good.test"}}.dump(), json_type));
    ASSERT_TRUE(caa_reply.has_value());
    ASSERT_EQ(caa_reply->status, 200) << caa_reply->body;
    EXPECT_EQ(body_of(caa_reply)["check_type"], "caa");
    EXPECT_EQ(body_of(caa_reply)["details"]["caa_record_present"], true);
    // The coordinator's route does not exist here; malformed checks are 400.
    auto mpic = ask(coordinator.get(), post_request("/mpic", caa("good.test", "x").dump(), json_type));
    ASSERT_TRUE(mpic.has_value());
    EXPECT_EQ(mpic->status, 404);
    auto malformed = ask(coordinator.get(), post_request("/dcv", "{\"domain_or_ip_target\":1}", json_type));
    ASSERT_TRUE(malformed.has_value());
    EXPECT_EQ(malformed->status, 400);

    // Without a certificate, or with one from another CA, nothing is served (not even an error page).
    auto bare = ctx_for("", "");
    EXPECT_FALSE(ask(bare.get(), post_request("/dcv", good_check.dump(), json_type)).has_value());
    auto stranger = ctx_for(pki.stranger_cert, pki.stranger_key);
    EXPECT_FALSE(ask(stranger.get(), post_request("/dcv", good_check.dump(), json_type)).has_value());
    // Plain HTTP on the TLS port gets nothing either.
    EXPECT_FALSE(call(post_request("/dcv", good_check.dump(), json_type), 5s).has_value());
    ERR_clear_error();

    _mpicd->signal(SIGTERM);
    EXPECT_EQ(_mpicd->wait_exit(20s), 0);
}

TEST_F(mpicd_test, perspective_role_that_could_authenticate_nobody_is_a_config_error) {
    // Mutual TLS configured, but neither client certificates nor tokens accepted as authentication: every request,
    // the coordinator's included, would be a 401. Refused at start-up, naming the key to set.
    openssl_pki pki;
    ASSERT_TRUE(pki.make(_dir, "coordinator")) << read_text(_dir + "/openssl.log");
    auto config = write_file("agent.toml", config_with("[api]\nrole = \"perspective\"\nperspective_code = \"eu-west\"\n"
                                                       "tls_cert_file = \"" +
                                                       pki.server_cert +
                                                       "\"\n"
                                                       "tls_key_file = \"" +
                                                       pki.server_key +
                                                       "\"\n"
                                                       "client_ca_file = \"" +
                                                       pki.ca_cert + "\"\n"));
    auto run = mpicd_process::run({"--check-config", "--config", config, "--listen", "127.0.0.1:0"}, _dir);
    EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
    EXPECT_NE(run.err.find("auth.allow_client_certificates"), std::string::npos) << run.err;
}

TEST_F(mpicd_test, perspective_role_without_mutual_tls_is_a_config_error) {
    auto config =
        write_file("agent.toml", config_with("[api]\nrole = \"perspective\"\nperspective_code = \"eu-west\"\n"));
    auto run = mpicd_process::run({"--check-config", "--config", config, "--listen", "127.0.0.1:0"}, _dir);
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_NE(run.err.find("api.client_ca_file"), std::string::npos) << run.err;
}

} // namespace
} // namespace mpic::test
