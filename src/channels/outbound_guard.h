// OutboundGuard: whether postbox may open a connection to an address that a subscriber (not
// the operator) chose, e.g. an HTTP subscription's URL or a chat webhook.
//
// Without it, anyone who may subscribe could make postbox POST into the network it runs in:
// an admin page on 127.0.0.1, a database's HTTP port on 10.0.0.5, or the cloud metadata
// service at 169.254.169.254, which hands out the machine's credentials. So loopback, private,
// link-local, metadata and other non-public addresses are refused unless the operator allows
// them (outbound.allow_private, or by name or address in outbound.allow_hosts). The check is
// made on the address a connection is about to be opened to, after DNS resolution, so a name
// that resolves (or is re-pointed) to a private address is refused too (DNS rebinding).
// Addresses that embed an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by it.
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/metrics.h"

namespace postbox::channels {

enum class AddressClass {
  kPublic,
  kLoopback,   // 127.0.0.0/8, ::1
  kPrivate,    // 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier NAT), fc00::/7, fec0::/10
  kLinkLocal,  // 169.254/16, fe80::/10
  kMetadata,   // cloud credential services: 169.254.169.254, 169.254.170.2, 169.254.170.23,
               // 100.100.100.200, fd00:ec2::254, fd00:ec2::23
  kReserved,   // unspecified (0.0.0.0 reaches the local host), multicast, broadcast, others
};

// The label /metrics and logs use: "loopback", "private", "link_local", "metadata", "reserved".
const char* AddressClassName(AddressClass c);

// The class of an IPv4 or IPv6 socket address; kReserved for any other family.
AddressClass ClassifyAddress(const sockaddr* address);

// Addresses postbox connects to without asking, and the operator's exceptions.
struct OutboundPolicy {
  bool allow_private = false;   // outbound.allow_private: every class but metadata allowed
  bool allow_loopback = false;  // `postbox serve --dev`: loopback allowed too
  // outbound.allow_hosts: a URL host name (compared without case) or an address in its usual
  // text form ("127.0.0.1", "::1") that is allowed whatever its class.
  std::vector<std::string> allow_hosts;
};

// Refusals by address class, for /metrics.
struct GuardRefusals {
  Counter loopback, private_network, link_local, metadata, reserved;
  Counter& For(AddressClass c);
};

class OutboundGuard {
 public:
  explicit OutboundGuard(OutboundPolicy policy) : policy_(std::move(policy)) {}

  // Why a connection to `address`, reached through the URL host `host` ("[::1]" or a name),
  // is refused: its class; nullopt when it is allowed.
  std::optional<AddressClass> Check(std::string_view host, const sockaddr* address) const;

 private:
  bool Listed(std::string_view name) const;

  OutboundPolicy policy_;
};

// Fills `out` from an address's text form ("10.0.0.5", "::1"); false if it is neither.
bool ParseAddress(const char* text, sockaddr_storage* out);

// The text form of an IPv4 or IPv6 socket address ("10.0.0.5", "fe80::1"), for logs.
std::string AddressText(const sockaddr* address);

}  // namespace postbox::channels
