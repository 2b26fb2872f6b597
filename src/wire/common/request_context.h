// RequestContext: who is calling and where, as parsed from the request's headers.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/metrics.h"
#include "core/policy/access_policy.h"
#include "wire/common/http_message.h"

namespace postbox::wire {

// Requests refused by access policies (access.h), for /metrics.
struct AccessDenials {
  Counter explicit_deny;  // a Deny statement matched
  Counter no_allow;       // no statement allowed it (the default deny)
};

struct RequestContext {
  std::string request_id;
  std::string access_key_id;    // from the SigV4 credential scope; empty if unsigned
  std::string region;           // from the credential scope, else the server default
  std::string service;          // signing name from the scope ("sqs"), may be empty
  std::string account;          // the caller's account id
  std::string host;             // Host header, for building queue URLs
  std::string scheme = "http";  // "https" on the TLS listener, for the same
  std::string trace_header;     // X-Amzn-Trace-Id header (X-Ray), empty if absent
  // Set when a SigV4 signature was verified (auth.mode = "sigv4"): `account` is then the
  // key's, and what the request may touch is decided by access.h from the key's `admin` or
  // `policy` and the resource's own policy.
  bool authenticated = false;
  bool admin = false;
  std::shared_ptr<const core::policy::Document> policy;  // the key's; null: none
  AccessDenials* denials = nullptr;                      // where refusals are counted
  // An unsigned visit of a SubscribeURL or UnsubscribeURL link (sigv4 mode lets those in).
  bool unsigned_link_visit = false;
};

// Fills access key, region and service from an "AWS4-HMAC-SHA256 Credential=AKID/date/region/
// service/aws4_request, ..." header (or the X-Amz-Credential query parameter); other fields
// keep their defaults when absent. Signature verification is not done here.
void ParseCredentialScope(const HttpRequest& request, RequestContext* context);

// True when a signed caller names, anywhere in `text` (a parameter, or an attribute such as a
// RedrivePolicy's JSON), an SQS or SNS ARN of another account. Signed callers reach only their
// own account's resources until resource policies are evaluated; development mode (not
// authenticated) is one account's world and never refused.
bool NamesAnotherAccount(const RequestContext& context, std::string_view text);

}  // namespace postbox::wire
