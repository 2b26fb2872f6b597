#include "core/push/platform_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "base/encoding.h"

namespace postbox::core {
namespace {

using nlohmann::json;

// The attribute's value, "" when absent (never inserting it).
std::string ValueOf(const AttributeMap& attributes, const char* name) {
  auto it = attributes.find(name);
  return it == attributes.end() ? std::string() : it->second;
}

Status Invalid(const std::string& what) {
  return Status(ErrorCode::kInvalidParameter, "Invalid parameter: " + what);
}

// AWS's platforms; postbox delivers to GCM (Firebase Cloud Messaging) only.
bool IsKnownPlatform(const std::string& p) {
  static const char* kPlatforms[] = {"GCM", "APNS", "APNS_SANDBOX", "ADM", "BAIDU", "MPNS", "WNS"};
  return std::any_of(std::begin(kPlatforms), std::end(kPlatforms),
                     [&](const char* known) { return p == known; });
}

bool IsValidName(const std::string& name) {
  return !name.empty() && name.size() <= 256 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

std::string EncodeAttributes(const std::string& arn, const std::string& other,
                             const AttributeMap& attributes) {
  return json{{"arn", arn}, {"other", other}, {"attributes", attributes}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

// Attributes of CreatePlatformEndpoint / SetEndpointAttributes.
Status CheckEndpointAttribute(const std::string& name, const std::string& value) {
  if (name == "Enabled") {
    if (value != "true" && value != "false") {
      return Invalid("Attributes Reason: Enabled must be true or false");
    }
  } else if (name == "Token") {
    if (value.empty() || value.size() > 4096) return Invalid("Token Reason: must be 1-4096 chars");
  } else if (name == "CustomUserData") {
    if (value.size() > 2048) return Invalid("CustomUserData Reason: at most 2048 bytes");
  } else {
    return Invalid("Attributes Reason: Invalid attribute name: " + name);
  }
  return Status::Ok();
}

// Pages of a sorted map after the ARN `next_token` names (base64 of the last ARN shown).
template <typename T, typename Keep>
Result<std::pair<std::vector<T>, std::string>> Page(const std::map<std::string, T>& items,
                                                    const std::string& next_token, size_t size,
                                                    Keep keep) {
  std::string after;
  if (!next_token.empty()) {
    auto decoded = Base64Decode(next_token);
    if (!decoded) return Invalid("NextToken");
    after = *decoded;
  }
  std::pair<std::vector<T>, std::string> page;
  for (auto it = items.upper_bound(after); it != items.end(); ++it) {
    if (!keep(it->second)) continue;
    if (page.first.size() == size) {
      page.second = Base64Encode(page.first.back().arn);
      break;
    }
    page.first.push_back(it->second);
  }
  return page;
}

}  // namespace

PlatformService::PlatformService(storage::Engine& engine, const Clock& clock, ConfigStore& config,
                                 DeliveryOutbox& outbox, PushOptions options)
    : engine_(engine),
      clock_(clock),
      config_(config),
      outbox_(outbox),
      options_(std::move(options)) {}

void PlatformService::Store(storage::WriteBatch* batch, const PlatformApplication& app) const {
  batch->PutRecord(storage::RecordKind::kPlatformApplication, 0, app.arn,
                   EncodeAttributes(app.arn, app.platform, app.attributes));
}

void PlatformService::Store(storage::WriteBatch* batch, const PlatformEndpoint& e) const {
  batch->PutRecord(storage::RecordKind::kPlatformEndpoint, 0, e.arn,
                   EncodeAttributes(e.arn, e.application_arn, e.attributes));
}

Status PlatformService::Load() {
  std::lock_guard lock(mu_);
  // Each record: {"arn", "other" (the platform, or the endpoint's application), "attributes"}.
  auto load = [&](storage::RecordKind kind, const char* what, auto apply) {
    return storage::LoadRecordsCountingDamage(
        engine_, kind, what, [&](uint64_t, std::string_view, std::string_view blob) {
          json j = json::parse(blob, nullptr, false);
          if (!j.is_object() || !j.contains("arn") || !j.contains("attributes")) return false;
          try {
            return apply(j.at("arn").get<std::string>(), j.at("other").get<std::string>(),
                         j.at("attributes").get<AttributeMap>());
          } catch (const json::exception&) {
            return false;
          }
        });
  };
  POSTBOX_RETURN_IF_ERROR(load(storage::RecordKind::kPlatformApplication, "platform application",
                               [&](std::string arn, std::string platform, AttributeMap a) {
                                 applications_[arn] = {arn, platform, std::move(a)};
                                 return true;
                               }));
  return load(storage::RecordKind::kPlatformEndpoint, "platform endpoint",
              [&](std::string arn, std::string app, AttributeMap a) {
                auto token = a.find("Token");
                if (token == a.end() || token->second.empty()) return false;
                endpoints_[arn] = {arn, app, std::move(a)};
                return true;
              });
}

Result<channels::ServiceAccount> PlatformService::AccountOf(const PlatformApplication& app,
                                                            bool check_key) const {
  auto credential = app.attributes.find("PlatformCredential");
  if (credential == app.attributes.end() || credential->second.empty()) {
    if (options_.default_account) return *options_.default_account;
    return Invalid(
        "Attributes Reason: PlatformCredential is required (a Firebase "
        "service-account key, or push.fcm.service_account_file on the server)");
  }
  auto account = channels::ParseServiceAccount(credential->second);
  if (account.ok() && check_key) {
    if (auto jwt = channels::MakeServiceAccountJwt(*account, 0); !jwt.ok()) account = jwt.status();
  }
  if (!account.ok()) {
    // AWS's text; why this key was refused goes to the log (never the key itself).
    spdlog::info("event=push_credential_refused reason=\"{}\"", account.status().message());
    return Invalid("Attributes Reason: Platform credentials are invalid");
  }
  return account;
}

void PlatformService::CreateApplication(const std::string& region, const std::string& account,
                                        const std::string& name, const std::string& platform,
                                        AttributeMap attributes,
                                        std::function<void(Result<std::string>)> done) {
  if (!IsValidName(name)) {
    return done(
        Invalid("Invalid platform application name: only letters, digits, '_', '-' and "
                "'.', 1 to 256 of them"));
  }
  if (!IsKnownPlatform(platform))
    return done(Invalid("Platform Reason: " + platform + " is not supported"));
  if (platform != "GCM") {
    return done(
        Invalid("Platform Reason: postbox delivers push notifications through Firebase "
                "Cloud Messaging only (platform GCM)"));
  }
  PlatformApplication app{"arn:aws:sns:" + region + ":" + account + ":app/" + platform + "/" + name,
                          platform, std::move(attributes)};
  if (auto checked = AccountOf(app, /*check_key=*/true); !checked.ok()) {
    return done(checked.status());
  }
  config_.Submit([this, app, done = std::move(done)]() -> ConfigStore::Change {
    storage::WriteBatch batch;
    Store(&batch, app);
    return {std::move(batch), [this, app, done](Status s) {
              if (!s.ok()) return done(s);
              {
                std::lock_guard lock(mu_);
                applications_[app.arn] = app;  // again with the same name: updated, same ARN
              }
              done(app.arn);
            }};
  });
}

Result<AttributeMap> PlatformService::GetApplicationAttributes(const std::string& arn) const {
  std::lock_guard lock(mu_);
  auto it = applications_.find(arn);
  if (it == applications_.end()) {
    return Status(ErrorCode::kNotFound, "PlatformApplication does not exist");
  }
  AttributeMap shown = it->second.attributes;
  shown.erase("PlatformCredential");  // a secret: AWS never returns it
  if (!shown.count("Enabled")) shown["Enabled"] = "true";
  return shown;
}

void PlatformService::SetApplicationAttributes(const std::string& arn, AttributeMap attributes,
                                               StatusCallback done) {
  config_.Submit([this, arn, attributes = std::move(attributes),
                  done = std::move(done)]() -> ConfigStore::Change {
    PlatformApplication app;
    {
      std::lock_guard lock(mu_);
      auto it = applications_.find(arn);
      if (it == applications_.end()) {
        return ConfigStore::Answer([done](Status) {
          done(Status(ErrorCode::kNotFound, "PlatformApplication does not exist"));
        });
      }
      app = it->second;
    }
    for (const auto& [name, value] : attributes) app.attributes[name] = value;
    if (auto checked = AccountOf(app, /*check_key=*/true); !checked.ok()) {
      return ConfigStore::Answer([done, s = checked.status()](Status) { done(s); });
    }
    storage::WriteBatch batch;
    Store(&batch, app);
    return {std::move(batch), [this, app, done](Status s) {
              if (s.ok()) {
                std::lock_guard lock(mu_);
                if (applications_.count(app.arn)) applications_[app.arn] = app;
              }
              done(s);
            }};
  });
}

void PlatformService::DeleteApplication(const std::string& arn, StatusCallback done) {
  config_.Submit([this, arn, done = std::move(done)]() -> ConfigStore::Change {
    storage::WriteBatch batch;
    std::vector<std::string> endpoints;
    {
      std::lock_guard lock(mu_);
      if (!applications_.count(arn)) return ConfigStore::Answer(done);  // idempotent, as AWS
      for (const auto& [endpoint_arn, e] : endpoints_) {
        if (e.application_arn == arn) endpoints.push_back(endpoint_arn);
      }
    }
    batch.DeleteRecord(storage::RecordKind::kPlatformApplication, 0, arn);
    for (const std::string& e : endpoints) {
      batch.DeleteRecord(storage::RecordKind::kPlatformEndpoint, 0, e);
    }
    return {std::move(batch), [this, arn, endpoints, done](Status s) {
              if (s.ok()) {
                std::lock_guard lock(mu_);
                applications_.erase(arn);
                for (const std::string& e : endpoints) endpoints_.erase(e);
              }
              done(s);
            }};
  });
}

Result<std::pair<std::vector<PlatformApplication>, std::string>> PlatformService::ListApplications(
    const std::string& region, const std::string& account, const std::string& next_token) const {
  const std::string prefix = "arn:aws:sns:" + region + ":" + account + ":app/";
  std::lock_guard lock(mu_);
  auto page = Page(applications_, next_token, kPageSize,
                   [&](const PlatformApplication& app) { return app.arn.rfind(prefix, 0) == 0; });
  if (page.ok()) {
    for (auto& app : page->first) {
      app.attributes.erase("PlatformCredential");
      if (!app.attributes.count("Enabled")) app.attributes["Enabled"] = "true";
    }
  }
  return page;
}

void PlatformService::CreateEndpoint(const std::string& application_arn, const std::string& token,
                                     const std::string& custom_user_data, AttributeMap attributes,
                                     std::function<void(Result<std::string>)> done) {
  if (token.empty()) return done(Invalid("Token Reason: cannot be empty"));
  for (const auto& [name, value] : attributes) {
    POSTBOX_RETURN_CALLBACK_IF_ERROR(done, CheckEndpointAttribute(name, value));
  }
  attributes["Token"] = token;
  if (!custom_user_data.empty()) attributes["CustomUserData"] = custom_user_data;
  // What the caller asked for decides whether an endpoint with this token is the same one
  // (Enabled is filled in only for a new endpoint: a disabled one is found again, as on AWS).
  const AttributeMap requested = attributes;
  if (!attributes.count("Enabled")) attributes["Enabled"] = "true";
  config_.Submit([this, application_arn, attributes, requested,
                  done = std::move(done)]() -> ConfigStore::Change {
    PlatformEndpoint endpoint;
    {
      std::lock_guard lock(mu_);
      auto app = applications_.find(application_arn);
      if (app == applications_.end()) {
        return ConfigStore::Answer([done](Status) {
          done(Status(ErrorCode::kNotFound, "PlatformApplication does not exist"));
        });
      }
      for (const auto& [arn, existing] : endpoints_) {
        if (existing.application_arn != application_arn ||
            ValueOf(existing.attributes, "Token") != ValueOf(requested, "Token")) {
          continue;
        }
        // The same token again: the same endpoint if nothing asked for differs (AWS is
        // idempotent here).
        bool same = true;
        for (const auto& [name, value] : requested) {
          same = same && ValueOf(existing.attributes, name.c_str()) == value;
        }
        if (same) {
          return ConfigStore::Answer([done, arn = arn](Status) { done(arn); });
        }
        return ConfigStore::Answer([done, arn = arn](Status) {
          done(Invalid("Token Reason: Endpoint " + arn +
                       " already exists with the same Token, but different attributes."));
        });
      }
      const std::string tail = application_arn.substr(application_arn.find(":app/") + 5);
      endpoint = {application_arn.substr(0, application_arn.find(":app/")) + ":endpoint/" + tail +
                      "/" + NewUuid(),
                  application_arn, attributes};
    }
    storage::WriteBatch batch;
    Store(&batch, endpoint);
    return {std::move(batch), [this, endpoint, done](Status s) {
              if (!s.ok()) return done(s);
              {
                std::lock_guard lock(mu_);
                if (applications_.count(endpoint.application_arn)) {
                  endpoints_[endpoint.arn] = endpoint;
                }
              }
              done(endpoint.arn);
            }};
  });
}

Result<AttributeMap> PlatformService::GetEndpointAttributes(const std::string& arn) const {
  std::lock_guard lock(mu_);
  auto it = endpoints_.find(arn);
  if (it == endpoints_.end()) return Status(ErrorCode::kNotFound, "Endpoint does not exist");
  return it->second.attributes;
}

void PlatformService::SetEndpointAttributes(const std::string& arn, AttributeMap attributes,
                                            StatusCallback done) {
  for (const auto& [name, value] : attributes) {
    POSTBOX_RETURN_CALLBACK_IF_ERROR(done, CheckEndpointAttribute(name, value));
  }
  config_.Submit([this, arn, attributes = std::move(attributes),
                  done = std::move(done)]() -> ConfigStore::Change {
    PlatformEndpoint endpoint;
    {
      std::lock_guard lock(mu_);
      auto it = endpoints_.find(arn);
      if (it == endpoints_.end()) {
        return ConfigStore::Answer(
            [done](Status) { done(Status(ErrorCode::kNotFound, "Endpoint does not exist")); });
      }
      endpoint = it->second;
    }
    for (const auto& [name, value] : attributes) endpoint.attributes[name] = value;
    storage::WriteBatch batch;
    Store(&batch, endpoint);
    return {std::move(batch), [this, endpoint, done](Status s) {
              if (s.ok()) {
                std::lock_guard lock(mu_);
                if (endpoints_.count(endpoint.arn)) endpoints_[endpoint.arn] = endpoint;
              }
              done(s);
            }};
  });
}

void PlatformService::DeleteEndpoint(const std::string& arn, StatusCallback done) {
  config_.Submit([this, arn, done = std::move(done)]() -> ConfigStore::Change {
    {
      std::lock_guard lock(mu_);
      if (!endpoints_.count(arn)) return ConfigStore::Answer(done);  // idempotent, as AWS
    }
    storage::WriteBatch batch;
    batch.DeleteRecord(storage::RecordKind::kPlatformEndpoint, 0, arn);
    return {std::move(batch), [this, arn, done](Status s) {
              if (s.ok()) {
                std::lock_guard lock(mu_);
                endpoints_.erase(arn);
              }
              done(s);
            }};
  });
}

Result<std::pair<std::vector<PlatformEndpoint>, std::string>> PlatformService::ListEndpoints(
    const std::string& application_arn, const std::string& next_token) const {
  std::lock_guard lock(mu_);
  if (!applications_.count(application_arn)) {
    return Status(ErrorCode::kNotFound, "PlatformApplication does not exist");
  }
  return Page(endpoints_, next_token, kPageSize,
              [&](const PlatformEndpoint& e) { return e.application_arn == application_arn; });
}

Result<PlatformService::Target> PlatformService::TargetOf(const std::string& endpoint_arn) const {
  std::lock_guard lock(mu_);
  auto endpoint = endpoints_.find(endpoint_arn);
  if (endpoint == endpoints_.end()) {
    return Status(ErrorCode::kNotFound, "the endpoint was deleted");
  }
  auto app = applications_.find(endpoint->second.application_arn);
  if (app == applications_.end()) {
    return Status(ErrorCode::kNotFound, "the platform application was deleted");
  }
  // The key was checked by signing when it was stored: per delivery, reading it is enough
  // (an RSA signature here would cost every push delivery one, under the lock).
  auto account = AccountOf(app->second, /*check_key=*/false);
  if (!account.ok()) return account.status();
  const AttributeMap& a = endpoint->second.attributes;
  auto enabled = a.find("Enabled");
  return Target{ValueOf(a, "Token"), enabled == a.end() || enabled->second == "true", *account};
}

void PlatformService::DisableEndpoint(const std::string& endpoint_arn, const std::string& token) {
  config_.Submit([this, endpoint_arn, token]() -> ConfigStore::Change {
    PlatformEndpoint endpoint;
    {
      std::lock_guard lock(mu_);
      auto it = endpoints_.find(endpoint_arn);
      // Gone, already disabled, or given a new token meanwhile: nothing to do.
      if (it == endpoints_.end() || ValueOf(it->second.attributes, "Token") != token ||
          ValueOf(it->second.attributes, "Enabled") == "false") {
        return ConfigStore::Answer([](Status) {});
      }
      endpoint = it->second;
    }
    endpoint.attributes["Enabled"] = "false";
    storage::WriteBatch batch;
    Store(&batch, endpoint);
    return {std::move(batch), [this, endpoint](Status s) {
              if (!s.ok()) {
                spdlog::error("event=push_endpoint_disable_not_stored endpoint={} message=\"{}\"",
                              endpoint.arn, s.message());
                return;
              }
              std::lock_guard lock(mu_);
              if (endpoints_.count(endpoint.arn)) endpoints_[endpoint.arn] = endpoint;
              spdlog::warn(
                  "event=push_endpoint_disabled endpoint={} reason=\"the device token is "
                  "no longer valid\"",
                  endpoint.arn);
            }};
  });
}

void PlatformService::Publish(const std::string& endpoint_arn, const PublishRequest& request,
                              std::function<void(Result<std::string>)> done) {
  POSTBOX_RETURN_CALLBACK_IF_ERROR(done, ValidatePublishRequest(request));
  {
    std::lock_guard lock(mu_);
    auto it = endpoints_.find(endpoint_arn);
    if (it == endpoints_.end()) {
      return done(Invalid("TargetArn Reason: No endpoint found for the target arn specified"));
    }
    if (ValueOf(it->second.attributes, "Enabled") == "false") {
      return done(Status(ErrorCode::kEndpointDisabled, "Endpoint is disabled"));
    }
  }
  if (ExactStructureEntry(request, "GCM").empty() && StructureEntry(request, "default").empty()) {
    return done(Invalid("Empty message"));
  }
  auto message = PushMessageFor(request);
  if (!message.ok()) return done(message.status());
  if (!outbox_.HasChannel("application")) {
    return done(
        Status(ErrorCode::kUnsupportedOperation, "postbox has no push channel configured."));
  }
  Delivery d;
  d.id = NewUuid();
  d.message_type = "Notification";
  d.protocol = "application";
  d.message_id = NewUuid();
  d.endpoint = endpoint_arn;
  d.body = std::move(*message);
  d.policy = options_.retry;
  d.next_attempt_ms = clock_.NowMillis();
  const std::string message_id = d.message_id;
  outbox_.Enqueue(std::move(d), [message_id, done = std::move(done)](Status s) {
    if (!s.ok()) return done(s);
    done(message_id);
  });
}

}  // namespace postbox::core
