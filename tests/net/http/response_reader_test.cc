// net/http response_reader: framing (Content-Length, chunked, until close, HEAD, 1xx), limits and malformed input,
// fed whole and byte by byte.

#include <gtest/gtest.h>
#include <uv.h>

#include "core/error.hh"
#include "net/http/response_reader.hh"

namespace mpic::net::http {
namespace {

struct fed {
    std::size_t consumed = 0;
};

// Feeds `wire` in pieces of `step` bytes (0 = all at once), stopping when the reader stops consuming.
fed feed_all(response_reader& r, std::string_view wire, std::size_t step = 0) {
    fed f;
    if (step == 0) {
        step = wire.size();
    }
    while (f.consumed < wire.size()) {
        const std::size_t n = std::min(step, wire.size() - f.consumed);
        const std::size_t used = r.feed(wire.substr(f.consumed, n));
        f.consumed += used;
        if (used < n || r.complete() || r.failed()) {
            break;
        }
    }
    return f;
}

reader_limits limits(std::size_t cap = 1024) {
    return {100, 16 * 1024, cap};
}

class ResponseReader : public ::testing::TestWithParam<std::size_t> {}; // param: feed step (0 = whole)

TEST_P(ResponseReader, ContentLength) {
    response_reader r;
    r.start(limits(), false);
    const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  spaced value  \r\n\r\nhello";
    auto f = feed_all(r, wire, GetParam());
    ASSERT_TRUE(r.complete()) << r.error().message();
    EXPECT_EQ(f.consumed, wire.size());
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.http_major(), 1);
    EXPECT_EQ(r.http_minor(), 1);
    EXPECT_EQ(r.body(), "hello");
    ASSERT_EQ(r.headers().size(), 2u);
    EXPECT_EQ(r.headers()[1].name, "X-A");
    EXPECT_EQ(r.headers()[1].value, "spaced value");
    EXPECT_EQ(find_header(r.headers(), "content-length")->value, "5");
    EXPECT_TRUE(r.keep_alive());
}

TEST_P(ResponseReader, Chunked) {
    response_reader r;
    r.start(limits(), false);
    const std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n";
    feed_all(r, wire, GetParam());
    ASSERT_TRUE(r.complete()) << r.error().message();
    EXPECT_EQ(r.body(), "hello world");
    EXPECT_EQ(r.headers().size(), 1u); // the trailer is not a header
}

TEST_P(ResponseReader, UntilCloseCompletesAtEof) {
    response_reader r;
    r.start(limits(), false);
    feed_all(r, "HTTP/1.0 200 OK\r\n\r\nbody until close", GetParam());
    EXPECT_EQ(r.current(), response_reader::state::body);
    r.finish();
    ASSERT_TRUE(r.complete()) << r.error().message();
    EXPECT_EQ(r.body(), "body until close");
    EXPECT_FALSE(r.keep_alive());
}

TEST_P(ResponseReader, BodyCapKeepsFirstBytes) {
    response_reader r;
    r.start(limits(8), false);
    feed_all(r, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123456789abcdefghij", GetParam());
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.error(), errc::limit_exceeded);
    EXPECT_EQ(r.failed_stage(), stage::body);
    EXPECT_EQ(r.body(), "01234567");
    EXPECT_EQ(r.status(), 200);
}

TEST_P(ResponseReader, BodyExactlyAtCapIsFine) {
    response_reader r;
    r.start(limits(10), false);
    feed_all(r, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", GetParam());
    ASSERT_TRUE(r.complete());
    EXPECT_EQ(r.body(), "0123456789");
}

TEST_P(ResponseReader, InterimResponsesSkipped) {
    response_reader r;
    r.start(limits(), false);
    feed_all(r,
             "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
             "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno",
             GetParam());
    ASSERT_TRUE(r.complete()) << r.error().message();
    EXPECT_EQ(r.status(), 404);
    EXPECT_EQ(r.body(), "no");
    ASSERT_EQ(r.headers().size(), 1u);
    EXPECT_EQ(r.headers()[0].name, "Content-Length");
}

INSTANTIATE_TEST_SUITE_P(Steps, ResponseReader, ::testing::Values(0, 1, 7));

TEST(ResponseReaderLimits, HeaderCount) {
    response_reader r;
    r.start({3, 16 * 1024, 100}, false);
    feed_all(r, "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.error(), errc::limit_exceeded);
    EXPECT_EQ(r.failed_stage(), stage::head);
    EXPECT_LE(r.headers().size(), 3u);
}

TEST(ResponseReaderLimits, HeadBytes) {
    response_reader r;
    r.start({100, 64, 100}, false);
    feed_all(r, "HTTP/1.1 200 OK\r\nX-Big: " + std::string(100, 'v') + "\r\n\r\n", 5);
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.error(), errc::limit_exceeded);
    EXPECT_EQ(r.failed_stage(), stage::head);
}

TEST(ResponseReaderLimits, EndlessInterimResponses) {
    response_reader r;
    r.start(limits(), false);
    std::string wire;
    for (int i = 0; i < 20; ++i) {
        wire += "HTTP/1.1 100 Continue\r\n\r\n";
    }
    feed_all(r, wire);
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.error(), errc::limit_exceeded);
}

TEST(ResponseReaderFraming, HeadResponseHasNoBody) {
    response_reader r;
    r.start(limits(), true);
    const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
    auto f = feed_all(r, wire);
    ASSERT_TRUE(r.complete());
    EXPECT_EQ(f.consumed, wire.size());
    EXPECT_TRUE(r.body().empty());
}

TEST(ResponseReaderFraming, LeftoverBytesAreNotConsumed) {
    response_reader r;
    r.start(limits(), false);
    const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    auto f = feed_all(r, first + "HTTP/1.1 200 OK\r\n");
    ASSERT_TRUE(r.complete());
    EXPECT_EQ(f.consumed, first.size());
    // Reuse: start() resets the parser for the next response on the same connection.
    r.start(limits(), false);
    feed_all(r, "HTTP/1.1 204 No Content\r\n\r\n");
    ASSERT_TRUE(r.complete());
    EXPECT_EQ(r.status(), 204);
    EXPECT_TRUE(r.body().empty());
}

TEST(ResponseReaderFraming, ConnectionCloseIsNotKeepAlive) {
    response_reader r;
    r.start(limits(), false);
    feed_all(r, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    ASSERT_TRUE(r.complete());
    EXPECT_FALSE(r.keep_alive());
}

TEST(ResponseReaderErrors, TruncatedBodyAtEof) {
    response_reader r;
    r.start(limits(), false);
    feed_all(r, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    r.finish();
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.error().category(), llhttp_category());
    EXPECT_EQ(r.error().value(), HPE_INVALID_EOF_STATE);
    EXPECT_EQ(r.failed_stage(), stage::body);
    EXPECT_EQ(r.body(), "abc");
}

TEST(ResponseReaderErrors, EofBeforeAnyByte) {
    response_reader r;
    r.start(limits(), false);
    r.finish();
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.error(), uv_error(UV_EOF));
    EXPECT_EQ(r.failed_stage(), stage::head);
    EXPECT_FALSE(r.started());
}

TEST(ResponseReaderErrors, MalformedInputs) {
    for (std::string_view bad : {
             "HTTP/1.1 2000 OK\r\n\r\n", "HTTX/1.1 200 OK\r\n\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
             "\x16\x03\x01\x02\x00", // a TLS record on a plain-HTTP connection
         }) {
        response_reader r;
        r.start(limits(), false);
        feed_all(r, bad);
        ASSERT_TRUE(r.failed()) << bad;
        EXPECT_EQ(r.error().category(), llhttp_category()) << bad;
    }
}

TEST(ResponseReaderErrors, HeaderNameMustBeAToken) {
    // llhttp 8 lets a space inside a response header name through; RFC 9110 §5.1 says field names are tokens.
    for (std::string_view bad : {"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", "HTTP/1.1 200 OK\r\nX\x01: x\r\n\r\n"}) {
        response_reader r;
        r.start(limits(), false);
        feed_all(r, bad);
        ASSERT_TRUE(r.failed()) << bad;
        EXPECT_TRUE(r.error() == errc::malformed || r.error().category() == llhttp_category()) << bad;
        EXPECT_EQ(r.failed_stage(), stage::head);
    }
}

TEST(ResponseReaderErrors, SwitchingProtocolsIsRefused) {
    response_reader r;
    r.start(limits(), false);
    feed_all(r, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n");
    ASSERT_TRUE(r.failed());
}

TEST(ResponseReaderErrors, NoBytesAcceptedAfterCompletion) {
    response_reader r;
    EXPECT_EQ(r.feed(std::string_view("HTTP/1.1 200 OK\r\n")), 0u); // not started
    r.start(limits(), false);
    feed_all(r, "HTTP/1.1 204 No Content\r\n\r\n");
    ASSERT_TRUE(r.complete());
    EXPECT_EQ(r.feed(std::string_view("more")), 0u);
}

} // namespace
} // namespace mpic::net::http
