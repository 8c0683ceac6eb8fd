#pragma once
// Per-client admission for the API: a token bucket for the request rate and a count of concurrent requests. One
// instance is shared by every reactor; its mutex is taken twice per API request (admit, release), a cost far
// below the request's own work, in exchange for limits that hold exactly whatever reactor a connection lands on.

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mpic::mpicd {

/// Why a request was not admitted.
enum class admission { admitted, rate_limited, too_many_concurrent };

class client_limits {
public:
    client_limits(double rate_per_second, double burst, std::size_t max_concurrent)
        : _rate(rate_per_second), _burst(burst), _max_concurrent(max_concurrent) {}

    /// Takes one token and one concurrency slot for `client`, or refuses. `retry_after` is set (whole seconds,
    /// at least 1) when refused.
    admission admit(const std::string& client, int& retry_after);
    /// Returns the concurrency slot taken by a successful admit().
    void release(const std::string& client);

private:
    struct bucket {
        double tokens = 0;
        std::chrono::steady_clock::time_point refilled;
        std::size_t concurrent = 0;
    };
    std::mutex _mutex;
    std::unordered_map<std::string, bucket> _clients;
    double _rate;
    double _burst;
    std::size_t _max_concurrent;
};

} // namespace mpic::mpicd
