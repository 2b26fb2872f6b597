// EmailService: SES's operations, protocol-free — identities (verified senders) and sending.
//
// Identities are configuration: stored through the ConfigStore (durable before the answer).
// postbox is not SES's sandbox: by default an identity is verified as soon as it is asked for
// and any sender may send (the SMTP relay decides). With `require_verified` AWS's rule holds:
// VerifyEmailIdentity mails a link (back to postbox) that verifies the address, and sending
// from an address (or domain) that is not verified is MessageRejected.
//
// A send is durable before its answer: the finished message goes into the delivery outbox
// (protocol "ses", RawMailChannel) in an fsync'd write, and from there to the relay with
// retries (the `retry` policy); a message the relay refuses for good, or whose retries run out,
// goes as a JSON failure record to `failure_queue_arn` (else it is dropped and logged).
// The sending quota (`max_per_second`, `max_per_day`, counted per recipient as SES does) is
// kept in memory: after a restart the last 24 hours start from zero.
//
// Thread-safety: all methods are safe from any thread; callbacks run exactly once, possibly on
// a storage thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "core/config/config_store.h"
#include "core/topic/delivery_outbox.h"
#include "storage/engine.h"

namespace postbox::core {

struct EmailIdentity {
  std::string region;
  std::string account;
  std::string identity;  // an address (a domain is accepted for the verification check)
  bool verified = false;
  std::string token;  // of the pending verification link
};

// One mail to send: built from its parts (SendEmail), or given whole (SendRawEmail, v2 Raw).
struct OutgoingEmail {
  std::string source;  // "address" or "Name <address>"; for raw mail may be empty (From header)
  std::vector<std::string> to, cc, bcc, reply_to;
  std::string subject, text, html;
  std::optional<std::string> raw;         // the whole RFC 5322 message
  std::vector<std::string> destinations;  // raw: the envelope recipients (else its headers')
};

struct SendQuota {
  int64_t max_24_hour_send = 0;
  int64_t max_send_rate = 0;
  int64_t sent_last_24_hours = 0;
};

struct EmailOptions {
  bool require_verified = false;
  std::string from;  // the sender of verification mails
  int64_t max_per_second = 14;
  int64_t max_per_day = 50000;
  std::string failure_queue_arn;  // where given-up mail goes; may be empty
  RetryPolicy retry = ManagedRetryPolicy();
};

class EmailService {
 public:
  static constexpr size_t kMaxRecipients = 50;           // per message, as on SES
  static constexpr size_t kMaxMessageBytes = 10u << 20;  // 10 MiB, SES v1's limit

  EmailService(storage::Engine& engine, const Clock& clock, ConfigStore& config,
               DeliveryOutbox& outbox, EmailOptions options);

  Status Load();

  // `base_url`: where the verification link points ("http://host:port").
  void VerifyEmailIdentity(const std::string& region, const std::string& account,
                           const std::string& address, const std::string& base_url,
                           StatusCallback done);
  // SES v2's CreateEmailIdentity: as VerifyEmailIdentity, but an identity that exists already
  // (verified or not) is kAlreadyExists, decided in the same ordered step as the write.
  void CreateEmailIdentity(const std::string& region, const std::string& account,
                           const std::string& address, const std::string& base_url,
                           StatusCallback done);
  // The verification link's visit.
  void ConfirmVerification(const std::string& token, StatusCallback done);
  void DeleteIdentity(const std::string& region, const std::string& account,
                      const std::string& identity, StatusCallback done);
  // The account's identities in the region, sorted by name.
  std::vector<EmailIdentity> ListIdentities(const std::string& region,
                                            const std::string& account) const;
  std::optional<EmailIdentity> GetIdentity(const std::string& region, const std::string& account,
                                           const std::string& identity) const;

  // Answers the message id once the mail is stored for delivery.
  void Send(const std::string& region, const std::string& account, OutgoingEmail email,
            std::function<void(Result<std::string>)> done);

  SendQuota Quota();

 private:
  static std::string Key(const std::string& region, const std::string& account,
                         const std::string& identity);
  // VerifyEmailIdentity, or with `must_be_new` CreateEmailIdentity.
  void AddIdentity(const std::string& region, const std::string& account,
                   const std::string& address, const std::string& base_url, bool must_be_new,
                   StatusCallback done);
  // Whether `address` or its domain is a verified identity. Requires mu_.
  bool IsVerifiedLocked(const std::string& region, const std::string& account,
                        const std::string& address) const;
  // Counts `recipients` sends against the quota, or says which limit they would break.
  Status TakeQuota(size_t recipients);
  Delivery NewMail(const std::string& sender, std::vector<std::string> recipients,
                   std::string message) const;

  storage::Engine& engine_;
  const Clock& clock_;
  ConfigStore& config_;
  DeliveryOutbox& outbox_;
  const EmailOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, EmailIdentity> identities_;  // by Key()
  std::deque<int64_t> sent_ms_;  // one entry per recipient sent to in the last 24 hours
};

}  // namespace postbox::core
