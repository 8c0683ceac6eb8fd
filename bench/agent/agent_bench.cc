// Coordinator -> remote agents vs in-process perspectives (issue #6 performance item): checks/s and CPU µs per
// check when a coordinator engine reaches its perspectives as `mpicd --role perspective` agents over one mutual-TLS
// connection pool each (A), against an engine whose perspectives run in-process (B), both against the same lab.
//
// One run: the lab scenario starts in this process (mpic::lab), a throw-away PKI is made with openssl, N agents
// start (agent k is lab perspective k: its source address and DNS view), and both engines are created once and
// kept (so A's pools persist across rounds, as in production). Then, for each concurrency level, rounds alternate
// A B A B ...: each submits the same closed-loop mix of CAA and dns-01 requests (half each, all N perspectives)
// through the embedding API's callback form, at a fixed number in flight. Per round:
//   - requests/s and checks/s (checks = perspective results that completed);
//   - CPU µs per check of this process (getrusage: the coordinator engine, and for B every check's DNS work), of
//     the agents (A only; /proc/PID/task/*/schedstat) and of the lab's servers;
//   - TCP connections opened in the round (this network namespace's PassiveOpens; the benchmark moves into its
//     own namespace when it may, so the count is exactly the agents' accepted connections) and the connections to
//     the agents established at its end (the pools).
// The coordinator runs on CPU 0, the lab and the agents on CPU 1 (--no-pin to leave placement to the scheduler).
// Everything started is stopped on every exit path, and a watchdog (--bound) kills it all if the run overstays.
//
//   bench_agent [--agents 3] [--requests 2000] [--concurrency 16,64] [--rounds 3] [--warmup 300]
//               [--grace-ms 1000] [--scenario FILE] [--mpicd PATH] [--bound 600] [--no-pin] [--no-netns]

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <sched.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bench/agent/agent_fleet.hh"
#include "bench/agent/round_stats.hh"
#include "net/name/identifier.hh"
#include "quorum/engine/engine.hh"
#include "tools/mpic-lab/lab.hh"
#include "tools/mpic-lab/scenario.hh"

using namespace mpic;
using namespace mpic::bench;
using namespace std::chrono_literals;

namespace {

struct site {
    const char* code;
    const char* rir;
    double lat, lon;
};
// Consecutive sites alternate ARIN, RIPE, APNIC (as tests/quorum_e2e); the codes are the same in A and B.
constexpr site sites[6] = {{"us-east", "ARIN", 39.04, -77.49},       {"eu-west", "RIPE", 53.35, -6.26},
                           {"ap-northeast", "APNIC", 35.68, 139.69}, {"us-west", "ARIN", 45.60, -121.18},
                           {"eu-central", "RIPE", 50.11, 8.68},      {"ap-southeast", "APNIC", 1.35, 103.82}};

struct options {
    int agents = 3;
    int requests = 2000;
    std::vector<int> concurrency{16, 64};
    int rounds = 3;
    int warmup = 300;
    std::uint32_t grace_ms = 1000;
    std::string scenario = std::string(MPIC_LAB_SCENARIO_DIR) + "/bench-clean.toml";
    std::string mpicd = MPIC_MPICD_BINARY;
    unsigned bound_s = 600;
    bool pin = true;
    bool netns = true;
    std::string name = "bench.test";
    std::string dns01_digest = "bench-dns01-digest";
};

// The watchdog's view of what to kill: agents by PID, lab servers by process group. Written before alarm() arms.
constexpr int max_children = 64;
volatile pid_t g_children[max_children];
volatile int g_child_count = 0;

void remember_child(pid_t pid) {
    if (g_child_count < max_children) {
        g_children[g_child_count] = pid;
        g_child_count = g_child_count + 1;
    }
}

extern "C" void on_fatal_signal(int sig) {
    // Async-signal-safe only: kill every child (and the lab's process groups), then leave.
    for (int i = 0; i < g_child_count; ++i) {
        ::kill(-g_children[i], SIGKILL);
        ::kill(g_children[i], SIGKILL);
    }
    const char msg[] = "bench_agent: watchdog or signal: killed every child, exiting\n";
    [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
    ::_exit(sig == SIGALRM ? 3 : 128 + sig);
}

void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    ::sched_setaffinity(0, sizeof set, &set);
}

quorum::mpic_request make_request(bool caa, const std::string& name, const std::string& digest) {
    quorum::mpic_request r;
    r.targets = {*net::parse_identifier(name)};
    if (caa) {
        r.kind = quorum::request_kind::caa;
    } else {
        r.kind = quorum::request_kind::dcv;
        r.dcv.method = validators::validation_method::acme_dns_01;
        r.dcv.key_authorization_hash = digest;
    }
    return r;
}

quorum::engine_config base_config(int n, std::uint32_t grace_ms) {
    quorum::engine_config c;
    c.reactors = 1;
    c.policy.development_override = true; // n perspectives on one machine: not a BR-compliant set
    c.default_perspective_count = n;
    c.cohort_secret = "agent-bench";
    c.check_timeout_ms = 8'000;
    // With a grace period every perspective's check runs to its end (none is cancelled at the decision), so A and
    // B do the same checks and a cancelled exchange never costs A a pooled connection.
    c.straggler_grace_ms = grace_ms;
    return c;
}

quorum::configured_perspective perspective_at(int k) {
    const site& s = sites[(k - 1) % 6];
    quorum::configured_perspective p;
    p.info.code = s.code;
    p.info.region = quorum::parse_rir(s.rir).value_or(quorum::rir::arin);
    p.info.location = {s.lat, s.lon};
    return p;
}

/// Closed loop: `concurrency` requests in flight until `total` have completed; each completion submits the next
/// from the engine's reactor. The state is shared with the callbacks, so a timed-out round leaves nothing dangling.
struct closed_loop : std::enable_shared_from_this<closed_loop> {
    quorum::engine* engine = nullptr;
    std::vector<quorum::mpic_request> mix;
    int total = 0;
    std::atomic<int> issued{0};
    std::mutex m;
    std::condition_variable cv;
    int done = 0;
    round_counts counts;
    std::vector<double> latency_ms;

    void issue() {
        const int i = issued.fetch_add(1);
        if (i >= total) {
            return;
        }
        const auto t0 = std::chrono::steady_clock::now();
        engine->submit(mix[static_cast<std::size_t>(i) % mix.size()], [self = shared_from_this(),
                                                                       t0](quorum::submit_outcome&& o) {
            const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            bool last = false;
            {
                std::lock_guard lock(self->m);
                self->latency_ms.push_back(ms);
                self->counts.add(o);
                last = ++self->done >= self->total;
            }
            // Wake the waiting thread once, at the end: a futex wake per request took 11% of the reactor's
            // samples at 16 in flight (in A and in B alike).
            if (last) {
                self->cv.notify_one();
            }
            self->issue();
        });
    }
};

struct fleet {
    std::vector<pid_t> agent_pids;
    std::vector<pid_t> lab_pids;
    std::vector<std::uint16_t> agent_ports;
};

double sum_cpu_us(const std::vector<pid_t>& pids) {
    double total = 0;
    for (auto p : pids) {
        total += process_cpu_us(p);
    }
    return total;
}

/// One round; nullopt if it did not finish within `bound`.
std::optional<round_sample> run_round(quorum::engine& e, const options& o, int requests, int concurrency,
                                      const fleet& f, std::chrono::seconds bound) {
    auto loop = std::make_shared<closed_loop>();
    loop->engine = &e;
    loop->mix = {make_request(true, o.name, o.dns01_digest), make_request(false, o.name, o.dns01_digest)};
    loop->total = requests;
    loop->latency_ms.reserve(static_cast<std::size_t>(requests));

    const auto opens0 = read_tcp_opens();
    const double agents0 = sum_cpu_us(f.agent_pids);
    const double lab0 = sum_cpu_us(f.lab_pids);
    const double self0 = self_cpu_us();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < concurrency; ++i) {
        loop->issue();
    }
    std::unique_lock lock(loop->m);
    if (!loop->cv.wait_for(lock, bound, [&] { return loop->done >= requests; })) {
        return std::nullopt;
    }
    const auto t1 = std::chrono::steady_clock::now();
    const double self1 = self_cpu_us();
    lock.unlock();
    round_sample s;
    s.wall_s = std::chrono::duration<double>(t1 - t0).count();
    s.coordinator_us = self1 - self0;
    s.agents_us = sum_cpu_us(f.agent_pids) - agents0;
    s.lab_us = sum_cpu_us(f.lab_pids) - lab0;
    s.tcp_opened = read_tcp_opens().passive - opens0.passive;
    s.established_end = established_to(f.agent_ports);
    lock.lock();
    s.counts = loop->counts;
    s.latency_ms = loop->latency_ms;
    return s;
}

std::vector<int> parse_list(const char* text) {
    std::vector<int> out;
    for (const char* p = text; *p != '\0';) {
        char* end = nullptr;
        out.push_back(static_cast<int>(std::strtol(p, &end, 10)));
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p != '\0') {
            break;
        }
    }
    return out;
}

bool parse_options(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--no-pin") {
            o.pin = false;
        } else if (a == "--no-netns") {
            o.netns = false;
        } else if (has_value && a == "--agents") {
            o.agents = std::clamp(std::atoi(argv[++i]), 1, 6);
        } else if (has_value && a == "--requests") {
            o.requests = std::max(1, std::atoi(argv[++i]));
        } else if (has_value && a == "--concurrency") {
            o.concurrency = parse_list(argv[++i]);
        } else if (has_value && a == "--rounds") {
            o.rounds = std::max(1, std::atoi(argv[++i]));
        } else if (has_value && a == "--warmup") {
            o.warmup = std::max(0, std::atoi(argv[++i]));
        } else if (has_value && a == "--grace-ms") {
            o.grace_ms = static_cast<std::uint32_t>(std::max(0, std::atoi(argv[++i])));
        } else if (has_value && a == "--scenario") {
            o.scenario = argv[++i];
        } else if (has_value && a == "--mpicd") {
            o.mpicd = argv[++i];
        } else if (has_value && a == "--bound") {
            o.bound_s = static_cast<unsigned>(std::max(10, std::atoi(argv[++i])));
        } else {
            std::fprintf(stderr, "usage: see the comment at the top of bench/agent/agent_bench.cc (bad: %s)\n",
                         a.c_str());
            return false;
        }
    }
    return !o.concurrency.empty() &&
           std::all_of(o.concurrency.begin(), o.concurrency.end(), [](int c) { return c > 0; });
}

int run(const options& o) {
    std::string error;
    bool isolated = false;
    if (o.netns) {
        const int r = isolate_network(error);
        if (r < 0) {
            std::fprintf(stderr, "bench_agent: %s\n", error.c_str());
            return 1;
        }
        isolated = r == 1;
        if (!isolated) {
            std::fprintf(stderr, "bench_agent: %s; TCP opens are counted machine-wide\n", error.c_str());
        }
    }
    const bool pin = o.pin && std::thread::hardware_concurrency() >= 2;
    if (pin) {
        pin_to(1); // the lab and the agents inherit CPU 1
    }

    auto parsed = lab::load_scenario(o.scenario);
    if (!parsed) {
        std::fprintf(stderr, "bench_agent: %s\n", parsed.error().to_string().c_str());
        return 1;
    }
    if (parsed.value().perspectives < o.agents) {
        std::fprintf(stderr, "bench_agent: the scenario has %d perspectives, fewer than %d agents\n",
                     parsed.value().perspectives, o.agents);
        return 1;
    }
    auto started = lab::lab::start(parsed.value());
    if (!started) {
        std::fprintf(stderr, "bench_agent: lab start-up failed: %s\n", started.error().message().c_str());
        return 1;
    }
    auto& the_lab = **started;
    fleet f;
    for (const auto& s : the_lab.servers()) {
        remember_child(s.pid);
    }
    f.lab_pids = the_lab.all_pids();
    const net::addr::lab_ports ports{the_lab.http_port(), the_lab.https_port(),
                                     the_lab.tls_alpn_port().value_or(the_lab.https_port())};

    scratch_dir dir;
    auto pki = dir.path().empty() ? std::nullopt : make_mtls_pki(dir.path(), error);
    if (!pki) {
        std::fprintf(stderr, "bench_agent: PKI: %s\n", error.c_str());
        return 1;
    }
    std::vector<std::unique_ptr<agent_child>> agents;
    for (int k = 1; k <= o.agents; ++k) {
        const site& s = sites[k - 1];
        agent_setup a;
        a.code = s.code;
        a.rir = s.rir;
        a.lat = s.lat;
        a.lon = s.lon;
        a.source_ipv4 = the_lab.perspective_address(k);
        a.lab = ports;
        const auto dns = the_lab.dns_for(k);
        a.resolver = dns.address + ":" + std::to_string(dns.port);
        agents.push_back(std::make_unique<agent_child>());
        const bool ok =
            agents.back()->start(o.mpicd, agent_toml(a, *pki), dir.path(), "agent" + std::to_string(k), error);
        if (!ok) {
            std::fprintf(stderr, "bench_agent: %s\n", error.c_str());
            return 1;
        }
        remember_child(agents.back()->pid());
        f.agent_pids.push_back(agents.back()->pid());
        f.agent_ports.push_back(agents.back()->port());
    }
    if (pin) {
        pin_to(0); // the engines' reactor threads inherit CPU 0
    }

    // A: the agents over mutual TLS. B: the same perspectives in-process, at the same lab views.
    auto a_config = base_config(o.agents, o.grace_ms);
    auto b_config = base_config(o.agents, o.grace_ms);
    std::vector<net::dns::server_address> views;
    for (int k = 1; k <= o.agents; ++k) {
        auto p = perspective_at(k);
        p.info.kind = quorum::perspective_kind::remote;
        p.transport.agent_url = "https://127.0.0.1:" + std::to_string(f.agent_ports[static_cast<std::size_t>(k - 1)]);
        p.transport.agent_ca_file = pki->ca_cert;
        p.transport.client_cert_file = pki->client_cert;
        p.transport.client_key_file = pki->client_key;
        a_config.perspectives.push_back(std::move(p));
        auto q = perspective_at(k);
        q.info.kind = quorum::perspective_kind::in_process;
        q.transport.resolvers = {{"127.0.0.1", 53}}; // replaced by apply_lab
        b_config.perspectives.push_back(std::move(q));
        const auto dns = the_lab.dns_for(k);
        views.push_back({dns.address, dns.port});
    }
    quorum::apply_lab(b_config, views, ports);
    std::vector<std::string> errors;
    auto a_engine = quorum::engine::create(a_config, errors);
    auto b_engine = quorum::engine::create(b_config, errors);
    if (!a_engine || !b_engine) {
        for (const auto& e : errors) {
            std::fprintf(stderr, "bench_agent: engine config: %s\n", e.c_str());
        }
        return 1;
    }

    std::printf("# bench_agent: %d agents (mpicd --role perspective, mTLS, 1 reactor each) vs %d in-process "
                "perspectives; lab %s; %d requests/round (CAA and dns-01 alternating), %d rounds A B per level, "
                "grace %u ms; pinning: %s; TCP opens: %s\n",
                o.agents, o.agents, o.scenario.c_str(), o.requests, o.rounds, o.grace_ms,
                pin ? "coordinator CPU 0, lab+agents CPU 1" : "none",
                isolated ? "own network namespace (exact)" : "machine-wide (approximate)");
    std::fflush(stdout);

    const auto round_bound = std::chrono::seconds(std::max(30U, o.bound_s / 4));
    std::vector<level_result> levels;
    print_round_header();
    for (int c : o.concurrency) {
        level_result level{c, {}, {}};
        for (auto* e : {a_engine->get(), b_engine->get()}) { // warm-up: pools, caches, allocator
            if (o.warmup > 0 && !run_round(*e, o, o.warmup, c, f, round_bound)) {
                std::fprintf(stderr, "bench_agent: warm-up did not finish within %lld s\n",
                             static_cast<long long>(round_bound.count()));
                return 1;
            }
        }
        for (int r = 1; r <= o.rounds; ++r) {
            for (int v = 0; v < 2; ++v) {
                auto s = run_round(v == 0 ? **a_engine : **b_engine, o, o.requests, c, f, round_bound);
                if (!s) {
                    std::fprintf(stderr, "bench_agent: round %d did not finish within %lld s\n", r,
                                 static_cast<long long>(round_bound.count()));
                    return 1;
                }
                for (const auto& a : agents) {
                    if (!a->alive()) {
                        std::fprintf(stderr, "bench_agent: an agent (pid %d) died\n", static_cast<int>(a->pid()));
                        return 1;
                    }
                }
                print_round(r, v == 0 ? "A agents" : "B in-process", c, *s);
                (v == 0 ? level.a : level.b).push_back(std::move(*s));
            }
        }
        levels.push_back(std::move(level));
    }
    print_summary(levels);
    (*a_engine)->shutdown(3s);
    (*b_engine)->shutdown(3s);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    options o;
    if (!parse_options(argc, argv, o)) {
        return 2;
    }
    std::signal(SIGALRM, on_fatal_signal);
    std::signal(SIGINT, on_fatal_signal);
    std::signal(SIGTERM, on_fatal_signal);
    ::alarm(o.bound_s);
    const int rc = run(o); // destructors stop the engines, the agents and the lab on every return path
    ::alarm(0);
    return rc;
}
