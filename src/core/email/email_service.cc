#include "core/email/email_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "channels/mime_message.h"
#include "channels/raw_message.h"
#include "core/topic/logged_endpoint.h"

namespace postbox::core {
namespace {

using nlohmann::json;

Status InvalidValue(const std::string& message) {
  return Status(ErrorCode::kInvalidParameterValue, message);
}

std::string EncodeIdentity(const EmailIdentity& i) {
  return json{{"region", i.region},
              {"account", i.account},
              {"identity", i.identity},
              {"verified", i.verified},
              {"token", i.token}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<EmailIdentity> DecodeIdentity(std::string_view blob) {
  json j = json::parse(blob, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    EmailIdentity i;
    i.region = j.at("region").get<std::string>();
    i.account = j.at("account").get<std::string>();
    i.identity = j.at("identity").get<std::string>();
    i.verified = j.at("verified").get<bool>();
    i.token = j.at("token").get<std::string>();
    return i;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string Upper(std::string text) {
  for (char& c : text) c = char(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// SES's complaint about an address, or Ok.
Status CheckAddress(const std::string& address) {
  const std::string bare = channels::BareAddress(address);
  if (bare.find('@') == std::string::npos) return InvalidValue("Missing final '@domain'");
  if (!channels::IsValidEmailAddress(bare)) return InvalidValue("Illegal address");
  return Status::Ok();
}

}  // namespace

EmailService::EmailService(storage::Engine& engine, const Clock& clock, ConfigStore& config,
                           DeliveryOutbox& outbox, EmailOptions options)
    : engine_(engine),
      clock_(clock),
      config_(config),
      outbox_(outbox),
      options_(std::move(options)) {}

std::string EmailService::Key(const std::string& region, const std::string& account,
                              const std::string& identity) {
  return region + "/" + account + "/" + identity;
}

Status EmailService::Load() {
  std::lock_guard lock(mu_);
  return storage::LoadRecordsCountingDamage(
      engine_, storage::RecordKind::kEmailIdentity, "email identity",
      [&](uint64_t, std::string_view, std::string_view blob) {
        auto identity = DecodeIdentity(blob);
        if (!identity) return false;
        identities_[Key(identity->region, identity->account, identity->identity)] = *identity;
        return true;
      });
}

Delivery EmailService::NewMail(const std::string& sender, std::vector<std::string> recipients,
                               std::string message) const {
  Delivery d;
  d.id = NewUuid();
  d.message_type = "Email";
  d.protocol = "ses";
  d.message_id = NewUuid();
  d.endpoint = sender;
  d.recipients = std::move(recipients);
  d.body = std::move(message);
  d.policy = options_.retry;
  d.dead_letter_queue_arn = options_.failure_queue_arn;
  d.next_attempt_ms = clock_.NowMillis();
  return d;
}

void EmailService::VerifyEmailIdentity(const std::string& region, const std::string& account,
                                       const std::string& address, const std::string& base_url,
                                       StatusCallback done) {
  AddIdentity(region, account, address, base_url, /*must_be_new=*/false, std::move(done));
}

void EmailService::CreateEmailIdentity(const std::string& region, const std::string& account,
                                       const std::string& address, const std::string& base_url,
                                       StatusCallback done) {
  AddIdentity(region, account, address, base_url, /*must_be_new=*/true, std::move(done));
}

void EmailService::AddIdentity(const std::string& region, const std::string& account,
                               const std::string& address, const std::string& base_url,
                               bool must_be_new, StatusCallback done) {
  if (!channels::IsValidEmailAddress(address)) {
    return done(InvalidValue("Invalid email address<" + address + ">."));
  }
  if (options_.require_verified && !outbox_.HasChannel("ses")) {
    return done(Status(ErrorCode::kMessageRejected,
                       "postbox has no SMTP relay configured (email.smtp_url): the verification "
                       "mail cannot be sent."));
  }
  config_.Submit([this, region, account, address, base_url, must_be_new,
                  done = std::move(done)]() -> ConfigStore::Change {
    EmailIdentity identity{region, account, address, !options_.require_verified, ""};
    {
      std::lock_guard lock(mu_);
      auto it = identities_.find(Key(region, account, address));
      if (it != identities_.end() && must_be_new) {
        Status exists(ErrorCode::kAlreadyExists, "Email identity <" + address + "> already exist.");
        return ConfigStore::Answer([done, exists](Status) { done(exists); });
      }
      // Verified already: nothing to do. Pending: a new link (AWS mails again).
      if (it != identities_.end() && it->second.verified) return ConfigStore::Answer(done);
    }
    storage::WriteBatch batch;
    std::optional<Delivery> mail;
    if (!identity.verified) {
      identity.token = HexEncode(RandomBytes(32));  // unguessable: it verifies the address
      channels::MailContent content;
      content.from = options_.from;
      content.to = {address};
      content.subject = "Email Address Verification Request in region " + region;
      content.text = "Someone asked postbox to let " + address + " send email in region " + region +
                     ".\n\nTo confirm that this is your address, click or visit the link below:\n" +
                     base_url + "/ses/verify?token=" + identity.token +
                     "\n\nIf you did not ask for this, no action is necessary.\n";
      content.date_ms = clock_.NowMillis();
      content.message_id = NewUuid() + "@postbox";
      mail = NewMail(channels::BareAddress(options_.from), {address},
                     channels::BuildMimeMessage(content));
      mail->message_type = "Verification";  // always fits the outbox
      mail->dead_letter_queue_arn.clear();  // its link is not for a failure queue
      DeliveryOutbox::Stage(*mail, &batch);
    }
    batch.PutRecord(storage::RecordKind::kEmailIdentity, 0, Key(region, account, address),
                    EncodeIdentity(identity));
    return {std::move(batch), [this, identity, mail, done](Status s) mutable {
              if (!s.ok()) return done(s);
              {
                std::lock_guard lock(mu_);
                identities_[Key(identity.region, identity.account, identity.identity)] = identity;
              }
              if (mail) outbox_.Activate(std::move(*mail));
              done(Status::Ok());
            }};
  });
}

void EmailService::ConfirmVerification(const std::string& token, StatusCallback done) {
  config_.Submit([this, token, done = std::move(done)]() -> ConfigStore::Change {
    EmailIdentity confirmed;
    {
      std::lock_guard lock(mu_);
      auto it = std::find_if(identities_.begin(), identities_.end(), [&](const auto& entry) {
        return !token.empty() && entry.second.token == token;
      });
      if (it == identities_.end()) {
        return ConfigStore::Answer([done](Status) {
          done(Status(ErrorCode::kNotFound, "This verification link is not valid (any more)."));
        });
      }
      confirmed = it->second;
    }
    confirmed.verified = true;
    confirmed.token.clear();
    storage::WriteBatch batch;
    batch.PutRecord(storage::RecordKind::kEmailIdentity, 0,
                    Key(confirmed.region, confirmed.account, confirmed.identity),
                    EncodeIdentity(confirmed));
    return {std::move(batch), [this, confirmed, done](Status s) {
              if (s.ok()) {
                std::lock_guard lock(mu_);
                identities_[Key(confirmed.region, confirmed.account, confirmed.identity)] =
                    confirmed;
              }
              done(s);
            }};
  });
}

void EmailService::DeleteIdentity(const std::string& region, const std::string& account,
                                  const std::string& identity, StatusCallback done) {
  config_.Submit([this, key = Key(region, account, identity),
                  done = std::move(done)]() -> ConfigStore::Change {
    {
      std::lock_guard lock(mu_);
      // Deleting an identity that does not exist succeeds, as on SES.
      if (!identities_.count(key)) return ConfigStore::Answer(done);
    }
    storage::WriteBatch batch;
    batch.DeleteRecord(storage::RecordKind::kEmailIdentity, 0, key);
    return {std::move(batch), [this, key, done](Status s) {
              if (s.ok()) {
                std::lock_guard lock(mu_);
                identities_.erase(key);
              }
              done(s);
            }};
  });
}

std::vector<EmailIdentity> EmailService::ListIdentities(const std::string& region,
                                                        const std::string& account) const {
  std::lock_guard lock(mu_);
  std::vector<EmailIdentity> out;
  const std::string prefix = region + "/" + account + "/";
  for (auto it = identities_.lower_bound(prefix);
       it != identities_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::optional<EmailIdentity> EmailService::GetIdentity(const std::string& region,
                                                       const std::string& account,
                                                       const std::string& identity) const {
  std::lock_guard lock(mu_);
  auto it = identities_.find(Key(region, account, identity));
  if (it == identities_.end()) return std::nullopt;
  return it->second;
}

bool EmailService::IsVerifiedLocked(const std::string& region, const std::string& account,
                                    const std::string& address) const {
  auto verified = [&](const std::string& identity) {
    auto it = identities_.find(Key(region, account, identity));
    return it != identities_.end() && it->second.verified;
  };
  const size_t at = address.rfind('@');
  return verified(address) || (at != std::string::npos && verified(address.substr(at + 1)));
}

Status EmailService::TakeQuota(size_t recipients) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.NowMillis();
  while (!sent_ms_.empty() && sent_ms_.front() <= now - 24 * 3600 * 1000) sent_ms_.pop_front();
  if (int64_t(sent_ms_.size() + recipients) > options_.max_per_day) {
    return Status(ErrorCode::kThrottling, "Daily message quota exceeded.");
  }
  int64_t last_second = 0;
  for (auto it = sent_ms_.rbegin(); it != sent_ms_.rend() && *it > now - 1000; ++it) ++last_second;
  if (last_second + int64_t(recipients) > options_.max_per_second) {
    return Status(ErrorCode::kThrottling, "Maximum sending rate exceeded.");
  }
  sent_ms_.insert(sent_ms_.end(), recipients, now);
  return Status::Ok();
}

SendQuota EmailService::Quota() {
  std::lock_guard lock(mu_);
  const int64_t since = clock_.NowMillis() - 24 * 3600 * 1000;
  while (!sent_ms_.empty() && sent_ms_.front() <= since) sent_ms_.pop_front();
  return {options_.max_per_day, options_.max_per_second, int64_t(sent_ms_.size())};
}

void EmailService::Send(const std::string& region, const std::string& account, OutgoingEmail email,
                        std::function<void(Result<std::string>)> done) {
  std::string message;
  std::string message_id = NewUuid();
  std::string source = email.source;
  std::vector<std::string> recipients;
  if (email.raw) {
    if (email.raw->size() > kMaxMessageBytes) {
      return done(InvalidValue("Message length is more than 10485760 bytes long: '" +
                               std::to_string(email.raw->size()) + "'."));
    }
    auto headers = channels::ParseHeaderFields(*email.raw);
    if (source.empty()) source = channels::HeaderValue(headers, "From");
    if (source.empty()) return done(InvalidValue("Missing required header 'From'."));
    for (const std::string& d : email.destinations) recipients.push_back(channels::BareAddress(d));
    if (recipients.empty()) {
      for (const char* name : {"To", "Cc", "Bcc"}) {
        for (auto& a : channels::AddressList(channels::HeaderValue(headers, name))) {
          recipients.push_back(std::move(a));
        }
      }
    }
    message = channels::PrepareForSmtp(*email.raw);
  } else {
    if (source.empty()) return done(InvalidValue("Missing final '@domain'"));
    for (const auto* list : {&email.to, &email.cc, &email.bcc}) {
      for (const std::string& a : *list) recipients.push_back(channels::BareAddress(a));
    }
    channels::MailContent content;
    content.from = source;
    content.to = email.to;
    content.cc = email.cc;
    content.reply_to = email.reply_to;
    content.subject = email.subject;
    content.text = email.text;
    content.html = email.html;
    content.date_ms = clock_.NowMillis();
    content.message_id = message_id + "@postbox";  // the MessageId SES answers names the mail
    message = channels::BuildMimeMessage(content);
  }
  // One mailbox: "a@x, <b@y>" would show a second sender in From.
  if (channels::AddressList(source).size() != 1) return done(InvalidValue("Illegal address"));
  POSTBOX_RETURN_CALLBACK_IF_ERROR(done, CheckAddress(source));
  for (const std::string& r : recipients) {
    POSTBOX_RETURN_CALLBACK_IF_ERROR(done, CheckAddress(r));
  }
  if (recipients.empty()) return done(InvalidValue("Missing required header 'To'."));
  if (recipients.size() > kMaxRecipients) {
    return done(InvalidValue("Recipient count exceeds 50."));
  }
  const std::string sender = channels::BareAddress(source);
  if (options_.require_verified) {
    // Raw mail shows its own From header: those addresses must be verified too.
    std::vector<std::string> senders = {sender};
    if (email.raw) {
      auto from = channels::AddressList(
          channels::HeaderValue(channels::ParseHeaderFields(*email.raw), "From"));
      senders.insert(senders.end(), from.begin(), from.end());
    }
    std::lock_guard lock(mu_);
    for (const std::string& who : senders) {
      if (IsVerifiedLocked(region, account, who)) continue;
      return done(Status(ErrorCode::kMessageRejected,
                         "Email address is not verified. The following identities failed the "
                         "check in region " +
                             Upper(region) + ": " + who));
    }
  }
  if (!outbox_.HasChannel("ses")) {
    return done(Status(ErrorCode::kMessageRejected,
                       "postbox has no SMTP relay configured (email.smtp_url): mail cannot be "
                       "sent."));
  }
  // Before the quota is taken: a send refused because storage is behind must not use it up.
  POSTBOX_RETURN_CALLBACK_IF_ERROR(done, engine_.AdmitNewData());
  POSTBOX_RETURN_CALLBACK_IF_ERROR(done, TakeQuota(recipients.size()));
  Delivery mail = NewMail(sender, std::move(recipients), std::move(message));
  mail.message_id = message_id;
  const std::string sender_address = mail.endpoint;
  const size_t recipient_count = mail.recipients.size();
  outbox_.Enqueue(std::move(mail), [=, done = std::move(done)](Status s) {
    if (!s.ok()) return done(s);
    spdlog::info("event=ses_mail_accepted message_id={} sender={} recipients={}", message_id,
                 LoggedEndpoint("ses", sender_address), recipient_count);
    done(message_id);
  });
}

}  // namespace postbox::core
