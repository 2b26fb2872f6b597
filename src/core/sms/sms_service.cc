#include "core/sms/sms_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "channels/sms/phone_number.h"
#include "core/topic/logged_endpoint.h"
#include "core/topic/topic_attributes.h"

namespace postbox::core {
namespace {

using nlohmann::json;

constexpr char kAttributesPrefix[] = "attributes/";
constexpr char kOptOutPrefix[] = "optout/";
constexpr char kSpendPrefix[] = "spend/";

Status Invalid(const std::string& what) {
  return Status(ErrorCode::kInvalidParameter, "Invalid parameter: " + what);
}

bool IsDigits(const std::string& text) {
  return !text.empty() && text.size() <= 12 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string AttributeString(const MessageAttributes& attributes, const char* name) {
  auto it = attributes.find(name);
  return it == attributes.end() ? std::string() : it->second.string_value;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

Status ValidateSmsAttribute(const std::string& name, const std::string& value) {
  if (name == "MonthlySpendLimit") {
    if (!IsDigits(value)) return Invalid("MonthlySpendLimit Reason: must be a whole number of USD");
  } else if (name == "DeliveryStatusSuccessSamplingRate") {
    if (!IsDigits(value) || std::stoll(value) > 100) {
      return Invalid("DeliveryStatusSuccessSamplingRate Reason: must be an integer from 0 to 100");
    }
  } else if (name == "DefaultSenderID") {
    const bool alphanumeric = std::all_of(value.begin(), value.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c));
    });
    const bool has_letter = std::any_of(value.begin(), value.end(), [](char c) {
      return std::isalpha(static_cast<unsigned char>(c));
    });
    if (value.empty() || value.size() > 11 || !alphanumeric || !has_letter) {
      return Invalid(
          "DefaultSenderID Reason: must be 1-11 alphanumeric characters with at least one "
          "letter");
    }
  } else if (name == "DefaultSMSType") {
    if (value != "Promotional" && value != "Transactional") {
      return Invalid("DefaultSMSType Reason: must be Promotional or Transactional");
    }
  } else if (name != "DeliveryStatusIAMRole" && name != "UsageReportS3Bucket") {
    return Invalid("attributes Reason: " + name + " is not a valid SMS attribute");
  }
  return Status::Ok();
}

SmsService::SmsService(storage::Engine& engine, const Clock& clock, ConfigStore& config,
                       DeliveryOutbox& outbox, SmsOptions options)
    : engine_(engine), clock_(clock), config_(config), outbox_(outbox), options_(options) {}

std::string SmsService::Month() const {
  std::time_t seconds = clock_.NowMillis() / 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[16];
  std::strftime(text, sizeof(text), "%Y-%m", &utc);
  return text;
}

Status SmsService::Load() {
  std::lock_guard lock(mu_);
  return storage::LoadRecordsCountingDamage(
      engine_, storage::RecordKind::kSmsSetting, "SMS",
      [&](uint64_t, std::string_view key, std::string_view blob) {
        json j = json::parse(blob, nullptr, false);
        if (StartsWith(key, kOptOutPrefix)) {
          std::string rest(key.substr(sizeof(kOptOutPrefix) - 1));
          size_t slash = rest.rfind('/');
          if (slash == std::string::npos) return false;
          opted_out_[rest.substr(0, slash)].insert(rest.substr(slash + 1));
          return true;
        }
        if (StartsWith(key, kAttributesPrefix) && j.is_object()) {
          auto& attributes = attributes_[std::string(key.substr(sizeof(kAttributesPrefix) - 1))];
          for (const auto& [name, value] : j.items()) {
            // Stored only after these checks passed: one that fails now is damage.
            if (!value.is_string() || !ValidateSmsAttribute(name, value).ok()) return false;
            attributes[name] = value.get<std::string>();
          }
          return true;
        }
        if (StartsWith(key, kSpendPrefix) && j.is_object()) {
          auto month = j.find("month");
          auto count = j.find("count");
          if (month == j.end() || !month->is_string() || count == j.end() ||
              !count->is_number_integer()) {
            return false;
          }
          spend_[std::string(key.substr(sizeof(kSpendPrefix) - 1))] = {month->get<std::string>(),
                                                                       count->get<int64_t>()};
          return true;
        }
        return false;
      });
}

void SmsService::SetAttributes(const std::string& scope,
                               std::map<std::string, std::string> attributes, StatusCallback done) {
  for (const auto& [name, value] : attributes) {
    POSTBOX_RETURN_CALLBACK_IF_ERROR(done, ValidateSmsAttribute(name, value));
  }
  config_.Submit([this, scope, attributes = std::move(attributes),
                  done = std::move(done)]() -> ConfigStore::Change {
    std::map<std::string, std::string> merged;
    {
      std::lock_guard lock(mu_);
      auto it = attributes_.find(scope);
      if (it != attributes_.end()) merged = it->second;
    }
    for (const auto& [name, value] : attributes) merged[name] = value;
    storage::WriteBatch batch;
    batch.PutRecord(storage::RecordKind::kSmsSetting, 0, kAttributesPrefix + scope,
                    json(merged).dump(-1, ' ', false, json::error_handler_t::replace));
    return {std::move(batch), [this, scope, merged, done](Status s) {
              if (s.ok()) {
                std::lock_guard lock(mu_);
                attributes_[scope] = merged;
              }
              done(s);
            }};
  });
}

std::map<std::string, std::string> SmsService::GetAttributes(
    const std::string& scope, const std::vector<std::string>& names) const {
  std::lock_guard lock(mu_);
  auto it = attributes_.find(scope);
  if (it == attributes_.end()) return {};
  if (names.empty()) return it->second;
  std::map<std::string, std::string> out;
  for (const std::string& name : names) {
    auto found = it->second.find(name);
    if (found != it->second.end()) out.insert(*found);
  }
  return out;
}

Result<bool> SmsService::IsOptedOut(const std::string& scope, const std::string& number) const {
  if (!channels::IsE164(number)) {
    return Invalid("PhoneNumber Reason: input incorrectly formatted");
  }
  std::lock_guard lock(mu_);
  auto it = opted_out_.find(scope);
  return it != opted_out_.end() && it->second.count(number) > 0;
}

Result<std::pair<std::vector<std::string>, std::string>> SmsService::ListOptedOut(
    const std::string& scope, const std::string& next_token) const {
  std::string after;
  if (!next_token.empty()) {
    auto decoded = Base64Decode(next_token);
    if (!decoded || !channels::IsE164(*decoded)) return Invalid("NextToken");
    after = *decoded;
  }
  std::pair<std::vector<std::string>, std::string> page;
  std::lock_guard lock(mu_);
  auto it = opted_out_.find(scope);
  if (it == opted_out_.end()) return page;
  for (auto n = it->second.upper_bound(after); n != it->second.end(); ++n) {
    if (page.first.size() == kOptedOutPageSize) {
      page.second = Base64Encode(page.first.back());
      break;
    }
    page.first.push_back(*n);
  }
  return page;
}

void SmsService::OptIn(const std::string& scope, const std::string& number, StatusCallback done) {
  if (!channels::IsE164(number)) {
    return done(Invalid("PhoneNumber Reason: input incorrectly formatted"));
  }
  config_.Submit([this, scope, number, done = std::move(done)]() -> ConfigStore::Change {
    {
      std::lock_guard lock(mu_);
      auto it = opted_out_.find(scope);
      if (it == opted_out_.end() || !it->second.count(number)) return ConfigStore::Answer(done);
    }
    storage::WriteBatch batch;
    batch.DeleteRecord(storage::RecordKind::kSmsSetting, 0, kOptOutPrefix + scope + "/" + number);
    return {std::move(batch), [this, scope, number, done](Status s) {
              if (s.ok()) {
                std::lock_guard lock(mu_);
                opted_out_[scope].erase(number);
                spdlog::info("event=sms_opted_in scope={} number={}", scope,
                             LoggedEndpoint("sms", number));
              }
              done(s);
            }};
  });
}

void SmsService::OptOut(const std::string& scope, const std::string& number) {
  if (!channels::IsE164(number)) return;
  config_.Submit([this, scope, number]() -> ConfigStore::Change {
    {
      std::lock_guard lock(mu_);
      auto it = opted_out_.find(scope);
      if (it != opted_out_.end() && it->second.count(number)) {
        return ConfigStore::Answer([](Status) {});
      }
    }
    storage::WriteBatch batch;
    batch.PutRecord(storage::RecordKind::kSmsSetting, 0, kOptOutPrefix + scope + "/" + number,
                    "{}");
    return {std::move(batch), [this, scope, number](Status s) {
              if (!s.ok()) {
                // The next refusal from the provider reports it again.
                spdlog::error("event=sms_opt_out_not_stored scope={} number={} message=\"{}\"",
                              scope, LoggedEndpoint("sms", number), s.message());
                return;
              }
              std::lock_guard lock(mu_);
              opted_out_[scope].insert(number);
              spdlog::warn("event=sms_opted_out scope={} number={}", scope,
                           LoggedEndpoint("sms", number));
            }};
  });
}

Delivery SmsService::NewDelivery(const std::string& scope, const std::string& number,
                                 const std::string& text,
                                 const MessageAttributes& attributes) const {
  Delivery d;
  d.id = NewUuid();
  d.message_type = "Notification";
  d.protocol = "sms";
  d.message_id = NewUuid();
  d.endpoint = number;
  d.body = text;
  d.account_scope = scope;
  d.sender_id = AttributeString(attributes, "AWS.SNS.SMS.SenderID");
  d.sms_type = AttributeString(attributes, "AWS.SNS.SMS.SMSType");
  d.policy = options_.retry;
  d.dead_letter_queue_arn = options_.failure_queue_arn;
  d.next_attempt_ms = clock_.NowMillis();
  return d;
}

void SmsService::Publish(const std::string& scope, const std::string& phone_number,
                         const PublishRequest& request,
                         std::function<void(Result<std::string>)> done) {
  if (!channels::IsE164(phone_number)) {
    return done(Invalid("PhoneNumber Reason: " + phone_number + " is not valid to publish to"));
  }
  POSTBOX_RETURN_CALLBACK_IF_ERROR(done, ValidatePublishRequest(request));
  const std::string text = StructureEntry(request, "sms");  // a phone gets the text alone
  if (text.empty()) return done(Invalid("Empty message"));
  if (text.size() > kMaxMessageBytes) {
    return done(Invalid("Message Reason: Message too long for SMS (at most 1600 bytes)"));
  }
  const std::string type = AttributeString(request.attributes, "AWS.SNS.SMS.SMSType");
  if (!type.empty() && type != "Promotional" && type != "Transactional") {
    return done(Invalid("The value for AWS.SNS.SMS.SMSType must be Promotional or Transactional"));
  }
  if (!outbox_.HasChannel("sms")) {
    return done(Status(ErrorCode::kUnsupportedOperation,
                       "postbox has no SMS provider configured (sms.default_provider)."));
  }
  Delivery d = NewDelivery(scope, phone_number, text, request.attributes);
  const std::string message_id = d.message_id;
  outbox_.Enqueue(std::move(d), [message_id, done = std::move(done)](Status s) {
    if (!s.ok()) return done(s);
    done(message_id);
  });
}

SmsSending SmsService::SendingFor(const Delivery& d) const {
  SmsSending sending{d.sender_id, d.sms_type};
  std::lock_guard lock(mu_);
  auto it = attributes_.find(d.account_scope);
  auto get = [&](const char* name) {
    if (it == attributes_.end()) return std::string();
    auto found = it->second.find(name);
    return found == it->second.end() ? std::string() : found->second;
  };
  if (sending.sender_id.empty()) sending.sender_id = get("DefaultSenderID");
  if (sending.sms_type.empty()) sending.sms_type = get("DefaultSMSType");
  if (sending.sms_type.empty()) sending.sms_type = "Promotional";
  return sending;
}

Status SmsService::CheckSpend(const std::string& scope) {
  const std::string month = Month();
  std::lock_guard lock(mu_);
  auto attributes = attributes_.find(scope);
  if (attributes == attributes_.end()) return Status::Ok();
  auto limit = attributes->second.find("MonthlySpendLimit");
  if (limit == attributes->second.end()) return Status::Ok();
  auto spend = spend_.find(scope);
  const int64_t sent =
      spend == spend_.end() || spend->second.month != month ? 0 : spend->second.count;
  if (double(sent + 1) * options_.price_per_message <= std::stod(limit->second) + 1e-9) {
    return Status::Ok();
  }
  return Status(ErrorCode::kThrottling,
                "MonthlySpendLimit of " + limit->second + " USD reached for " + month);
}

void SmsService::CountSent(const std::string& scope) {
  const std::string month = Month();
  std::string record;
  {
    std::lock_guard lock(mu_);
    Spend& spend = spend_[scope];
    if (spend.month != month) spend = {month, 0};
    ++spend.count;
    record = json{{"month", spend.month}, {"count", spend.count}}.dump();
  }
  // Lazily: a crash loses at most the last few counts (the limit may let a few more through).
  storage::WriteBatch batch;
  batch.PutRecord(storage::RecordKind::kSmsSetting, 0, kSpendPrefix + scope, record);
  engine_.Commit(std::move(batch), storage::Durability::kLazy, nullptr);
}

}  // namespace postbox::core
