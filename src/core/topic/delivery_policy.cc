#include "core/topic/delivery_policy.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace postbox::core {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

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

// requestPolicy / defaultRequestPolicy: headerContentType becomes an HTTP header.
Status CheckRequestPolicy(const json& request, const std::string& where) {
  if (request.is_null()) return Status::Ok();
  if (!request.is_object()) return Invalid(where + " must be an object");
  auto it = request.find("headerContentType");
  if (it == request.end()) return Status::Ok();
  if (!it->is_string() || !IsHeaderSafeContentType(it->get<std::string>())) {
    return Invalid(where + ".headerContentType must be a content type");
  }
  return Status::Ok();
}

// AWS bounds policy documents (30 KiB for a topic policy); postbox bounds this one likewise,
// and its nesting, because showing it walks the document recursively.
constexpr size_t kMaxPolicyBytes = 30 * 1024;
constexpr int kMaxPolicyDepth = 8;
constexpr char kLimitsText[] = "the policy must be at most 30 KiB, nested at most 8 levels deep";

bool WithinLimits(const std::string& text) {
  if (text.size() > kMaxPolicyBytes) return false;
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxPolicyDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
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
  if (text.size() > kMaxPolicyBytes) return Invalid(kLimitsText);
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return Invalid("failed to parse JSON.");
  if (!WithinLimits(text)) return Invalid(kLimitsText);
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
  // AWS keeps a sickly retry policy but never uses it (deliveries are not marked sickly).
  const char* sickly_name = topic_level ? "defaultSicklyRetryPolicy" : "sicklyRetryPolicy";
  if (auto it = doc.find(sickly_name); it != doc.end() && !it->is_null() && !it->is_object()) {
    return Invalid(prefix + sickly_name + " must be an object");
  }
  const char* flag_name = topic_level ? "disableSubscriptionOverrides" : "guaranteed";
  if (auto it = doc.find(flag_name); it != doc.end() && !it->is_null() && !it->is_boolean()) {
    return Invalid(prefix + flag_name + " must be a boolean");
  }
  const char* request_name = topic_level ? "defaultRequestPolicy" : "requestPolicy";
  if (auto it = doc.find(request_name); it != doc.end()) {
    POSTBOX_RETURN_IF_ERROR(CheckRequestPolicy(*it, prefix + request_name));
  }
  return Status::Ok();
}

// The stored document (already validated) as an object; a topic's is its "http" member. One
// stored before the limits existed and beyond them counts as empty.
json Document(const std::string& text, bool topic_level) {
  if (text.empty() || !WithinLimits(text)) return json::object();
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return json::object();
  if (!topic_level) return doc;
  auto http = doc.find("http");
  return http != doc.end() && http->is_object() ? *http : json::object();
}

// The member `name` of `doc` when given and not null.
const json* Given(const json& doc, const char* name) {
  auto it = doc.find(name);
  return it == doc.end() || it->is_null() ? nullptr : &*it;
}

// A request or throttle policy counts only with the member deliveries use: an empty one
// leaves the inherited (or default) value in force, as in EffectiveContentType and Parse.
const json* GivenWith(const json& doc, const char* name, const char* member) {
  const json* policy = Given(doc, name);
  if (policy == nullptr || !policy->is_object()) return nullptr;
  const json* value = Given(*policy, member);
  if (value == nullptr) return nullptr;
  // A content type stored before they were checked, and never sent, is not shown either.
  if (std::string_view(member) == "headerContentType" &&
      !(value->is_string() && IsHeaderSafeContentType(value->get<std::string>()))) {
    return nullptr;
  }
  return policy;
}

ordered_json DefaultHealthyRetryPolicy() {
  const RetryPolicy d;
  return ordered_json{{"minDelayTarget", d.min_delay_seconds},
                      {"maxDelayTarget", d.max_delay_seconds},
                      {"numRetries", d.num_retries},
                      {"numMaxDelayRetries", d.num_max_delay_retries},
                      {"numNoDelayRetries", d.num_no_delay_retries},
                      {"numMinDelayRetries", d.num_min_delay_retries},
                      {"backoffFunction", d.backoff_function}};
}

// A retry policy as shown in an effective policy: the given members over AWS's defaults, as
// deliveries apply them.
ordered_json EffectiveRetry(const json* given) {
  ordered_json out = DefaultHealthyRetryPolicy();
  if (given != nullptr) {
    for (auto& [key, value] : out.items()) {
      if (auto it = given->find(key); it != given->end()) value = *it;
    }
  }
  return out;
}

// A member of a stored document in the shown one (null, or `fallback`, when not given).
ordered_json Ordered(const json* value, ordered_json fallback = nullptr) {
  return value == nullptr ? std::move(fallback) : ordered_json::parse(value->dump());
}

std::string Dump(const ordered_json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The topic's effective "http" member: what its subscriptions inherit.
ordered_json TopicEffectiveHttp(const json& topic) {
  ordered_json http;
  http["defaultHealthyRetryPolicy"] = EffectiveRetry(Given(topic, "defaultHealthyRetryPolicy"));
  if (const json* sickly = Given(topic, "defaultSicklyRetryPolicy")) {
    http["defaultSicklyRetryPolicy"] = Ordered(sickly);
  }
  if (const json* throttle = GivenWith(topic, "defaultThrottlePolicy", "maxReceivesPerSecond")) {
    http["defaultThrottlePolicy"] = Ordered(throttle);
  }
  http["disableSubscriptionOverrides"] =
      Ordered(Given(topic, "disableSubscriptionOverrides"), false);
  http["defaultRequestPolicy"] =
      Ordered(GivenWith(topic, "defaultRequestPolicy", "headerContentType"),
              ordered_json{{"headerContentType", kDefaultDeliveryContentType}});
  return http;
}

bool OverridesDisabled(const json& topic) {
  const json* disable = Given(topic, "disableSubscriptionOverrides");
  return disable != nullptr && disable->is_boolean() && disable->get<bool>();
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

RetryPolicy ManagedRetryPolicy(int min_delay_seconds, int max_delay_seconds, int num_retries) {
  RetryPolicy p;
  p.min_delay_seconds = min_delay_seconds;
  p.max_delay_seconds = std::max(min_delay_seconds, max_delay_seconds);
  p.num_retries = std::max(0, num_retries);
  p.num_no_delay_retries = 0;
  p.num_min_delay_retries = std::min(2, p.num_retries);
  const int backoff = std::min(10, p.num_retries - p.num_min_delay_retries);
  p.num_max_delay_retries = p.num_retries - p.num_min_delay_retries - backoff;
  p.backoff_function = "exponential";
  return p;
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
  if (!subscription_policy.empty() && !OverridesDisabled(Document(topic_policy, true))) {
    // A subscription's retry policy replaces its topic's, over AWS's defaults: it was checked
    // alone, and mixed with the topic's numbers it might not hold together.
    if (Given(Document(subscription_policy, false), "healthyRetryPolicy") != nullptr) {
      RetryPolicy fresh;
      fresh.max_receives_per_second = policy.max_receives_per_second;
      policy = fresh;
    }
    (void)Parse(subscription_policy, false, &policy);
  }
  return policy;
}

bool IsHeaderSafeContentType(const std::string& value) {
  // type/subtype with optional parameters, printable ASCII: no line break can end the header.
  if (value.empty() || value.size() > 256 || value.front() == ' ') return false;
  for (char c : value) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return value.find('/') != std::string::npos;
}

std::string EffectiveContentType(const std::string& subscription_policy,
                                 const std::string& topic_policy) {
  const json topic = Document(topic_policy, true);
  const json subscription =
      OverridesDisabled(topic) ? json::object() : Document(subscription_policy, false);
  for (const json* request :
       {Given(subscription, "requestPolicy"), Given(topic, "defaultRequestPolicy")}) {
    if (request == nullptr) continue;
    auto type = request->find("headerContentType");
    // (A policy stored before content types were checked may hold anything: skip it.)
    if (type != request->end() && type->is_string() &&
        IsHeaderSafeContentType(type->get<std::string>())) {
      return type->get<std::string>();
    }
  }
  return kDefaultDeliveryContentType;
}

std::string TopicDeliveryPolicyView(const std::string& topic_policy) {
  const json topic = Document(topic_policy, true);
  ordered_json http;
  for (const char* name :
       {"defaultHealthyRetryPolicy", "defaultSicklyRetryPolicy", "defaultThrottlePolicy"}) {
    if (const json* given = Given(topic, name)) http[name] = Ordered(given);
  }
  http["disableSubscriptionOverrides"] =
      Ordered(Given(topic, "disableSubscriptionOverrides"), false);
  if (const json* request = Given(topic, "defaultRequestPolicy")) {
    http["defaultRequestPolicy"] = Ordered(request);
  }
  return Dump(ordered_json{{"http", http}});
}

std::string TopicEffectiveDeliveryPolicy(const std::string& topic_policy) {
  return Dump(ordered_json{{"http", TopicEffectiveHttp(Document(topic_policy, true))}});
}

std::string SubscriptionDeliveryPolicyView(const std::string& subscription_policy) {
  const json own = Document(subscription_policy, false);
  ordered_json out;
  for (const char* name :
       {"healthyRetryPolicy", "sicklyRetryPolicy", "throttlePolicy", "requestPolicy"}) {
    out[name] = Ordered(Given(own, name));
  }
  out["guaranteed"] = Ordered(Given(own, "guaranteed"), false);
  return Dump(out);
}

std::string SubscriptionEffectiveDeliveryPolicy(const std::string& subscription_policy,
                                                const std::string& topic_policy) {
  const json topic = Document(topic_policy, true);
  const ordered_json inherited = TopicEffectiveHttp(topic);
  const json own = OverridesDisabled(topic) ? json::object() : Document(subscription_policy, false);
  auto pick = [&](const char* own_name, const char* topic_name, const char* member) {
    const json* mine = member != nullptr ? GivenWith(own, own_name, member) : Given(own, own_name);
    if (mine != nullptr) return Ordered(mine);
    auto it = inherited.find(topic_name);
    return it != inherited.end() ? *it : ordered_json(nullptr);
  };
  ordered_json out;
  const json* healthy = Given(own, "healthyRetryPolicy");
  out["healthyRetryPolicy"] =
      healthy != nullptr ? EffectiveRetry(healthy) : inherited.at("defaultHealthyRetryPolicy");
  out["sicklyRetryPolicy"] = pick("sicklyRetryPolicy", "defaultSicklyRetryPolicy", nullptr);
  out["throttlePolicy"] = pick("throttlePolicy", "defaultThrottlePolicy", "maxReceivesPerSecond");
  out["requestPolicy"] = pick("requestPolicy", "defaultRequestPolicy", "headerContentType");
  out["guaranteed"] = Ordered(Given(own, "guaranteed"), false);
  return Dump(out);
}

}  // namespace postbox::core
