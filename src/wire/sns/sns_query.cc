#include "wire/sns/sns_query.h"

#include <charconv>
#include <map>
#include <memory>

namespace postbox::wire::sns {
namespace {

using nlohmann::json;

// The dotted keys as a tree; numbered segments stay keyed by their number so that lists keep
// their order (1, 2, ..., 10 rather than 1, 10, 2).
struct Node {
  std::optional<std::string> value;
  std::map<std::string, std::unique_ptr<Node>> named;
  std::map<int, std::unique_ptr<Node>> numbered;
};

std::optional<int> ParseIndex(std::string_view text) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1) return std::nullopt;
  return v;
}

// Limits the damage of hostile inputs: real requests nest five levels at most.
constexpr int kMaxDepth = 12;

void Insert(Node* root, std::string_view key, const std::string& value) {
  Node* node = root;
  int depth = 0;
  bool numbered_next = false;  // after "member" or "entry", the segment is an index
  while (!key.empty() && ++depth <= kMaxDepth) {
    size_t dot = key.find('.');
    std::string_view segment = key.substr(0, dot);
    key = dot == std::string_view::npos ? std::string_view() : key.substr(dot + 1);
    std::unique_ptr<Node>* slot = nullptr;
    if (numbered_next) {
      auto index = ParseIndex(segment);
      if (!index) return;
      slot = &node->numbered[*index];
    } else {
      slot = &node->named[std::string(segment)];
    }
    numbered_next = segment == "member" || segment == "entry";
    if (!*slot) *slot = std::make_unique<Node>();
    node = slot->get();
  }
  if (depth > kMaxDepth) return;
  node->value = value;
}

const Node* Child(const Node& node, const char* a, const char* b) {
  auto it = node.named.find(a);
  if (it == node.named.end()) it = node.named.find(b);
  return it == node.named.end() ? nullptr : it->second.get();
}

json Convert(const Node& node) {
  if (node.named.empty() && node.numbered.empty()) return node.value.value_or("");
  if (auto member = node.named.find("member"); member != node.named.end()) {
    json list = json::array();
    for (const auto& [index, item] : member->second->numbered) list.push_back(Convert(*item));
    return list;
  }
  if (auto entry = node.named.find("entry"); entry != node.named.end()) {
    json map = json::object();
    for (const auto& [index, item] : entry->second->numbered) {
      const Node* key = Child(*item, "key", "Name");
      const Node* value = Child(*item, "value", "Value");
      if (key == nullptr || !key->value) continue;
      map[*key->value] = value == nullptr ? json("") : Convert(*value);
    }
    return map;
  }
  json object = json::object();
  for (const auto& [name, child] : node.named) object[name] = Convert(*child);
  return object;
}

}  // namespace

json QueryToInput(const FormFields& fields) {
  Node root;
  for (const auto& [key, value] : fields) Insert(&root, key, value);
  json input = Convert(root);
  return input.is_object() ? input : json::object();
}

}  // namespace postbox::wire::sns
