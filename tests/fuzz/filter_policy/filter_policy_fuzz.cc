// Fuzzes the SNS filter-policy engine, which compiles policies from subscribers and matches
// them against published messages (both outside input):
//  - input: one byte choosing the scope, the policy text, a NUL, then a message text;
//  - a policy that compiles must match the message (as body, and as the value of String,
//    Number and String.Array attributes) without crashing, and compile again the same way.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/filter/filter_policy.h"

using postbox::core::AttributeValue;
using postbox::core::FilterInput;
using postbox::core::FilterPolicy;
using postbox::core::FilterScope;
using postbox::core::MessageAttributes;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  FilterScope scope = data[0] & 1 ? FilterScope::kMessageBody : FilterScope::kMessageAttributes;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t separator = rest.find('\0');
  std::string_view policy_text = rest.substr(0, separator);
  std::string_view message =
      separator == std::string_view::npos ? std::string_view() : rest.substr(separator + 1);

  auto policy = FilterPolicy::Compile(policy_text, scope);
  auto again = FilterPolicy::Compile(policy_text, scope);
  if (policy.ok() != again.ok()) std::abort();
  if (!policy.ok()) return 0;

  MessageAttributes attributes;
  for (const char* type : {"String", "Number", "String.Array"}) {
    AttributeValue value;
    value.data_type = type;
    value.string_value = std::string(message);
    attributes[std::string("k") + type] = value;
  }
  FilterInput input(attributes, message);
  bool first = (*policy)->Matches(input);
  if ((*again)->Matches(input) != first) std::abort();  // deterministic
  return 0;
}
