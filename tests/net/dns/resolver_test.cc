// net/dns/resolver against the in-process fake server: every outcome, TCP retry on truncation, wrong IDs, detach,
// source addresses, perspective isolation and teardown with queries in flight. Every test ends with
// uv_loop_close() == 0 (libuv's MAKE_VALGRIND_HAPPY).

#include <atomic>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/error.hh"
#include "net/dns/resolver.hh"
#include "tests/net/dns/fake_dns_server.hh"

namespace mpic::net::dns {
namespace {

namespace t = mpic::test::dns;

/// The decoded rdata of `rr` as T; a test failure (and an empty T) if it decoded to something else.
template <class T>
const T& data_of(const record& rr) {
    static const T empty{};
    const T* p = rr.as<T>();
    if (p == nullptr) {
        ADD_FAILURE() << "record of type " << rr.type << " does not hold the expected rdata";
        return empty;
    }
    return *p;
}

class ResolverTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(uv_loop_init(&_loop), 0);
        uv_timer_init(&_loop, &_tick);
        uv_timer_start(
            &_tick, [](uv_timer_t*) {}, 5, 5); // wakes run_until's UV_RUN_ONCE regularly
        uv_unref(reinterpret_cast<uv_handle_t*>(&_tick));
    }
    void TearDown() override {
        _resolvers.clear();
        uv_close(reinterpret_cast<uv_handle_t*>(&_tick), nullptr);
        uv_run(&_loop, UV_RUN_DEFAULT);
        EXPECT_EQ(uv_loop_close(&_loop), 0);
    }

    resolver_config config() {
        resolver_config c;
        c.perspective = "test";
        c.servers = {{"127.0.0.1", _server.port()}};
        c.timeout_ms = 300;
        c.tries = 1;
        return c;
    }
    resolver& make(resolver_config c) {
        auto r = resolver::create(&_loop, std::move(c));
        EXPECT_TRUE(r) << r.error().message();
        _resolvers.push_back(std::move(*r));
        return *_resolvers.back();
    }
    resolver& make() { return make(config()); }

    /// Runs the loop until `done` or `max_ms` passed; true if done.
    bool run_until(const std::function<bool()>& done, std::uint64_t max_ms = 5000) {
        uv_ref(reinterpret_cast<uv_handle_t*>(&_tick));
        const std::uint64_t deadline = uv_hrtime() + max_ms * 1'000'000;
        while (!done() && uv_hrtime() < deadline) {
            uv_run(&_loop, UV_RUN_ONCE);
        }
        uv_unref(reinterpret_cast<uv_handle_t*>(&_tick));
        return done();
    }

    query_result ask(resolver& r, std::string_view name, rr_type type) {
        std::optional<query_result> out;
        int calls = 0;
        (void)r.query(name, type, [&](query_result&& res) {
            ++calls;
            out = std::move(res);
        });
        EXPECT_TRUE(run_until([&] { return out.has_value(); }));
        run_until([] { return false; }, 20); // a second completion would show up here
        EXPECT_EQ(calls, 1);
        return out ? std::move(*out) : query_result{};
    }

    uv_loop_t _loop{};
    uv_timer_t _tick{};
    t::fake_dns_server _server;
    std::vector<std::unique_ptr<resolver>> _resolvers;
};

TEST_F(ResolverTest, AnswerCarriesRecordsRcodeAdAndTiming) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.ad = true;
        p.answers = {t::txt(req.qname, {"token-part-1", "part-2"}), t::txt(req.qname, {"other"})};
        return t::reply::with(p.build());
    });
    auto& r = make();
    const auto res = ask(r, "_acme-challenge.Example.TEST.", rr_type::txt);
    EXPECT_EQ(res.kind, outcome::answer);
    EXPECT_FALSE(res.error);
    EXPECT_EQ(res.qname, "_acme-challenge.example.test");
    EXPECT_EQ(res.rcode_name(), "NOERROR");
    EXPECT_TRUE(res.ad);
    ASSERT_EQ(res.records.size(), 2u);
    EXPECT_EQ(data_of<txt_rdata>(res.records[0]).joined(), "token-part-1part-2");
    EXPECT_EQ(rdata_to_string(res.records[1]), "\"other\"");
    EXPECT_GT(res.elapsed.count(), 0);
    ASSERT_TRUE(res.msg);
    // The query we built: RD, EDNS0 with DO (RFC 3225) and our UDP size, over UDP.
    const auto reqs = _server.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_TRUE(reqs[0].rd);
    EXPECT_TRUE(reqs[0].edns);
    EXPECT_TRUE(reqs[0].do_bit);
    EXPECT_EQ(reqs[0].udp_size, 1232);
    EXPECT_FALSE(reqs[0].tcp);
    EXPECT_EQ(reqs[0].qtype, 16);
    EXPECT_EQ(r.in_flight(), 0u);
}

TEST_F(ResolverTest, CnameChainIsFollowedAndReported) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.answers = {t::cname(req.qname, "cdn.provider.test"), t::caa("cdn.provider.test", 0, "issue", "other.ca")};
        return t::reply::with(p.build());
    });
    auto& r = make();
    const auto res = ask(r, "www.example.test", rr_type::caa);
    EXPECT_EQ(res.kind, outcome::answer);
    EXPECT_EQ(res.chain.names(res.qname), (std::vector<std::string>{"www.example.test", "cdn.provider.test"}));
    ASSERT_EQ(res.records.size(), 1u);
    EXPECT_EQ(rdata_to_string(res.records[0]), "0 issue \"other.ca\"");
}

TEST_F(ResolverTest, NoDataWhenTheChainEndsWithoutTheType) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.answers = {t::cname(req.qname, "elsewhere.test")};
        return t::reply::with(p.build());
    });
    auto& r = make();
    const auto res = ask(r, "www.example.test", rr_type::txt);
    EXPECT_EQ(res.kind, outcome::nodata);
    EXPECT_TRUE(res.records.empty());
    EXPECT_EQ(res.chain.final_name, "elsewhere.test");
    // Asking for the CNAME itself does not follow it.
    const auto direct = ask(r, "www.example.test", rr_type::cname);
    EXPECT_EQ(direct.kind, outcome::answer);
    EXPECT_EQ(rdata_to_string(direct.records.at(0)), "elsewhere.test.");
}

TEST_F(ResolverTest, NxdomainServfailRefusedAndOtherRcodes) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        if (req.qname == "nx.test") {
            p.rcode = 3;
        } else if (req.qname == "sf.test") {
            p.rcode = 2;
            p.options = {t::ede(6, "RRSIG expired")};
        } else if (req.qname == "ref.test") {
            p.rcode = 5;
        } else {
            p.rcode = 4; // NOTIMP
        }
        return t::reply::with(p.build());
    });
    auto& r = make();
    const auto nx = ask(r, "nx.test", rr_type::a);
    EXPECT_EQ(nx.kind, outcome::nxdomain);
    EXPECT_EQ(nx.rcode_name(), "NXDOMAIN");
    const auto sf = ask(r, "sf.test", rr_type::a);
    EXPECT_EQ(sf.kind, outcome::servfail);
    EXPECT_EQ(sf.extended_error, "DNSSEC Bogus (6): RRSIG expired");
    const auto ref = ask(r, "ref.test", rr_type::a);
    EXPECT_EQ(ref.kind, outcome::refused);
    const auto other = ask(r, "notimp.test", rr_type::a);
    EXPECT_EQ(other.kind, outcome::other_rcode);
    EXPECT_EQ(other.rcode_name(), "NOTIMP");
    // NOCHECKRESP: SERVFAIL is final, not retried (one request per query).
    EXPECT_EQ(_server.request_count(), 4u);
}

TEST_F(ResolverTest, NoAnswerIsATimeoutAfterEveryTry) {
    auto c = config();
    c.timeout_ms = 100;
    c.tries = 2;
    auto& r = make(c);
    const auto res = ask(r, "silent.test", rr_type::a);
    EXPECT_EQ(res.kind, outcome::timeout);
    EXPECT_FALSE(res.msg);
    EXPECT_TRUE(res.error);
    EXPECT_GE(res.elapsed.count(), 90'000);
    EXPECT_EQ(_server.request_count(), 2u); // tries = 2
}

TEST_F(ResolverTest, FailsOverToTheNextServerAfterATimeout) {
    t::fake_dns_server second; // the fixture's server stays silent
    second.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.answers = {t::a(req.qname, "192.0.2.9")};
        return t::reply::with(p.build());
    });
    auto c = config();
    c.servers = {{"127.0.0.1", _server.port()}, {"127.0.0.1", second.port()}};
    c.timeout_ms = 150;
    c.tries = 1;
    auto& r = make(c);
    const auto res = ask(r, "failover.test", rr_type::a);
    EXPECT_EQ(res.kind, outcome::answer);
    EXPECT_EQ(_server.request_count(), 1u);
    EXPECT_EQ(second.request_count(), 1u);
    // The single channel timer fired on time: one timeout, not more (and not early).
    EXPECT_GE(res.elapsed.count(), 140'000);
    EXPECT_LT(res.elapsed.count(), 1'000'000);
}

TEST_F(ResolverTest, FormerrWithoutOptIsRetriedWithoutEdns) {
    // RFC 6891 §7: a responder that does not implement EDNS answers FORMERR without an OPT RR; c-ares 1.18 strips
    // our 11-octet OPT RR and asks again. Our query builder must keep the OPT RR last and exactly 11 octets.
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        if (req.edns) {
            p.edns = false;
            p.rcode = 1; // FORMERR
        } else {
            p.answers = {t::a(req.qname, "192.0.2.1")};
        }
        return t::reply::with(p.build());
    });
    auto& r = make();
    const auto res = ask(r, "old-server.test", rr_type::a);
    EXPECT_EQ(res.kind, outcome::answer);
    const auto reqs = _server.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_TRUE(reqs[0].edns);
    EXPECT_FALSE(reqs[1].edns);
    EXPECT_EQ(reqs[1].qname, "old-server.test");
}

TEST_F(ResolverTest, TruncatedUdpAnswerIsRetriedOverTcp) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        if (!req.tcp) {
            p.tc = true; // partial: must never be acted on
            p.answers = {t::txt(req.qname, {"partial"})};
        } else {
            p.answers = {t::txt(req.qname, {"complete"})};
        }
        return t::reply::with(p.build());
    });
    auto& r = make();
    const auto res = ask(r, "big.test", rr_type::txt);
    EXPECT_EQ(res.kind, outcome::answer);
    ASSERT_EQ(res.records.size(), 1u);
    EXPECT_EQ(data_of<txt_rdata>(res.records[0]).joined(), "complete");
    const auto reqs = _server.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_FALSE(reqs[0].tcp);
    EXPECT_TRUE(reqs[1].tcp);
}

TEST_F(ResolverTest, TruncatedOverTcpTooIsNeverAnAnswer) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.tc = true;
        p.answers = {t::txt(req.qname, {"partial"})};
        return t::reply::with(p.build());
    });
    auto& r = make();
    const auto res = ask(r, "big.test", rr_type::txt);
    EXPECT_EQ(res.kind, outcome::truncated);
    EXPECT_TRUE(res.records.empty());
}

TEST_F(ResolverTest, LargeUdpAnswerWithinEdnsSizeIsAcceptedWithoutTcp) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        for (int i = 0; i < 8; ++i) {
            p.answers.push_back(t::txt(req.qname, {std::string(100, static_cast<char>('a' + i))}));
        }
        return t::reply::with(p.build()); // ~1 KB: above 512, below our 1232
    });
    auto& r = make();
    const auto res = ask(r, "large.test", rr_type::txt);
    EXPECT_EQ(res.kind, outcome::answer);
    EXPECT_EQ(res.records.size(), 8u);
    EXPECT_EQ(_server.request_count(), 1u);
}

TEST_F(ResolverTest, MalformedAnswerIsReportedNotTrusted) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.answers = {t::a(req.qname, "192.0.2.1")};
        std::string wire = p.build();
        wire.resize(wire.size() - 3); // cut inside the A rdata; header and question stay intact
        return t::reply::with(wire);
    });
    auto& r = make();
    const auto res = ask(r, "broken.test", rr_type::a);
    EXPECT_EQ(res.kind, outcome::malformed);
    EXPECT_EQ(res.error, message_error::truncated);
}

TEST_F(ResolverTest, AliasLoopInAnswerIsMalformed) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.answers = {t::cname(req.qname, "b.test"), t::cname("b.test", req.qname)};
        return t::reply::with(p.build());
    });
    auto& r = make();
    const auto res = ask(r, "a.test", rr_type::a);
    EXPECT_EQ(res.kind, outcome::malformed);
    EXPECT_EQ(res.error, alias_error::loop);
}

TEST_F(ResolverTest, AnswerWithWrongIdIsIgnored) {
    _server.set_handler([](const t::request& req) {
        auto forged = t::response_to(req);
        forged.id = static_cast<std::uint16_t>(req.id ^ 0x5a5a);
        forged.answers = {t::a(req.qname, "203.0.113.66")};
        auto real = t::response_to(req);
        real.answers = {t::a(req.qname, "192.0.2.1")};
        return t::reply{{forged.build(), real.build()}, true};
    });
    auto& r = make();
    const auto res = ask(r, "spoof.test", rr_type::a);
    EXPECT_EQ(res.kind, outcome::answer);
    ASSERT_EQ(res.records.size(), 1u);
    EXPECT_EQ(rdata_to_string(res.records[0]), "192.0.2.1");
}

TEST_F(ResolverTest, AnswerToAnotherQuestionIsIgnored) {
    // Right ID, wrong question (a blind spoofer's guess, or a confused middlebox): never accepted as our answer.
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.questions = {{"attacker.test", req.qtype}};
        p.answers = {t::a("attacker.test", "203.0.113.66")};
        return t::reply::with(p.build());
    });
    auto c = config();
    c.timeout_ms = 100;
    auto& r = make(c);
    const auto res = ask(r, "victim.test", rr_type::a);
    EXPECT_EQ(res.kind, outcome::timeout);
    EXPECT_TRUE(res.records.empty());
}

TEST_F(ResolverTest, ClosedPortIsANetworkError) {
    // A port with nobody listening: bind, read the port, close.
    const int s = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    socklen_t len = sizeof sa;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&sa), &len);
    ::close(s);
    auto c = config();
    c.servers = {{"127.0.0.1", ntohs(sa.sin_port)}};
    c.timeout_ms = 2000;
    auto& r = make(c);
    const auto res = ask(r, "anything.test", rr_type::a);
    EXPECT_EQ(res.kind, outcome::network_error);
    EXPECT_EQ(res.error.category(), ares_category());
    EXPECT_LT(res.elapsed.count(), 1'500'000); // ICMP port unreachable, not the timeout
}

TEST_F(ResolverTest, DetachedQueryNeverCallsBack) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.answers = {t::a(req.qname, "192.0.2.1")};
        return t::reply::with(p.build());
    });
    auto& r = make();
    auto shared = std::make_shared<int>(0);
    bool called = false;
    auto h = r.query("detach.test", rr_type::a, [&called, shared](query_result&&) { called = true; });
    EXPECT_TRUE(h.active());
    EXPECT_EQ(shared.use_count(), 2);
    h.detach();
    EXPECT_FALSE(h.active());
    EXPECT_EQ(shared.use_count(), 1); // captures released at detach, not when c-ares finishes
    EXPECT_EQ(r.in_flight(), 1u);     // c-ares still owns the query
    EXPECT_TRUE(run_until([&] { return r.in_flight() == 0; }));
    EXPECT_FALSE(called);
    EXPECT_EQ(_server.request_count(), 1u);
    h.detach(); // idempotent
    // Detaching after completion is harmless and the handle reports inactive.
    std::optional<query_result> res;
    auto h2 = r.query("detach.test", rr_type::a, [&](query_result&& q) { res = std::move(q); });
    EXPECT_TRUE(run_until([&] { return res.has_value(); }));
    EXPECT_FALSE(h2.active());
    h2.detach();
}

TEST_F(ResolverTest, BadNameCompletesAsynchronously) {
    auto& r = make();
    bool called = false;
    query_result got;
    (void)r.query(std::string(64, 'a') + ".test", rr_type::a, [&](query_result&& q) {
        called = true;
        got = std::move(q);
    });
    EXPECT_FALSE(called); // never inside query()
    EXPECT_TRUE(run_until([&] { return called; }));
    EXPECT_EQ(got.kind, outcome::cancelled);
    EXPECT_EQ(got.error, errc::invalid_argument);
    for (const char* bad : {"a..test", "with space.test", "back\\slash.test", ".lead.test"}) {
        called = false;
        (void)r.query(bad, rr_type::a, [&](query_result&& q) {
            called = true;
            got = std::move(q);
        });
        EXPECT_TRUE(run_until([&] { return called; })) << bad;
        EXPECT_EQ(got.error, errc::invalid_argument) << bad;
    }
    EXPECT_EQ(_server.request_count(), 0u);
}

TEST_F(ResolverTest, CallbackMayStartTheNextQuery) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.answers = {t::a(req.qname, "192.0.2.1")};
        return t::reply::with(p.build());
    });
    auto& r = make();
    int done = 0;
    (void)r.query("first.test", rr_type::a, [&](query_result&& first) {
        EXPECT_EQ(first.kind, outcome::answer);
        ++done;
        (void)r.query("second.test", rr_type::a, [&](query_result&& second) {
            EXPECT_EQ(second.kind, outcome::answer);
            ++done;
        });
    });
    EXPECT_TRUE(run_until([&] { return done == 2; }));
}

TEST_F(ResolverTest, SourceAddressIsTheConfiguredOne) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.answers = {t::a(req.qname, "192.0.2.1")};
        return t::reply::with(p.build());
    });
    auto c = config();
    c.source_ipv4 = "127.0.0.2";
    auto& r = make(c);
    EXPECT_EQ(ask(r, "who.test", rr_type::a).kind, outcome::answer);
    const auto reqs = _server.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].peer, "127.0.0.2");
}

TEST_F(ResolverTest, TwoPerspectivesNeverShareASocket) {
    // The server answers only after both perspectives have asked, so both sockets are open at the same time.
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.answers = {t::a(req.qname, req.peer == "127.0.0.2" ? "192.0.2.2" : "192.0.2.3")};
        return t::reply::with(p.build());
    });
    auto c2 = config();
    c2.source_ipv4 = "127.0.0.2";
    auto c3 = config();
    c3.source_ipv4 = "127.0.0.3";
    auto& p2 = make(c2);
    auto& p3 = make(c3);
    std::optional<query_result> r2, r3;
    (void)p2.query("same.test", rr_type::a, [&](query_result&& q) { r2 = std::move(q); });
    (void)p3.query("same.test", rr_type::a, [&](query_result&& q) { r3 = std::move(q); });
    const auto s2 = p2.open_sockets();
    const auto s3 = p3.open_sockets();
    ASSERT_FALSE(s2.empty());
    ASSERT_FALSE(s3.empty());
    for (int fd : s2) {
        EXPECT_EQ(std::count(s3.begin(), s3.end(), fd), 0);
    }
    EXPECT_TRUE(run_until([&] { return r2 && r3; }));
    ASSERT_EQ(r2->records.size(), 1u);
    ASSERT_EQ(r3->records.size(), 1u);
    EXPECT_EQ(rdata_to_string(r2->records[0]), "192.0.2.2"); // each saw its own view
    EXPECT_EQ(rdata_to_string(r3->records[0]), "192.0.2.3");
    std::set<std::pair<std::string, std::uint16_t>> peers;
    for (const auto& q : _server.requests()) {
        peers.emplace(q.peer, q.peer_port);
    }
    EXPECT_EQ(peers.size(), 2u);
}

/// Makes `server` answer every name but "hold.test", then sends `n` names one after another (each after the previous
/// answer) while "hold.test" stays unanswered, so c-ares never goes idle and would keep its UDP socket; returns the
/// source ports the server saw, in order.
std::vector<std::uint16_t> ports_under_load(resolver& r, t::fake_dns_server& server, int n,
                                            const std::function<bool(const std::function<bool()>&)>& run) {
    server.set_handler([](const t::request& req) {
        if (req.qname == "hold.test") {
            return t::reply::none();
        }
        auto p = t::response_to(req);
        p.answers = {t::a(req.qname, "192.0.2.1")};
        return t::reply::with(p.build());
    });
    bool held_done = false;
    auto hold = r.query("hold.test", rr_type::a, [&](query_result&&) { held_done = true; });
    int answered = 0;
    std::function<void()> next = [&] {
        (void)r.query("q" + std::to_string(answered) + ".test", rr_type::a, [&](query_result&& q) {
            EXPECT_EQ(q.kind, outcome::answer);
            if (++answered < n) {
                next();
            }
        });
    };
    next();
    EXPECT_TRUE(run([&] { return answered == n; }));
    EXPECT_FALSE(held_done);
    hold.detach(); // its callback refers to this frame; the query itself stays in flight
    std::vector<std::uint16_t> ports;
    for (const auto& q : server.requests()) {
        ports.push_back(q.peer_port);
    }
    return ports;
}

TEST_F(ResolverTest, SourcePortRotatesAfterUdpMaxQueries) {
    auto c = config();
    c.timeout_ms = 5000;
    c.udp_max_queries = 3;
    auto& r = make(c);
    const auto ports = ports_under_load(r, _server, 5, [&](const auto& done) { return run_until(done); });
    ASSERT_EQ(ports.size(), 6u); // hold + q0..q4
    // hold, q0, q1 share the first channel's socket; q2 goes out on a second channel with its own socket, which it
    // keeps for q3 and q4 (STAYOPEN); q5 would take a third.
    EXPECT_EQ(ports[0], ports[1]);
    EXPECT_EQ(ports[1], ports[2]);
    EXPECT_NE(ports[2], ports[3]);
    EXPECT_EQ(ports[3], ports[4]);
    EXPECT_EQ(ports[4], ports[5]);
    EXPECT_EQ(r.in_flight(), 1u); // "hold" keeps the first channel alive; destruction cancels it (TearDown)
}

TEST_F(ResolverTest, WithoutRotationOneBusySocketKeepsItsPort) {
    auto c = config();
    c.timeout_ms = 5000;
    c.udp_max_queries = 0;
    auto& r = make(c);
    const auto ports = ports_under_load(r, _server, 5, [&](const auto& done) { return run_until(done); });
    ASSERT_EQ(ports.size(), 6u);
    EXPECT_EQ(std::set<std::uint16_t>(ports.begin(), ports.end()).size(), 1u); // c-ares 1.18's behaviour
}

TEST_F(ResolverTest, DestroyWithQueriesInFlightCancelsThemAndClosesEverything) {
    auto& r = make(); // the server never answers
    int cancelled = 0;
    for (int i = 0; i < 5; ++i) {
        (void)r.query("pending" + std::to_string(i) + ".test", rr_type::a, [&](query_result&& q) {
            EXPECT_EQ(q.kind, outcome::cancelled);
            ++cancelled;
        });
    }
    auto detached = r.query("detached.test", rr_type::a, [&](query_result&&) { ADD_FAILURE() << "detached ran"; });
    detached.detach();
    EXPECT_TRUE(run_until([&] { return _server.request_count() == 6; }));
    EXPECT_EQ(r.in_flight(), 6u);
    _resolvers.clear(); // ~resolver: callbacks first, then handles closed
    EXPECT_EQ(cancelled, 5);
    EXPECT_FALSE(detached.active());
    // TearDown runs the loop for the close callbacks and asserts uv_loop_close() == 0.
}

TEST_F(ResolverTest, IdleResolverLeavesNoActiveHandles) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.answers = {t::a(req.qname, "192.0.2.1")};
        return t::reply::with(p.build());
    });
    auto& r = make();
    EXPECT_EQ(ask(r, "idle.test", rr_type::a).kind, outcome::answer);
    // The channel keeps its socket for the next query (STAYOPEN), but neither it nor the stopped timer keeps the
    // loop awake: a loop run until its work is done still ends.
    uv_run(&_loop, UV_RUN_NOWAIT);
    EXPECT_LE(r.open_sockets().size(), 1u);
    EXPECT_EQ(uv_loop_alive(&_loop), 0);
    EXPECT_EQ(uv_run(&_loop, UV_RUN_DEFAULT), 0);
}

TEST_F(ResolverTest, AnIdleSocketIsReusedWithinItsAgeAndReplacedAfterIt) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.answers = {t::a(req.qname, "192.0.2.1")};
        return t::reply::with(p.build());
    });
    auto c = config();
    c.udp_max_age_ms = 300;
    auto& r = make(c);
    // Three queries one after another, each finding the channel idle: one socket, one source port (no socket,
    // bind, connect and close per query).
    for (const char* name : {"a.test", "b.test", "c.test"}) {
        EXPECT_EQ(ask(r, name, rr_type::a).kind, outcome::answer);
    }
    // Past udp_max_age_ms the next query goes out on a fresh channel: a fresh socket and port (RFC 5452 §9.2), and
    // the old channel's socket is closed.
    uv_sleep(350);
    EXPECT_EQ(ask(r, "d.test", rr_type::a).kind, outcome::answer);
    const auto reqs = _server.requests();
    ASSERT_EQ(reqs.size(), 4u);
    EXPECT_EQ(reqs[0].peer_port, reqs[1].peer_port);
    EXPECT_EQ(reqs[1].peer_port, reqs[2].peer_port);
    EXPECT_NE(reqs[2].peer_port, reqs[3].peer_port);
    uv_run(&_loop, UV_RUN_NOWAIT);
    EXPECT_EQ(r.open_sockets().size(), 1u); // only the new channel's
}

TEST_F(ResolverTest, QueriesBeyondMaxInFlightWaitTheirTurn) {
    _server.set_handler([](const t::request& req) {
        auto p = t::response_to(req);
        p.answers = {t::a(req.qname, "192.0.2.1")};
        return t::reply::with(p.build());
    });
    auto c = config();
    c.max_in_flight = 2;
    auto& r = make(c);
    int answered = 0;
    std::vector<query_handle> handles;
    for (int i = 0; i < 6; ++i) {
        handles.push_back(r.query("q" + std::to_string(i) + ".test", rr_type::a, [&](query_result&& q) {
            EXPECT_EQ(q.kind, outcome::answer);
            EXPECT_LE(r.in_flight(), 2u);
            ++answered;
        }));
    }
    EXPECT_EQ(r.in_flight(), 2u);
    EXPECT_EQ(r.queued(), 4u);
    handles[5].detach(); // detached while waiting: never sent
    EXPECT_TRUE(run_until([&] { return answered == 5 && r.in_flight() == 0; }));
    EXPECT_EQ(r.queued(), 0u);
    EXPECT_EQ(_server.request_count(), 5u);
    // FIFO: the server saw them in the order they were asked.
    const auto reqs = _server.requests();
    for (std::size_t i = 0; i < reqs.size(); ++i) {
        EXPECT_EQ(reqs[i].qname, "q" + std::to_string(i) + ".test");
    }
}

TEST_F(ResolverTest, DestroyCancelsQueriesStillWaitingForASlot) {
    auto c = config();
    c.max_in_flight = 1;
    auto& r = make(c); // the server never answers
    std::vector<std::string> cancelled;
    for (int i = 0; i < 3; ++i) {
        (void)r.query("w" + std::to_string(i) + ".test", rr_type::a, [&](query_result&& q) {
            EXPECT_EQ(q.kind, outcome::cancelled);
            cancelled.push_back(q.qname);
        });
    }
    EXPECT_EQ(r.queued(), 2u);
    _resolvers.clear();
    EXPECT_EQ(cancelled, (std::vector<std::string>{"w0.test", "w1.test", "w2.test"}));
}

TEST_F(ResolverTest, QueryIdsAreRandomAndDistinctAmongQueriesInFlight) {
    // RFC 5452 §4, §9.2: a blind off-path spoofer must guess the ID as well as the source port. c-ares 1.18's
    // ares_send sends the caller's ID as is, so the resolver draws it; no two queries in flight on one channel
    // share one (c-ares matches an answer to the first query in flight with its ID and question).
    auto c = config();
    c.timeout_ms = 5000;
    auto& r = make(c); // the default handler never answers: all of them stay in flight on one channel
    constexpr std::size_t n = 64;
    for (std::size_t i = 0; i < n; ++i) {
        (void)r.query("same.test", rr_type::a, [](query_result&&) {});
    }
    ASSERT_TRUE(run_until([&] { return _server.request_count() == n; }));
    std::set<std::uint16_t> ids;
    std::set<std::uint16_t> ports;
    std::size_t sequential = 0;
    std::uint16_t previous = 0;
    for (const auto& q : _server.requests()) {
        sequential += !ids.empty() && q.id == static_cast<std::uint16_t>(previous + 1) ? 1 : 0;
        previous = q.id;
        ids.insert(q.id);
        ports.insert(q.peer_port);
    }
    EXPECT_EQ(ports.size(), 1u);
    EXPECT_EQ(ids.size(), n) << "IDs repeat among queries in flight on one socket";
    EXPECT_LT(sequential, n / 4) << "IDs follow a counter, not a random draw";
    _resolvers.clear(); // cancels them while this frame is alive
}

TEST_F(ResolverTest, AnAnswerCompletesTheQueryItAnswersNotAnOlderOneWithTheSameQuestion) {
    // Two identical questions in flight on one channel: the server drops the first and answers the second. The
    // answer carries the second query's ID, so it completes the second and the first times out. With one ID for
    // every query, c-ares 1.18 gave it to the oldest query with that ID and question instead: the first took the
    // second's answer and the second timed out. After a resolver stall that kept new queries failing for seconds
    // (their answers went to queries sent during the stall; docs/reliability.md "Soak").
    auto seen = std::make_shared<std::atomic<int>>(0);
    _server.set_handler([seen](const t::request& req) {
        if (seen->fetch_add(1) == 0) {
            return t::reply::none();
        }
        auto p = t::response_to(req);
        p.answers = {t::a(req.qname, "192.0.2.2")};
        return t::reply::with(p.build());
    });
    auto c = config();
    c.timeout_ms = 500;
    c.tries = 1;
    auto& r = make(c);
    std::optional<query_result> first, second;
    (void)r.query("same.test", rr_type::a, [&](query_result&& q) { first = std::move(q); });
    ASSERT_TRUE(run_until([&] { return _server.request_count() == 1; }));
    (void)r.query("same.test", rr_type::a, [&](query_result&& q) { second = std::move(q); });
    ASSERT_TRUE(run_until([&] { return first && second; }));
    const auto reqs = _server.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[0].peer_port, reqs[1].peer_port); // one channel, one socket
    EXPECT_NE(reqs[0].id, reqs[1].id);
    EXPECT_EQ(second->kind, outcome::answer);
    EXPECT_EQ(first->kind, outcome::timeout);
    EXPECT_LT(second->elapsed, std::chrono::milliseconds(400)); // its own answer, not the retry budget
}

TEST_F(ResolverTest, BadConfigIsRefused) {
    auto c = config();
    c.servers = {{"not-an-ip", 53}};
    EXPECT_EQ(resolver::create(&_loop, c).error(), errc::invalid_argument);
    c = config();
    c.servers.clear();
    EXPECT_EQ(resolver::create(&_loop, c).error(), errc::invalid_argument);
    c = config();
    c.source_ipv4 = "::1";
    EXPECT_EQ(resolver::create(&_loop, c).error(), errc::invalid_argument);
    c = config();
    c.tries = 0;
    EXPECT_EQ(resolver::create(&_loop, c).error(), errc::invalid_argument);
    c = config();
    c.max_in_flight = 65536; // c-ares 1.18's ID space: the ID search would never end
    EXPECT_EQ(resolver::create(&_loop, c).error(), errc::invalid_argument);
}

} // namespace
} // namespace mpic::net::dns
