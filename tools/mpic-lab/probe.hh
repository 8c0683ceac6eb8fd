#pragma once
// Free-port picking and readiness probes for the lab's servers. Blocking, small, bounded by explicit timeouts:
// the lab polls these every 10 ms while a server starts instead of sleeping for a guessed time.

#include <chrono>
#include <cstdint>
#include <string>

#include "core/result.hh"

namespace mpic::lab {

/// A port number that was free for both TCP and UDP on 127.0.0.1 a moment ago (bound, read, closed). Another process
/// may take it before the server binds; callers detect that (the server fails or the probe sees a foreign answer)
/// and retry with a new port.
result<std::uint16_t> pick_free_port();

/// Sends one UDP query for `qname` TXT from 127.0.0.1 to 127.0.0.1:`port` and waits up to `timeout` for the reply.
/// True when a reply with the query's ID arrives and contains the bytes `expect` (a nonce only this lab serves, so an
/// answer from a foreign server on a stolen port does not count).
bool dns_probe(std::uint16_t port, const std::string& qname, const std::string& expect,
               std::chrono::milliseconds timeout);

/// Sends "GET `path` HTTP/1.0" to 127.0.0.1:`port` and waits up to `timeout` for the response to end. True when the
/// response contains `expect`.
bool http_probe(std::uint16_t port, const std::string& path, const std::string& expect,
                std::chrono::milliseconds timeout);

/// True when a TCP connection to 127.0.0.1:`port` is accepted within `timeout`.
bool tcp_probe(std::uint16_t port, std::chrono::milliseconds timeout);

/// A random lower-case hex string of `n` characters (from /dev/urandom, falling back to a clock-seeded engine).
std::string random_hex(std::size_t n);

} // namespace mpic::lab
