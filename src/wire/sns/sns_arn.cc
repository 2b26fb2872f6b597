#include "wire/sns/sns_arn.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "base/encoding.h"
#include "wire/common/access.h"

namespace postbox::wire::sns {
namespace {

// The position of the n-th ':' (1-based); the ARN has at least five.
size_t NthColon(const std::string& arn, int n) {
  size_t at = std::string::npos;
  for (int i = 0; i < n; ++i) at = arn.find(':', at + 1);
  return at;
}

// The resource IAM checks for an ARN parameter: a subscription is checked as its topic.
std::string ResourceOf(std::string_view name, const std::string& arn) {
  if (name == "SubscriptionArn" && std::count(arn.begin(), arn.end(), ':') >= 6) {
    return arn.substr(0, arn.rfind(':'));
  }
  return arn;
}

// A topic's ARN has no '/' and no seventh part (endpoints and applications have '/').
bool IsTopicArn(const std::string& arn) {
  return arn.rfind("arn:aws:sns:", 0) == 0 && std::count(arn.begin(), arn.end(), ':') == 5 &&
         arn.find('/') == std::string::npos;
}

// The parameter naming the resource of each action that acts on one, as IAM checks it.
// Publish (TopicArn or TargetArn) and CreateTopic (Name) are handled by CallResource below;
// every other action acts on no one resource and is checked against the whole account.
const char* ResourceParameter(const std::string& action) {
  static const std::unordered_map<std::string, const char*> kParameters = {
      {"DeleteTopic", "TopicArn"},
      {"GetTopicAttributes", "TopicArn"},
      {"SetTopicAttributes", "TopicArn"},
      {"Subscribe", "TopicArn"},
      {"ConfirmSubscription", "TopicArn"},
      {"ListSubscriptionsByTopic", "TopicArn"},
      {"AddPermission", "TopicArn"},
      {"RemovePermission", "TopicArn"},
      {"PublishBatch", "TopicArn"},
      {"Unsubscribe", "SubscriptionArn"},
      {"GetSubscriptionAttributes", "SubscriptionArn"},
      {"SetSubscriptionAttributes", "SubscriptionArn"},
      {"TagResource", "ResourceArn"},
      {"UntagResource", "ResourceArn"},
      {"ListTagsForResource", "ResourceArn"},
      {"PutDataProtectionPolicy", "ResourceArn"},
      {"GetDataProtectionPolicy", "ResourceArn"},
      {"GetPlatformApplicationAttributes", "PlatformApplicationArn"},
      {"SetPlatformApplicationAttributes", "PlatformApplicationArn"},
      {"DeletePlatformApplication", "PlatformApplicationArn"},
      {"CreatePlatformEndpoint", "PlatformApplicationArn"},
      {"ListEndpointsByPlatformApplication", "PlatformApplicationArn"},
      {"GetEndpointAttributes", "EndpointArn"},
      {"SetEndpointAttributes", "EndpointArn"},
      {"DeleteEndpoint", "EndpointArn"},
  };
  auto it = kParameters.find(action);
  return it == kParameters.end() ? nullptr : it->second;
}

// The resource the call acts on; empty when the parameter naming it is missing or empty.
std::string CallResource(const SnsCall& call) {
  const std::string account_prefix =
      "arn:aws:sns:" + call.context.region + ":" + call.context.account + ":";
  if (call.action == "CreateTopic") return account_prefix + call.String("Name");
  if (call.action == "Publish") {
    // As the handler reads it: TopicArn, else TargetArn, else a phone number (the account).
    std::string target = call.String("TopicArn");
    if (target.empty()) target = call.String("TargetArn");
    return target.empty() ? account_prefix + "*" : target;
  }
  const char* parameter = ResourceParameter(call.action);
  if (parameter == nullptr) return account_prefix + "*";
  return ResourceOf(parameter, call.String(parameter));
}

}  // namespace

Status AuthorizeCall(SnsCall& call) {
  // An unauthenticated call (development mode, or a visit of an unsigned link, which the
  // handler itself limits) checks nothing here: skip building the resource.
  if (!call.context.authenticated) return Status::Ok();
  call.authorized_resource = CallResource(call);
  // A missing resource parameter: the handler answers InvalidParameter (RequiredArn holds it
  // to this empty resource, so it cannot act on another).
  if (call.authorized_resource.empty()) return Status::Ok();
  std::shared_ptr<const core::policy::Document> policy;
  if (IsTopicArn(call.authorized_resource)) {
    auto found = call.topics->TopicAccessPolicy(call.authorized_resource);
    if (found.ok()) policy = *found;
  }
  return CheckAccess(call.context, "sns:" + call.action, call.authorized_resource, policy.get());
}

Result<std::string> RequiredArn(const SnsCall& call, const char* name) {
  auto value = call.Required(name);
  if (!value.ok()) return value.status();
  size_t parts = size_t(std::count(value->begin(), value->end(), ':')) + 1;
  if (parts < 6) {
    return Status(ErrorCode::kInvalidParameter,
                  std::string("Invalid parameter: ") + name +
                      " Reason: An ARN must have at least 6 elements, not " +
                      std::to_string(parts));
  }
  // The ARN a handler acts on must be the one AuthorizeCall checked (a request naming one
  // resource in TopicArn and another in ResourceArn is refused, not half-checked).
  if (call.context.authenticated && ResourceOf(name, *value) != call.authorized_resource) {
    return Status(ErrorCode::kAccessDenied,
                  std::string("User is not authorized to access ") + name + " " + *value);
  }
  // A topic belongs to its region: a client in another region cannot name it (AWS answers
  // so for every action that takes a TopicArn).
  if (std::string_view(name) == "TopicArn" || std::string_view(name) == "TargetArn") {
    const size_t region_start = NthColon(*value, 3) + 1;
    const size_t region_end = value->find(':', region_start);
    if (value->compare(region_start, region_end - region_start, call.context.region) != 0) {
      return Status(ErrorCode::kInvalidParameter, std::string("Invalid parameter: ") + name);
    }
  }
  return value;
}

Result<PageRange> Page(size_t total, size_t page_size, const std::string& token) {
  PageRange page;
  if (!token.empty()) {
    // Tokens are the base64 of the next item's position: opaque to clients, as AWS's are.
    auto decoded = Base64Decode(token);
    size_t position = 0;
    bool valid = decoded.has_value();
    if (valid) {
      auto [end, ec] =
          std::from_chars(decoded->data(), decoded->data() + decoded->size(), position);
      valid = ec == std::errc() && end == decoded->data() + decoded->size();
    }
    if (!valid) return Status(ErrorCode::kInvalidParameter, "Invalid parameter: NextToken");
    page.begin = std::min(position, total);
  }
  page.end = std::min(total, page.begin + page_size);
  if (page.end < total) page.next_token = Base64Encode(std::to_string(page.end));
  return page;
}

}  // namespace postbox::wire::sns
