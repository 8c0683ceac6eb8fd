// mpic-lab-faulthttp as a process: started on 127.0.0.1:0 and driven with curl (--interface 127.0.0.2 for a
// perspective) and with raw sockets where timing or the exact bytes matter.

#include <arpa/inet.h>
#include <cerrno>
#include <fstream>
#include <netinet/in.h>
#include <signal.h>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/lab_responders/lab_process.hh"
#include "tools/mpic-lab/responders/lab_server.hh"

namespace mpic::lab::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* config_text = R"(
[[rule]]
path = "/.well-known/acme-challenge/tok"
body = "tok.thumb"
headers = [["Content-Type", "application/octet-stream"]]

[[rule]]
path = "/.well-known/acme-challenge/tok"
perspective = 1
body = "hijacked"

[[rule]]
path = "/hosted"
host = "example.test"
body = "by host"

[[rule]]
path = "/slow"
behaviour = "slow_headers"
delay_ms = 800
body = "late"

[[rule]]
path = "/dribble"
behaviour = "dribble"
dribble_interval_ms = 4
body = "0123456789"

[[rule]]
path = "/huge-declared"
behaviour = "oversized"
declared_length = 1073741824
actual_length = 1073741824

[[rule]]
path = "/huge-undeclared"
behaviour = "oversized"
actual_length = 1073741824

[[rule]]
path = "/reset"
behaviour = "reset_mid_body"
body = "partial body"
reset_after = 7
declared_length = 1000

[[rule]]
path = "/hold"
behaviour = "no_response"

[[rule]]
path = "/chunked"
behaviour = "chunked"
chunk_size = 4
body = "hello chunked world"

[[rule]]
path = "/redirect"
behaviour = "redirect"
status = 301
location = "/.well-known/acme-challenge/tok"

[[rule]]
path = "/prefix/*"
status = 503
body = "prefixed"
)";

struct http_fixture {
    temp_dir dir;
    std::unique_ptr<responder_process> proc;
    int port = 0;

    http_fixture() {
        proc = std::make_unique<responder_process>(MPIC_LAB_FAULTHTTP_BIN, dir.write("http.toml", config_text),
                                                   dir.path() / "stderr.txt");
        port = port_from_ready(proc->wait_ready());
    }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
    command_result curl(const std::string& args, int seconds = 15) const {
        return run_command("curl -sS " + args, seconds);
    }
};

struct raw_result {
    std::string data;
    int error = 0; // errno of the failing recv, 0 on a clean EOF
    std::chrono::milliseconds first_byte{-1};
    std::chrono::milliseconds elapsed{0};
    std::size_t reads = 0;
};

// Sends `request` and reads until EOF/error/`limit` bytes, recording timings.
raw_result raw_exchange(int port, const std::string& request, std::size_t limit = 1 << 20,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    raw_result r;
    responders::unique_fd fd(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        r.error = errno;
        return r;
    }
    responders::set_timeouts(fd.get(), timeout, timeout);
    const auto start = std::chrono::steady_clock::now();
    responders::send_all(fd.get(), request.data(), request.size());
    char buf[65536];
    while (r.data.size() < limit) {
        const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n <= 0) {
            r.error = n < 0 ? errno : 0;
            break;
        }
        if (r.first_byte.count() < 0) {
            r.first_byte =
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        }
        ++r.reads;
        r.data.append(buf, static_cast<std::size_t>(n));
    }
    r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return r;
}

std::string get(const std::string& path, const std::string& host = "127.0.0.1") {
    return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
}

long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

TEST(FaultHttpResponder, ServesBodiesPerPerspectiveAndHost) {
    http_fixture f;
    ASSERT_GT(f.port, 0);
    EXPECT_EQ(f.curl(f.url("/.well-known/acme-challenge/tok")).output, "tok.thumb");
    EXPECT_EQ(f.curl("--interface 127.0.0.2 " + f.url("/.well-known/acme-challenge/tok")).output, "hijacked");
    EXPECT_EQ(f.curl("--interface 127.0.0.3 " + f.url("/.well-known/acme-challenge/tok")).output, "tok.thumb");
    const auto head = f.curl("-i " + f.url("/.well-known/acme-challenge/tok"));
    EXPECT_THAT(head.output, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(head.output, HasSubstr("Content-Type: application/octet-stream\r\n"));
    EXPECT_THAT(head.output, HasSubstr("Content-Length: 9\r\n"));
    EXPECT_EQ(f.curl("-H 'Host: Example.Test:80' " + f.url("/hosted")).output, "by host");
    EXPECT_EQ(f.curl("-o /dev/null -w '%{http_code}' " + f.url("/hosted")).output, "404");
    EXPECT_EQ(f.curl("-o /dev/null -w '%{http_code}' " + f.url("/nothing")).output, "404");
    EXPECT_EQ(f.curl("-w ' %{http_code}' " + f.url("/prefix/a/b?c")).output, "prefixed 503");
}

TEST(FaultHttpResponder, SlowHeadersAndDribble) {
    http_fixture f;
    ASSERT_GT(f.port, 0);
    const auto slow = f.curl(f.url("/slow"));
    EXPECT_EQ(slow.output, "late");
    EXPECT_GE(slow.elapsed.count(), 750);
    const auto timeout = f.curl("-m 0.3 " + f.url("/slow"));
    EXPECT_EQ(timeout.status, 28) << timeout.output; // CURLE_OPERATION_TIMEDOUT
    const raw_result d = raw_exchange(f.port, get("/dribble"));
    EXPECT_EQ(d.error, 0);
    EXPECT_THAT(d.data, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(d.data, testing::EndsWith("\r\n\r\n0123456789"));
    // One byte per write: the client needs many reads (a busy machine may let a few bytes pile up between two).
    EXPECT_GE(d.reads, d.data.size() / 4);
    // One byte every 4 ms: the whole response takes at least 3 ms per byte.
    EXPECT_GE(d.elapsed.count(), static_cast<long>(d.data.size() * 3));
}

TEST(FaultHttpResponder, OversizedBodiesAreStreamedAndCappedByTheClient) {
    http_fixture f;
    ASSERT_GT(f.port, 0);
    const auto declared = f.curl("-o /dev/null --max-filesize 1000000 " + f.url("/huge-declared"));
    EXPECT_EQ(declared.status, 63) << declared.output; // CURLE_FILESIZE_EXCEEDED, decided from Content-Length
    const auto head = f.curl("-o /dev/null -D - -m 5 --max-filesize 1000000 " + f.url("/huge-declared"));
    EXPECT_THAT(head.output, HasSubstr("Content-Length: 1073741824\r\n"));
    // curl 7.88 enforces --max-filesize only from Content-Length, so a close-delimited body runs to its end: all
    // 1 GiB arrives, byte-exact, streamed from one 64 KiB buffer.
    const auto undeclared = f.curl("-o /dev/null -w '%{size_download}' " + f.url("/huge-undeclared"), 60);
    EXPECT_EQ(undeclared.output, "1073741824");
    // A client that stops reading after 8 MiB and closes: the responder just stops.
    const raw_result r = raw_exchange(f.port, get("/huge-undeclared"), std::size_t{8} << 20);
    EXPECT_GE(r.data.size(), std::size_t{8} << 20);
    // The responder's memory stays far below the body size (it never builds the body).
    const long rss = rss_kib(f.proc->pid());
    EXPECT_GT(rss, 0);
    EXPECT_LT(rss, 32 * 1024) << "RSS " << rss << " KiB";
}

TEST(FaultHttpResponder, ResetMidBody) {
    http_fixture f;
    ASSERT_GT(f.port, 0);
    const auto c = f.curl("-o /dev/null " + f.url("/reset"));
    // 56 = CURLE_RECV_ERROR (connection reset), 18 = CURLE_PARTIAL_FILE: both mean the body was cut short.
    EXPECT_TRUE(c.status == 56 || c.status == 18) << c.status << " " << c.output;
    const raw_result r = raw_exchange(f.port, get("/reset"));
    EXPECT_EQ(r.error, ECONNRESET);
    EXPECT_THAT(r.data, HasSubstr("Content-Length: 1000\r\n"));
    EXPECT_THAT(r.data, testing::EndsWith("\r\n\r\npartial"));
}

TEST(FaultHttpResponder, NoResponseHoldsUntilTheClientGivesUp) {
    http_fixture f;
    ASSERT_GT(f.port, 0);
    const auto c = f.curl("-m 1 " + f.url("/hold"));
    EXPECT_EQ(c.status, 28);
    EXPECT_GE(c.elapsed.count(), 950);
    const raw_result r = raw_exchange(f.port, get("/hold"), 1 << 20, std::chrono::milliseconds(700));
    EXPECT_EQ(r.data, "");
    EXPECT_EQ(r.error, EAGAIN); // our receive timeout, not a close by the server
    // SIGTERM while a connection is held still exits promptly and cleanly.
    std::thread holder([&] { raw_exchange(f.port, get("/hold"), 1 << 20, std::chrono::seconds(3)); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(f.proc->stop(), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    holder.join();
}

TEST(FaultHttpResponder, ChunkedAndRedirect) {
    http_fixture f;
    ASSERT_GT(f.port, 0);
    EXPECT_EQ(f.curl(f.url("/chunked")).output, "hello chunked world");
    const raw_result raw = raw_exchange(f.port, get("/chunked"));
    EXPECT_THAT(raw.data, HasSubstr("Transfer-Encoding: chunked\r\n"));
    EXPECT_THAT(raw.data,
                testing::EndsWith("\r\n\r\n4\r\nhell\r\n4\r\no ch\r\n4\r\nunke\r\n4\r\nd wo\r\n3\r\nrld\r\n0\r\n\r\n"));
    const auto r = f.curl("-i " + f.url("/redirect"));
    EXPECT_THAT(r.output, StartsWith("HTTP/1.1 301 Moved Permanently\r\n"));
    EXPECT_THAT(r.output, HasSubstr("Location: /.well-known/acme-challenge/tok\r\n"));
    EXPECT_EQ(f.curl("-L " + f.url("/redirect")).output, "tok.thumb");
}

TEST(FaultHttpResponder, BadRequestsGet4xxAndNeverCrashTheServer) {
    http_fixture f;
    ASSERT_GT(f.port, 0);
    EXPECT_THAT(raw_exchange(f.port, "BLAH\r\n\r\n").data, StartsWith("HTTP/1.1 400 "));
    EXPECT_THAT(raw_exchange(f.port, "GET / HTTP/9.9\r\n\r\n").data, StartsWith("HTTP/1.1 400 "));
    const std::string huge = "GET / HTTP/1.1\r\nX: " + std::string(70000, 'a') + "\r\n\r\n";
    EXPECT_THAT(raw_exchange(f.port, huge).data, StartsWith("HTTP/1.1 431 "));
    const std::string p = std::to_string(f.port);
    run_command("head -c 100000 /dev/urandom | timeout 2 bash -c 'cat > /dev/tcp/127.0.0.1/" + p + "'", 5);
    run_command("timeout 1 bash -c ': > /dev/tcp/127.0.0.1/" + p + "'", 5);
    // A client that sends half a request and stalls is cut off by the server's 10 s receive timeout; meanwhile
    // other clients are served.
    const auto bg = run_command("(printf 'GET / HT' | timeout 1 bash -c 'cat > /dev/tcp/127.0.0.1/" + p + "') & " +
                                    "curl -sS " + f.url("/.well-known/acme-challenge/tok") + "; wait",
                                10);
    EXPECT_THAT(bg.output, HasSubstr("tok.thumb"));
    EXPECT_EQ(kill(f.proc->pid(), 0), 0) << "responder died";
    EXPECT_EQ(f.proc->stop(), 0);
}

} // namespace
} // namespace mpic::lab::test
