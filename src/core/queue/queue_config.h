// QueueConfig: a queue's settable attributes, with AWS's names, ranges and defaults
// ("SetQueueAttributes", SQS API Reference; message size default 1 MiB since 2025).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/policy/access_policy.h"

namespace postbox::core {

using AttributeMap = std::map<std::string, std::string>;

struct RedrivePolicy {
  std::string dead_letter_target_arn;
  int max_receive_count = 0;
};

// Which source queues may use this queue as their dead-letter queue.
struct RedriveAllowPolicy {
  std::string redrive_permission = "allowAll";  // allowAll | denyAll | byQueue
  std::vector<std::string> source_queue_arns;   // byQueue: 1 to 10 ARNs

  bool Allows(const std::string& source_arn) const;
};

struct QueueConfig {
  int delay_seconds = 0;                      // 0..900
  int maximum_message_size = 1'048'576;       // 1024..1048576
  int message_retention_period = 345'600;     // 60..1209600
  int receive_message_wait_time_seconds = 0;  // 0..20
  int visibility_timeout = 30;                // 0..43200
  std::optional<RedrivePolicy> redrive_policy;
  std::string redrive_policy_json;  // as the user gave it
  std::string redrive_allow_policy_json;
  RedriveAllowPolicy redrive_allow_policy;  // parsed from redrive_allow_policy_json
  std::string policy_json;
  // policy_json as parsed (access checks read this); null when there is none.
  std::shared_ptr<const policy::Document> policy;
  bool fifo_queue = false;
  bool content_based_deduplication = false;
  std::string deduplication_scope;    // FIFO: queue | messageGroup
  std::string fifo_throughput_limit;  // FIFO: perQueue | perMessageGroupId
  std::string kms_master_key_id;
  std::string kms_data_key_reuse_period_seconds;
  std::string sqs_managed_sse_enabled = "true";

  // Applies `attributes` on top of this config, validating every name and value.
  // `creating` allows FifoQueue (it cannot be changed later).
  Status Apply(const AttributeMap& attributes, bool creating);
  // CreateQueue / SetQueueAttributes: refuses KMS and SQS-managed encryption asked together
  // (on top of this configuration), as AWS does.
  Status CheckEncryptionRequest(const AttributeMap& request) const;

  // FIFO: high throughput mode needs per-message-group deduplication.
  bool per_group_deduplication() const { return deduplication_scope == "messageGroup"; }

  // The settable attributes in AWS's spelling, as GetQueueAttributes returns them.
  AttributeMap ToAttributes() const;
};

// Parses {"deadLetterTargetArn": "...", "maxReceiveCount": n} (n may be a string or a number).
Result<RedrivePolicy> ParseRedrivePolicy(const std::string& json);
// Parses {"redrivePermission": "...", "sourceQueueArns": [...]}.
Result<RedriveAllowPolicy> ParseRedriveAllowPolicy(const std::string& json);

}  // namespace postbox::core
