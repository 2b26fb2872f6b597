#include "net/response_head.h"

#include <boost/beast/http/status.hpp>
#include <ostream>  // boost/beast/http/status.hpp needs the full std::ostream
#include <utility>

namespace postbox::net {
namespace {

void AppendHeaderText(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
}

void AppendHeader(std::string& out, std::string_view name, std::string_view value) {
  AppendHeaderText(out, name);
  out += ": ";
  AppendHeaderText(out, value);
  out += "\r\n";
}

}  // namespace

std::string ResponseHead(const wire::HttpResponse& response, unsigned version, bool keep_alive) {
  std::string out;
  out.reserve(160 + response.content_type.size());
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(response.status));
  out.append(reason.data(), reason.size());
  out += "\r\n";
  AppendHeader(out, "Server", "postbox");
  if (!response.content_type.empty()) AppendHeader(out, "Content-Type", response.content_type);
  for (const auto& [name, value] : response.headers) AppendHeader(out, name, value);
  AppendHeader(out, "Content-Length", std::to_string(response.body.size()));
  // HTTP/1.1 connections persist unless closed; HTTP/1.0 ones close unless kept alive.
  if (version == 10 && keep_alive) AppendHeader(out, "Connection", "keep-alive");
  if (version != 10 && !keep_alive) AppendHeader(out, "Connection", "close");
  out += "\r\n";
  return out;
}

}  // namespace postbox::net
