// SmsService: SNS's SMS operations, protocol-free — sending to a phone number, the account's
// SMS attributes (SetSMSAttributes), and its list of numbers that opted out.
//
// Everything is scoped by "region/account", as on AWS. Attributes and opt-outs are
// configuration: stored through the ConfigStore (durable, in order, before memory and the
// answer). A numbers opts out when a provider says its owner replied STOP (SmsChannel calls
// OptOut); OptInPhoneNumber takes it back. A Publish to a number is durable before its answer:
// the SMS goes into the delivery outbox (protocol "sms") in an fsync'd write, and SmsChannel
// takes it to a provider with the managed retry policy; what cannot be sent ends in
// `failure_queue_arn` (else it is dropped and logged), as SNS logs failed SMS.
//
// MonthlySpendLimit: SNS's cap in US dollars. postbox prices each SMS sent at
// `price_per_message` dollars (sms.price_per_message); once this month's (UTC) count times the
// price would pass the limit, further SMS of the account fail without reaching a provider
// (to the failure queue or dead-letter queue) until the month turns. The count is stored
// (lazily) as it grows: after a crash it may be a few messages short, never more. Unset: no
// limit.
//
// Thread-safety: all methods are safe from any thread; callbacks run exactly once, possibly on
// a storage thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "core/config/config_store.h"
#include "core/queue/message.h"
#include "core/topic/delivery_outbox.h"
#include "core/topic/publish_request.h"
#include "storage/engine.h"

namespace postbox::core {

struct SmsOptions {
  RetryPolicy retry = ManagedRetryPolicy();
  double price_per_message = 0.01;  // US dollars, for MonthlySpendLimit
  std::string failure_queue_arn;    // where SMS that could not be sent go; may be empty
};

// What applies to one SMS of an account when it is sent.
struct SmsSending {
  std::string sender_id;  // the message's, else DefaultSenderID
  std::string sms_type;   // the message's, else DefaultSMSType, else Promotional (AWS's default)
};

class SmsService {
 public:
  static constexpr size_t kMaxMessageBytes = 1600;  // SNS's limit for an SMS message
  static constexpr size_t kOptedOutPageSize = 100;

  SmsService(storage::Engine& engine, const Clock& clock, ConfigStore& config,
             DeliveryOutbox& outbox, SmsOptions options);

  Status Load();

  // --- SetSMSAttributes / GetSMSAttributes ---
  void SetAttributes(const std::string& scope, std::map<std::string, std::string> attributes,
                     StatusCallback done);
  // The named attributes that are set (all that are set when `names` is empty).
  std::map<std::string, std::string> GetAttributes(const std::string& scope,
                                                   const std::vector<std::string>& names) const;

  // --- opt-outs ---
  Result<bool> IsOptedOut(const std::string& scope, const std::string& number) const;
  // One page of the scope's opted-out numbers after `next_token` ("" from the start), and the
  // token of the next page ("" when it was the last).
  Result<std::pair<std::vector<std::string>, std::string>> ListOptedOut(
      const std::string& scope, const std::string& next_token) const;
  void OptIn(const std::string& scope, const std::string& number, StatusCallback done);
  // A provider reported that the number's owner opted out. Stored in the background.
  void OptOut(const std::string& scope, const std::string& number);

  // --- sending ---
  // Publish with PhoneNumber: the request's text (MessageStructure's "sms" entry, else its
  // default) to `phone_number`, honouring AWS.SNS.SMS.SenderID and AWS.SNS.SMS.SMSType among
  // its attributes. Answers the MessageId once the SMS is stored for delivery.
  void Publish(const std::string& scope, const std::string& phone_number,
               const PublishRequest& request, std::function<void(Result<std::string>)> done);
  // The Delivery of an SMS (to `number`, from a topic when `topic_arn` is set).
  Delivery NewDelivery(const std::string& scope, const std::string& number, const std::string& text,
                       const MessageAttributes& attributes) const;
  SmsSending SendingFor(const Delivery& delivery) const;
  // Whether one more SMS fits the scope's MonthlySpendLimit this month (kThrottling if not).
  // Checked before an attempt, counted once the provider took it (CountSent): SMS in flight
  // at once (a few) may pass the limit by their number.
  Status CheckSpend(const std::string& scope);
  // Call from one thread (the sender's): the stored counts are written in that order.
  void CountSent(const std::string& scope);

 private:
  struct Spend {
    std::string month;  // "2026-12"
    int64_t count = 0;
  };
  std::string Month() const;

  storage::Engine& engine_;
  const Clock& clock_;
  ConfigStore& config_;
  DeliveryOutbox& outbox_;
  const SmsOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, std::string>> attributes_;  // by scope
  std::map<std::string, std::set<std::string>> opted_out_;                // by scope
  std::map<std::string, Spend> spend_;                                    // by scope
};

// SetSMSAttributes's rules: AWS's attribute names and values, or the error AWS gives.
Status ValidateSmsAttribute(const std::string& name, const std::string& value);

}  // namespace postbox::core
