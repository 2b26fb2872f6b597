// PlatformService: SNS mobile push, protocol-free — platform applications (a Firebase project's
// credentials), their endpoints (one device token each), and Publish to an endpoint.
//
// Applications and endpoints are configuration: stored through the ConfigStore (durable, in
// order, before memory and the answer). Only the GCM platform (Firebase Cloud Messaging HTTP
// v1) delivers; its PlatformCredential is the Firebase service-account key (JSON), or empty
// when the server has a default key (push.fcm.service_account_file). A Publish to an endpoint
// stores the FCM message in the delivery outbox (protocol "application") before its answer;
// PushChannel sends it. When FCM says the token is dead, the endpoint is disabled
// (Enabled=false) as SNS does, and Publish to it answers EndpointDisabled until
// SetEndpointAttributes enables it again.
//
// Thread-safety: all methods are safe from any thread; callbacks run exactly once, possibly on
// a storage thread.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "channels/push/fcm_client.h"
#include "core/config/config_store.h"
#include "core/queue/queue_config.h"
#include "core/topic/delivery_outbox.h"
#include "core/topic/publish_request.h"
#include "storage/engine.h"

namespace postbox::core {

struct PlatformApplication {
  std::string arn;  // arn:aws:sns:<region>:<account>:app/<platform>/<name>
  std::string platform;
  AttributeMap attributes;  // PlatformCredential (never shown), PlatformPrincipal, Event*, ...
};

struct PlatformEndpoint {
  std::string arn;  // arn:aws:sns:<region>:<account>:endpoint/<platform>/<name>/<uuid>
  std::string application_arn;
  AttributeMap attributes;  // Token, Enabled, CustomUserData
};

struct PushOptions {
  RetryPolicy retry = ManagedRetryPolicy();
  std::optional<channels::ServiceAccount> default_account;  // push.fcm.service_account_file
};

class PlatformService {
 public:
  static constexpr size_t kPageSize = 100;

  PlatformService(storage::Engine& engine, const Clock& clock, ConfigStore& config,
                  DeliveryOutbox& outbox, PushOptions options);
  Status Load();

  void CreateApplication(const std::string& region, const std::string& account,
                         const std::string& name, const std::string& platform,
                         AttributeMap attributes, std::function<void(Result<std::string>)> done);
  // The attributes as AWS shows them (no PlatformCredential).
  Result<AttributeMap> GetApplicationAttributes(const std::string& arn) const;
  void SetApplicationAttributes(const std::string& arn, AttributeMap attributes,
                                StatusCallback done);
  void DeleteApplication(const std::string& arn, StatusCallback done);
  // A page of the account's applications after `next_token`, and the next page's token.
  Result<std::pair<std::vector<PlatformApplication>, std::string>> ListApplications(
      const std::string& region, const std::string& account, const std::string& next_token) const;

  void CreateEndpoint(const std::string& application_arn, const std::string& token,
                      const std::string& custom_user_data, AttributeMap attributes,
                      std::function<void(Result<std::string>)> done);
  Result<AttributeMap> GetEndpointAttributes(const std::string& arn) const;
  void SetEndpointAttributes(const std::string& arn, AttributeMap attributes, StatusCallback done);
  void DeleteEndpoint(const std::string& arn, StatusCallback done);
  Result<std::pair<std::vector<PlatformEndpoint>, std::string>> ListEndpoints(
      const std::string& application_arn, const std::string& next_token) const;

  // Publish to one endpoint (TargetArn): MessageStructure's GCM entry when there is one, else
  // the text. Answers the MessageId once the FCM message is stored for delivery.
  void Publish(const std::string& endpoint_arn, const PublishRequest& request,
               std::function<void(Result<std::string>)> done);

  // For PushChannel: where an endpoint's messages go right now.
  struct Target {
    std::string token;
    bool enabled = false;
    channels::ServiceAccount account;
  };
  Result<Target> TargetOf(const std::string& endpoint_arn) const;
  // FCM said the endpoint's token is dead: Enabled=false, stored in the background.
  void DisableEndpoint(const std::string& endpoint_arn, const std::string& token);

 private:
  void Store(storage::WriteBatch* batch, const PlatformApplication& app) const;
  void Store(storage::WriteBatch* batch, const PlatformEndpoint& endpoint) const;
  // The credential of an application: its PlatformCredential, else the default key.
  // `check_key`: also sign with the key once, so that a key OpenSSL cannot use is refused
  // (at create/set; deliveries only read the stored, checked key).
  Result<channels::ServiceAccount> AccountOf(const PlatformApplication& app, bool check_key) const;

  storage::Engine& engine_;
  const Clock& clock_;
  ConfigStore& config_;
  DeliveryOutbox& outbox_;
  const PushOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, PlatformApplication> applications_;  // by ARN
  std::map<std::string, PlatformEndpoint> endpoints_;        // by ARN
};

}  // namespace postbox::core
