#include "core/topic/logged_endpoint.h"

namespace postbox::core {
namespace {

std::string UrlOrigin(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "(not a URL)";
  const size_t authority = scheme_end + 3;
  size_t end = url.find_first_of("/?#", authority);
  if (end == std::string::npos) end = url.size();
  // user:password@ before the host is a credential too.
  size_t host = url.rfind('@', end);
  host = host == std::string::npos || host < authority ? authority : host + 1;
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

}  // namespace postbox::core
