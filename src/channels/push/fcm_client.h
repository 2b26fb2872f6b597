// FcmClient: Firebase Cloud Messaging HTTP v1, authorised with a service account.
//
// The access token comes from the account's token_uri (Google's OAuth endpoint): postbox signs
// a JWT with the account's RSA key (RS256; iss = client_email, scope = firebase.messaging,
// aud = token_uri, valid one hour) and trades it for a bearer token, which is cached until a
// minute before it expires (or until FCM answers 401). A message then goes as
// POST {endpoint}/v1/projects/{project_id}/messages:send with {"message": {...,"token"}}.
// FCM's answer is judged from its error details (google.rpc.Status with FcmError.errorCode):
// UNREGISTERED and SENDER_ID_MISMATCH mean the device token is dead (the endpoint must be
// disabled, as SNS does); INVALID_ARGUMENT is permanent (and kills the token when FCM says the
// token is the invalid argument); QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL, THIRD_PARTY_AUTH_ERROR
// and no answer are retried.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "channels/http_sender.h"

namespace postbox::channels {

struct ServiceAccount {
  std::string client_email;
  std::string private_key;  // PEM; never logged
  std::string project_id;
  std::string token_uri = "https://oauth2.googleapis.com/token";
};

// A Firebase service-account key file's JSON, or why it is not one.
Result<ServiceAccount> ParseServiceAccount(const std::string& json_text);

// The signed assertion for the token request: header.claims.signature, base64url without
// padding. Fails only when the private key cannot be read.
Result<std::string> MakeServiceAccountJwt(const ServiceAccount& account, int64_t now_seconds);

enum class PushVerdict {
  kSent,
  kRetry,
  kPermanent,  // this message cannot be delivered
  kDeadToken,  // the device token is unregistered or invalid: disable the endpoint
  kNotTried,   // shutting down
};

struct PushResult {
  PushVerdict verdict = PushVerdict::kRetry;
  int status = 0;
  std::string error;  // never a credential
  int retry_after_seconds = -1;
};

// FCM's answer to a send, judged.
PushResult ClassifyFcmAnswer(const OutboundResponse& response);

class FcmClient {
 public:
  // `endpoint`: "https://fcm.googleapis.com" (overridable for tests).
  FcmClient(HttpSender& sender, const Clock& clock, std::string endpoint);

  // Sends `message` (FCM's message object without "token") to `device_token`.
  void Send(const ServiceAccount& account, const std::string& device_token,
            const std::string& message_json, std::function<void(PushResult)> done);

  // Bearer tokens fetched since start (for tests and /metrics).
  uint64_t token_requests() const;

 private:
  struct CachedToken {
    std::string access_token;
    int64_t expires_ms = 0;
  };
  void SendWithToken(const ServiceAccount& account, const std::string& bearer,
                     const std::string& device_token, const std::string& message_json,
                     std::function<void(PushResult)> done);
  static std::string CacheKey(const ServiceAccount& account);

  HttpSender& sender_;
  const Clock& clock_;
  const std::string endpoint_;
  mutable std::mutex mu_;
  std::map<std::string, CachedToken> tokens_;  // by account (one per platform application)
  uint64_t token_requests_ = 0;
};

}  // namespace postbox::channels
