// MessageSigner: the RSA key postbox signs SNS messages with, and its certificate.
//
// SNS signs every message it sends (HTTP/S notifications, confirmations, SQS envelopes) so that
// receivers can check it came from the service: SignatureVersion 1 is SHA1withRSA, 2 is
// SHA256withRSA, over the canonical "Key\nValue\n" text of the message. postbox generates a
// 2048-bit key and a self-signed certificate on first start, keeps both in the data directory
// (the key readable by the owner only), and serves the certificate at SigningCertURL.
// Thread-safety: immutable after Open; Sign may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/file_system.h"

namespace postbox::core {

class MessageSigner {
 public:
  // Loads key.pem and certificate.pem from `dir`, creating both (and `dir`) when absent. New
  // files are written durably (storage::WriteFileDurably): a power cut right after the first
  // start leaves either no key or a whole one, never an empty file that stops the next start.
  static Result<std::unique_ptr<MessageSigner>> Open(
      const std::string& dir, storage::FileSystem& fs = storage::PosixFileSystem());
  ~MessageSigner();

  // Base64 RSA signature of `text`; version 1 = SHA1, 2 = SHA256.
  std::string Sign(std::string_view text, int signature_version) const;
  // The certificate, PEM-encoded, as served at SigningCertURL.
  const std::string& certificate_pem() const { return certificate_pem_; }
  // The file name the certificate is served under: "SimpleNotificationService-<id>.pem",
  // the id derived from the certificate so that a new key gets a new URL.
  const std::string& certificate_file_name() const { return certificate_file_name_; }

 private:
  struct Key;
  MessageSigner(std::unique_ptr<Key> key, std::string certificate_pem);

  std::unique_ptr<Key> key_;
  std::string certificate_pem_;
  std::string certificate_file_name_;
};

// The text SNS signs for a message: "Key\nValue\n" for each present field, in the order AWS
// defines for the message's Type (Notification, SubscriptionConfirmation,
// UnsubscribeConfirmation). `fields` looks a field up by name; absent ones return nullptr.
template <typename Lookup>
std::string CanonicalSigningText(std::string_view type, const Lookup& field) {
  static constexpr const char* kNotification[] = {"Message",   "MessageId", "Subject",
                                                  "Timestamp", "TopicArn",  "Type"};
  static constexpr const char* kConfirmation[] = {
      "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"};
  std::string out;
  auto append = [&](const char* name) {
    const std::string* value = field(name);
    if (value == nullptr) return;
    out.append(name).push_back('\n');
    out.append(*value).push_back('\n');
  };
  if (type == "Notification") {
    for (const char* name : kNotification) append(name);
  } else {
    for (const char* name : kConfirmation) append(name);
  }
  return out;
}

}  // namespace postbox::core
