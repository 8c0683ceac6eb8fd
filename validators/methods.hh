#pragma once
// One factory per validation method, each defined in its own file (validators/dns/*, validators/http/*,
// validators/tls/*). start_check() (dispatch.cc) picks one; nothing else calls them directly.
// Each returns a check not yet started; the caller calls start(timeout_ms).

#include <memory>

#include "validators/check_operation.hh"

namespace mpic::validators {

/// The common signature of the factories below (dispatch.cc keeps a table of them).
using check_factory = std::shared_ptr<check_operation> (*)(perspective_runtime&, std::shared_ptr<const check_request>,
                                                           check_callback);

// DNS-based (validators/dns/)
/// CAA (RFC 8659, RFC 8657 account/method binding, BR 3.2.2.8).
std::shared_ptr<check_operation> make_caa_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                check_callback);
/// acme-dns-01 (BR 3.2.2.4.7, RFC 8555 §8.4).
std::shared_ptr<check_operation> make_dns01_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                  check_callback);
/// dns-change (BR 3.2.2.4.7).
std::shared_ptr<check_operation> make_dns_change_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                       check_callback);
/// dns-persistent (BR 3.2.2.4.22).
std::shared_ptr<check_operation> make_dns_persistent_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                           check_callback);
/// dns-account-01 (BR 3.2.2.4.21).
std::shared_ptr<check_operation> make_dns_account01_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                          check_callback);
/// contact-email-txt, contact-phone-txt, contact-email-caa, contact-phone-caa
std::shared_ptr<check_operation> make_contact_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                    check_callback);
/// ip-address (BR 3.2.2.4.8).
std::shared_ptr<check_operation> make_ip_address_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                       check_callback);
/// reverse-address-lookup (BR 3.2.2.5.3).
std::shared_ptr<check_operation> make_reverse_lookup_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                           check_callback);
// HTTP-based (validators/http/)
/// acme-http-01 (BR 3.2.2.4.19, RFC 8555 §8.3, RFC 8738 §5).
std::shared_ptr<check_operation> make_http01_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                   check_callback);
/// website-change (BR 3.2.2.4.18, BR 3.2.2.5.1).
std::shared_ptr<check_operation> make_website_change_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                           check_callback);
// TLS-based (validators/tls/)
/// acme-tls-alpn-01 (BR 3.2.2.4.20, RFC 8737, RFC 8738 §6).
std::shared_ptr<check_operation> make_tls_alpn01_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                       check_callback);

} // namespace mpic::validators
