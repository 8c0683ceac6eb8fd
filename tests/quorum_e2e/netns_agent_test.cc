// Perspectives in their own network namespaces (issue #6, item 5; environment.md §5). Each of three agents
// (`mpicd --role perspective`) runs inside its own namespace (ip netns exec), joined to the host by a veth pair on
// 10.200.k.0/24 (host side 10.200.k.1, namespace side 10.200.k.2). The agent binds its namespace-side address for
// DNS; the only way out of its namespace is its veth. On the host, a relay listens on 10.200.k.1 and forwards the
// agent's DNS to the lab from the lab's perspective-k address (127.0.0.(k+1)), so namespace k sees lab view k (the
// lab's servers listen on host loopback only). The coordinator, an engine on the host, reaches each agent at
// https://10.200.k.2 over mutual TLS. Namespaces and veths are created and removed by the test (root), also when an
// assertion fails; stale ones of a killed run are removed first.

#include <arpa/inet.h>
#include <csignal>
#include <cstring>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <set>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "tests/quorum_e2e/agent_support.hh"
#include "tests/quorum_e2e/e2e_support.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::quorum::e2e {
namespace {

using ms = std::chrono::milliseconds;
constexpr int spaces = 3;
constexpr const char* ns_prefix = "mpice2e";

std::string host_address(int k) {
    return "10.200." + std::to_string(k) + ".1";
}
std::string ns_address(int k) {
    return "10.200." + std::to_string(k) + ".2";
}

/// The namespaces and veth pairs of one run. The destructor removes them (deleting a namespace destroys its veth
/// end, and with it the pair); so does remove_stale() for namespaces left by a run that was killed.
class namespaces {
public:
    namespaces() : _tag(std::to_string(::getpid())) {}
    ~namespaces() { remove(); }
    namespaces(const namespaces&) = delete;
    namespaces& operator=(const namespaces&) = delete;

    std::string name(int k) const { return std::string(ns_prefix) + "-" + _tag + "-" + std::to_string(k); }
    std::string host_if(int k) const { return "me" + _tag.substr(0, 7) + "h" + std::to_string(k); }
    std::string ns_if(int k) const { return "me" + _tag.substr(0, 7) + "n" + std::to_string(k); }

    /// Removes namespaces named mpice2e-<pid>-k whose process is gone.
    static void remove_stale() {
        auto [status, list] = run_command("ip netns list");
        std::istringstream lines(list);
        std::string line;
        while (std::getline(lines, line)) {
            const std::string ns = line.substr(0, line.find(' '));
            if (ns.rfind(std::string(ns_prefix) + "-", 0) != 0) {
                continue;
            }
            const auto pid_text =
                ns.substr(std::string(ns_prefix).size() + 1, ns.rfind('-') - std::strlen(ns_prefix) - 1);
            const pid_t pid = static_cast<pid_t>(std::atoi(pid_text.c_str()));
            if (pid > 0 && ::kill(pid, 0) != 0) {
                run_command("ip netns del " + ns);
            }
        }
    }

    /// Creates every namespace with its veth pair. "" on success, else the failing command and its output.
    std::string create() {
        for (int k = 1; k <= spaces; ++k) {
            _created.push_back(k);
            const std::vector<std::string> steps = {
                "ip netns add " + name(k),
                "ip link add " + host_if(k) + " type veth peer name " + ns_if(k),
                "ip link set " + ns_if(k) + " netns " + name(k),
                "ip addr add " + host_address(k) + "/24 dev " + host_if(k),
                "ip link set " + host_if(k) + " up",
                "ip netns exec " + name(k) + " ip addr add " + ns_address(k) + "/24 dev " + ns_if(k),
                "ip netns exec " + name(k) + " ip link set " + ns_if(k) + " up",
                "ip netns exec " + name(k) + " ip link set lo up",
            };
            for (const auto& step : steps) {
                auto [status, output] = run_command(step);
                if (status != 0) {
                    return step + ": " + output;
                }
            }
        }
        return {};
    }

    void remove() {
        for (int k : _created) {
            run_command("ip netns del " + name(k));
            run_command("ip link del " + host_if(k)); // usually already gone with the namespace
        }
        _created.clear();
    }

    /// True when neither the namespaces nor the host-side veths exist any more (waits up to 3 s: veths vanish
    /// asynchronously after the namespace is deleted).
    bool gone(const std::vector<int>& ks) const {
        const auto deadline = std::chrono::steady_clock::now() + ms(3000);
        while (std::chrono::steady_clock::now() < deadline) {
            bool any = false;
            auto [status, list] = run_command("ip netns list");
            for (int k : ks) {
                any = any || list.find(name(k)) != std::string::npos;
                any = any || run_command("ip link show " + host_if(k)).first == 0;
            }
            if (!any) {
                return true;
            }
            std::this_thread::sleep_for(ms(50));
        }
        return false;
    }

private:
    std::string _tag;
    std::vector<int> _created;
};

/// UDP DNS relay on the host: for each namespace k, a socket on 10.200.k.1 whose queries are forwarded to the lab's
/// DNS for perspective k from 127.0.0.(k+1), and whose answers go back to the asker. Records who asked.
class dns_relay {
public:
    ~dns_relay() { stop(); }

    /// Opens the sockets (ports chosen by the kernel) and starts the relay thread. "" on success.
    std::string start(const lab::lab& l) {
        for (int k = 1; k <= spaces; ++k) {
            route r;
            r.k = k;
            r.down = udp_socket(host_address(k), 0);
            r.up = udp_socket(l.perspective_address(k), 0);
            if (r.down < 0 || r.up < 0) {
                return "cannot bind the relay for namespace " + std::to_string(k);
            }
            const auto target = l.dns_for(k);
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(target.port);
            ::inet_pton(AF_INET, target.address.c_str(), &to.sin_addr);
            if (::connect(r.up, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
                return "cannot connect the relay upstream";
            }
            sockaddr_in bound{};
            socklen_t len = sizeof bound;
            ::getsockname(r.down, reinterpret_cast<sockaddr*>(&bound), &len);
            r.port = ntohs(bound.sin_port);
            _routes.push_back(r);
        }
        if (::pipe(_wake) != 0) {
            return "pipe";
        }
        _thread = std::thread([this] { loop(); });
        return {};
    }

    void stop() {
        if (_thread.joinable()) {
            (void)::write(_wake[1], "x", 1);
            _thread.join();
        }
        for (auto& r : _routes) {
            ::close(r.down);
            ::close(r.up);
        }
        _routes.clear();
        for (int& fd : _wake) {
            if (fd >= 0) {
                ::close(fd);
                fd = -1;
            }
        }
    }

    std::uint16_t port(int k) const { return _routes[static_cast<std::size_t>(k - 1)].port; }
    /// Source addresses that sent queries to namespace k's relay socket.
    std::set<std::string> askers(int k) {
        std::lock_guard lock(_mutex);
        return _askers[k];
    }

private:
    struct route {
        int k = 0;
        int down = -1; ///< 10.200.k.1: the namespace's resolver address
        int up = -1;   ///< 127.0.0.(k+1), connected to the lab's DNS for perspective k
        std::uint16_t port = 0;
        std::map<std::uint16_t, sockaddr_in> pending; ///< DNS ID -> asker
    };

    static int udp_socket(const std::string& address, std::uint16_t port) {
        const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            if (fd >= 0) {
                ::close(fd);
            }
            return -1;
        }
        return fd;
    }

    void loop() {
        std::vector<pollfd> fds;
        fds.push_back({_wake[0], POLLIN, 0});
        for (auto& r : _routes) {
            fds.push_back({r.down, POLLIN, 0});
            fds.push_back({r.up, POLLIN, 0});
        }
        unsigned char buf[4096];
        while (true) {
            if (::poll(fds.data(), fds.size(), 1000) < 0) {
                continue;
            }
            if (fds[0].revents != 0) {
                return;
            }
            for (std::size_t i = 0; i < _routes.size(); ++i) {
                auto& r = _routes[i];
                if (fds[1 + 2 * i].revents & POLLIN) {
                    sockaddr_in from{};
                    socklen_t len = sizeof from;
                    const auto n = ::recvfrom(r.down, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
                    if (n >= 12) {
                        const auto id = static_cast<std::uint16_t>(buf[0] << 8 | buf[1]);
                        r.pending[id] = from;
                        char text[INET_ADDRSTRLEN] = {};
                        ::inet_ntop(AF_INET, &from.sin_addr, text, sizeof text);
                        {
                            std::lock_guard lock(_mutex);
                            _askers[r.k].insert(text);
                        }
                        (void)::send(r.up, buf, static_cast<std::size_t>(n), 0);
                    }
                }
                if (fds[2 + 2 * i].revents & POLLIN) {
                    const auto n = ::recv(r.up, buf, sizeof buf, 0);
                    if (n >= 12) {
                        const auto id = static_cast<std::uint16_t>(buf[0] << 8 | buf[1]);
                        auto it = r.pending.find(id);
                        if (it != r.pending.end()) {
                            (void)::sendto(r.down, buf, static_cast<std::size_t>(n), 0,
                                           reinterpret_cast<sockaddr*>(&it->second), sizeof it->second);
                            r.pending.erase(it);
                        }
                    }
                }
            }
        }
    }

    std::vector<route> _routes;
    int _wake[2] = {-1, -1};
    std::thread _thread;
    std::mutex _mutex;
    std::map<int, std::set<std::string>> _askers;
};

struct netns_scenario {
    static std::string toml() {
        return R"([lab]
perspectives = 3

[zones."e2e.test"]
records = [
  { name = "_acme-challenge.good", type = "TXT", value = "good-dns01-digest" },
  { name = "good", type = "CAA", tag = "issue", value = "ca.example" },
  { name = "_acme-challenge.poison1", type = "TXT", value = "good-dns01-digest" },
  { name = "_acme-challenge.poison12", type = "TXT", value = "good-dns01-digest" },
]

[[override]]
perspectives = [1]
records = [ { name = "_acme-challenge.poison1.e2e.test", type = "TXT", value = "attacker-dns01-digest" } ]

[[override]]
perspectives = [1, 2]
records = [ { name = "_acme-challenge.poison12.e2e.test", type = "TXT", value = "attacker-dns01-digest" } ]
)";
    }
};

class netns_agents : public lab::lab_fixture<netns_scenario> {};

/// Inode of a network namespace handle (two handles name the same namespace iff the inodes are equal).
ino_t ns_inode(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST_F(netns_agents, agents_in_their_own_namespaces_corroborate_over_their_veths) {
    ASSERT_EQ(::geteuid(), 0u) << "network namespaces need root (environment.md §5)";
    namespaces::remove_stale();
    std::vector<int> ks;
    for (int k = 1; k <= spaces; ++k) {
        ks.push_back(k);
    }
    {
        namespaces ns;
        const auto t0 = std::chrono::steady_clock::now();
        const auto created = ns.create();
        ASSERT_EQ(created, "");
        // Isolation: namespace 1 reaches the host over its veth and nothing else (not namespace 2).
        EXPECT_EQ(run_command("ip netns exec " + ns.name(1) + " ip route get " + host_address(1)).first, 0);
        auto [status_other, other] = run_command("ip netns exec " + ns.name(1) + " ip route get " + ns_address(2));
        EXPECT_NE(status_other, 0) << other;
        EXPECT_NE(other.find("unreachable"), std::string::npos) << other;

        dns_relay relay;
        ASSERT_EQ(relay.start(lab()), "");
        temp_dir dir;
        std::string error;
        std::vector<std::string> sans;
        for (int k = 1; k <= spaces; ++k) {
            sans.push_back(ns_address(k));
        }
        auto made = make_pki(dir.path(), sans, error);
        ASSERT_TRUE(made) << error;
        const pki& p = *made;

        agent_process agents[spaces];
        for (int k = 1; k <= spaces; ++k) {
            agent_spec spec;
            spec.perspective = site_perspective(k);
            spec.perspective.transport.source_ipv4 = ns_address(k);
            spec.perspective.transport.resolvers = {{host_address(k), relay.port(k)}};
            spec.listen = ns_address(k) + ":0";
            spec.cert = p.agent_cert;
            spec.key = p.agent_key;
            spec.client_ca = p.ca_cert;
            spec.lab = {lab().http_port(), lab().https_port(), lab().https_port()};
            spec.netns = ns.name(k);
            ASSERT_TRUE(agents[k - 1].start(spec, dir.path(), "nsagent" + std::to_string(k), error)) << error;
            // The agent process lives in its namespace, not in the host's.
            EXPECT_EQ(ns_inode("/proc/" + std::to_string(agents[k - 1].pid()) + "/ns/net"),
                      ns_inode("/run/netns/" + ns.name(k)));
            EXPECT_NE(ns_inode("/proc/" + std::to_string(agents[k - 1].pid()) + "/ns/net"),
                      ns_inode("/proc/self/ns/net"));
        }

        engine_config c;
        c.reactors = 1;
        c.date_override = date_of("2025-10-01");
        c.check_timeout_ms = 5'000;
        c.straggler_grace_ms = 1'000;
        c.cohort_secret = "e2e-netns";
        for (int k = 1; k <= spaces; ++k) {
            c.perspectives.push_back(
                agent_perspective(k, "https://" + ns_address(k) + ":" + std::to_string(agents[k - 1].port()), p.ca_cert,
                                  p.client_cert, p.client_key));
        }
        std::vector<std::string> errors;
        auto created_engine = engine::create(c, errors);
        ASSERT_TRUE(created_engine) << ::testing::PrintToString(errors);
        auto& coordinator = **created_engine;

        struct row {
            mpic_request request;
            const char* what;
            bool valid;
            int attacked;
        };
        std::vector<row> rows;
        rows.push_back({dns01_request("good.e2e.test"), "dns-01, no attack", true, 0});
        rows.push_back({caa_request("good.e2e.test"), "caa, no attack", true, 0});
        rows.push_back({dns01_request("poison1.e2e.test"), "dns-01, namespace 1 poisoned", true, 1});
        rows.push_back({dns01_request("poison12.e2e.test"), "dns-01, namespaces 1+2 poisoned", false, 2});
        for (auto& r : rows) {
            auto f = coordinator.submit(std::move(r.request));
            auto outcome = wait_outcome(f, ms(15000));
            ASSERT_TRUE(outcome && outcome->response);
            const auto& o = only_outcome(*outcome->response);
            SCOPED_TRACE(std::string(r.what) + ":" + describe(o.perspectives));
            EXPECT_EQ(o.is_valid, r.valid);
            ASSERT_EQ(o.perspectives.size(), static_cast<std::size_t>(spaces));
            for (const auto& per : o.perspectives) {
                const bool attacked =
                    (r.attacked >= 1 && per.code == sites[0].code) || (r.attacked >= 2 && per.code == sites[1].code);
                if (attacked) {
                    EXPECT_EQ(problem_of(o.perspectives, per.code), "mpic_error:dcv_checker:mismatch");
                } else {
                    EXPECT_TRUE(per.result.passed) << per.code;
                }
            }
            std::cout << "namespaces: " << r.what << " -> " << (o.is_valid ? "valid " : "invalid ") << o.quorum_result
                      << describe(o.perspectives) << "\n";
        }
        // Every agent resolved from its own namespace-side address, through its own veth.
        for (int k = 1; k <= spaces; ++k) {
            EXPECT_EQ(relay.askers(k), std::set<std::string>{ns_address(k)}) << "namespace " << k;
        }
        EXPECT_TRUE(coordinator.shutdown(ms(3000)).clean());
        for (auto& a : agents) {
            a.kill_now();
        }
        relay.stop();
        std::cout << "namespace run (create, 3 agents, 4 decisions): "
                  << std::chrono::duration_cast<ms>(std::chrono::steady_clock::now() - t0).count() << " ms\n";
        ns.remove();
        EXPECT_TRUE(ns.gone(ks)) << "namespaces or veths left behind";
    }
}

} // namespace
} // namespace mpic::quorum::e2e
