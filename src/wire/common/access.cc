#include "wire/common/access.h"

#include <string>

#include "core/policy/access_check.h"

namespace postbox::wire {

Status CheckAccess(const RequestContext& context, std::string_view action,
                   std::string_view resource, const core::policy::Document* resource_policy) {
  if (!context.authenticated) return Status::Ok();
  core::policy::Caller caller;
  caller.account = context.account;
  caller.admin = context.admin;
  caller.policy = context.policy.get();
  caller.secure_transport = context.scheme == "https";
  core::policy::Target target;
  target.action = action;
  target.resource = resource;
  target.resource_account = core::policy::ArnAccount(resource);
  target.resource_policy = resource_policy;
  const core::policy::Decision decision = core::policy::Authorize(caller, target);
  if (decision == core::policy::Decision::kAllowed) return Status::Ok();
  const bool explicit_deny = decision == core::policy::Decision::kExplicitDeny;
  if (context.denials != nullptr) {
    (explicit_deny ? context.denials->explicit_deny : context.denials->no_allow).Add();
  }
  // IAM's wording, naming the caller by account and key (the caller's own; never a secret).
  std::string message = "User: arn:aws:iam::" + context.account + ":user/" + context.access_key_id +
                        " is not authorized to perform: " + std::string(action) +
                        " on resource: " + std::string(resource);
  message += explicit_deny ? " with an explicit deny" : " because no policy allows it";
  return Status(ErrorCode::kAccessDenied, message);
}

}  // namespace postbox::wire
