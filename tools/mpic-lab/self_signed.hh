#pragma once
// The self-signed certificate the lab's HTTPS server presents (nginx). Tests trust it by passing its PEM file as
// the CA (curl --cacert); the engine's HTTP-01 redirect-to-https path does not verify it anyway (RFC 8555 §8.3).

#include <string>
#include <vector>

#include "core/result.hh"

namespace mpic::lab {

/// Generates an EC P-256 key and a self-signed X.509v3 certificate valid from one hour ago for two days, with
/// subject CN=`names[0]` (or "mpic-lab") and a subjectAltName listing every name in `names` as dNSName plus
/// iPAddress 127.0.0.1, and basicConstraints CA:TRUE so it can serve as its own trust anchor. Writes PEM files
/// `cert_path` and `key_path` (the key with mode 0600). Errors carry the OpenSSL reason (ssl_category).
result<void> write_self_signed(const std::vector<std::string>& names, const std::string& cert_path,
                               const std::string& key_path);

} // namespace mpic::lab
