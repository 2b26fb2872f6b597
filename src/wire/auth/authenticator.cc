#include "wire/auth/authenticator.h"

#include <algorithm>
#include <string_view>

#include "wire/auth/sigv4.h"

namespace postbox::wire::auth {

Authenticator::Authenticator(std::vector<AccessKey> keys, const Clock& clock) : clock_(clock) {
  for (AccessKey& key : keys) {
    std::string id = key.access_key_id;
    Entry& entry = keys_[id];
    if (key.requests_per_second > 0) {
      entry.rate = std::make_unique<RequestRate>(key.requests_per_second);
    }
    entry.key = std::move(key);
  }
}

Status Authenticator::Authenticate(const HttpRequest& request, std::string_view service,
                                   RequestContext* context) const {
  auto lookup = [this](const std::string& id) -> std::optional<SigningSecret> {
    auto it = keys_.find(id);
    if (it == keys_.end()) return std::nullopt;
    return SigningSecret{it->second.key.secret_key, it->second.key.session_token};
  };
  auto fields = VerifySigV4(request, lookup, clock_.NowMillis() / 1000);
  if (!fields.ok()) {
    switch (fields.status().code()) {
      case ErrorCode::kMissingAuthenticationToken:
        failures_.missing.Add();
        break;
      case ErrorCode::kIncompleteSignature:
        failures_.incomplete.Add();
        break;
      case ErrorCode::kInvalidClientTokenId:
        failures_.unknown_key.Add();
        break;
      case ErrorCode::kRequestExpired:
        failures_.expired.Add();
        break;
      default:
        failures_.bad_signature.Add();
        break;
    }
    return fields.status();
  }
  // Headers that choose the operation or how the body is read must be signed: else a presigned
  // URL (which signs only host) could be replayed as another operation.
  auto is_signed = [&](const char* name) {
    return std::find(fields->signed_headers.begin(), fields->signed_headers.end(), name) !=
           fields->signed_headers.end();
  };
  for (const char* name : {"x-amz-target", "content-type"}) {
    const bool needed = std::string_view(name) == "x-amz-target" || !request.body.empty();
    if (needed && !request.Header(name).empty() && !is_signed(name)) {
      failures_.incomplete.Add();
      return Status(
          ErrorCode::kIncompleteSignature,
          std::string("'") + name + "' must be a 'SignedHeader' in the AWS Authorization.");
    }
  }
  // APIs postbox does not serve yet reach a frontend only to be told their operation is
  // unsupported; any other scope must name the API answering.
  const bool not_served_yet = fields->service == "events" || fields->service == "scheduler" ||
                              fields->service == "monitoring";
  if (fields->service != service && !not_served_yet) {
    failures_.bad_signature.Add();
    return Status(
        ErrorCode::kSignatureDoesNotMatch,
        "Credential should be scoped to correct service: '" + std::string(service) + "'. ");
  }
  const Entry& entry = keys_.at(fields->access_key_id);
  if (entry.rate != nullptr && !entry.rate->TryTake(clock_.MonotonicMillis())) {
    failures_.throttled.Add();
    return Status(ErrorCode::kThrottling, "Rate exceeded");
  }
  context->authenticated = true;
  context->access_key_id = fields->access_key_id;
  context->region = fields->region;
  context->service = fields->service;
  const AccessKey& key = entry.key;
  context->account = key.account;
  context->admin = key.admin;
  context->policy = key.policy;
  context->denials = &denials_;
  return Status::Ok();
}

}  // namespace postbox::wire::auth
