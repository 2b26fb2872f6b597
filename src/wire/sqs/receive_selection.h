// Which attributes a ReceiveMessage asked for, and its parameter ranges: AttributeNames /
// MessageSystemAttributeNames (system attributes, "All" or names) and MessageAttributeNames (user
// attributes, "All", ".*", "prefix.*" or names). Shared by the two renderers of received messages
// (the JSON-tree one in receive_action.cc and the direct text ones of the fast paths).
#pragma once

#include <string>
#include <vector>

namespace postbox::wire::sqs {

// ReceiveMessage's parameter ranges (SQS API Reference), for both of its readers.
inline constexpr int kMaxReceiveMessages = 10;        // MaxNumberOfMessages: 1..10
inline constexpr int kMaxWaitTimeSeconds = 20;        // WaitTimeSeconds: 0..20
inline constexpr int kMaxVisibilityTimeout = 43'200;  // VisibilityTimeout: 0..43200

struct ReceiveSelection {
  std::vector<std::string> system_names;
  std::vector<std::string> attribute_names;

  bool WantsSystem(const std::string& name) const {
    for (const auto& n : system_names) {
      if (n == "All" || n == name) return true;
    }
    return false;
  }

  bool WantsUser(const std::string& name) const {
    for (const auto& n : attribute_names) {
      if (n == "All" || n == ".*" || n == name) return true;
      // "prefix.*" selects every name that starts with "prefix.".
      if (n.size() > 2 && n.compare(n.size() - 2, 2, ".*") == 0 &&
          name.compare(0, n.size() - 1, n, 0, n.size() - 1) == 0) {
        return true;
      }
    }
    return false;
  }
};

}  // namespace postbox::wire::sqs
