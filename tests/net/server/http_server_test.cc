// net::server::http_server with a real client over loopback sockets: keep-alive, pipelining (in order, one request
// at a time, flood bounded by back-pressure), every limit (slowloris 408, head 431, header count 431, body 413
// declared and chunked, malformed 400, idle timeout, max connections). Every test stops the server and asserts
// uv_loop_close == 0.

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/net/server/server_harness.hh"

namespace mpic::test {
namespace {

using namespace std::chrono_literals;
using net::server::server_limits;

server_limits small_limits() {
    server_limits l;
    l.max_head_bytes = 2048;
    l.max_headers = 16;
    l.max_body_bytes = 1000;
    l.head_timeout = 2s;
    l.body_timeout = 2s;
    l.idle_timeout = 2s;
    l.write_timeout = 2s;
    l.max_connections = 64;
    return l;
}

class http_server_test : public ::testing::Test {
protected:
    void start(server_limits limits = small_limits()) {
        _server = std::make_unique<server_harness>(limits);
        ASSERT_TRUE(_server->start());
    }
    void TearDown() override {
        if (_server) {
            EXPECT_EQ(_server->stop(), 0) << "uv_loop_close: handles left open";
        }
    }
    std::uint16_t port() const { return _server->port(); }
    std::unique_ptr<server_harness> _server;
};

TEST_F(http_server_test, keep_alive_serves_several_requests_on_one_connection) {
    start();
    client_conn c(port());
    ASSERT_TRUE(c.ok());
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(c.send(get_request("/r" + std::to_string(i))));
        auto reply = c.read_reply();
        ASSERT_TRUE(reply.has_value()) << i;
        EXPECT_EQ(reply->status, 200);
        EXPECT_EQ(reply->body, "GET /r" + std::to_string(i) + " 0");
        EXPECT_EQ(reply->header("connection"), "keep-alive");
        EXPECT_FALSE(reply->header("date").empty());
    }
    ASSERT_TRUE(c.send(post_request("/p?q=1", "hello")));
    auto post = c.read_reply();
    ASSERT_TRUE(post.has_value());
    EXPECT_EQ(post->body, "POST /p?q=1 5");
    EXPECT_EQ(_server->requests(), 6);
}

TEST_F(http_server_test, connection_close_and_http10_close_after_the_response) {
    start();
    client_conn c(port());
    ASSERT_TRUE(c.send(get_request("/a", "Connection: close\r\n")));
    auto reply = c.read_reply();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->header("connection"), "close");
    EXPECT_TRUE(c.closed_within(2s));

    client_conn old(port());
    ASSERT_TRUE(old.send("GET /old HTTP/1.0\r\n\r\n"));
    auto r10 = old.read_reply();
    ASSERT_TRUE(r10.has_value());
    EXPECT_EQ(r10->status, 200);
    EXPECT_TRUE(old.closed_within(2s));
}

TEST_F(http_server_test, pipelined_requests_are_answered_in_order_one_at_a_time) {
    start();
    client_conn c(port());
    // The first is answered late (150 ms); the others must wait for it, and come back in order.
    ASSERT_TRUE(
        c.send(get_request("/slow-1") + post_request("/two", "xy") + get_request("/slow-3") + get_request("/four")));
    const char* expected[] = {"GET /slow-1 0", "POST /two 2", "GET /slow-3 0", "GET /four 0"};
    for (const char* body : expected) {
        auto reply = c.read_reply();
        ASSERT_TRUE(reply.has_value()) << body;
        EXPECT_EQ(reply->body, body);
    }
    EXPECT_EQ(_server->max_outstanding(), 1);
}

TEST_F(http_server_test, pipelining_flood_is_bounded_by_back_pressure) {
    start();
    client_conn c(port(), 3s);
    // A client that writes pipelined requests and never reads: the server answers until its socket is full, then
    // stops reading; the client's writes stall instead of the server buffering without bound.
    const std::string request = get_request("/f", "X-Pad: " + std::string(1500, 'p') + "\r\n");
    std::size_t sent_requests = 0;
    std::size_t sent_bytes = 0;
    std::string remainder; ///< the tail of a request the kernel did not take when the pipe filled
    bool stalled = false;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!stalled && std::chrono::steady_clock::now() < deadline && sent_bytes < (256u << 20)) {
        long n = ::send(c.fd(), request.data(), request.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            // Give the server time to drain; if it still does not read, it is applying back-pressure.
            std::this_thread::sleep_for(300ms);
            n = ::send(c.fd(), request.data(), request.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                stalled = true;
                break;
            }
        }
        ASSERT_GT(n, 0) << "send failed: " << std::strerror(errno);
        ++sent_requests;
        sent_bytes += static_cast<std::size_t>(n);
        if (static_cast<std::size_t>(n) < request.size()) {
            remainder = request.substr(static_cast<std::size_t>(n));
            stalled = true; // the pipe is full mid-request
        }
    }
    EXPECT_TRUE(stalled) << "the server kept reading " << sent_bytes << " bytes without being read from";
    EXPECT_LT(sent_bytes, 256u << 20);
    // Finish the cut request while reading: every request sent is then answered, in order.
    std::thread finish([&c, remainder] {
        if (!remainder.empty()) {
            ::send(c.fd(), remainder.data(), remainder.size(), MSG_NOSIGNAL);
        }
    });
    for (std::size_t i = 0; i < sent_requests; ++i) {
        auto reply = c.read_reply();
        if (!reply.has_value() || reply->status != 200) {
            ADD_FAILURE() << "reply " << i << " of " << sent_requests << " missing or not 200";
            break;
        }
    }
    finish.join();
    EXPECT_EQ(_server->max_outstanding(), 1);
}

TEST_F(http_server_test, slowloris_head_gets_408_and_close_within_the_bound) {
    auto limits = small_limits();
    limits.head_timeout = 400ms;
    start(limits);
    client_conn c(port());
    const auto began = std::chrono::steady_clock::now();
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n"));
    // Dribble one header byte every 50 ms: always "active", never done.
    std::thread dribble([fd = c.fd()] {
        for (int i = 0; i < 40; ++i) {
            if (::send(fd, "a", 1, MSG_NOSIGNAL) != 1) {
                return;
            }
            std::this_thread::sleep_for(50ms);
        }
    });
    auto reply = c.read_reply();
    const auto elapsed = std::chrono::steady_clock::now() - began;
    dribble.join();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 408);
    EXPECT_EQ(reply->header("connection"), "close");
    EXPECT_NE(reply->body.find("request-timeout"), std::string::npos);
    EXPECT_GE(elapsed, 350ms);
    EXPECT_LT(elapsed, 1500ms);
    EXPECT_TRUE(c.closed_within(2s));
}

TEST_F(http_server_test, slow_body_gets_408) {
    auto limits = small_limits();
    limits.body_timeout = 300ms;
    start(limits);
    client_conn c(port());
    ASSERT_TRUE(c.send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part"));
    auto reply = c.read_reply();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 408);
    EXPECT_TRUE(c.closed_within(2s));
}

TEST_F(http_server_test, huge_header_gets_431) {
    start();
    client_conn c(port());
    ASSERT_TRUE(c.send(get_request("/", "X-Huge: " + std::string(4000, 'h') + "\r\n")));
    auto reply = c.read_reply();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 431);
    EXPECT_NE(reply->body.find("header-too-large"), std::string::npos);
    EXPECT_TRUE(c.closed_within(2s));
    EXPECT_EQ(_server->requests(), 0);

    client_conn url(port());
    ASSERT_TRUE(url.send(get_request("/" + std::string(3000, 'u'))));
    auto long_url = url.read_reply();
    ASSERT_TRUE(long_url.has_value());
    EXPECT_EQ(long_url->status, 431);
}

TEST_F(http_server_test, too_many_headers_gets_431) {
    start();
    client_conn c(port());
    std::string extra;
    for (int i = 0; i < 40; ++i) {
        extra += "X-H" + std::to_string(i) + ": v\r\n";
    }
    ASSERT_TRUE(c.send(get_request("/", extra)));
    auto reply = c.read_reply();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 431);
    EXPECT_NE(reply->body.find("headers"), std::string::npos);
    EXPECT_TRUE(c.closed_within(2s));

    // Exactly at the limit is fine (Host + 15 = 16).
    client_conn ok(port());
    std::string fifteen;
    for (int i = 0; i < 15; ++i) {
        fifteen += "X-H" + std::to_string(i) + ": v\r\n";
    }
    ASSERT_TRUE(ok.send(get_request("/", fifteen)));
    auto fine = ok.read_reply();
    ASSERT_TRUE(fine.has_value());
    EXPECT_EQ(fine->status, 200);
}

TEST_F(http_server_test, declared_body_over_the_cap_gets_413_before_it_is_sent) {
    start();
    client_conn c(port());
    // Only the head is sent: the refusal must not wait for (or read) the body.
    ASSERT_TRUE(c.send("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"));
    auto reply = c.read_reply();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 413);
    EXPECT_NE(reply->body.find("body-too-large"), std::string::npos);
    EXPECT_TRUE(c.closed_within(2s));
    EXPECT_EQ(_server->requests(), 0);

    client_conn exact(port());
    ASSERT_TRUE(exact.send(post_request("/exact", std::string(1000, 'b'))));
    auto fine = exact.read_reply();
    ASSERT_TRUE(fine.has_value());
    EXPECT_EQ(fine->status, 200);
    EXPECT_EQ(fine->body, "POST /exact 1000");
}

TEST_F(http_server_test, chunked_body_over_the_cap_gets_413) {
    start();
    client_conn c(port());
    std::string req = "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 6; ++i) {
        req += "c8\r\n" + std::string(200, 'c') + "\r\n"; // 6 x 200 = 1200 > 1000
    }
    req += "0\r\n\r\n";
    ASSERT_TRUE(c.send(req));
    auto reply = c.read_reply();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 413);
    EXPECT_TRUE(c.closed_within(2s));
    EXPECT_EQ(_server->requests(), 0);

    client_conn small(port());
    ASSERT_TRUE(small.send("POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
    auto fine = small.read_reply();
    ASSERT_TRUE(fine.has_value());
    EXPECT_EQ(fine->status, 200);
    EXPECT_EQ(fine->body, "POST /chunked 11");
}

TEST_F(http_server_test, malformed_requests_get_400_and_close) {
    start();
    for (const std::string& bad :
         {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n"),
          std::string("GET / HTTP/1.1\r\nBad Header Name: v\r\n\r\n"),
          std::string("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"),
          std::string("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),
          std::string("G\0T / HTTP/1.1\r\n\r\n", 18)}) {
        client_conn c(port());
        ASSERT_TRUE(c.send(bad));
        auto reply = c.read_reply();
        ASSERT_TRUE(reply.has_value()) << bad;
        EXPECT_EQ(reply->status, 400) << bad;
        EXPECT_EQ(reply->header("connection"), "close") << bad;
        EXPECT_TRUE(c.closed_within(2s)) << bad;
    }
    EXPECT_EQ(_server->requests(), 0);
}

TEST_F(http_server_test, idle_keep_alive_connection_is_closed) {
    auto limits = small_limits();
    limits.idle_timeout = 300ms;
    start(limits);
    client_conn c(port());
    ASSERT_TRUE(c.send(get_request("/once")));
    ASSERT_TRUE(c.read_reply().has_value());
    const auto began = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.closed_within(3s));
    const auto elapsed = std::chrono::steady_clock::now() - began;
    EXPECT_GE(elapsed, 200ms);
    EXPECT_LT(elapsed, 2s);
}

TEST_F(http_server_test, a_client_that_does_not_read_its_response_is_cut_after_the_write_timeout) {
    auto limits = small_limits();
    limits.write_timeout = 300ms;
    start(limits);
    client_conn c(port());
    ASSERT_TRUE(c.send(get_request("/big")));
    std::this_thread::sleep_for(1200ms); // read nothing while the server's write times out
    EXPECT_TRUE(c.closed_within(5s));
    EXPECT_LT(c.buffered().size(), 32u << 20) << "the whole response was delivered";
}

TEST_F(http_server_test, max_connections_refuses_the_extra_one) {
    auto limits = small_limits();
    limits.max_connections = 2;
    start(limits);
    client_conn a(port());
    client_conn b(port());
    ASSERT_TRUE(a.send(get_request("/a")));
    ASSERT_TRUE(b.send(get_request("/b")));
    ASSERT_TRUE(a.read_reply().has_value());
    ASSERT_TRUE(b.read_reply().has_value());
    client_conn extra(port());
    ASSERT_TRUE(extra.ok());
    extra.send(get_request("/extra")); // may fail if already closed
    EXPECT_TRUE(extra.closed_within(2s));
    EXPECT_TRUE(extra.buffered().empty()) << "the refused connection got an answer";
    // The two admitted connections still work, and a slot freed is reusable.
    ASSERT_TRUE(a.send(get_request("/a2")));
    ASSERT_TRUE(a.read_reply().has_value());
    ASSERT_TRUE(b.send(get_request("/b2", "Connection: close\r\n")));
    ASSERT_TRUE(b.read_reply().has_value());
    ASSERT_TRUE(b.closed_within(2s));
    std::this_thread::sleep_for(100ms); // the server reaps the closed connection on its loop
    client_conn again(port());
    ASSERT_TRUE(again.send(get_request("/again")));
    auto reply = again.read_reply();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->body, "GET /again 0");
}

TEST_F(http_server_test, client_leaving_before_a_late_answer_is_harmless) {
    start();
    {
        client_conn c(port());
        ASSERT_TRUE(c.send(get_request("/slow-gone")));
    } // closed before the 150 ms answer
    std::this_thread::sleep_for(300ms);
    client_conn c(port());
    ASSERT_TRUE(c.send(get_request("/after")));
    auto reply = c.read_reply();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 200);
}

TEST_F(http_server_test, stopping_with_open_and_busy_connections_leaves_no_handle) {
    start();
    client_conn idle(port());
    client_conn busy(port());
    client_conn half(port());
    ASSERT_TRUE(idle.send(get_request("/x")));
    ASSERT_TRUE(idle.read_reply().has_value());
    ASSERT_TRUE(busy.send(get_request("/slow-busy")));
    ASSERT_TRUE(half.send("GET / HTTP/1.1\r\n"));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(_server->stop(), 0);
    EXPECT_TRUE(idle.closed_within(2s));
    EXPECT_TRUE(busy.closed_within(2s));
    EXPECT_TRUE(half.closed_within(2s));
}

} // namespace
} // namespace mpic::test
