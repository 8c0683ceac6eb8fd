// The hardening suites' load driver, /proc sampling and fault table (hardening_support.hh).

#include "tests/hardening/hardening_support.hh"

#include <algorithm>
#include <arpa/inet.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/net/server/server_harness.hh"

namespace mpic::test::hardening {
namespace {

using clock_type = std::chrono::steady_clock;

std::string key_of(const sample& s) {
    switch (s.how) {
    case ending::refused:
        return "connection refused";
    case ending::closed:
        return "closed without an answer";
    case ending::timed_out:
        return "no answer in time";
    case ending::answered:
        break;
    }
    return s.error.empty() ? std::to_string(s.status) : std::to_string(s.status) + " " + s.error;
}

} // namespace

sample request_once(std::uint16_t port, const std::string& token, const std::string& body,
                    std::chrono::milliseconds bound) {
    sample s;
    const auto start = clock_type::now();
    auto elapsed_ms = [&] {
        s.ended = clock_type::now();
        return std::chrono::duration<double, std::milli>(s.ended - start).count();
    };
    client_conn c(port, bound);
    if (!c.ok()) {
        s.how = ending::refused;
        s.latency_ms = elapsed_ms();
        return s;
    }
    const std::string headers = "Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\n";
    if (!c.send(post_request("/mpic", body, headers))) {
        s.how = ending::closed;
        s.latency_ms = elapsed_ms();
        return s;
    }
    auto reply = c.read_reply();
    s.latency_ms = elapsed_ms();
    if (!reply) {
        // read_reply does not say why; a read that lasted the whole bound timed out, anything sooner was a close.
        s.how = s.latency_ms + 50 >= static_cast<double>(bound.count()) ? ending::timed_out : ending::closed;
        return s;
    }
    s.status = reply->status;
    s.has_retry_after = !reply->header("retry-after").empty();
    if (s.status != 200) {
        auto j = nlohmann::json::parse(reply->body, nullptr, false);
        if (j.is_object() && j.contains("error") && j["error"].is_string()) {
            s.error = j["error"].get<std::string>();
        }
    }
    return s;
}

std::vector<sample> run_load(const load_plan& plan, const std::atomic<bool>* stop_flag) {
    std::mutex m;
    std::vector<sample> all;
    std::atomic<std::uint64_t> sequence{0};
    const auto deadline = clock_type::now() + plan.duration;
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(plan.connections));
    for (int t = 0; t < plan.connections; ++t) {
        threads.emplace_back([&, t] {
            std::vector<sample> mine;
            const auto& token = plan.tokens[static_cast<std::size_t>(t) % plan.tokens.size()];
            while (clock_type::now() < deadline) {
                const bool after_stop = stop_flag != nullptr && stop_flag->load();
                const auto i = sequence.fetch_add(1);
                auto s = request_once(plan.port, token,
                                      plan.body_for ? plan.body_for(i) : plan.bodies[i % plan.bodies.size()],
                                      plan.read_bound);
                s.started_after_stop = after_stop;
                s.sequence = i;
                const bool gone = s.how == ending::refused && after_stop;
                mine.push_back(std::move(s));
                if (gone) {
                    break; // the daemon stopped listening: nothing more to learn from this client
                }
            }
            std::lock_guard lock(m);
            all.insert(all.end(), mine.begin(), mine.end());
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    return all;
}

double load_summary::percentile(double p) const {
    if (ok_latency_ms.empty()) {
        return 0;
    }
    const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(ok_latency_ms.size() - 1) + 0.5);
    return ok_latency_ms[std::min(rank, ok_latency_ms.size() - 1)];
}

std::string load_summary::describe() const {
    std::ostringstream out;
    out << total << " requests:";
    for (const auto& [key, count] : outcomes) {
        out << " [" << key << "] " << count;
    }
    out << std::fixed << std::setprecision(1) << "; admitted latency p50 " << percentile(50) << " ms, p99 "
        << percentile(99) << " ms, max " << (ok_latency_ms.empty() ? 0.0 : ok_latency_ms.back()) << " ms";
    return out.str();
}

load_summary summarise(const std::vector<sample>& samples) {
    load_summary s;
    for (const auto& x : samples) {
        ++s.total;
        ++s.outcomes[key_of(x)];
        if (x.how != ending::answered) {
            continue;
        }
        if (x.status == 200) {
            ++s.ok;
            s.ok_latency_ms.push_back(x.latency_ms);
        } else if (x.status == 429 || x.status == 503) {
            ++s.shed;
            if (!x.has_retry_after) {
                ++s.shed_without_retry_after;
            }
        }
    }
    std::sort(s.ok_latency_ms.begin(), s.ok_latency_ms.end());
    return s;
}

std::uint64_t rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("VmRSS:")) {
            return std::strtoull(line.c_str() + 6, nullptr, 10);
        }
    }
    return 0;
}

int open_fds(pid_t pid) {
    std::error_code ec;
    int n = 0;
    for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
         it.increment(ec)) {
        ++n;
    }
    return ec && n == 0 ? -1 : n;
}

std::string daemon_config(const std::string& audit_path, const std::string& extra, const std::string& resolver) {
    std::ostringstream t;
    t << "[policy]\ndevelopment_override = true\n"
      << "[auth]\ntokens = [{ name = \"client-a\", token = \"" << token_a << "\" }, { name = \"client-b\", token = \""
      << token_b << "\" }]\n"
      << "[audit]\npath = \"" << audit_path << "\"\n"
      << "[log]\nlevel = \"error\"\n";
    const char* perspectives[][4] = {
        {"us-east", "ARIN", "39.04", "-77.49"},       {"us-west", "ARIN", "45.60", "-121.18"},
        {"eu-west", "RIPE", "53.35", "-6.26"},        {"eu-central", "RIPE", "50.11", "8.68"},
        {"ap-northeast", "APNIC", "35.68", "139.69"}, {"ap-southeast", "APNIC", "1.35", "103.82"}};
    for (const auto& p : perspectives) {
        t << "[[perspective]]\ncode = \"" << p[0] << "\"\nrir = \"" << p[1] << "\"\nlocation = [" << p[2] << ", "
          << p[3] << "]\nresolvers = [\"" << resolver << "\"]\n";
    }
    return t.str() + extra;
}

bool print_fault_table(const std::string& title, const std::vector<fault_row>& rows) {
    std::size_t w0 = 5, w1 = 8;
    for (const auto& r : rows) {
        w0 = std::max(w0, r.fault.size());
        w1 = std::max(w1, r.expected.size());
    }
    std::ostringstream out;
    out << "\n== " << title << " ==\n"
        << std::left << std::setw(static_cast<int>(w0)) << "fault"
        << " | " << std::setw(static_cast<int>(w1)) << "expected"
        << " | ok  | observed\n"
        << std::string(w0 + w1 + 20, '-') << "\n";
    bool all = true;
    for (const auto& r : rows) {
        all = all && r.ok;
        out << std::setw(static_cast<int>(w0)) << r.fault << " | " << std::setw(static_cast<int>(w1)) << r.expected
            << " | " << (r.ok ? "yes" : "NO ") << " | " << r.observed << "\n";
    }
    std::cout << out.str() << std::flush;
    return all;
}

std::uint16_t closed_udp_port() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

silent_udp::silent_udp() {
    _fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(_fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(_fd, reinterpret_cast<sockaddr*>(&a), &len);
    _port = ntohs(a.sin_port);
}

silent_udp::~silent_udp() {
    if (_fd >= 0) {
        ::close(_fd);
    }
}

temp_dir::temp_dir() {
    char tmpl[] = "/tmp/mpic-hardening-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) {
        _path = tmpl;
    }
}

temp_dir::~temp_dir() {
    if (!_keep && !_path.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(_path, ec);
    } else if (_keep) {
        std::cerr << "kept " << _path << " for inspection\n";
    }
}

std::string temp_dir::write(const std::string& name, const std::string& text) const {
    const auto p = _path + "/" + name;
    std::ofstream(p) << text;
    return p;
}

} // namespace mpic::test::hardening
