// Deciding whether one request may act on one resource, from the caller's own policy and the
// resource's policy, as AWS decides it:
// - an explicit Deny in either policy refuses;
// - within one account, an Allow in either policy grants (a resource policy's Allow only
//   when it names everyone or a service: one naming the account itself leaves the decision
//   to the key's own policy, as IAM reads it);
// - across accounts, both must grant: the caller's account lets it act, and the resource's
//   owner lets that account in (resource policy);
// - otherwise the request is refused (the default deny).
// An admin key's own policy allows everything, as AWS's AdministratorAccess does.
#pragma once

#include <string>
#include <string_view>

#include "core/policy/access_policy.h"

namespace postbox::core::policy {

// Who asks. Exactly one of `account` (a signed caller) and `service` (an AWS service principal
// acting for a resource, such as SNS delivering a topic's message) is set.
struct Caller {
  std::string_view account;
  std::string_view service;  // "sns.amazonaws.com"
  bool admin = false;
  const Document* policy = nullptr;  // the key's policy; null: none
  bool secure_transport = false;     // aws:SecureTransport
  std::string_view source_arn;       // aws:SourceArn, for a service caller
  // For a service caller: the account it acts for when that may differ from the source's
  // (who subscribed a queue to a topic); empty: the source's.
  std::string_view acting_for;
};

// What is asked for.
struct Target {
  std::string_view action;            // "sqs:SendMessage"
  std::string_view resource;          // "arn:aws:sqs:us-east-1:123456789012:orders", or "*"
  std::string_view resource_account;  // its owner; empty for "*" (the caller's own)
  const Document* resource_policy = nullptr;
};

enum class Decision { kAllowed, kImplicitDeny, kExplicitDeny };

Decision Authorize(const Caller& caller, const Target& target);

// The account an ARN names ("" when `arn` is not an ARN, e.g. "*").
std::string_view ArnAccount(std::string_view arn);

// IAM's wildcards: '*' matches any run of characters, '?' any one.
bool WildcardMatch(std::string_view pattern, std::string_view text, bool ignore_case);

}  // namespace postbox::core::policy
