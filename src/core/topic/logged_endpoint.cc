#include "core/topic/logged_endpoint.h"

namespace postbox::core {
namespace {

std::string UrlOrigin(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "(not a URL)";
  const size_t authority = scheme_end + 3;
  // user:password@ before the host is a credential too, and a password may hold '/' or '?':
  // the host starts after the last '@' before any query or fragment.
  const size_t query = url.find_first_of("?#", authority);
  const size_t at = url.rfind('@', query == std::string::npos ? url.size() : query);
  const size_t host = at == std::string::npos || at < authority ? authority : at + 1;
  size_t end = url.find_first_of("/?#", host);
  if (end == std::string::npos) end = url.size();
  return url.substr(0, authority) + url.substr(host, end - host) + (end < url.size() ? "/..." : "");
}

std::string MaskedNumber(const std::string& number) {
  constexpr size_t kShownFirst = 5;  // "+" and four digits: the country and a little more
  constexpr size_t kShownLast = 2;
  if (number.size() <= kShownFirst + kShownLast) return std::string(number.size(), '*');
  return number.substr(0, kShownFirst) +
         std::string(number.size() - kShownFirst - kShownLast, '*') +
         number.substr(number.size() - kShownLast);
}

std::string MaskedAddress(const std::string& address) {
  const size_t at = address.rfind('@');
  if (at == std::string::npos || at == 0) return "***";
  return address.substr(0, 1) + "***" + address.substr(at);
}

}  // namespace

std::string LoggedEndpoint(const std::string& protocol, const std::string& endpoint) {
  if (protocol == "http" || protocol == "https") return UrlOrigin(endpoint);
  if (protocol == "sms") return MaskedNumber(endpoint);
  if (protocol == "email" || protocol == "email-json" || protocol == "ses") {
    return MaskedAddress(endpoint);
  }
  return endpoint;
}

std::string MaskEndpointIn(std::string text, const std::string& protocol,
                           const std::string& endpoint) {
  if (endpoint.empty()) return text;
  const std::string shown = LoggedEndpoint(protocol, endpoint);
  for (size_t at = text.find(endpoint); at != std::string::npos;
       at = text.find(endpoint, at + shown.size())) {
    text.replace(at, endpoint.size(), shown);
  }
  return text;
}

}  // namespace postbox::core
