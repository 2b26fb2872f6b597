// HttpRequest / HttpResponse: the protocol-neutral HTTP view the wire front-ends work on.
// The net layer converts from and to Boost.Beast, so no front-end depends on Beast.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postbox::wire {

struct HttpRequest {
  std::string method;  // "POST"
  std::string target;  // "/000000000000/orders?Action=..."
  // Fields in arrival order, names lower-cased. A request has a handful: a linear search
  // costs less than a map node per field.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;
  bool secure = false;  // arrived over TLS: URLs handed back say https://

  // "https" or "http": the scheme of URLs that point back at this listener.
  const char* Scheme() const { return secure ? "https" : "http"; }

  // The value of the field `lower_name` (the last one when repeated), empty when absent.
  std::string_view Header(std::string_view lower_name) const {
    for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
      if (it->first == lower_name) return it->second;
    }
    return {};
  }
  void AddHeader(std::string lower_name, std::string value) {
    headers.emplace_back(std::move(lower_name), std::move(value));
  }
  std::string_view Path() const {
    std::string_view t = target;
    return t.substr(0, t.find('?'));
  }
  std::string_view Query() const {
    std::string_view t = target;
    size_t q = t.find('?');
    return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

}  // namespace postbox::wire
