// Access policies in the subset of IAM's JSON policy language that postbox evaluates: the
// policy of an access key (what the key may do) and the `Policy` attribute of a queue or a
// topic (who else may use the resource).
//
// Understood: Version, Id, Statement (one object or a list); per statement Sid, Effect
// (Allow/Deny), Action or NotAction, Resource or NotResource, Principal (resource policies),
// Condition with the string, ARN, Bool and Null operators (each also as ...IfExists) over the
// keys aws:SourceArn, aws:SourceAccount, aws:SourceOwner, aws:PrincipalAccount and
// aws:SecureTransport. Anything else (NotPrincipal, other operators or keys, set operators
// such as ForAnyValue:) is refused when the policy is set, so that no statement is silently
// read more loosely than its author meant.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace postbox::core::policy {

enum class Effect { kAllow, kDeny };

// Who a resource-policy statement speaks to.
struct Principal {
  bool everyone = false;              // "*" or {"AWS": "*"}
  std::vector<std::string> accounts;  // 12-digit ids ("arn:aws:iam::<id>:root" is the same)
  std::vector<std::string> services;  // "sns.amazonaws.com"
  // IAM users and roles do not exist in postbox: such principals are kept (so a policy
  // written for AWS is accepted) but never match anyone.
  std::vector<std::string> unmatched;
};

struct Condition {
  enum class Operator {
    kStringEquals,
    kStringNotEquals,
    kStringEqualsIgnoreCase,
    kStringNotEqualsIgnoreCase,
    kStringLike,
    kStringNotLike,
    kArnEquals,
    kArnNotEquals,
    kArnLike,
    kArnNotLike,
    kBool,
    kNull,
  };
  Operator op = Operator::kStringEquals;
  bool if_exists = false;
  std::string key;  // lower case: "aws:sourcearn"
  std::vector<std::string> values;
};

struct Statement {
  Effect effect = Effect::kAllow;
  bool not_action = false;
  std::vector<std::string> actions;  // "sqs:SendMessage", "sns:*", "*"
  bool not_resource = false;
  std::vector<std::string> resources;  // ARNs with * and ? wildcards
  bool has_principal = false;          // resource policies only
  Principal principal;
  std::vector<Condition> conditions;
};

struct Document {
  std::vector<Statement> statements;
};

enum class PolicyKind {
  kIdentity,  // an access key's: no Principal
  kResource,  // a queue's or topic's: every statement names a Principal
};

// The largest policy text accepted (SNS's limit for a topic policy; IAM's and SQS's are lower).
inline constexpr size_t kMaxPolicyBytes = 30 * 1024;

// Parses and checks a policy. The error (kInvalidParameterValue) says what is wrong, for the
// caller to wrap in its protocol's error.
Result<std::shared_ptr<const Document>> ParsePolicy(std::string_view text, PolicyKind kind);

}  // namespace postbox::core::policy
