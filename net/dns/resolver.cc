// c-ares on libuv, the Node cares_wrap pattern adapted to Debian 12's c-ares 1.18.1 (style.md §9-10).
//
// Version matrix (what we would switch to, and when):
//   c-ares >= 1.34  ares_process_fds() (many fds per call, NULL = timeouts only); ares_set_socket_functions_ex
//   c-ares >= 1.31  query cache on by default: ARES_OPT_QUERY_CACHE = 0 would be mandatory (BR §3.2.2.9)
//   c-ares >= 1.22  ares_dns_record_* / ares_send_dnsrec: could replace our query builder
//   c-ares >= 1.20  ares_timeout() O(1) (skip list) and ARES_OPT_UDP_MAX_QUERIES
//   c-ares  1.18.1  (this file) SOCK_STATE_CB + ares_process_fd; ares_timeout() is O(n) in queries in flight, so it
//                   runs only when our single channel timer fires, never per event.
//
// Handles: one uv_poll_t per c-ares socket (a heap `loop_side::watch`, freed in its close callback) and two timers in a
// heap `loop_side` that outlives the resolver object until the last close callback has run (libuv design.rst:
// memory of a handle is reclaimed only in or after uv_close's callback).

#include "net/dns/resolver.hh"

#include <arpa/inet.h>
#include <array>
#include <bitset>
#include <cerrno>
#include <mutex>
#include <random>
#include <sys/random.h>
#include <unordered_map>

#include <ares.h>

#include "core/error.hh"

// ares_process_fd() still exists (deprecated) in 1.34+, so this file builds there too; switching to
// ares_process_fds() is an optimisation, not a correctness fix. The query cache is not: see init().

namespace mpic::net::dns {

struct query_handle::state {
    query_callback callback; ///< empty once detached or delivered
};

void query_handle::detach() noexcept {
    if (_state) {
        _state->callback = nullptr;
    }
}

bool query_handle::active() const noexcept {
    return _state && _state->callback;
}

std::string_view to_string(outcome o) noexcept {
    switch (o) {
    case outcome::answer:
        return "answer";
    case outcome::nodata:
        return "nodata";
    case outcome::nxdomain:
        return "nxdomain";
    case outcome::servfail:
        return "servfail";
    case outcome::refused:
        return "refused";
    case outcome::other_rcode:
        return "other_rcode";
    case outcome::timeout:
        return "timeout";
    case outcome::truncated:
        return "truncated";
    case outcome::malformed:
        return "malformed";
    case outcome::network_error:
        return "network_error";
    case outcome::cancelled:
        return "cancelled";
    }
    return "unknown";
}

std::string query_result::rcode_name() const {
    return msg ? dns::rcode_name(rcode) : std::string();
}

namespace {

/// Builds a standard query (RFC 1035 §4.1) with an OPT RR (RFC 6891 §6.1.2) carrying the DO bit (RFC 3225 §3).
/// We build it ourselves because ares_create_query cannot set DO. The ID is left 0 here and drawn in send(): c-ares
/// 1.18's ares_send sends the caller's ID unchanged (only ares_query/ares_search draw one).
/// The OPT RR is exactly 11 octets at the very end: c-ares 1.18 strips that many bytes to retry without EDNS when a
/// server answers FORMERR without an OPT RR (RFC 6891 §7), so nothing may follow it.
result<std::string> build_query(std::string_view name, std::uint16_t type, const resolver_config& config) {
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);
    }
    if (name.size() > 253) {
        return errc::invalid_argument;
    }
    std::string q;
    q.reserve(12 + name.size() + 2 + 4 + 11);
    const std::uint8_t flags_high = config.recursion_desired ? 0x01 : 0x00; // RD
    q.append({0, 0, static_cast<char>(flags_high), 0, 0, 1, 0, 0, 0, 0, 0, static_cast<char>(config.edns ? 1 : 0)});
    std::size_t start = 0;
    while (start < name.size()) {
        std::size_t dot = name.find('.', start);
        if (dot == std::string_view::npos) {
            dot = name.size();
        }
        const std::string_view label = name.substr(start, dot - start);
        if (label.empty() || label.size() > 63) {
            return errc::invalid_argument;
        }
        for (unsigned char c : label) {
            if (c <= 0x20 || c >= 0x7F || c == '\\') { // no escapes, no spaces, no control bytes
                return errc::invalid_argument;
            }
        }
        q.push_back(static_cast<char>(label.size()));
        q.append(label);
        start = dot + 1;
        if (dot == name.size() - 1) {
            return errc::invalid_argument; // "a..": empty last label after the one dot we removed
        }
    }
    q.push_back('\0');
    q.push_back(static_cast<char>(type >> 8));
    q.push_back(static_cast<char>(type & 0xFF));
    q.append({0, static_cast<char>(class_in)});
    if (config.edns) {
        q.push_back('\0');                              // owner: root
        q.append({0, static_cast<char>(rr_type::opt)}); // TYPE 41
        q.push_back(static_cast<char>(config.edns_udp_size >> 8));
        q.push_back(static_cast<char>(config.edns_udp_size & 0xFF));
        q.append({0, 0, static_cast<char>(config.dnssec_ok ? 0x80 : 0), 0}); // ext-rcode, version 0, DO, Z
        q.append({0, 0});                                                    // RDLEN 0
    }
    return q;
}

/// Classifies one c-ares completion into a query_result (everything except elapsed/qname/qtype).
void classify(query_result& res, int status, const unsigned char* abuf, int alen, std::size_t max_alias_steps) {
    if (status != ARES_SUCCESS) {
        res.error = ares_error(status);
        switch (status) {
        case ARES_ETIMEOUT:
            res.kind = outcome::timeout;
            break;
        case ARES_EDESTRUCTION:
        case ARES_ECANCELLED:
            res.kind = outcome::cancelled;
            break;
        case ARES_EBADRESP:
        case ARES_EFORMERR:
            res.kind = outcome::malformed;
            break;
        default:
            res.kind = outcome::network_error;
            break; // ECONNREFUSED, ESERVFAIL-less socket errors, ENOMEM
        }
        return;
    }
    auto parsed = parse_message(std::span(abuf, static_cast<std::size_t>(alen)));
    if (!parsed) {
        res.kind = outcome::malformed;
        res.error = parsed.error();
        return;
    }
    message& m = *parsed;
    res.rcode = m.extended_rcode();
    res.ad = m.hdr.ad;
    res.extended_error = m.extended_error_text();
    // c-ares already matched ID and question; check again rather than trust a library we do not control.
    if (m.questions.size() != 1 || m.questions[0].name != res.qname || m.questions[0].type != res.qtype) {
        res.kind = outcome::malformed;
        res.error = make_error_code(errc::malformed); // the question is not the one we asked
        res.msg = std::move(m);
        return;
    }
    if (m.hdr.tc) {
        // c-ares retries a truncated UDP answer over TCP itself; TC=1 here means the TCP answer was truncated
        // too. RFC 8659 §6 / Boulder #8839: never act on a partial RRset.
        res.kind = outcome::truncated;
        res.msg = std::move(m);
        return;
    }
    const bool wants_alias = res.qtype == static_cast<std::uint16_t>(rr_type::cname) ||
                             res.qtype == static_cast<std::uint16_t>(rr_type::dname);
    if (!wants_alias) {
        auto chain = follow_aliases(m, res.qname, max_alias_steps);
        if (!chain) {
            res.kind = outcome::malformed;
            res.error = chain.error();
            res.msg = std::move(m);
            return;
        }
        res.chain = std::move(*chain);
    } else {
        res.chain.final_name = res.qname; // asking for the alias itself: do not follow it
    }
    switch (static_cast<rcode>(res.rcode)) {
    case rcode::noerror:
        for (const record* rr : records_at(m, res.chain.final_name, res.qtype)) {
            res.records.push_back(*rr);
        }
        res.kind = res.records.empty() ? outcome::nodata : outcome::answer;
        break;
    case rcode::nxdomain:
        res.kind = outcome::nxdomain;
        break; // RFC 6604 §3: about the last name of the chain
    case rcode::servfail:
        res.kind = outcome::servfail;
        break;
    case rcode::refused:
        res.kind = outcome::refused;
        break;
    default:
        res.kind = outcome::other_rcode;
        break;
    }
    res.msg = std::move(m);
}

} // namespace

/// The libuv side of a resolver. Outlives the resolver object until every handle's close callback has run.
struct resolver::loop_side {
    uv_timer_t timer; ///< the channel's one timer: runs ares_process_fd(BAD, BAD) for timeouts and retries
    uv_timer_t defer; ///< delivers completions that c-ares reported synchronously inside query()
    /// One c-ares socket being watched. Standard layout with the poll handle first, so the close callback can
    /// recover the watch from the handle pointer.
    struct watch {
        uv_poll_t poll;
        ares_socket_t fd = ARES_SOCKET_BAD;
        generation* gen = nullptr; ///< the channel owning the socket; valid while the poll is active
    };
    std::unordered_map<ares_socket_t, watch*> sockets;
    std::vector<std::pair<std::shared_ptr<query_handle::state>, query_result>> deferred;
    int open_handles = 0; ///< handles initialised and not yet through their close callback
    resolver* owner = nullptr;

    void handle_closed() {
        if (--open_handles == 0) {
            delete this;
        }
    }
    static void on_handle_closed(uv_handle_t* h) { static_cast<loop_side*>(h->data)->handle_closed(); }

    /// Stops and closes one socket's poll handle; the watch is freed in the close callback.
    void close_socket(watch* s) {
        uv_poll_stop(&s->poll);
        uv_close(reinterpret_cast<uv_handle_t*>(&s->poll), [](uv_handle_t* h) {
            auto* sock = reinterpret_cast<watch*>(h); // poll is the first member (standard layout)
            auto* side = static_cast<loop_side*>(h->data);
            delete sock;
            side->handle_closed();
        });
    }
};

/// Per-query state handed to c-ares as `arg`; owned by c-ares until its callback runs, which it always does (with
/// ARES_EDESTRUCTION at the latest).
struct resolver::pending {
    resolver* owner;
    generation* gen; ///< set when sent
    std::shared_ptr<query_handle::state> state;
    std::string qname;
    std::uint16_t qtype;
    std::uint64_t start_ns;
    std::string wire;     ///< the query; kept until sent (c-ares copies it in ares_send)
    std::uint16_t id = 0; ///< drawn by send(), released by on_complete()
};

/// One c-ares channel. c-ares 1.18 multiplexes every query to a server over ONE UDP socket, i.e. one source port,
/// for as long as queries keep it busy; 1.20 added ARES_OPT_UDP_MAX_QUERIES to bound that. We do the same by hand:
/// after `udp_max_queries` sends, or once the channel is `udp_max_age_ms` old, a fresh channel (fresh sockets, fresh
/// ephemeral ports) takes new queries, and the old one is destroyed as soon as its last query finished. RFC 5452
/// §9.2: port randomisation is what keeps a blind off-path spoofer from matching a 16-bit ID alone. Channels keep
/// their sockets between queries (ARES_FLAG_STAYOPEN); the age bound is what retires an idle channel's port.
///
/// Query IDs are ours to draw, per channel: c-ares 1.18's ares_send sends the ID the caller wrote and matches an answer
/// to the first query in flight with that ID and question. A fixed ID would (a) leave the source port as the only
/// thing a blind spoofer must guess (RFC 5452 §4, §9.2: the ID must be random too) and (b) hand an answer to the
/// oldest identical question in flight instead of the query it answers, so after a resolver stall new queries lose
/// their answers to old ones and time out (docs/reliability.md "Soak"). Invariant: `ids` has exactly the bits of
/// the IDs of this channel's queries c-ares has not finished.
struct resolver::generation {
    resolver* owner = nullptr;
    ares_channel ch = nullptr;
    std::size_t in_flight = 0;       ///< queries of this channel c-ares has not finished
    std::size_t sent = 0;            ///< queries ever sent on it
    std::uint64_t first_send_ns = 0; ///< uv_hrtime() of its first query: c-ares opens its sockets then
    std::bitset<65536> ids;          ///< IDs in use by those queries

    /// A random ID no query in flight on this channel uses (resolver::create caps in-flight queries at half the
    /// ID space, so the draw ends after two tries on average).
    std::uint16_t claim_id() {
        for (;;) {
            if (next_random == random.size()) {
                refill();
            }
            const std::uint16_t id = random[next_random++];
            if (!ids.test(id)) {
                ids.set(id);
                return id;
            }
        }
    }

private:
    void refill() {
        // getrandom(2) without flags: the kernel's CSPRNG, blocking only before it is first seeded (early boot).
        auto* out = reinterpret_cast<unsigned char*>(random.data());
        std::size_t got = 0;
        const std::size_t want = sizeof random;
        while (got < want) {
            const ssize_t n = ::getrandom(out + got, want - got, 0);
            if (n > 0) {
                got += static_cast<std::size_t>(n);
            } else if (n < 0 && errno != EINTR) {
                // LCOV_EXCL_START: DefensiveCoding (getrandom does not fail on Linux >= 3.17 once seeded)
                std::random_device device;
                for (auto& v : random) {
                    v = static_cast<std::uint16_t>(device());
                }
                break;
                // LCOV_EXCL_STOP
            }
        }
        next_random = 0;
    }

    std::array<std::uint16_t, 64> random{};
    std::size_t next_random = random.size();
};

/// The parsed configuration every new channel is set up from.
struct resolver::channel_setup {
    std::vector<ares_addr_port_node> nodes; ///< linked through `next`; never resized after init()
    in_addr src4{};
    unsigned char src6[16] = {};
};

resolver::resolver(uv_loop_t* loop, resolver_config config)
    : _loop(loop), _config(std::move(config)), _setup(std::make_unique<channel_setup>()) {}

result<std::unique_ptr<resolver>> resolver::create(uv_loop_t* loop, resolver_config config) {
    if (loop == nullptr || config.servers.empty() || config.timeout_ms == 0 || config.tries == 0 ||
        config.timeout_ms > 600'000 || config.tries > 16 || config.edns_udp_size < 512 || config.max_in_flight == 0 ||
        config.max_in_flight > 32768) {
        return errc::invalid_argument;
    }
    // Process-wide, idempotent; only does work on Windows but is the documented contract.
    static std::once_flag once;
    static int library_status = ARES_SUCCESS;
    std::call_once(once, [] { library_status = ares_library_init(ARES_LIB_INIT_ALL); });
    if (library_status != ARES_SUCCESS) {
        return ares_error(library_status);
    }
    std::unique_ptr<resolver> r(new resolver(loop, std::move(config)));
    if (auto ok = r->init(); !ok) {
        return ok.error(); // ~resolver tears down whatever init created
    }
    return r;
}

result<void> resolver::init() {
    // Parse the whole config before creating anything.
    auto& nodes = _setup->nodes;
    nodes.resize(_config.servers.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        auto& n = nodes[i];
        const auto& s = _config.servers[i];
        if (inet_pton(AF_INET, s.address.c_str(), &n.addr.addr4) == 1) {
            n.family = AF_INET;
        } else if (inet_pton(AF_INET6, s.address.c_str(), &n.addr.addr6) == 1) {
            n.family = AF_INET6;
        } else {
            return errc::invalid_argument;
        }
        n.udp_port = n.tcp_port = s.port;
        n.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
    }
    if (_config.source_ipv4 && inet_pton(AF_INET, _config.source_ipv4->c_str(), &_setup->src4) != 1) {
        return errc::invalid_argument;
    }
    if (_config.source_ipv6 && inet_pton(AF_INET6, _config.source_ipv6->c_str(), _setup->src6) != 1) {
        return errc::invalid_argument;
    }

    _side = new loop_side;
    _side->owner = this;
    uv_timer_init(_loop, &_side->timer); // cannot fail for timers
    uv_timer_init(_loop, &_side->defer);
    _side->timer.data = _side;
    _side->defer.data = _side;
    _side->open_handles = 2;
    return open_generation();
}

result<void> resolver::open_generation() {
    auto gen = std::make_unique<generation>();
    gen->owner = this;
    ares_options o{};
    int mask = 0;
    // NOSEARCH/NOALIASES: never rewrite the name (search lists, HOSTALIASES). NOCHECKRESP: hand us SERVFAIL/REFUSED
    // answers instead of retrying the next server and reporting a bare ARES_ESERVFAIL, so the RCODE and the RFC 8914
    // text reach the validator (Boulder also treats SERVFAIL as final). EDNS: without it c-ares 1.18 treats any UDP
    // answer above 512 octets as truncated.
    // STAYOPEN: without it c-ares 1.18 closes the UDP socket whenever the channel has no query in flight, and the
    // next query pays socket, bind, connect, three epoll_ctl and close again: ~6 µs of a 6-perspective request's
    // CPU on the bench (perf, 2026-11-30). Ports still rotate: see generation.
    o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP | ARES_FLAG_STAYOPEN |
              (_config.edns ? ARES_FLAG_EDNS : 0);
    mask |= ARES_OPT_FLAGS;
    o.timeout = static_cast<int>(_config.timeout_ms);
    mask |= ARES_OPT_TIMEOUTMS;
    o.tries = static_cast<int>(_config.tries);
    mask |= ARES_OPT_TRIES;
    o.socket_receive_buffer_size = _config.socket_receive_buffer;
    mask |= ARES_OPT_SOCK_RCVBUF;
    o.ednspsz = _config.edns_udp_size;
    mask |= ARES_OPT_EDNSPSZ;
    o.ndomains = 0; // ignore LOCALDOMAIN / resolv.conf "search": names here are always absolute
    o.domains = nullptr;
    mask |= ARES_OPT_DOMAINS;
    o.sock_state_cb = [](void* data, ares_socket_t fd, int readable, int writable) {
        auto* g = static_cast<generation*>(data);
        g->owner->on_socket_state(g, fd, readable != 0, writable != 0);
    };
    o.sock_state_cb_data = gen.get();
    mask |= ARES_OPT_SOCK_STATE_CB;
#if ARES_VERSION >= 0x011F00
    // c-ares >= 1.31 caches answers by default. BR §3.2.2.9: results "MUST NOT be reused or cached"; a validation
    // must see what the authoritative side says now, so switch it off (max TTL 0 disables the cache).
    o.qcache_max_ttl = 0;
    mask |= ARES_OPT_QUERY_CACHE;
#endif

    if (int st = ares_init_options(&gen->ch, &o, mask); st != ARES_SUCCESS) {
        return ares_error(st);
    }
    if (int st = ares_set_servers_ports(gen->ch, _setup->nodes.data()); st != ARES_SUCCESS) {
        ares_destroy(gen->ch); // no query, no socket yet: nothing is called back
        return ares_error(st);
    }
    if (_config.source_ipv4) {
        ares_set_local_ip4(gen->ch, ntohl(_setup->src4.s_addr)); // host byte order, per ares_set_local_ip4(3)
    }
    if (_config.source_ipv6) {
        ares_set_local_ip6(gen->ch, _setup->src6);
    }
    _gens.push_back(std::move(gen));
    return {};
}

void resolver::reap_generations() {
    // Only between c-ares calls: a channel is never destroyed from inside its own ares_process_fd.
    for (std::size_t i = 0; i + 1 < _gens.size();) {
        if (_gens[i]->in_flight == 0) {
            ares_destroy(_gens[i]->ch); // closes its sockets through sock_state_cb; no query left to call back
            _gens.erase(_gens.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            ++i;
        }
    }
}

resolver::~resolver() {
    _closing = true;
    for (auto& gen : _gens) {
        // Runs every pending callback with ARES_EDESTRUCTION (-> outcome::cancelled, delivered right here) and
        // reports each socket closed through sock_state_cb, which closes its poll handle.
        ares_destroy(gen->ch);
        gen->ch = nullptr;
    }
    _gens.clear();
    // Queries still waiting for a slot never reached c-ares: they end the same way as the ones it cancelled.
    while (!_waiting.empty()) {
        std::unique_ptr<pending> p = std::move(_waiting.front());
        _waiting.pop_front();
        if (p->state->callback) {
            query_result res;
            res.kind = outcome::cancelled;
            res.qname = std::move(p->qname);
            res.qtype = p->qtype;
            res.error = ares_error(ARES_EDESTRUCTION);
            res.elapsed = std::chrono::microseconds((uv_hrtime() - p->start_ns) / 1000);
            deliver(p->state, std::move(res));
        }
    }
    if (_side == nullptr) {
        return;
    }
    // Completions parked for the defer timer, and any query() a callback above started while we were closing.
    drain_deferred();
    for (auto& [fd, s] : _side->sockets) { // LCOV_EXCL_LINE: DefensiveCoding (ares_destroy reported them all)
        _side->close_socket(s);
    }
    _side->sockets.clear();
    _side->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&_side->timer), loop_side::on_handle_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&_side->defer), loop_side::on_handle_closed);
    _side = nullptr;
}

query_handle resolver::query(std::string_view name, std::uint16_t type, query_callback callback) {
    auto state = std::make_shared<query_handle::state>();
    state->callback = std::move(callback);

    auto wire = build_query(name, type, _config);
    if (_closing || _gens.empty() || !wire) {
        query_result res;
        res.kind = outcome::cancelled;
        res.qname = canonical_name(name);
        res.qtype = type;
        res.error = wire ? make_error_code(errc::shutting_down) : wire.error();
        ++_submitting; // never complete synchronously: park it for the defer timer (or the destructor's drain)
        deliver(state, std::move(res));
        --_submitting;
        return query_handle(state);
    }

    auto p = std::make_unique<pending>(
        pending{this, nullptr, state, canonical_name(name), type, uv_hrtime(), std::move(*wire)});
    if (_in_flight >= _config.max_in_flight) {
        _waiting.push_back(std::move(p));
    } else {
        send(std::move(p));
    }
    return query_handle(state);
}

void resolver::send(std::unique_ptr<pending> p) {
    generation* gen = _gens.back().get();
    const bool used_up = _config.udp_max_queries != 0 && gen->sent >= _config.udp_max_queries;
    const std::uint64_t now = uv_hrtime();
    const bool too_old = _config.udp_max_age_ms != 0 && gen->sent != 0 &&
                         now - gen->first_send_ns >= std::uint64_t{_config.udp_max_age_ms} * 1'000'000;
    if ((used_up || too_old) && open_generation()) {
        gen = _gens.back().get(); // if a new channel cannot be made, keep the old one: availability first
        reap_generations();       // the previous one may already be idle
    }
    if (gen->sent == 0) {
        gen->first_send_ns = now;
    }
    ++gen->sent;
    ++gen->in_flight;
    p->gen = gen;
    p->id = gen->claim_id();
    p->wire[0] = static_cast<char>(p->id >> 8);
    p->wire[1] = static_cast<char>(p->id & 0xFF);
    pending* raw = p.release(); // owned by c-ares until its callback, which always runs
    ++_in_flight;
    ++_submitting;
    ares_send(
        gen->ch, reinterpret_cast<const unsigned char*>(raw->wire.data()), static_cast<int>(raw->wire.size()),
        [](void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
            std::unique_ptr<pending> q(static_cast<pending*>(arg));
            q->owner->on_complete(*q, status, abuf, alen);
        },
        raw);
    --_submitting; // `raw` may be gone already (c-ares fails synchronously when no socket can be opened)
    arm_timer();
}

void resolver::send_waiting() {
    while (!_closing && _in_flight < _config.max_in_flight && !_waiting.empty()) {
        std::unique_ptr<pending> p = std::move(_waiting.front());
        _waiting.pop_front();
        if (p->state->callback) { // detached while waiting: never sent
            send(std::move(p));
        }
    }
}

void resolver::on_complete(pending& p, int status, const unsigned char* abuf, int alen) {
    --_in_flight; // the slot is refilled by send_waiting() once c-ares has returned (see process())
    --p.gen->in_flight;
    p.gen->ids.reset(p.id); // c-ares has forgotten the query: its ID may be drawn again
    if (!p.state->callback) {
        return; // detached: the answer is dropped unread
    }
    query_result res;
    res.qname = std::move(p.qname);
    res.qtype = p.qtype;
    res.elapsed = std::chrono::microseconds((uv_hrtime() - p.start_ns) / 1000);
    classify(res, status, abuf, alen, _config.max_alias_steps);
    deliver(p.state, std::move(res));
}

void resolver::deliver(const std::shared_ptr<query_handle::state>& state, query_result&& res) {
    if (_submitting > 0 || _processing > 0) {
        _side->deferred.emplace_back(state, std::move(res));
        if (!_closing && _processing == 0) { // inside process() the drain follows anyway
            uv_timer_start(
                &_side->defer,
                [](uv_timer_t* t) {
                    resolver* self = static_cast<loop_side*>(t->data)->owner;
                    self->reap_generations();
                    self->send_waiting(); // a synchronous failure inside ares_send freed a slot
                    self->drain_deferred();
                },
                0, 0);
        }
        return;
    }
    // Clear before calling so the query reads as finished inside its own callback, and so a callback that starts
    // another query with the same handle variable cannot be confused with this one.
    query_callback cb = std::move(state->callback);
    state->callback = nullptr;
    if (cb) {
        cb(std::move(res));
    }
}

void resolver::drain_deferred() {
    while (_side != nullptr && !_side->deferred.empty()) {
        auto batch = std::move(_side->deferred);
        _side->deferred.clear();
        for (auto& [state, res] : batch) {
            query_callback cb = std::move(state->callback); // detached while parked: nothing to run
            state->callback = nullptr;
            if (cb) {
                cb(std::move(res));
            }
        }
    }
}

// ---- the loop side: Node's cares_wrap pattern ----------------------------------------------------------------

void resolver::on_socket_state(generation* gen, int fd, bool readable, bool writable) {
    auto it = _side->sockets.find(fd);
    if (!readable && !writable) {
        if (it != _side->sockets.end()) { // c-ares is about to close fd: stop watching it first
            _side->close_socket(it->second);
            _side->sockets.erase(it);
        }
        return;
    }
    loop_side::watch* s = nullptr;
    if (it == _side->sockets.end()) {
        s = new loop_side::watch;
        s->fd = fd;
        s->gen = gen;
        if (int st = uv_poll_init_socket(_loop, &s->poll, fd); st != 0) {
            // LCOV_EXCL_START: DefensiveCoding. Should never fail; if it does, the query times out instead.
            delete s;
            return;
            // LCOV_EXCL_STOP
        }
        s->poll.data = _side;
        // Unreferenced: a socket kept open between queries (STAYOPEN) must not keep the loop alive. While queries
        // are in flight the resolver's timer (referenced, always armed then: arm_timer) does that.
        uv_unref(reinterpret_cast<uv_handle_t*>(&s->poll));
        ++_side->open_handles;
        _side->sockets.emplace(fd, s);
    } else {
        s = it->second;
    }
    uv_poll_start(&s->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0),
                  [](uv_poll_t* h, int st, int ev) {
                      auto* sock = reinterpret_cast<loop_side::watch*>(h);
                      auto* side = static_cast<loop_side*>(h->data);
                      side->owner->on_poll(sock->gen, sock->fd, st, ev);
                  });
}

void resolver::process(generation* gen, int read_fd, int write_fd) {
    // Completions found by c-ares are only collected here (deliver() parks them while _processing > 0) and handed to
    // the callbacks after ares_process_fd returned. Were callbacks run inside it, a callback starting the next query
    // (a closed loop, a CAA climb) would send while c-ares 1.18's read loop is still draining the socket; against a
    // server that answers as fast as we read, the socket never drains, ares_process_fd never returns and the whole
    // reactor starves (the bare client in bench/dns livelocks exactly so at a few thousand queries in flight).
    ++_processing;
    if (gen != nullptr) {
        ares_process_fd(gen->ch, read_fd, write_fd);
    } else {
        for (auto& g : _gens) { // the timeout pass, on every live channel
            ares_process_fd(g->ch, read_fd, write_fd);
        }
    }
    --_processing;
    reap_generations();
    send_waiting(); // first, so queries started by the callbacks below queue behind the ones already waiting
    drain_deferred();
}

void resolver::on_poll(generation* gen, int fd, int status, int events) {
    // On a poll error let c-ares try both directions: it will see the socket error and fail over (Node does this).
    const bool rd = status < 0 || (events & UV_READABLE) != 0;
    const bool wr = status < 0 || (events & UV_WRITABLE) != 0;
    process(gen, rd ? fd : ARES_SOCKET_BAD, wr ? fd : ARES_SOCKET_BAD);
    arm_timer();
}

void resolver::on_timer() {
    // ares_process_fd with no fd runs only the timeout pass: expired tries are resent to the next server or fail.
    process(nullptr, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    if (_in_flight == 0) {
        return;
    }
    // The only ares_timeout() call (O(n) in 1.18): once per firing, never per I/O event.
    timeval max{static_cast<time_t>(_config.timeout_ms / 1000),
                static_cast<suseconds_t>((_config.timeout_ms % 1000) * 1000)};
    // ares_timeout() returns min(its channel's earliest deadline, maxtv), never NULL when maxtv is given; feeding
    // each channel the running minimum yields the minimum over all live channels.
    for (auto& g : _gens) {
        timeval tv{};
        max = *ares_timeout(g->ch, &max, &tv);
    }
    const std::uint64_t ms =
        static_cast<std::uint64_t>(max.tv_sec) * 1000 + static_cast<std::uint64_t>(max.tv_usec + 999) / 1000;
    uv_timer_start(
        &_side->timer, [](uv_timer_t* t) { static_cast<loop_side*>(t->data)->owner->on_timer(); }, ms == 0 ? 1 : ms, 0);
}

void resolver::arm_timer() {
    // Invariant kept in O(1): while queries are in flight the timer is due within timeout_ms. Every try c-ares
    // starts has a deadline at least timeout_ms away, so the timer never fires late for a new try; when it fires
    // it re-arms to the exact earliest deadline (on_timer).
    if (_side == nullptr || _closing) {
        return;
    }
    if (_in_flight == 0) {
        uv_timer_stop(&_side->timer);
        return;
    }
    if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&_side->timer)) ||
        uv_timer_get_due_in(&_side->timer) > _config.timeout_ms) {
        uv_timer_start(
            &_side->timer, [](uv_timer_t* t) { static_cast<loop_side*>(t->data)->owner->on_timer(); },
            _config.timeout_ms, 0);
    }
}

std::vector<int> resolver::open_sockets() const {
    std::vector<int> out;
    if (_side != nullptr) {
        for (const auto& [fd, s] : _side->sockets) {
            out.push_back(fd);
        }
    }
    return out;
}

} // namespace mpic::net::dns
