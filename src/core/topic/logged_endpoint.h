// How a subscriber's endpoint appears in the log: enough for an operator to tell subscribers
// apart and find the subscription, never a secret or a whole personal address.
#pragma once

#include <string>

namespace postbox::core {

// http/https: scheme, host and port only (a chat webhook's path or a URL's query often holds
// its token). sms: the number with all but its first four and last two digits hidden.
// email/email-json/ses: the first character of the mailbox and the domain. Anything else
// (queue and device endpoint ARNs) as it is.
std::string LoggedEndpoint(const std::string& protocol, const std::string& endpoint);

// `text` (a provider's error, which often repeats the number or address it refused) with each
// occurrence of the endpoint replaced by LoggedEndpoint's form.
std::string MaskEndpointIn(std::string text, const std::string& protocol,
                           const std::string& endpoint);

}  // namespace postbox::core
