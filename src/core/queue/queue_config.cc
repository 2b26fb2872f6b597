#include "core/queue/queue_config.h"

#include <charconv>
#include <nlohmann/json.hpp>

namespace postbox::core {
namespace {

Status InvalidValue(const std::string& name) {
  return Status(ErrorCode::kInvalidAttributeValue, "Invalid value for the parameter " + name + ".");
}

Status ParseIntIn(const std::string& name, const std::string& value, int min, int max, int* out) {
  int v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size() || v < min || v > max) {
    return InvalidValue(name);
  }
  *out = v;
  return Status::Ok();
}

Status ParseBool(const std::string& name, const std::string& value, bool* out) {
  if (value == "true" || value == "True" || value == "TRUE") {
    *out = true;
  } else if (value == "false" || value == "False" || value == "FALSE") {
    *out = false;
  } else {
    return InvalidValue(name);
  }
  return Status::Ok();
}

}  // namespace

Result<RedrivePolicy> ParseRedrivePolicy(const std::string& text) {
  auto invalid = [&text](const std::string& reason) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "Value " + text + " for parameter RedrivePolicy is invalid. Reason: " + reason);
  };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return invalid("Redrive policy is not a valid JSON map.");
  for (const char* key : {"deadLetterTargetArn", "maxReceiveCount"}) {
    if (!j.contains(key)) {
      return invalid(std::string("Redrive policy does not contain mandatory attribute: ") + key +
                     ".");
    }
  }
  for (const auto& [key, value] : j.items()) {
    if (key != "deadLetterTargetArn" && key != "maxReceiveCount") {
      return invalid(
          "Only following attributes are supported: [maxReceiveCount, "
          "deadLetterTargetArn].");
    }
  }
  if (!j["deadLetterTargetArn"].is_string()) {
    return invalid("Dead-letter target ARN should be fully qualified ARN.");
  }
  RedrivePolicy policy;
  policy.dead_letter_target_arn = j["deadLetterTargetArn"].get<std::string>();
  const auto& count = j["maxReceiveCount"];
  std::string count_text = count.is_string() ? count.get<std::string>() : count.dump();
  auto [end, ec] = std::from_chars(count_text.data(), count_text.data() + count_text.size(),
                                   policy.max_receive_count);
  if (ec != std::errc() || end != count_text.data() + count_text.size() ||
      policy.max_receive_count < 1 || policy.max_receive_count > 1000) {
    return invalid("Invalid value for maxReceiveCount: " + count_text +
                   ", valid values are from 1 to 1000 both inclusive.");
  }
  return policy;
}

bool RedriveAllowPolicy::Allows(const std::string& source_arn) const {
  if (redrive_permission == "allowAll") return true;
  if (redrive_permission == "denyAll") return false;
  for (const auto& arn : source_queue_arns) {
    if (arn == source_arn) return true;
  }
  return false;
}

Result<RedriveAllowPolicy> ParseRedriveAllowPolicy(const std::string& text) {
  auto invalid = [&text](const std::string& reason) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "Value " + text +
                      " for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't "
                      "create the redrive allow policy. " +
                      reason);
  };
  const Status unsupported_format(ErrorCode::kInvalidParameterValue,
                                  "Invalid value for the parameter RedriveAllowPolicy. Reason: "
                                  "Amazon SQS can't create the redrive allow policy, as it’s "
                                  "in an unsupported format.");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return unsupported_format;
  for (const auto& [key, value] : j.items()) {
    if (key != "redrivePermission" && key != "sourceQueueArns") return unsupported_format;
  }
  auto permission = j.find("redrivePermission");
  if (permission == j.end() || !permission->is_string()) return unsupported_format;
  RedriveAllowPolicy policy;
  policy.redrive_permission = permission->get<std::string>();
  const std::string& kind = policy.redrive_permission;
  if (kind != "allowAll" && kind != "denyAll" && kind != "byQueue") return unsupported_format;
  auto arns = j.find("sourceQueueArns");
  if (kind != "byQueue") {
    if (arns != j.end()) {
      return invalid(
          "To specify one or more source queue ARNs, you must set redrivePermission to "
          "byQueue.");
    }
    return policy;
  }
  if (arns == j.end() || !arns->is_array() || arns->empty()) {
    return invalid(
        "When you specify the byQueue permission type, you must also specify one or "
        "more sourceQueueArns values.");
  }
  if (arns->size() > 10) {
    return invalid("The maximum number of source queue ARNs you can specify is 10.");
  }
  for (const auto& arn : *arns) {
    if (!arn.is_string()) return unsupported_format;
    policy.source_queue_arns.push_back(arn.get<std::string>());
  }
  return policy;
}

Status QueueConfig::Apply(const AttributeMap& attributes, bool creating) {
  QueueConfig next = *this;
  for (const auto& [name, value] : attributes) {
    Status s;
    if (name == "DelaySeconds") {
      s = ParseIntIn(name, value, 0, 900, &next.delay_seconds);
    } else if (name == "MaximumMessageSize") {
      s = ParseIntIn(name, value, 1024, 1'048'576, &next.maximum_message_size);
    } else if (name == "MessageRetentionPeriod") {
      s = ParseIntIn(name, value, 60, 1'209'600, &next.message_retention_period);
    } else if (name == "ReceiveMessageWaitTimeSeconds") {
      s = ParseIntIn(name, value, 0, 20, &next.receive_message_wait_time_seconds);
    } else if (name == "VisibilityTimeout") {
      s = ParseIntIn(name, value, 0, 43'200, &next.visibility_timeout);
    } else if (name == "RedrivePolicy") {
      if (value.empty()) {
        next.redrive_policy.reset();
        next.redrive_policy_json.clear();
      } else {
        auto policy = ParseRedrivePolicy(value);
        if (!policy.ok()) return policy.status();
        next.redrive_policy = *policy;
        next.redrive_policy_json = value;
      }
    } else if (name == "RedriveAllowPolicy") {
      if (value.empty()) {
        next.redrive_allow_policy = RedriveAllowPolicy{};
      } else {
        auto policy = ParseRedriveAllowPolicy(value);
        if (!policy.ok()) return policy.status();
        next.redrive_allow_policy = std::move(*policy);
      }
      next.redrive_allow_policy_json = value;
    } else if (name == "Policy") {
      next.policy.reset();
      if (!value.empty()) {
        auto policy = policy::ParsePolicy(value, policy::PolicyKind::kResource);
        if (!policy.ok()) {
          return Status(
              ErrorCode::kInvalidAttributeValue,
              "Invalid value for the parameter Policy. Reason: " + policy.status().message() + ".");
        }
        next.policy = std::move(*policy);
      }
      next.policy_json = value;
    } else if (name == "FifoQueue") {
      bool fifo = false;
      s = ParseBool(name, value, &fifo);
      if (s.ok() && !creating && !fifo_queue) {
        s = Status(ErrorCode::kInvalidAttributeName, "Unknown Attribute FifoQueue.");
      } else if (s.ok() && !creating && !fifo) {
        s = Status(ErrorCode::kInvalidAttributeValue,
                   "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is "
                   "not supported.");
      }
      if (creating) next.fifo_queue = fifo;
    } else if (name == "ContentBasedDeduplication") {
      s = ParseBool(name, value, &next.content_based_deduplication);
    } else if (name == "DeduplicationScope") {
      if (value != "queue" && value != "messageGroup") return InvalidValue(name);
      next.deduplication_scope = value;
    } else if (name == "FifoThroughputLimit") {
      if (value != "perQueue" && value != "perMessageGroupId") return InvalidValue(name);
      next.fifo_throughput_limit = value;
    } else if (name == "KmsMasterKeyId") {
      next.kms_master_key_id = value;
    } else if (name == "KmsDataKeyReusePeriodSeconds") {
      int seconds = 0;
      s = ParseIntIn(name, value, 60, 86'400, &seconds);
      next.kms_data_key_reuse_period_seconds = value;
    } else if (name == "SqsManagedSseEnabled") {
      bool enabled = false;
      s = ParseBool(name, value, &enabled);
      next.sqs_managed_sse_enabled = enabled ? "true" : "false";
    } else {
      s = Status(ErrorCode::kInvalidAttributeName, "Unknown Attribute " + name + ".");
    }
    if (!s.ok()) return s;
  }
  // One kind of server-side encryption at a time: a KMS key turns SQS-managed SSE off (a
  // request asking for both is refused earlier, by CheckEncryptionRequest; records stored
  // before this rule are put right here). The reuse period belongs to the key.
  if (!next.kms_master_key_id.empty()) {
    next.sqs_managed_sse_enabled = "false";
  } else {
    next.kms_data_key_reuse_period_seconds.clear();
  }
  if (next.fifo_throughput_limit == "perMessageGroupId" && !next.per_group_deduplication()) {
    return Status(ErrorCode::kInvalidAttributeValue,
                  "Invalid value for the parameter FifoThroughputLimit. Reason: To set "
                  "FifoThroughputLimit to perMessageGroupId, the DeduplicationScope must be "
                  "messageGroup.");
  }
  *this = std::move(next);
  return Status::Ok();
}

Status QueueConfig::CheckEncryptionRequest(const AttributeMap& request) const {
  auto key = request.find("KmsMasterKeyId");
  const bool key_after = key != request.end() ? !key->second.empty() : !kms_master_key_id.empty();
  auto sse = request.find("SqsManagedSseEnabled");
  bool sse_asked = false;
  if (key_after && sse != request.end() && ParseBool(sse->first, sse->second, &sse_asked).ok() &&
      sse_asked) {
    return Status(ErrorCode::kInvalidAttributeName,
                  "You can use one type of server-side encryption (SSE) at one time. You can "
                  "either enable KMS SSE or SQS SSE.");
  }
  return Status::Ok();
}

AttributeMap QueueConfig::ToAttributes() const {
  AttributeMap out = {
      {"DelaySeconds", std::to_string(delay_seconds)},
      {"MaximumMessageSize", std::to_string(maximum_message_size)},
      {"MessageRetentionPeriod", std::to_string(message_retention_period)},
      {"ReceiveMessageWaitTimeSeconds", std::to_string(receive_message_wait_time_seconds)},
      {"VisibilityTimeout", std::to_string(visibility_timeout)},
      {"SqsManagedSseEnabled", sqs_managed_sse_enabled},
  };
  if (!redrive_policy_json.empty()) {
    // AWS returns the policy normalised: {"deadLetterTargetArn":"...","maxReceiveCount":5}.
    nlohmann::json j = {{"deadLetterTargetArn", redrive_policy->dead_letter_target_arn},
                        {"maxReceiveCount", redrive_policy->max_receive_count}};
    out["RedrivePolicy"] = j.dump();
  }
  if (!redrive_allow_policy_json.empty()) out["RedriveAllowPolicy"] = redrive_allow_policy_json;
  if (!policy_json.empty()) out["Policy"] = policy_json;
  if (fifo_queue) {
    out["FifoQueue"] = "true";
    out["ContentBasedDeduplication"] = content_based_deduplication ? "true" : "false";
    out["DeduplicationScope"] = deduplication_scope.empty() ? "queue" : deduplication_scope;
    out["FifoThroughputLimit"] = fifo_throughput_limit.empty() ? "perQueue" : fifo_throughput_limit;
  }
  // The data key reuse period belongs to KMS encryption: shown (300 s by default) only while
  // a key is set.
  if (!kms_master_key_id.empty()) {
    out["KmsMasterKeyId"] = kms_master_key_id;
    out["KmsDataKeyReusePeriodSeconds"] =
        kms_data_key_reuse_period_seconds.empty() ? "300" : kms_data_key_reuse_period_seconds;
  }
  return out;
}

}  // namespace postbox::core
