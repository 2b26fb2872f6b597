// Reading ARNs and page tokens from SNS requests, with AWS's errors for malformed ones.
#pragma once

#include <string>

#include "wire/sns/sns_call.h"

namespace postbox::wire::sns {

// The ARN parameter `name`, which must be present and have at least six ':'-separated parts
// ("Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"). An
// ARN of another account is refused unless AuthorizeCall let the caller in to it.
Result<std::string> RequiredArn(const SnsCall& call, const char* name);

// Whether the caller may perform the call's action (IAM's "sns:Publish") on the resource the
// action acts on: for each action, the one parameter its handler reads (TopicArn, the topic of
// a SubscriptionArn, ResourceArn, PlatformApplicationArn, EndpointArn; Publish's TopicArn or
// TargetArn), the topic CreateTopic makes, else every resource of the account
// ("arn:aws:sns:<region>:<account>:*"). A topic's Policy can let other accounts in. Records
// the resource in call->authorized_resource, which RequiredArn holds handlers to.
Status AuthorizeCall(SnsCall& call);

struct PageRange {
  size_t begin = 0;
  size_t end = 0;
  std::string next_token;  // empty on the last page
};
// The page of `total` items that `token` (empty: the first page) selects.
Result<PageRange> Page(size_t total, size_t page_size, const std::string& token);

}  // namespace postbox::wire::sns
