#include "core/filter/filter_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <set>

namespace postbox::core {
namespace {

// Ordered: errors name the first offending key in document order, as AWS does.
using json = nlohmann::ordered_json;

// AWS's limits ("Filter policy constraints").
constexpr size_t kMaxKeys = 5;
constexpr size_t kMaxCombinations = 150;
constexpr double kMaxNumber = 1e9;

Status Invalid(const std::string& why) {
  return Status(ErrorCode::kInvalidParameter, "Invalid parameter: FilterPolicy: " + why);
}

// One value of the message under a key: a string, number, boolean or null.
struct Scalar {
  enum class Type { kString, kNumber, kBool, kNull } type = Type::kNull;
  std::string_view text;
  double number = 0;
  bool flag = false;
};

struct IpNetwork {
  std::array<uint8_t, 16> address{};
  int family = AF_INET;
  int bits = 0;
};

std::optional<IpNetwork> ParseIp(std::string_view text, bool with_prefix) {
  IpNetwork net;
  std::string address(text);
  if (with_prefix) {
    size_t slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    address = std::string(text.substr(0, slash));
    std::string_view bits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), net.bits);
    if (ec != std::errc() || end != bits.data() + bits.size() || bits.empty()) return std::nullopt;
  }
  if (inet_pton(AF_INET, address.c_str(), net.address.data()) == 1) {
    net.family = AF_INET;
  } else if (inet_pton(AF_INET6, address.c_str(), net.address.data()) == 1) {
    net.family = AF_INET6;
  } else {
    return std::nullopt;
  }
  int max_bits = net.family == AF_INET ? 32 : 128;
  if (!with_prefix) net.bits = max_bits;
  if (net.bits < 0 || net.bits > max_bits) return std::nullopt;
  return net;
}

bool InNetwork(const IpNetwork& net, const IpNetwork& ip) {
  if (net.family != ip.family) return false;
  int whole = net.bits / 8;
  if (!std::equal(net.address.begin(), net.address.begin() + whole, ip.address.begin())) {
    return false;
  }
  int rest = net.bits % 8;
  if (rest == 0) return true;
  uint8_t mask = uint8_t(0xff << (8 - rest));
  return (net.address[whole] & mask) == (ip.address[whole] & mask);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(uint8_t(a[i])) != std::tolower(uint8_t(b[i]))) return false;
  }
  return true;
}

struct Condition {
  enum class Kind {
    kString,
    kNumber,
    kNull,
    kBool,
    kPrefix,
    kSuffix,
    kEqualsIgnoreCase,
    kAnythingBut,
    kNumeric,
    kExists,
    kCidr,
  } kind = Kind::kString;
  std::string text;
  double number = 0;
  bool flag = false;
  // anything-but: the excluded values, or an excluded prefix/suffix.
  std::vector<std::string> but_strings;
  std::vector<double> but_numbers;
  std::optional<std::string> but_prefix;
  std::optional<std::string> but_suffix;
  // numeric: optional bounds.
  std::optional<double> lower;
  bool lower_inclusive = false;
  std::optional<double> upper;
  bool upper_inclusive = false;
  IpNetwork network;

  bool Matches(const Scalar& v) const {
    using T = Scalar::Type;
    switch (kind) {
      case Kind::kString:
        return v.type == T::kString && v.text == text;
      case Kind::kNumber:
        return v.type == T::kNumber && v.number == number;
      case Kind::kNull:
        return v.type == T::kNull;
      case Kind::kBool:
        return v.type == T::kBool && v.flag == flag;
      case Kind::kPrefix:
        return v.type == T::kString && v.text.starts_with(text);
      case Kind::kSuffix:
        return v.type == T::kString && v.text.ends_with(text);
      case Kind::kEqualsIgnoreCase:
        return v.type == T::kString && EqualsIgnoreCase(v.text, text);
      case Kind::kAnythingBut:
        if (v.type == T::kString) {
          if (but_prefix) return !v.text.starts_with(*but_prefix);
          if (but_suffix) return !v.text.ends_with(*but_suffix);
          return std::find(but_strings.begin(), but_strings.end(), v.text) == but_strings.end();
        }
        if (v.type == T::kNumber) {
          return std::find(but_numbers.begin(), but_numbers.end(), v.number) == but_numbers.end();
        }
        return !but_prefix && !but_suffix;
      case Kind::kNumeric:
        if (v.type != T::kNumber) return false;
        if (lower && (lower_inclusive ? v.number < *lower : v.number <= *lower)) return false;
        if (upper && (upper_inclusive ? v.number > *upper : v.number >= *upper)) return false;
        return true;
      case Kind::kCidr: {
        if (v.type != T::kString) return false;
        auto ip = ParseIp(v.text, false);
        return ip && InNetwork(network, *ip);
      }
      case Kind::kExists:
        return true;  // decided by presence, see FieldMatches
    }
    return false;
  }
};

Result<double> PolicyNumber(const json& value, const std::string& what) {
  if (!value.is_number()) return Invalid("Value of " + what + " must be numeric");
  double n = value.get<double>();
  if (!std::isfinite(n) || n < -kMaxNumber || n > kMaxNumber) {
    return Invalid("Numeric values must be within -1.0E9 and 1.0E9");
  }
  return n;
}

// The numeric grammar and its error texts follow AWS's recorded answers: one comparison
// ("=", "<", "<=", ">", ">=" and a number), or a lower bound (">", ">=") then an upper one.
Result<Condition> ParseNumeric(const json& spec) {
  if (!spec.is_array()) return Invalid("Value of numeric must be an array.");
  if (spec.empty()) return Invalid("Invalid member in numeric match: ]");
  auto op_name = [](const std::string& op) { return op == "=" ? std::string("equals") : op; };
  auto value_at = [&](size_t i, const std::string& op) -> Result<double> {
    if (i >= spec.size() || !spec[i].is_number()) {
      return Invalid("Value of " + op_name(op) + " must be numeric");
    }
    return PolicyNumber(spec[i], op_name(op));
  };
  if (!spec[0].is_string()) {
    // (Only scalars are quoted back: dumping a deeply nested value would recurse.)
    std::string shown = spec[0].is_primitive() ? spec[0].dump() : spec[0].is_array() ? "[" : "{";
    return Invalid("Invalid member in numeric match: " + shown);
  }
  const std::string first = spec[0].get<std::string>();
  Condition c;
  c.kind = Condition::Kind::kNumeric;
  if (first != "=" && first != "<" && first != "<=" && first != ">" && first != ">=") {
    return Invalid("Unrecognized numeric range operator: " + first);
  }
  auto n = value_at(1, first);
  if (!n.ok()) return n.status();
  if (first == ">" || first == ">=") {
    c.lower = *n;
    c.lower_inclusive = first == ">=";
  } else {
    if (spec.size() > 2) return Invalid("Too many elements in numeric expression");
    if (first != "<") c.lower = *n;
    if (first != "<") c.lower_inclusive = true;
    if (first != ">") c.upper = *n;
    c.upper_inclusive = first != "<";
    return c;
  }
  if (spec.size() == 2) return c;
  if (!spec[2].is_string()) {
    std::string shown = spec[2].is_primitive() ? spec[2].dump() : spec[2].is_array() ? "[" : "{";
    return Invalid("Bad value in numeric range: " + shown);
  }
  const std::string second = spec[2].get<std::string>();
  if (second != "<" && second != "<=") return Invalid("Bad numeric range operator: " + second);
  auto top = value_at(3, second);
  if (!top.ok()) return top.status();
  if (spec.size() > 4) return Invalid("Too many terms in numeric range expression");
  c.upper = *top;
  c.upper_inclusive = second == "<=";
  if (*c.lower >= *c.upper) return Invalid("Bottom must be less than top");
  return c;
}

Result<Condition> ParseAnythingBut(const json& spec) {
  Condition c;
  c.kind = Condition::Kind::kAnythingBut;
  auto add = [&](const json& v) -> Status {
    if (v.is_string()) {
      c.but_strings.push_back(v.get<std::string>());
    } else if (v.is_number()) {
      auto n = PolicyNumber(v, "anything-but");
      if (!n.ok()) return n.status();
      c.but_numbers.push_back(*n);
    } else {
      return Invalid("Value of anything-but must be an array or single string/number value.");
    }
    return Status::Ok();
  };
  if (spec.is_object()) {
    if (spec.size() != 1)
      return Invalid("Value of anything-but must be an array or single string/number value.");
    // (Through an iterator: the proxy items() returns dies at the end of the statement.)
    auto only = spec.begin();
    const std::string& op = only.key();
    const json& value = only.value();
    if (op != "prefix" && op != "suffix") return Invalid("Unsupported anything-but pattern: " + op);
    if (!value.is_string()) return Invalid(op + " match pattern must be a string");
    if (value.get_ref<const std::string&>().empty()) return Invalid("Null " + op + " not allowed");
    (op == "prefix" ? c.but_prefix : c.but_suffix) = value.get<std::string>();
    return c;
  }
  if (spec.is_array()) {
    if (spec.empty()) return Invalid("Empty arrays are not allowed");
    for (const auto& v : spec) POSTBOX_RETURN_IF_ERROR(add(v));
    return c;
  }
  POSTBOX_RETURN_IF_ERROR(add(spec));
  return c;
}

Result<Condition> ParseCondition(const json& value) {
  Condition c;
  if (value.is_string()) {
    c.text = value.get<std::string>();
    return c;
  }
  if (value.is_number()) {
    auto n = PolicyNumber(value, "match");
    if (!n.ok()) return n.status();
    c.kind = Condition::Kind::kNumber;
    c.number = *n;
    return c;
  }
  if (value.is_null()) {
    c.kind = Condition::Kind::kNull;
    return c;
  }
  if (value.is_boolean()) {
    c.kind = Condition::Kind::kBool;
    c.flag = value.get<bool>();
    return c;
  }
  if (!value.is_object())
    return Invalid("Match value must be String, number, true, false, or null");
  if (value.size() != 1) return Invalid("Only one key allowed in match expression");
  auto only = value.begin();  // not items(): its proxy dies at the end of the statement
  const std::string& op = only.key();
  const json& spec = only.value();
  if (op == "prefix" || op == "suffix" || op == "equals-ignore-case") {
    if (!spec.is_string()) return Invalid(op + " match pattern must be a string");
    c.kind = op == "prefix"   ? Condition::Kind::kPrefix
             : op == "suffix" ? Condition::Kind::kSuffix
                              : Condition::Kind::kEqualsIgnoreCase;
    c.text = spec.get<std::string>();
    return c;
  }
  if (op == "anything-but") return ParseAnythingBut(spec);
  if (op == "numeric") return ParseNumeric(spec);
  if (op == "exists") {
    if (!spec.is_boolean()) return Invalid("exists match pattern must be either true or false.");
    c.kind = Condition::Kind::kExists;
    c.flag = spec.get<bool>();
    return c;
  }
  if (op == "cidr") {
    // (AWS's text for a non-string CIDR does say "prefix".)
    if (!spec.is_string()) return Invalid("prefix match pattern must be a string");
    const std::string& text = spec.get_ref<const std::string&>();
    size_t slash = text.find('/');
    if (slash == std::string::npos || text.find('/', slash + 1) != std::string::npos) {
      return Invalid("Malformed CIDR, one '/' required");
    }
    std::string_view bits = std::string_view(text).substr(slash + 1);
    int mask = 0;
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), mask);
    if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size()) {
      return Invalid("Malformed CIDR, mask bits must be an integer");
    }
    auto net = ParseIp(text, true);
    if (!net) return Invalid("Nonstandard IP address: " + text.substr(0, slash));
    c.kind = Condition::Kind::kCidr;
    c.network = *net;
    return c;
  }
  return Invalid("Unrecognized match type " + op);
}

}  // namespace

struct FilterPolicy::Node {
  struct Field {
    std::string key;
    std::vector<Condition> conditions;  // one must hold
    std::unique_ptr<Node> nested;       // body scope: an object nested under the key
  };
  std::vector<Field> fields;                  // all must hold
  std::vector<std::unique_ptr<Node>> any_of;  // "$or": one must hold
};

namespace {

struct Limits {
  std::set<std::string> leaf_paths;  // "a.b": the keys counted against kMaxKeys
  bool nested = false;               // an object nests under a key
};

// Returns the node's complexity, AWS's measure: a key with N values at nesting level L counts
// N * L, keys multiply, the alternatives of "$or" add up (reproduces every recorded answer).
Result<size_t> ParseNode(const json& object, const std::string& path, size_t depth, Limits& limits,
                         FilterPolicy::Node* out, size_t or_depth = 0) {
  if (!object.is_object() || (object.empty() && depth > 1)) {
    return Invalid("Filter policy must be a non-empty JSON object");
  }
  // Every level multiplies the complexity, so deeper policies are too complex anyway; this
  // also bounds the recursion.
  if (depth > kMaxCombinations || or_depth > kMaxCombinations) {
    return Invalid("Filter policy is too complex");
  }
  size_t combinations = 1;
  for (const auto& [key, value] : object.items()) {
    if (key == "$or") {
      if (!value.is_array() || value.size() < 2) {
        return Invalid("$or must be an array of at least two filter policies");
      }
      size_t sum = 0;
      for (const auto& alternative : value) {
        auto node = std::make_unique<FilterPolicy::Node>();
        // One level deeper for the recursion bound (not for the complexity measure).
        auto n = ParseNode(alternative, path, depth, limits, node.get(), or_depth + 1);
        if (!n.ok()) return n.status();
        sum += *n;
        out->any_of.push_back(std::move(node));
      }
      combinations *= sum;
    } else if (value.is_array()) {
      if (value.empty()) return Invalid("Empty arrays are not allowed");
      FilterPolicy::Node::Field field;
      field.key = key;
      for (const auto& element : value) {
        auto c = ParseCondition(element);
        if (!c.ok()) return c.status();
        field.conditions.push_back(std::move(*c));
      }
      limits.leaf_paths.insert(path + key);
      combinations *= value.size() * depth;
      out->fields.push_back(std::move(field));
    } else if (value.is_object()) {
      limits.nested = true;
      FilterPolicy::Node::Field field;
      field.key = key;
      field.nested = std::make_unique<FilterPolicy::Node>();
      auto n = ParseNode(value, path + key + ".", depth + 1, limits, field.nested.get(), or_depth);
      if (!n.ok()) return n.status();
      combinations *= *n;
      out->fields.push_back(std::move(field));
    } else {
      return Invalid("\"" + key + "\" must be an object or an array");
    }
    if (limits.leaf_paths.size() > kMaxKeys) {
      return Invalid("Filter policy can not have more than 5 keys");
    }
    if (combinations > kMaxCombinations) return Invalid("Filter policy is too complex");
  }
  return combinations;
}

// Messages are outside input: arrays nested deeper than this are not looked into (a 256 KiB
// body of brackets must not exhaust the stack).
constexpr int kMaxMessageDepth = 64;

void AddJsonScalar(const json& v, std::vector<Scalar>* out, int depth = 0) {
  if (v.is_array()) {  // arrays of arrays: every leaf counts
    if (depth >= kMaxMessageDepth) return;
    for (const auto& element : v) AddJsonScalar(element, out, depth + 1);
    return;
  }
  Scalar s;
  if (v.is_string()) {
    s.type = Scalar::Type::kString;
    s.text = v.get_ref<const std::string&>();
  } else if (v.is_number()) {
    s.type = Scalar::Type::kNumber;
    s.number = v.get<double>();
  } else if (v.is_boolean()) {
    s.type = Scalar::Type::kBool;
    s.flag = v.get<bool>();
  } else if (!v.is_null()) {
    return;  // objects are not leaf values
  }
  out->push_back(s);
}

// `present`: the key is there; exists:true also needs a leaf value other than null (an empty
// array, an object or null do not count, per "Attribute key matching").
bool FieldMatches(const FilterPolicy::Node::Field& field, bool present,
                  const std::vector<Scalar>& values) {
  for (const Condition& c : field.conditions) {
    if (c.kind == Condition::Kind::kExists) {
      bool has_value = std::any_of(values.begin(), values.end(),
                                   [](const Scalar& v) { return v.type != Scalar::Type::kNull; });
      if (c.flag ? has_value : !present) return true;
      continue;
    }
    for (const Scalar& v : values) {
      if (c.Matches(v)) return true;
    }
  }
  return false;
}

bool NodeMatchesAttributes(const FilterPolicy::Node& node, const MessageAttributes& attributes) {
  // exists:false needs some attribute to be present: a message without any matches nothing.
  if (attributes.empty()) return false;
  for (const auto& field : node.fields) {
    std::vector<Scalar> values;
    json array;  // a String.Array's elements; `values` points into it
    auto it = attributes.find(field.key);
    // Binary attributes are not matched by filter policies.
    bool present = it != attributes.end() && !it->second.is_binary();
    if (present) {
      const AttributeValue& a = it->second;
      if (a.data_type == "String.Array") {
        array = json::parse(a.string_value, nullptr, /*allow_exceptions=*/false);
        if (array.is_array()) {
          for (const auto& element : array) AddJsonScalar(element, &values);
        }
      } else if (a.data_type.rfind("Number", 0) == 0) {
        Scalar s;
        s.type = Scalar::Type::kNumber;
        const std::string& text = a.string_value;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), s.number);
        if (ec == std::errc() && end == text.data() + text.size()) values.push_back(s);
      } else {
        Scalar s;
        s.type = Scalar::Type::kString;
        s.text = a.string_value;
        values.push_back(s);
      }
    }
    if (!FieldMatches(field, present, values)) return false;
  }
  if (node.any_of.empty()) return true;
  for (const auto& alternative : node.any_of) {
    if (NodeMatchesAttributes(*alternative, attributes)) return true;
  }
  return false;
}

// The value under `key`; a dotted key ("a.b") also reaches into nested objects, as on AWS.
const json* Lookup(const json& object, std::string_view key) {
  auto it = object.find(key);
  if (it != object.end()) return &*it;
  // Body keys may contain dots themselves: try every split ("a.b.c" -> "a" + "b.c", "a.b" + "c").
  for (size_t dot = key.find('.'); dot != std::string_view::npos; dot = key.find('.', dot + 1)) {
    auto head = object.find(key.substr(0, dot));
    if (head == object.end() || !head->is_object()) continue;
    if (const json* found = Lookup(*head, key.substr(dot + 1))) return found;
  }
  return nullptr;
}

bool NodeMatchesBody(const FilterPolicy::Node& node, const json& object);

// A nested policy holds for an object, or for any object inside (arrays of) arrays.
bool NestedMatches(const FilterPolicy::Node& node, const json& value, int depth = 0) {
  if (value.is_object()) return NodeMatchesBody(node, value);
  if (value.is_array() && depth < kMaxMessageDepth) {
    return std::any_of(value.begin(), value.end(), [&](const json& element) {
      return NestedMatches(node, element, depth + 1);
    });
  }
  return false;
}

bool NodeMatchesBody(const FilterPolicy::Node& node, const json& object) {
  for (const auto& field : node.fields) {
    const json* value = Lookup(object, field.key);
    if (field.nested) {
      if (value == nullptr || !NestedMatches(*field.nested, *value)) return false;
      continue;
    }
    std::vector<Scalar> values;
    if (value != nullptr) AddJsonScalar(*value, &values);
    if (!FieldMatches(field, value != nullptr, values)) return false;
  }
  if (node.any_of.empty()) return true;
  for (const auto& alternative : node.any_of) {
    if (NodeMatchesBody(*alternative, object)) return true;
  }
  return false;
}

}  // namespace

FilterInput::FilterInput(const MessageAttributes& attributes, std::string_view body)
    : attributes_(attributes), body_text_(body) {}

const json* FilterInput::body() const {
  if (!body_) body_ = json::parse(body_text_, nullptr, /*allow_exceptions=*/false);
  return body_->is_object() ? &*body_ : nullptr;
}

Result<std::shared_ptr<const FilterPolicy>> FilterPolicy::Compile(std::string_view policy_json,
                                                                  FilterScope scope) {
  json policy = json::parse(policy_json, nullptr, /*allow_exceptions=*/false);
  if (policy.is_discarded()) return Invalid("failed to parse JSON.");
  auto root = std::make_unique<Node>();
  Limits limits;
  auto combinations = ParseNode(policy, "", 1, limits, root.get());
  if (!combinations.ok()) return combinations.status();
  if (limits.nested && scope == FilterScope::kMessageAttributes) {
    // Checked after the whole policy parsed, as AWS reports other problems first; this text
    // has no "FilterPolicy:" part.
    return Status(ErrorCode::kInvalidParameter,
                  "Invalid parameter: Filter policy scope MessageAttributes does not support "
                  "nested filter policy");
  }
  return std::shared_ptr<const FilterPolicy>(new FilterPolicy(std::move(root), scope));
}

FilterPolicy::FilterPolicy(std::unique_ptr<Node> root, FilterScope scope)
    : root_(std::move(root)), scope_(scope) {}

FilterPolicy::~FilterPolicy() = default;

bool FilterPolicy::Matches(const FilterInput& input) const {
  if (root_->fields.empty() && root_->any_of.empty()) return true;  // "{}" matches everything
  if (scope_ == FilterScope::kMessageBody) {
    const json* body = input.body();
    return body != nullptr && NodeMatchesBody(*root_, *body);
  }
  return NodeMatchesAttributes(*root_, input.attributes());
}

}  // namespace postbox::core
