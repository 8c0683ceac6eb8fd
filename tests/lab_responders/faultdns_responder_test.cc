// mpic-lab-faultdns as a process: started on 127.0.0.1:0 and queried with dig over UDP and TCP, from the default
// source and from perspective addresses (dig -b 127.0.0.2).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/lab_responders/lab_process.hh"
#include "tools/mpic-lab/responders/dns_wire.hh"
#include "tools/mpic-lab/responders/lab_server.hh"

namespace mpic::lab::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* config_text = R"(
[[rule]]
qname = "example.test"
[[rule.record]]
type = "A"
value = "127.0.0.5"
[[rule.record]]
type = "TXT"
strings = ["hello", "world"]
[[rule.record]]
type = "CAA"
caa_tag = "issue"
value = "ca.example"

[[rule]]
qname = "example.test"
perspective = 1
[[rule.record]]
type = "A"
value = "10.6.6.6"

[[rule]]
qname = "slow.test"
behaviour = "delay"
delay_ms = 800
[[rule.record]]
type = "A"
value = "127.0.0.9"

[[rule]]
qname = "drop.test"
behaviour = "drop"

[[rule]]
qname = "servfail.test"
behaviour = "servfail"

[[rule]]
qname = "refused.test"
behaviour = "refused"

[[rule]]
qname = "nx.test"
behaviour = "nxdomain"

[[rule]]
qname = "tc.test"
behaviour = "truncate"
[[rule.record]]
type = "A"
value = "127.0.0.7"

[[rule]]
qname = "tctcp.test"
behaviour = "truncate_tcp"

[[rule]]
qname = "wrongid.test"
behaviour = "wrong_id"
[[rule.record]]
type = "A"
value = "127.0.0.7"

[[rule]]
qname = "garbage.test"
behaviour = "malformed_garbage"

[[rule]]
qname = "short.test"
behaviour = "malformed_short"

[[rule]]
qname = "counts.test"
behaviour = "malformed_counts"

[[rule]]
qname = "loop.test"
behaviour = "pointer_loop"

[[rule]]
qname = "chain.test"
behaviour = "cname_chain"
cname_chain_length = 5
[[rule.record]]
type = "A"
value = "127.0.0.8"

[[rule]]
qname = "bigtxt.test"
behaviour = "oversized_txt"
txt_size = 6000
)";

struct dns_fixture {
    temp_dir dir;
    std::unique_ptr<responder_process> proc;
    std::string ready;
    int port = 0;

    dns_fixture() {
        proc = std::make_unique<responder_process>(MPIC_LAB_FAULTDNS_BIN, dir.write("dns.toml", config_text),
                                                   dir.path() / "stderr.txt");
        ready = proc->wait_ready();
        port = port_from_ready(ready);
    }
    // dig with one try and a 2 s timeout, so a drop costs 2 s, not 15.
    command_result dig(const std::string& args) const {
        return run_command("dig @127.0.0.1 -p " + std::to_string(port) + " +time=2 +tries=1 " + args, 15);
    }
};

TEST(FaultDnsResponder, ReadyLineNamesOnePortForUdpAndTcpAndSigtermExitsZero) {
    dns_fixture f;
    ASSERT_GT(f.port, 0) << f.ready;
    EXPECT_EQ(f.ready, "ready udp=" + std::to_string(f.port) + " tcp=" + std::to_string(f.port));
    EXPECT_EQ(f.dig("example.test A +short").output, "127.0.0.5\n");
    EXPECT_EQ(f.dig("example.test A +short +tcp").output, "127.0.0.5\n");
    EXPECT_EQ(f.proc->stop(), 0);
    EXPECT_EQ(f.proc->extra_stdout(), "");
}

TEST(FaultDnsResponder, AnswersPerPerspective) {
    dns_fixture f;
    ASSERT_GT(f.port, 0);
    EXPECT_EQ(f.dig("EXAMPLE.test. A +short").output, "127.0.0.5\n");
    EXPECT_EQ(f.dig("-b 127.0.0.2 example.test A +short").output, "10.6.6.6\n");
    EXPECT_EQ(f.dig("-b 127.0.0.2 example.test A +short +tcp").output, "10.6.6.6\n");
    EXPECT_EQ(f.dig("-b 127.0.0.3 example.test A +short").output, "127.0.0.5\n");
    EXPECT_EQ(f.dig("example.test TXT +short").output, "\"hello\" \"world\"\n");
    EXPECT_EQ(f.dig("example.test CAA +short").output, "0 issue \"ca.example\"\n");
    const auto nodata = f.dig("example.test AAAA");
    EXPECT_THAT(nodata.output, HasSubstr("status: NOERROR"));
    EXPECT_THAT(nodata.output, HasSubstr("ANSWER: 0"));
    EXPECT_THAT(nodata.output, HasSubstr("flags: qr aa rd;"));
    EXPECT_THAT(f.dig("unknown.test A").output, HasSubstr("status: NXDOMAIN"));
}

TEST(FaultDnsResponder, DelayAndDrop) {
    dns_fixture f;
    ASSERT_GT(f.port, 0);
    const auto slow = f.dig("slow.test A +short");
    EXPECT_EQ(slow.output, "127.0.0.9\n");
    EXPECT_GE(slow.elapsed.count(), 750);
    const auto slow_tcp = f.dig("slow.test A +short +tcp");
    EXPECT_EQ(slow_tcp.output, "127.0.0.9\n");
    EXPECT_GE(slow_tcp.elapsed.count(), 750);
    const auto drop = f.dig("drop.test A");
    EXPECT_THAT(drop.output, HasSubstr("timed out"));
    EXPECT_GE(drop.elapsed.count(), 1900);
    const auto drop_tcp = f.dig("drop.test A +tcp");
    EXPECT_THAT(drop_tcp.output, HasSubstr("timed out"));
}

TEST(FaultDnsResponder, ErrorRcodes) {
    dns_fixture f;
    ASSERT_GT(f.port, 0);
    EXPECT_THAT(f.dig("servfail.test A").output, HasSubstr("status: SERVFAIL"));
    EXPECT_THAT(f.dig("refused.test A").output, HasSubstr("status: REFUSED"));
    const auto nx = f.dig("nx.test A");
    EXPECT_THAT(nx.output, HasSubstr("status: NXDOMAIN"));
    EXPECT_THAT(nx.output, HasSubstr("flags: qr aa rd;"));
}

TEST(FaultDnsResponder, TruncationOverUdpAndTcp) {
    dns_fixture f;
    ASSERT_GT(f.port, 0);
    const auto udp = f.dig("tc.test A +ignore");
    EXPECT_THAT(udp.output, HasSubstr("flags: qr aa tc rd;"));
    EXPECT_THAT(udp.output, HasSubstr("ANSWER: 0"));
    EXPECT_EQ(f.dig("tc.test A +short").output, "127.0.0.7\n"); // dig retries over TCP on TC=1
    EXPECT_EQ(f.dig("tc.test A +short +tcp").output, "127.0.0.7\n");
    const auto hostile = f.dig("tctcp.test A +tcp");
    EXPECT_THAT(hostile.output, HasSubstr("flags: qr aa tc rd;"));
}

TEST(FaultDnsResponder, MalformedReplies) {
    dns_fixture f;
    ASSERT_GT(f.port, 0);
    EXPECT_THAT(f.dig("wrongid.test A").output, HasSubstr("ID mismatch"));
    EXPECT_THAT(f.dig("garbage.test A").output, HasSubstr("Got bad packet"));
    EXPECT_THAT(f.dig("short.test A").output, HasSubstr("short (< header size) message"));
    EXPECT_THAT(f.dig("counts.test A").output, HasSubstr("malformed"));
    EXPECT_THAT(f.dig("loop.test A").output, HasSubstr("bad compression pointer"));
    EXPECT_THAT(f.dig("loop.test A +tcp").output, HasSubstr("bad compression pointer"));
}

TEST(FaultDnsResponder, CnameChainAndOversizedTxt) {
    dns_fixture f;
    ASSERT_GT(f.port, 0);
    EXPECT_EQ(f.dig("chain.test A +short").output,
              "c1.chain.test.\nc2.chain.test.\nc3.chain.test.\nc4.chain.test.\nc5.chain.test.\n127.0.0.8\n");
    // 6000 octets although the query advertised only 512: no TC, on purpose.
    const auto big = f.dig("bigtxt.test TXT +bufsize=512");
    EXPECT_THAT(big.output, HasSubstr("MSG SIZE  rcvd: 60"));
    EXPECT_THAT(big.output, Not(HasSubstr(" tc ")));
    EXPECT_THAT(f.dig("bigtxt.test TXT +tcp").output, HasSubstr("MSG SIZE  rcvd: 60"));
}

TEST(FaultDnsResponder, SurvivesHostileInput) {
    dns_fixture f;
    ASSERT_GT(f.port, 0);
    const std::string p = std::to_string(f.port);
    // Random UDP datagrams, a TCP length prefix promising 65535 octets then nothing, random TCP bytes.
    for (int i = 0; i < 20; ++i) {
        run_command("head -c " + std::to_string(1 + i * 37) + " /dev/urandom | bash -c 'cat > /dev/udp/127.0.0.1/" + p +
                        "'",
                    5);
    }
    run_command("printf '\\xff\\xff\\x00' | timeout 1 bash -c 'cat > /dev/tcp/127.0.0.1/" + p + "'", 5);
    run_command("head -c 3000 /dev/urandom | timeout 1 bash -c 'cat > /dev/tcp/127.0.0.1/" + p + "'", 5);
    // A well-formed query that claims to be a response must not be answered (no reflection).
    responders::dns::message_builder m(7, responders::dns::flag_qr);
    ASSERT_TRUE(m.add_question("example.test", 1));
    const auto bytes = std::move(m).take();
    responders::unique_fd s(::socket(AF_INET, SOCK_DGRAM, 0));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(f.port));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    ::sendto(s.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    responders::set_timeouts(s.get(), std::chrono::milliseconds(500), std::chrono::milliseconds(500));
    char buf[512];
    EXPECT_LT(::recv(s.get(), buf, sizeof buf, 0), 0);
    EXPECT_EQ(f.dig("example.test A +short").output, "127.0.0.5\n");
    EXPECT_EQ(f.dig("example.test A +short +tcp").output, "127.0.0.5\n");
    EXPECT_EQ(kill(f.proc->pid(), 0), 0) << "responder died";
    EXPECT_EQ(f.proc->stop(), 0);
}

} // namespace
} // namespace mpic::lab::test
