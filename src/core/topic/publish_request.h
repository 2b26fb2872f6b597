// What a publisher sends (SNS Publish / PublishBatch entry), and the rules every publish
// obeys whatever it goes to: a topic, a phone number or a device endpoint.
//
// MessageStructure=json lets one publish carry a text per protocol ("sqs", "email", "sms",
// "GCM", ...) beside the required "default" one; the entry helpers below pick from it, so that
// the topic fan-out and the direct publishes (SMS, push) read it the same way.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "core/queue/message.h"

namespace postbox::core {

struct PublishRequest {
  std::string message;
  std::string subject;            // empty: none
  std::string message_structure;  // "" or "json"
  MessageAttributes attributes;
  std::optional<std::string> message_group_id;
  std::string message_deduplication_id;
  // The request's X-Amzn-Trace-Id header, passed on to subscribed queues as AWSTraceHeader.
  std::string trace_header;
};

// The checks of every publish with AWS's texts: a message, at most 256 KiB with its
// attributes, a printable subject of at most 100 characters, a JSON structure with a default
// entry, well-formed message attributes.
Status ValidatePublishRequest(const PublishRequest& request);

// The text for `key` (a protocol, or "sms"): the structure's entry for it, else its default
// entry; without MessageStructure, the message itself. The request must have been validated.
std::string StructureEntry(const PublishRequest& request, const std::string& key);

// The structure's entry for exactly `key` (no default), "" when there is none.
std::string ExactStructureEntry(const PublishRequest& request, const std::string& key);

// The FCM message a device gets for this publish: built from the structure's GCM entry when
// there is one, else from the default text (SNS has no "application" key). A GCM entry FCM could
// not take is an error (InvalidParameter).
Result<std::string> PushMessageFor(const PublishRequest& request);

}  // namespace postbox::core
