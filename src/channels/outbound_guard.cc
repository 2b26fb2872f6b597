#include "channels/outbound_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace postbox::channels {
namespace {

AddressClass ClassifyV4(uint32_t a) {  // host byte order
  auto in = [a](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  // Credential services: 169.254.169.254 (instance metadata), 169.254.170.2 (ECS task
  // credentials), 169.254.170.23 (EKS Pod Identity), 100.100.100.200 (Alibaba metadata).
  if (a == 0xA9FEA9FE || a == 0xA9FEAA02 || a == 0xA9FEAA17 || a == 0x646464C8) {
    return AddressClass::kMetadata;
  }
  if (in(0x7F000000, 8)) return AddressClass::kLoopback;
  if (in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10)) {
    return AddressClass::kPrivate;
  }
  if (in(0xA9FE0000, 16)) return AddressClass::kLinkLocal;
  // 0/8 ("this network": 0.0.0.0 reaches the local host), 192.0.0/24 (protocol assignments),
  // 198.18/15 (benchmarking), 224/4 multicast, 240/4 reserved and broadcast.
  if (in(0x00000000, 8) || in(0xC0000000, 24) || in(0xC6120000, 15) || in(0xE0000000, 3)) {
    return AddressClass::kReserved;
  }
  return AddressClass::kPublic;
}

uint32_t V4At(const uint8_t* bytes) {
  return (uint32_t(bytes[0]) << 24) | (uint32_t(bytes[1]) << 16) | (uint32_t(bytes[2]) << 8) |
         uint32_t(bytes[3]);
}

AddressClass ClassifyV6(const uint8_t* b) {
  // fd00:ec2::254
  static constexpr std::array<uint8_t, 16> kMetadataV6 = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0,    0,
                                                          0,    0,    0,    0,    0, 0, 0x02, 0x54};
  // fd00:ec2::23 (EKS Pod Identity) differs from fd00:ec2::254 only in its last two bytes.
  if (std::memcmp(b, kMetadataV6.data(), 14) == 0 &&
      ((b[14] == 0x02 && b[15] == 0x54) || (b[14] == 0x00 && b[15] == 0x23))) {
    return AddressClass::kMetadata;
  }
  auto zeros = [b](int from, int to) {
    for (int i = from; i < to; ++i) {
      if (b[i] != 0) return false;
    }
    return true;
  };
  if (zeros(0, 15) && b[15] == 1) return AddressClass::kLoopback;  // ::1
  // IPv4-mapped ::ffff:a.b.c.d and NAT64 64:ff9b::a.b.c.d reach the IPv4 address.
  if (zeros(0, 10) && b[10] == 0xff && b[11] == 0xff) return ClassifyV4(V4At(b + 12));
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && zeros(4, 12)) {
    return ClassifyV4(V4At(b + 12));
  }
  if (b[0] == 0x20 && b[1] == 0x02) return ClassifyV4(V4At(b + 2));  // 6to4 2002:a.b.c.d::/48
  if (zeros(0, 12)) return AddressClass::kReserved;          // ::, and IPv4-compatible (deprecated)
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::kPrivate;  // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::kLinkLocal;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::kPrivate;    // fec0::/10
  if (b[0] == 0xff) return AddressClass::kReserved;                            // multicast
  return AddressClass::kPublic;
}

}  // namespace

const char* AddressClassName(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kLinkLocal:
      return "link_local";
    case AddressClass::kMetadata:
      return "metadata";
    case AddressClass::kReserved:
      return "reserved";
  }
  return "reserved";
}

AddressClass ClassifyAddress(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return ClassifyV4(ntohl(v4->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    return ClassifyV6(v6->sin6_addr.s6_addr);
  }
  return AddressClass::kReserved;
}

std::string AddressText(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
  } else if (address->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text,
              sizeof text);
  }
  return text;
}

bool ParseAddress(const char* text, sockaddr_storage* out) {
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (text != nullptr && inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    return true;
  }
  if (text != nullptr && inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    return true;
  }
  return false;
}

Counter& GuardRefusals::For(AddressClass c) {
  switch (c) {
    case AddressClass::kLoopback:
      return loopback;
    case AddressClass::kPrivate:
      return private_network;
    case AddressClass::kLinkLocal:
      return link_local;
    case AddressClass::kMetadata:
      return metadata;
    default:
      return reserved;
  }
}

bool OutboundGuard::Listed(std::string_view name) const {
  for (const std::string& allowed : policy_.allow_hosts) {
    if (allowed.size() == name.size() &&
        strncasecmp(allowed.data(), name.data(), name.size()) == 0) {
      return true;
    }
  }
  return false;
}

std::optional<AddressClass> OutboundGuard::Check(std::string_view host,
                                                 const sockaddr* address) const {
  const AddressClass c = ClassifyAddress(address);
  if (c == AddressClass::kPublic) return std::nullopt;
  // allow_private opens the internal network, not the machine's credentials: the metadata
  // service is reached only when listed by name or address.
  if (policy_.allow_private && c != AddressClass::kMetadata) return std::nullopt;
  if (c == AddressClass::kLoopback && policy_.allow_loopback) return std::nullopt;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (Listed(host) || Listed(AddressText(address))) return std::nullopt;
  return c;
}

}  // namespace postbox::channels
