#include "tools/mpicd/client_limits.hh"

#include <algorithm>
#include <cmath>

namespace mpic::mpicd {

admission client_limits::admit(const std::string& client, int& retry_after) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(_mutex);
    auto [it, fresh] = _clients.try_emplace(client);
    auto& b = it->second;
    if (fresh) {
        b.tokens = _burst;
        b.refilled = now;
    }
    const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(_burst, b.tokens + elapsed * _rate);
    b.refilled = now;
    if (b.concurrent >= _max_concurrent) {
        retry_after = 1;
        return admission::too_many_concurrent;
    }
    if (b.tokens < 1.0) {
        retry_after = std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / _rate)));
        return admission::rate_limited;
    }
    b.tokens -= 1.0;
    ++b.concurrent;
    return admission::admitted;
}

void client_limits::release(const std::string& client) {
    std::lock_guard lock(_mutex);
    auto it = _clients.find(client);
    if (it != _clients.end() && it->second.concurrent > 0) {
        --it->second.concurrent;
    }
}

} // namespace mpic::mpicd
