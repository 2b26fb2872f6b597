#include "core/policy/access_policy.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

namespace postbox::core::policy {
namespace {

using nlohmann::json;

Status Invalid(const std::string& why) { return Status(ErrorCode::kInvalidParameterValue, why); }

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return text;
}

bool IsAccountId(std::string_view text) {
  return text.size() == 12 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A string, or a non-empty list of strings (IAM's "one or many"). Condition values may also be
// numbers or booleans, which IAM compares as their text.
Result<std::vector<std::string>> Strings(const json& value, const std::string& where,
                                         bool scalars_allowed = false) {
  std::vector<std::string> out;
  auto add = [&](const json& item) -> Status {
    if (item.is_string()) {
      out.push_back(item.get<std::string>());
    } else if (scalars_allowed && (item.is_boolean() || item.is_number())) {
      out.push_back(item.dump());
    } else {
      return Invalid(where + " must be a string or a list of strings");
    }
    return Status();
  };
  if (value.is_array()) {
    if (value.empty()) return Invalid(where + " must not be empty");
    for (const json& item : value) POSTBOX_RETURN_IF_ERROR(add(item));
  } else {
    POSTBOX_RETURN_IF_ERROR(add(value));
  }
  return out;
}

// IAM's policy variables ("${aws:username}") are not substituted by postbox: a pattern
// holding one would be matched literally and so never apply, which for a Deny is a hole.
Status RefuseVariables(const std::vector<std::string>& values, const std::string& where) {
  for (const std::string& value : values) {
    if (value.find("${") != std::string::npos) {
      return Invalid(where + " \"" + value + "\" uses a policy variable, which is not supported");
    }
  }
  return Status();
}

Status CheckActions(const std::vector<std::string>& actions) {
  for (const std::string& action : actions) {
    const size_t colon = action.find(':');
    if (action != "*" && (colon == std::string::npos || colon == 0 || colon + 1 == action.size())) {
      return Invalid("Action \"" + action + "\" must be \"*\" or service:operation");
    }
  }
  return Status();
}

Result<Principal> ParsePrincipal(const json& value) {
  Principal principal;
  if (value.is_string()) {
    if (value.get<std::string>() != "*") return Invalid("Principal must be \"*\" or an object");
    principal.everyone = true;
    return principal;
  }
  if (!value.is_object() || value.empty()) return Invalid("Principal must be \"*\" or an object");
  for (const auto& [type, members] : value.items()) {
    auto names = Strings(members, "Principal " + type);
    if (!names.ok()) return names.status();
    for (std::string& name : *names) {
      if (type == "AWS") {
        constexpr std::string_view kIamPrefix = "arn:aws:iam::";
        constexpr std::string_view kRootSuffix = ":root";
        std::string_view view(name);
        if (name == "*") {
          principal.everyone = true;
        } else if (IsAccountId(name)) {
          principal.accounts.push_back(name);
        } else if (view.rfind(kIamPrefix, 0) == 0 && view.size() > kIamPrefix.size() + 12 &&
                   IsAccountId(view.substr(kIamPrefix.size(), 12)) &&
                   view.substr(kIamPrefix.size() + 12) == kRootSuffix) {
          principal.accounts.emplace_back(view.substr(kIamPrefix.size(), 12));
        } else if (view.rfind(kIamPrefix, 0) == 0) {
          principal.unmatched.push_back(name);
        } else {
          return Invalid("Principal AWS \"" + name + "\" is not an account id or an IAM ARN");
        }
      } else if (type == "Service") {
        principal.services.push_back(name);
      } else {
        return Invalid("Principal type " + type + " is not supported (AWS and Service are)");
      }
    }
  }
  return principal;
}

struct OperatorName {
  std::string_view name;
  Condition::Operator op;
};
constexpr OperatorName kOperators[] = {
    {"StringEquals", Condition::Operator::kStringEquals},
    {"StringNotEquals", Condition::Operator::kStringNotEquals},
    {"StringEqualsIgnoreCase", Condition::Operator::kStringEqualsIgnoreCase},
    {"StringNotEqualsIgnoreCase", Condition::Operator::kStringNotEqualsIgnoreCase},
    {"StringLike", Condition::Operator::kStringLike},
    {"StringNotLike", Condition::Operator::kStringNotLike},
    {"ArnEquals", Condition::Operator::kArnEquals},
    {"ArnNotEquals", Condition::Operator::kArnNotEquals},
    {"ArnLike", Condition::Operator::kArnLike},
    {"ArnNotLike", Condition::Operator::kArnNotLike},
    {"Bool", Condition::Operator::kBool},
    {"Null", Condition::Operator::kNull},
};

// The request facts a condition may test (access_check.h fills them).
constexpr std::string_view kConditionKeys[] = {
    "aws:sourcearn",        "aws:sourceaccount",   "aws:sourceowner",
    "aws:principalaccount", "aws:securetransport",
};

Status ParseConditions(const json& value, std::vector<Condition>* out) {
  if (!value.is_object()) return Invalid("Condition must be an object");
  for (const auto& [operator_text, tests] : value.items()) {
    std::string_view name(operator_text);
    Condition condition;
    constexpr std::string_view kIfExists = "IfExists";
    if (name.size() > kIfExists.size() &&
        name.substr(name.size() - kIfExists.size()) == kIfExists) {
      condition.if_exists = true;
      name.remove_suffix(kIfExists.size());
    }
    const auto known = std::find_if(std::begin(kOperators), std::end(kOperators),
                                    [&](const OperatorName& o) { return o.name == name; });
    if (known == std::end(kOperators) ||
        (condition.if_exists && known->op == Condition::Operator::kNull)) {
      return Invalid("Condition operator " + operator_text + " is not supported");
    }
    condition.op = known->op;
    if (!tests.is_object() || tests.empty()) {
      return Invalid("Condition " + operator_text + " must be an object of keys");
    }
    for (const auto& [key, values] : tests.items()) {
      condition.key = Lower(key);
      if (std::find(std::begin(kConditionKeys), std::end(kConditionKeys), condition.key) ==
          std::end(kConditionKeys)) {
        return Invalid("Condition key " + key + " is not supported");
      }
      const std::string where = "Condition " + operator_text + " " + key;
      auto strings = Strings(values, where, true);
      if (!strings.ok()) return strings.status();
      POSTBOX_RETURN_IF_ERROR(RefuseVariables(*strings, where));
      if (condition.op == Condition::Operator::kNull &&
          (strings->size() != 1 || ((*strings)[0] != "true" && (*strings)[0] != "false"))) {
        return Invalid(where + " must be \"true\" or \"false\"");
      }
      condition.values = std::move(*strings);
      out->push_back(condition);
    }
  }
  return Status();
}

Result<Statement> ParseStatement(const json& value, PolicyKind kind) {
  if (!value.is_object()) return Invalid("each Statement must be an object");
  Statement statement;
  bool has_effect = false;
  bool has_action = false;
  bool has_resource = false;
  for (const auto& [member, content] : value.items()) {
    if (member == "Sid") {
      if (!content.is_string()) return Invalid("Sid must be a string");
    } else if (member == "Effect") {
      if (content == "Allow") {
        statement.effect = Effect::kAllow;
      } else if (content == "Deny") {
        statement.effect = Effect::kDeny;
      } else {
        return Invalid("Effect must be Allow or Deny");
      }
      has_effect = true;
    } else if (member == "Action" || member == "NotAction") {
      if (has_action) return Invalid("a statement has either Action or NotAction");
      auto actions = Strings(content, member);
      if (!actions.ok()) return actions.status();
      POSTBOX_RETURN_IF_ERROR(CheckActions(*actions));
      POSTBOX_RETURN_IF_ERROR(RefuseVariables(*actions, member));
      statement.not_action = member == "NotAction";
      statement.actions = std::move(*actions);
      has_action = true;
    } else if (member == "Resource" || member == "NotResource") {
      if (has_resource) return Invalid("a statement has either Resource or NotResource");
      auto resources = Strings(content, member);
      if (!resources.ok()) return resources.status();
      POSTBOX_RETURN_IF_ERROR(RefuseVariables(*resources, member));
      statement.not_resource = member == "NotResource";
      statement.resources = std::move(*resources);
      has_resource = true;
    } else if (member == "Principal") {
      if (kind == PolicyKind::kIdentity) {
        return Invalid("an access key's policy cannot name a Principal");
      }
      auto principal = ParsePrincipal(content);
      if (!principal.ok()) return principal.status();
      statement.principal = std::move(*principal);
      statement.has_principal = true;
    } else if (member == "Condition") {
      POSTBOX_RETURN_IF_ERROR(ParseConditions(content, &statement.conditions));
    } else {
      return Invalid("statement member " + member + " is not supported");
    }
  }
  if (!has_effect) return Invalid("a statement needs an Effect");
  if (!has_action) return Invalid("a statement needs an Action");
  if (!has_resource) return Invalid("a statement needs a Resource");
  if (kind == PolicyKind::kResource && !statement.has_principal) {
    return Invalid("a statement of a resource's policy needs a Principal");
  }
  return statement;
}

}  // namespace

Result<std::shared_ptr<const Document>> ParsePolicy(std::string_view text, PolicyKind kind) {
  if (text.size() > kMaxPolicyBytes) {
    return Invalid("the policy is longer than " + std::to_string(kMaxPolicyBytes) + " bytes");
  }
  // JSON lets a member repeat and nlohmann keeps the last: {"Effect":"Deny","Effect":"Allow"}
  // would silently lose its Deny. A repeated member is refused instead.
  std::vector<std::set<std::string>> members;
  std::string repeated;
  const json::parser_callback_t track = [&](int, json::parse_event_t event, json& value) {
    if (event == json::parse_event_t::object_start) {
      members.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!members.empty()) members.pop_back();
    } else if (event == json::parse_event_t::key && !members.empty() &&
               !members.back().insert(value.get<std::string>()).second && repeated.empty()) {
      repeated = value.get<std::string>();
    }
    return true;
  };
  const json parsed = json::parse(text, track, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return Invalid("the policy is not a JSON object");
  if (!repeated.empty()) return Invalid("the member " + repeated + " appears twice");
  auto document = std::make_shared<Document>();
  bool has_statement = false;
  for (const auto& [member, content] : parsed.items()) {
    if (member == "Version") {
      if (content != "2012-10-17" && content != "2008-10-17") {
        return Invalid("Version must be 2012-10-17 or 2008-10-17");
      }
    } else if (member == "Id") {
      if (!content.is_string()) return Invalid("Id must be a string");
    } else if (member == "Statement") {
      has_statement = true;
      if (content.is_object()) {
        auto statement = ParseStatement(content, kind);
        if (!statement.ok()) return statement.status();
        document->statements.push_back(std::move(*statement));
      } else if (content.is_array()) {
        for (const json& item : content) {
          auto statement = ParseStatement(item, kind);
          if (!statement.ok()) return statement.status();
          document->statements.push_back(std::move(*statement));
        }
      } else {
        return Invalid("Statement must be an object or a list");
      }
    } else {
      return Invalid("policy member " + member + " is not supported");
    }
  }
  if (!has_statement) return Invalid("the policy has no Statement");
  return std::shared_ptr<const Document>(std::move(document));
}

}  // namespace postbox::core::policy
