#include "core/topic/delivery_policy.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace postbox::core {
namespace {

using nlohmann::json;

Status Invalid(const std::string& why) {
  return Status(ErrorCode::kInvalidParameter, "Invalid parameter: DeliveryPolicy: " + why);
}

// Applies the members of a healthyRetryPolicy object; checks AWS's bounds.
Status ApplyRetry(const json& retry, const std::string& where, RetryPolicy* out) {
  if (!retry.is_object()) return Invalid(where + " must be an object");
  auto integer = [&](const char* name, int* field, int low, int high) -> Status {
    auto it = retry.find(name);
    if (it == retry.end()) return Status::Ok();
    if (!it->is_number_integer()) return Invalid(where + "." + name + " must be an integer");
    int64_t v = it->get<int64_t>();
    if (v < low) {
      return Invalid(where + "." + name + " must be greater than or equal to " +
                     std::to_string(low));
    }
    if (v > high) {
      return Invalid(where + "." + name + " must be less than or equal to " + std::to_string(high));
    }
    *field = int(v);
    return Status::Ok();
  };
  POSTBOX_RETURN_IF_ERROR(integer("minDelayTarget", &out->min_delay_seconds, 1, 3600));
  POSTBOX_RETURN_IF_ERROR(integer("maxDelayTarget", &out->max_delay_seconds, 1, 3600));
  POSTBOX_RETURN_IF_ERROR(integer("numRetries", &out->num_retries, 0, 100));
  POSTBOX_RETURN_IF_ERROR(integer("numNoDelayRetries", &out->num_no_delay_retries, 0, 100));
  POSTBOX_RETURN_IF_ERROR(integer("numMinDelayRetries", &out->num_min_delay_retries, 0, 100));
  POSTBOX_RETURN_IF_ERROR(integer("numMaxDelayRetries", &out->num_max_delay_retries, 0, 100));
  if (auto it = retry.find("backoffFunction"); it != retry.end()) {
    static const char* kFunctions[] = {"linear", "arithmetic", "geometric", "exponential"};
    if (!it->is_string() || std::find(std::begin(kFunctions), std::end(kFunctions),
                                      it->get<std::string>()) == std::end(kFunctions)) {
      return Invalid(where +
                     ".backoffFunction must be one of linear, arithmetic, geometric, "
                     "exponential");
    }
    out->backoff_function = it->get<std::string>();
  }
  if (out->min_delay_seconds > out->max_delay_seconds) {
    return Invalid(where + ".minDelayTarget must be less than or equal to maxDelayTarget");
  }
  if (out->num_no_delay_retries + out->num_min_delay_retries + out->num_max_delay_retries >
      out->num_retries) {
    return Invalid(where + ".numRetries must be at least the sum of the other retry counts");
  }
  return Status::Ok();
}

Status ApplyThrottle(const json& throttle, const std::string& where, RetryPolicy* out) {
  if (throttle.is_null()) return Status::Ok();
  if (!throttle.is_object()) return Invalid(where + " must be an object");
  auto it = throttle.find("maxReceivesPerSecond");
  if (it == throttle.end()) return Status::Ok();
  if (!it->is_number_integer() || it->get<int64_t>() < 1) {
    return Invalid(where + ".maxReceivesPerSecond must be greater than or equal to 1");
  }
  out->max_receives_per_second = int(std::min<int64_t>(it->get<int64_t>(), 1'000'000));
  return Status::Ok();
}

Status Parse(const std::string& text, bool topic_level, RetryPolicy* out) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return Invalid("failed to parse JSON.");
  if (topic_level) {
    auto http = doc.find("http");
    if (http == doc.end()) return Status::Ok();
    if (!http->is_object()) return Invalid("http must be an object");
    doc = *http;
  }
  const char* retry_name = topic_level ? "defaultHealthyRetryPolicy" : "healthyRetryPolicy";
  const char* throttle_name = topic_level ? "defaultThrottlePolicy" : "throttlePolicy";
  std::string prefix = topic_level ? "http." : "";
  if (auto it = doc.find(retry_name); it != doc.end() && !it->is_null()) {
    POSTBOX_RETURN_IF_ERROR(ApplyRetry(*it, prefix + retry_name, out));
  }
  if (auto it = doc.find(throttle_name); it != doc.end()) {
    POSTBOX_RETURN_IF_ERROR(ApplyThrottle(*it, prefix + throttle_name, out));
  }
  return Status::Ok();
}

}  // namespace

std::optional<int> RetryPolicy::DelayBeforeRetry(int retry) const {
  if (retry < 1 || retry > num_retries) return std::nullopt;
  if (retry <= num_no_delay_retries) return 0;
  retry -= num_no_delay_retries;
  if (retry <= num_min_delay_retries) return min_delay_seconds;
  retry -= num_min_delay_retries;
  const int backoff_retries =
      num_retries - num_no_delay_retries - num_min_delay_retries - num_max_delay_retries;
  if (retry > backoff_retries) return max_delay_seconds;
  // Backoff phase: from min to max over `backoff_retries` steps, shaped by the function.
  if (backoff_retries <= 1) return min_delay_seconds;
  double x = double(retry - 1) / double(backoff_retries - 1);  // 0 .. 1
  double shape = x;
  if (backoff_function == "arithmetic") shape = x * x;
  if (backoff_function == "geometric") shape = x * x * x;
  if (backoff_function == "exponential") shape = (std::exp2(10 * x) - 1) / (std::exp2(10) - 1);
  double delay = min_delay_seconds + shape * (max_delay_seconds - min_delay_seconds);
  return int(std::lround(delay));
}

Status ValidateDeliveryPolicy(const std::string& json_text, bool topic_level) {
  RetryPolicy ignored;
  return Parse(json_text, topic_level, &ignored);
}

RetryPolicy EffectiveRetryPolicy(const std::string& subscription_policy,
                                 const std::string& topic_policy) {
  RetryPolicy policy;
  // Invalid documents cannot be stored (they are validated when set), so errors are ignored.
  if (!topic_policy.empty()) (void)Parse(topic_policy, true, &policy);
  if (!subscription_policy.empty()) (void)Parse(subscription_policy, false, &policy);
  return policy;
}

}  // namespace postbox::core
