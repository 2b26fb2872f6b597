#include "core/topic/topic_permissions.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "core/policy/access_policy.h"
#include "core/topic/topic_attributes.h"

namespace postbox::core {
namespace {

using nlohmann::ordered_json;

Status InvalidParameter(const std::string& reason) {
  return Status(ErrorCode::kInvalidParameter, "Invalid parameter: " + reason);
}

// The SNS API's actions: what a topic policy statement may allow.
bool IsSnsAction(const std::string& name) {
  static const std::set<std::string> kActions = {
      "AddPermission",
      "CheckIfPhoneNumberIsOptedOut",
      "ConfirmSubscription",
      "CreatePlatformApplication",
      "CreatePlatformEndpoint",
      "CreateTopic",
      "DeleteEndpoint",
      "DeletePlatformApplication",
      "DeleteTopic",
      "GetDataProtectionPolicy",
      "GetEndpointAttributes",
      "GetPlatformApplicationAttributes",
      "GetSMSAttributes",
      "GetSubscriptionAttributes",
      "GetTopicAttributes",
      "ListEndpointsByPlatformApplication",
      "ListPhoneNumbersOptedOut",
      "ListPlatformApplications",
      "ListSubscriptions",
      "ListSubscriptionsByTopic",
      "ListTagsForResource",
      "ListTopics",
      "OptInPhoneNumber",
      "Publish",
      "PutDataProtectionPolicy",
      "RemovePermission",
      "SetEndpointAttributes",
      "SetPlatformApplicationAttributes",
      "SetSMSAttributes",
      "SetSubscriptionAttributes",
      "SetTopicAttributes",
      "Subscribe",
      "TagResource",
      "Unsubscribe",
      "UntagResource",
  };
  return kActions.count(name) > 0;
}

// The topic's policy document; the default one until a policy is set. A stored one that
// cannot be evaluated (kept from before policies were) is refused: rewritten statement by
// statement it could come out meaning something else (a repeated member dropped).
Result<ordered_json> PolicyOf(const Topic& topic) {
  auto set = topic.attributes.find("Policy");
  if (set != topic.attributes.end() &&
      !policy::ParsePolicy(set->second, policy::PolicyKind::kResource).ok()) {
    return InvalidParameter(
        "Policy Reason: the topic's stored Policy cannot be evaluated; set it anew with "
        "SetTopicAttributes");
  }
  ordered_json policy = ordered_json::parse(
      set != topic.attributes.end() ? set->second : DefaultPolicy(topic), nullptr, false);
  if (!policy.is_object()) return InvalidParameter("Policy: failed to parse JSON.");
  ordered_json& statements = policy["Statement"];
  if (statements.is_null()) {
    statements = ordered_json::array();
  } else if (statements.is_object()) {
    statements = ordered_json::array({statements});  // IAM allows a single statement
  } else if (!statements.is_array()) {
    return InvalidParameter("Policy");
  }
  return policy;
}

bool HasSid(const ordered_json& statement, const std::string& label) {
  auto sid = statement.find("Sid");
  return sid != statement.end() && sid->is_string() && sid->get<std::string>() == label;
}

// One value as a string, several as a list: as AWS writes Principal and Action.
ordered_json OneOrList(const std::vector<std::string>& values) {
  if (values.size() == 1) return values.front();
  return ordered_json(values);
}

std::string Dump(const ordered_json& policy) {
  return policy.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

// Statement ids: letters, digits, '-' and '_' (as IAM allows in a Sid).
bool ValidLabel(const std::string& label) {
  return !label.empty() && label.size() <= 100 &&
         std::all_of(label.begin(), label.end(),
                     [](char c) { return std::isalnum(uint8_t(c)) || c == '-' || c == '_'; });
}

// A 12-digit account id, or "*" for everyone.
bool ValidAccount(const std::string& account) {
  return account == "*" ||
         (account.size() == 12 && std::all_of(account.begin(), account.end(),
                                              [](char c) { return std::isdigit(uint8_t(c)); }));
}

}  // namespace

Status CheckPermissionRequest(const std::string& label, const std::vector<std::string>& accounts,
                              const std::vector<std::string>& actions) {
  if (!ValidLabel(label)) return InvalidParameter("Label");
  if (accounts.empty() || !std::all_of(accounts.begin(), accounts.end(), ValidAccount)) {
    return InvalidParameter("AWSAccountId");
  }
  if (actions.empty()) return InvalidParameter("ActionName");
  return Status::Ok();
}

Status AddPermissionStatement(Topic& topic, const std::string& label,
                              const std::vector<std::string>& accounts,
                              const std::vector<std::string>& actions) {
  POSTBOX_RETURN_IF_ERROR(CheckPermissionRequest(label, accounts, actions));
  auto policy = PolicyOf(topic);
  if (!policy.ok()) return policy.status();
  ordered_json& statements = (*policy)["Statement"];
  if (std::any_of(statements.begin(), statements.end(),
                  [&](const ordered_json& s) { return HasSid(s, label); })) {
    return InvalidParameter("Statement already exists");
  }
  std::vector<std::string> principals;
  for (const auto& account : accounts) {
    principals.push_back(account == "*" ? account : "arn:aws:iam::" + account + ":root");
  }
  std::vector<std::string> allowed;
  for (const auto& action : actions) {
    if (!IsSnsAction(action)) {
      return InvalidParameter("Policy statement action out of service scope!");
    }
    allowed.push_back("SNS:" + action);
  }
  ordered_json statement;
  statement["Sid"] = label;
  statement["Effect"] = "Allow";
  statement["Principal"] = {{"AWS", OneOrList(principals)}};
  statement["Action"] = OneOrList(allowed);
  statement["Resource"] = topic.arn;
  statements.push_back(std::move(statement));
  // The policy is enforced: one stored before it was (now unreadable) must be set anew
  // rather than silently grant nothing.
  std::string text = Dump(*policy);
  if (auto parsed = policy::ParsePolicy(text, policy::PolicyKind::kResource); !parsed.ok()) {
    return InvalidParameter("Policy Reason: " + parsed.status().message());
  }
  topic.attributes["Policy"] = std::move(text);
  return Status::Ok();
}

Status RemovePermissionStatement(Topic& topic, const std::string& label) {
  if (!ValidLabel(label)) return InvalidParameter("Label");
  auto policy = PolicyOf(topic);
  if (!policy.ok()) return policy.status();
  ordered_json& statements = (*policy)["Statement"];
  ordered_json kept = ordered_json::array();
  for (auto& s : statements) {
    if (!HasSid(s, label)) kept.push_back(std::move(s));
  }
  if (kept.size() == statements.size()) return Status::Ok();
  statements = std::move(kept);
  topic.attributes["Policy"] = Dump(*policy);
  return Status::Ok();
}

}  // namespace postbox::core
