// The authorization step every API action takes before it touches a resource: may this
// caller perform `action` ("sqs:SendMessage") on `resource` (an ARN, or "*" for actions on no
// one resource, such as ListQueues)? Decided by core/policy/access_check.h from the caller's
// key (admin, or its policy) and the resource's own policy (a queue's or topic's `Policy`).
#pragma once

#include <string_view>

#include "base/status.h"
#include "core/policy/access_policy.h"
#include "wire/common/request_context.h"

namespace postbox::wire {

// Ok, or kAccessDenied with AWS's wording. Development mode (an unauthenticated context) is
// one account's world: everything is allowed there.
Status CheckAccess(const RequestContext& context, std::string_view action,
                   std::string_view resource,
                   const core::policy::Document* resource_policy = nullptr);

}  // namespace postbox::wire
