// The JSON documents SNS sends to subscribers (the "envelope"): Notification,
// SubscriptionConfirmation and UnsubscribeConfirmation, signed with the server's key.
// Field order follows AWS's documents ("Parsing message formats"); docs/aws-wire.md section 7.
#pragma once

#include <map>
#include <string>

#include "core/queue/message.h"
#include "core/topic/message_signer.h"
#include "core/topic/topic.h"

namespace postbox::core {

struct EnvelopeFields {
  std::string type;  // "Notification", "SubscriptionConfirmation", ...
  std::string message_id;
  std::string token;            // confirmations only
  std::string sequence_number;  // FIFO topics' notifications only
  std::string topic_arn;
  std::string subject;  // empty: absent
  std::string message;
  std::string subscribe_url;  // confirmations only
  std::string timestamp;      // ISO 8601 with milliseconds
  std::string unsubscribe_url;
  MessageAttributes attributes;
};

// Signatures already computed, by the text they sign. One publish fans out to many
// subscriptions whose documents differ only in UnsubscribeURL, which is not signed: an RSA
// signature (about a millisecond) is made once per publish, not once per subscription.
using SignatureCache = std::map<std::string, std::string>;

// The signed JSON document. `base_url` ("http://127.0.0.1:9324") locates SigningCertURL.
std::string BuildEnvelope(const EnvelopeFields& fields, const Topic& topic,
                          const MessageSigner& signer, const std::string& base_url,
                          SignatureCache* cache = nullptr);

// RFC 3986 percent-encoding of everything but unreserved characters, for URL query values.
std::string UriEncode(std::string_view text);

}  // namespace postbox::core
