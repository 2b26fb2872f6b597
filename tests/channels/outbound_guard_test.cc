#include "channels/outbound_guard.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include "channels/curl_sender.h"

namespace postbox::channels {
namespace {

// A socket address for a literal IPv4 or IPv6 address.
struct Address {
  sockaddr_storage storage{};
  explicit Address(const std::string& text) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
    } else {
      EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr), 1) << text;
      v6->sin6_family = AF_INET6;
    }
  }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

std::string ClassOf(const std::string& text) {
  return AddressClassName(ClassifyAddress(Address(text).get()));
}

TEST(OutboundGuard, ClassifiesAddressesThatReachInsideTheNetwork) {
  struct Case {
    const char* address;
    const char* expected;
  };
  for (auto [address, expected] : {
           Case{"127.0.0.1", "loopback"},
           {"127.255.0.9", "loopback"},
           {"::1", "loopback"},
           {"10.1.2.3", "private"},
           {"172.16.0.1", "private"},
           {"172.31.255.255", "private"},
           {"192.168.1.1", "private"},
           {"100.64.0.1", "private"},
           {"fd12:3456::1", "private"},
           {"169.254.1.1", "link_local"},
           {"fe80::1", "link_local"},
           {"169.254.169.254", "metadata"},
           {"fd00:ec2::254", "metadata"},
           {"fd00:ec2::23", "metadata"},
           {"169.254.170.2", "metadata"},
           {"169.254.170.23", "metadata"},
           {"100.100.100.200", "metadata"},
           {"0.0.0.0", "reserved"},
           {"::", "reserved"},
           {"224.0.0.1", "reserved"},
           {"255.255.255.255", "reserved"},
           {"ff02::1", "reserved"},
           // IPv6 forms that carry an IPv4 address are judged by it.
           {"::ffff:127.0.0.1", "loopback"},
           {"::ffff:169.254.169.254", "metadata"},
           {"64:ff9b::10.0.0.1", "private"},
           {"2002:c0a8:0101::1", "private"},
           // Neighbours of the ranges are public.
           {"172.32.0.1", "public"},
           {"11.0.0.1", "public"},
           {"100.128.0.1", "public"},
           {"93.184.216.34", "public"},
           {"2606:4700::1111", "public"},
           {"::ffff:8.8.8.8", "public"},
       }) {
    EXPECT_EQ(ClassOf(address), expected) << address;
  }
}

TEST(OutboundGuard, RefusesUnlessTheOperatorAllows) {
  const Address loopback("127.0.0.1"), metadata("169.254.169.254"), lan("10.0.0.5"),
      v6_loopback("::1"), public_address("93.184.216.34");
  OutboundGuard strict({});
  EXPECT_EQ(strict.Check("127.0.0.1", loopback.get()), AddressClass::kLoopback);
  EXPECT_EQ(strict.Check("hooks.example.com", lan.get()), AddressClass::kPrivate);
  EXPECT_EQ(strict.Check("169.254.169.254", metadata.get()), AddressClass::kMetadata);
  EXPECT_EQ(strict.Check("example.com", public_address.get()), std::nullopt);

  // --dev: loopback only.
  OutboundGuard dev({.allow_loopback = true, .allow_hosts = {}});
  EXPECT_EQ(dev.Check("localhost", loopback.get()), std::nullopt);
  EXPECT_EQ(dev.Check("[::1]", v6_loopback.get()), std::nullopt);
  EXPECT_EQ(dev.Check("10.0.0.5", lan.get()), AddressClass::kPrivate);

  // allow_hosts: by the URL's host name (any case) or by the address it resolved to.
  OutboundGuard listed({.allow_hosts = {"Hooks.Internal", "10.0.0.5", "::1"}});
  EXPECT_EQ(listed.Check("hooks.internal", lan.get()), std::nullopt);
  EXPECT_EQ(listed.Check("other.internal", lan.get()), std::nullopt);  // the address is listed
  EXPECT_EQ(listed.Check("[::1]", v6_loopback.get()), std::nullopt);
  EXPECT_EQ(listed.Check("other.internal", metadata.get()), AddressClass::kMetadata);

  // allow_private opens the network but not the metadata service, unless it is listed.
  OutboundGuard open({.allow_private = true, .allow_hosts = {}});
  EXPECT_EQ(open.Check("10.0.0.5", lan.get()), std::nullopt);
  EXPECT_EQ(open.Check("localhost", loopback.get()), std::nullopt);
  EXPECT_EQ(open.Check("169.254.169.254", metadata.get()), AddressClass::kMetadata);
  OutboundGuard open_with_metadata({.allow_private = true, .allow_hosts = {"169.254.169.254"}});
  EXPECT_EQ(open_with_metadata.Check("169.254.169.254", metadata.get()), std::nullopt);
}

// What a real POST through CurlSender comes back with.
OutboundResponse PostTo(CurlSender& sender, const std::string& url,
                        bool operator_configured = false) {
  std::promise<OutboundResponse> answer;
  OutboundRequest request;
  request.url = url;
  request.body = "{}";
  request.operator_configured = operator_configured;
  sender.Exchange(request, [&](OutboundResponse r) { answer.set_value(std::move(r)); });
  return answer.get_future().get();
}

TEST(OutboundGuard, CurlSenderRefusesBeforeConnecting) {
  CurlOptions options;
  options.connect_timeout_ms = 2000;
  CurlSender sender(options);
  // Port 9 (discard) is not listening here: a real attempt would be refused by the kernel,
  // answering status 0; the guard answers kRefusedByGuard without trying.
  OutboundResponse literal = PostTo(sender, "http://127.0.0.1:9/");
  EXPECT_EQ(literal.status, kRefusedByGuard);
  EXPECT_NE(literal.error.find("loopback"), std::string::npos) << literal.error;
  EXPECT_NE(literal.error.find("outbound.allow_hosts"), std::string::npos) << literal.error;

  // A name is judged by the address it resolves to (localhost is in /etc/hosts).
  OutboundResponse named = PostTo(sender, "http://localhost:9/");
  EXPECT_EQ(named.status, kRefusedByGuard) << named.error;

  EXPECT_EQ(PostTo(sender, "http://169.254.169.254/latest/meta-data/").status, kRefusedByGuard);
  EXPECT_EQ(PostTo(sender, "http://[::ffff:10.0.0.1]:9/").status, kRefusedByGuard);
  EXPECT_EQ(sender.guard_refusals().loopback.value(), 2u);  // once per request
  EXPECT_EQ(sender.guard_refusals().metadata.value(), 1u);
  EXPECT_EQ(sender.guard_refusals().private_network.value(), 1u);

  // A provider's API, configured by the operator, is not the guard's business.
  EXPECT_EQ(PostTo(sender, "http://127.0.0.1:9/", /*operator_configured=*/true).status, 0);
}

// A small HTTP server on 127.0.0.1 that keeps connections alive, so that libcurl caches them.
class KeepAliveServer {
 public:
  KeepAliveServer() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bound_ = bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
             listen(listener_, 4) == 0;
    socklen_t length = sizeof address;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  // Wakes accept() (Linux) and a read() on a connection the client still keeps open.
  ~KeepAliveServer() {
    shutdown(listener_, SHUT_RDWR);
    shutdown(connection_.load(), SHUT_RDWR);
    close(listener_);
    thread_.join();
  }
  bool bound() const { return bound_; }
  int port() const { return port_; }
  int requests() const { return requests_.load(); }

 private:
  void Serve() {
    for (;;) {
      const int connection = accept(listener_, nullptr, nullptr);
      if (connection < 0) return;
      connection_.store(connection);
      std::string received;
      char buffer[4096];
      for (;;) {
        const ssize_t n = read(connection, buffer, sizeof buffer);
        if (n <= 0) break;
        received.append(buffer, size_t(n));
        // Each request here is headers plus a 2-byte body ("{}").
        size_t end;
        while ((end = received.find("\r\n\r\n")) != std::string::npos &&
               received.size() >= end + 6) {
          received.erase(0, end + 6);
          ++requests_;
          const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
          (void)!send(connection, answer, sizeof answer - 1, MSG_NOSIGNAL);
        }
      }
      connection_.store(-1);
      close(connection);
    }
  }

  int listener_ = -1;
  std::atomic<int> connection_{-1};
  bool bound_ = false;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

TEST(OutboundGuard, ACachedConnectionIsCheckedToo) {
  KeepAliveServer server;
  ASSERT_TRUE(server.bound());
  CurlSender sender;
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  // An operator-configured endpoint on this host and port leaves a live connection behind...
  EXPECT_EQ(PostTo(sender, url, /*operator_configured=*/true).status, 200);
  // ...which a subscriber's request to the same place must not get to use.
  OutboundResponse r = PostTo(sender, url);
  EXPECT_EQ(r.status, kRefusedByGuard) << r.error;
  // Refused on the reused connection itself (not by the open-socket check of a new one).
  EXPECT_NE(r.error.find("kept from an earlier request"), std::string::npos) << r.error;
  EXPECT_EQ(server.requests(), 1);
  EXPECT_EQ(sender.guard_refusals().loopback.value(), 1u);
}

TEST(OutboundGuard, CurlSenderConnectsWhereAllowed) {
  CurlOptions options;
  options.connect_timeout_ms = 2000;
  options.outbound.allow_loopback = true;
  CurlSender sender(options);
  // Allowed, so really tried: nothing listens, so no answer (0), not a refusal.
  OutboundResponse r = PostTo(sender, "http://127.0.0.1:9/");
  EXPECT_EQ(r.status, 0) << r.error;
  EXPECT_EQ(sender.guard_refusals().loopback.value(), 0u);
}

}  // namespace
}  // namespace postbox::channels
