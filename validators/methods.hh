#pragma once
// One factory per validation method, each defined in its own file (validators/dns/*, validators/http/*,
// validators/tls/*). start_check() (dispatch.cc) picks one; nothing else calls them directly.
// Each returns a check not yet started; the caller calls start(timeout_ms).

#include <memory>

#include "validators/check_operation.hh"

namespace mpic::validators {

using check_factory = std::shared_ptr<check_operation> (*)(perspective_runtime&, std::shared_ptr<const check_request>,
                                                           check_callback);

// DNS-based (validators/dns/)
std::shared_ptr<check_operation> make_caa_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                check_callback);
std::shared_ptr<check_operation> make_dns01_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                  check_callback);
std::shared_ptr<check_operation> make_dns_change_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                       check_callback);
std::shared_ptr<check_operation> make_dns_persistent_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                           check_callback);
std::shared_ptr<check_operation> make_dns_account01_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                          check_callback);
/// contact-email-txt, contact-phone-txt, contact-email-caa, contact-phone-caa
std::shared_ptr<check_operation> make_contact_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                    check_callback);
std::shared_ptr<check_operation> make_ip_address_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                       check_callback);
std::shared_ptr<check_operation> make_reverse_lookup_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                           check_callback);
// HTTP-based (validators/http/)
std::shared_ptr<check_operation> make_http01_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                   check_callback);
std::shared_ptr<check_operation> make_website_change_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                           check_callback);
// TLS-based (validators/tls/)
std::shared_ptr<check_operation> make_tls_alpn01_check(perspective_runtime&, std::shared_ptr<const check_request>,
                                                       check_callback);

} // namespace mpic::validators
