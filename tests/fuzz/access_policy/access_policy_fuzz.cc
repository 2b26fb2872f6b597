// Fuzzes the access-policy parser and evaluator: policies come from API callers (a queue's or
// topic's Policy attribute) and from operators (a key's policy), both outside input.
//  - input: one byte choosing the policy kind and the caller's shape, the policy text, a NUL,
//    then the action, a NUL, the resource;
//  - a policy that parses must parse again the same way, and evaluating it must not crash
//    and must give the same decision twice.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/policy/access_check.h"
#include "core/policy/access_policy.h"

namespace policy = postbox::core::policy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  auto next = [&rest]() {
    const size_t nul = rest.find('\0');
    std::string_view part = rest.substr(0, nul);
    rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
    return part;
  };
  const std::string_view text = next();
  const std::string_view action = next();
  const std::string_view resource = next();
  const auto kind = flags & 1 ? policy::PolicyKind::kResource : policy::PolicyKind::kIdentity;

  auto parsed = policy::ParsePolicy(text, kind);
  auto again = policy::ParsePolicy(text, kind);
  if (parsed.ok() != again.ok()) std::abort();
  if (!parsed.ok()) return 0;

  policy::Caller caller;
  if (flags & 2) {
    caller.service = "sns.amazonaws.com";
    caller.source_arn = "arn:aws:sns:us-east-1:111111111111:orders";
  } else {
    caller.account = "111111111111";
  }
  caller.secure_transport = (flags & 4) != 0;
  policy::Target target;
  target.action = action;
  target.resource = resource;
  target.resource_account = flags & 8 ? "222222222222" : "111111111111";
  if (kind == policy::PolicyKind::kIdentity) {
    caller.policy = parsed->get();
  } else {
    target.resource_policy = parsed->get();
  }
  if (policy::Authorize(caller, target) != policy::Authorize(caller, target)) std::abort();
  policy::WildcardMatch(action, resource, (flags & 16) != 0);
  return 0;
}
