#include "net/response_head.h"

#include <gtest/gtest.h>

namespace postbox::net {
namespace {

wire::HttpResponse Json(std::string body) {
  wire::HttpResponse r;
  r.content_type = "application/x-amz-json-1.0";
  r.headers.emplace_back("x-amzn-RequestId", "req-1");
  r.body = std::move(body);
  return r;
}

TEST(ResponseHeadTest, KeepAliveHttp11HasNoConnectionHeader) {
  EXPECT_EQ(ResponseHead(Json("{}"), 11, true),
            "HTTP/1.1 200 OK\r\nServer: postbox\r\nContent-Type: application/x-amz-json-1.0\r\n"
            "x-amzn-RequestId: req-1\r\nContent-Length: 2\r\n\r\n");
}

TEST(ResponseHeadTest, ClosingHttp11SaysClose) {
  wire::HttpResponse r;
  r.status = 413;
  r.body = "request body too large\n";
  EXPECT_EQ(ResponseHead(r, 11, false),
            "HTTP/1.1 413 Payload Too Large\r\nServer: postbox\r\nContent-Length: 23\r\n"
            "Connection: close\r\n\r\n");
}

TEST(ResponseHeadTest, Http10KeepAliveIsExplicit) {
  std::string head = ResponseHead(Json(""), 10, true);
  EXPECT_EQ(head.substr(0, 16), "HTTP/1.0 200 OK\r");
  EXPECT_NE(head.find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_EQ(ResponseHead(Json(""), 10, false).find("Connection"), std::string::npos);
}

TEST(ResponseHeadTest, LineBreaksInHeadersAreDropped) {
  wire::HttpResponse r = Json("");
  r.headers.emplace_back("x-evil", "a\r\nSet-Cookie: b");
  std::string head = ResponseHead(r, 11, true);
  EXPECT_NE(head.find("x-evil: aSet-Cookie: b\r\n"), std::string::npos);
}

TEST(ResponseHeadTest, UnknownStatusStillHasALine) {
  wire::HttpResponse r;
  r.status = 599;
  EXPECT_EQ(ResponseHead(r, 11, true).substr(0, 13), "HTTP/1.1 599 ");
}

}  // namespace
}  // namespace postbox::net
