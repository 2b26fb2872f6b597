// FilterPolicy: an SNS subscription filter policy, compiled once and matched per message.
//
// A policy is a JSON object. Each key names a message attribute (scope MessageAttributes) or
// a field of the JSON message body (scope MessageBody, where an object value nests into the
// body). A key's array lists conditions, of which one must hold (OR); all keys must hold
// (AND); "$or" holds when one of its alternative policies does. Conditions: exact strings and
// numbers, prefix, suffix, anything-but (values, prefix, suffix), numeric comparisons and
// ranges, exists, equals-ignore-case and cidr. The grammar and limits follow AWS's "Amazon SNS
// message filtering" documentation; the same engine will serve EventBridge patterns.
// Thread-safety: immutable once compiled; Matches may run concurrently.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "core/queue/message.h"

namespace postbox::core {

enum class FilterScope { kMessageAttributes, kMessageBody };

// One message as the filter sees it: its attributes and, parsed once on first use, its body.
class FilterInput {
 public:
  // Both are referenced, not copied: they must outlive the input.
  FilterInput(const MessageAttributes& attributes, std::string_view body);
  const MessageAttributes& attributes() const { return attributes_; }
  // The parsed body, or nullptr when it is not a JSON object.
  const nlohmann::ordered_json* body() const;

 private:
  const MessageAttributes& attributes_;
  std::string_view body_text_;
  mutable std::optional<nlohmann::ordered_json> body_;  // parsed on first use (body-scope policies)
};

class FilterPolicy {
 public:
  // Parses and validates `policy_json`; errors are InvalidParameter with AWS's texts.
  static Result<std::shared_ptr<const FilterPolicy>> Compile(std::string_view policy_json,
                                                             FilterScope scope);
  ~FilterPolicy();
  bool Matches(const FilterInput& input) const;

  struct Node;

 private:
  FilterPolicy(std::unique_ptr<Node> root, FilterScope scope);
  std::unique_ptr<Node> root_;
  FilterScope scope_;
};

}  // namespace postbox::core
