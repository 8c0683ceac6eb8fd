#pragma once
// Scenario -> config files of the lab responders (responders/responder_config.hh owns the format and the TOML
// writer; this file only decides what goes in).

#include <string>

#include "tools/mpic-lab/responders/responder_config.hh"
#include "tools/mpic-lab/scenario.hh"

namespace mpic::lab {

/// mpic-lab-alpn config: the base certificates for every client, and each perspective's own view (when an override
/// changes its certificates) restricted to that perspective's source address.
responders::alpn_config alpn_config_of(const scenario& s);
std::string alpn_config_for(const scenario& s);

/// mpic-lab-faultdns config: for each perspective whose DNS is "stalled", that perspective's view of every zone as
/// `delay` rules (same data, answered after stall_ms; DNAME and raw-rdata records are not carried, the responder
/// does not serve them), then a catch-all delayed empty answer; then the scenario's own [fault_dns] rules.
responders::dns_config fault_dns_config_of(const scenario& s);
std::string fault_dns_config_for(const scenario& s);

/// mpic-lab-faulthttp config: the scenario's [fault_http] table (listen address forced to 127.0.0.1, port 0).
std::string fault_http_config_for(const scenario& s);

} // namespace mpic::lab
