// Authenticator: who is calling. In SigV4 mode every API request must be signed with one of
// the configured access keys (sigv4.h checks the signature); the key's account then scopes
// every resource the request names. Without an Authenticator (development mode) any
// credentials are accepted and the server's default account is used.
//
// Thread-safety: Authenticate may be called from any number of threads at once; the keys are
// fixed at construction.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/status.h"
#include "wire/auth/request_rate.h"
#include "wire/common/http_message.h"
#include "wire/common/request_context.h"

namespace postbox::wire::auth {

struct AccessKey {
  std::string access_key_id;
  std::string secret_key;     // never logged
  std::string account;        // 12 digits: the account the key's requests act in
  std::string session_token;  // temporary credentials only; empty for a long-term key
  bool admin = true;          // anything in its account; else only what `policy` allows
  std::shared_ptr<const core::policy::Document> policy;
  double requests_per_second = 0;  // 0: no limit; beyond it requests are throttled
};

class Authenticator {
 public:
  // Failed authentications by reason, for /metrics (no key ids: they are half a credential).
  struct Failures {
    Counter missing;        // MissingAuthenticationToken
    Counter incomplete;     // IncompleteSignature
    Counter unknown_key;    // InvalidClientTokenId
    Counter bad_signature;  // SignatureDoesNotMatch (also a clock outside the window)
    Counter expired;        // RequestExpired (a presigned URL)
    Counter throttled;      // a valid request over its key's requests_per_second
  };

  Authenticator(std::vector<AccessKey> keys, const Clock& clock);

  // Checks the request's signature and its key's request rate; on success fills the
  // context's access key, region, service, account and permissions from the key. The error is
  // AWS's (sigv4.h; kThrottling over the rate), for the caller's protocol to render.
  // `service` is the signing name of the API answering ("sqs", "sns", "ses"): a signature
  // scoped to another service is refused as AWS refuses it, except the APIs postbox does not
  // serve yet (EventBridge, Scheduler, CloudWatch), whose operations then get the
  // unsupported-operation answer rather than a signing error.
  Status Authenticate(const HttpRequest& request, std::string_view service,
                      RequestContext* context) const;

  const Failures& failures() const { return failures_; }
  const AccessDenials& denials() const { return denials_; }
  size_t key_count() const { return keys_.size(); }

 private:
  struct Entry {
    AccessKey key;
    std::unique_ptr<RequestRate> rate;  // null: no limit
  };
  std::map<std::string, Entry> keys_;  // by access key id
  const Clock& clock_;
  mutable Failures failures_;
  mutable AccessDenials denials_;
};

}  // namespace postbox::wire::auth
