// HttpRequest / HttpResponse: the protocol-neutral HTTP view the wire front-ends work on.
// The net layer converts from and to Boost.Beast, so no front-end depends on Beast.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postbox::wire {

struct HttpRequest {
  std::string method;                          // "POST"
  std::string target;                          // "/000000000000/orders?Action=..."
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string remote_address;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
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
