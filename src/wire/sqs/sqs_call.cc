#include "wire/sqs/sqs_call.h"

#include <charconv>
#include <set>

#include "wire/common/access.h"

namespace postbox::wire::sqs {
namespace {

using nlohmann::json;

Status NonExistentQueue() {
  return Status(ErrorCode::kQueueDoesNotExist, "The specified queue does not exist.");
}

// "http://host:port/123456789012/orders" or "/123456789012/orders" -> {account, name}.
std::optional<std::pair<std::string, std::string>> SplitQueuePath(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    size_t slash = url.find('/', scheme + 3);
    url = slash == std::string_view::npos ? std::string_view() : url.substr(slash);
  }
  url = url.substr(0, url.find('?'));
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  size_t last = url.rfind('/');
  if (last == std::string_view::npos || last == 0) return std::nullopt;
  size_t prev = url.rfind('/', last - 1);
  if (prev == std::string_view::npos) return std::nullopt;
  std::string account(url.substr(prev + 1, last - prev - 1));
  std::string name(url.substr(last + 1));
  if (account.empty() || name.empty()) return std::nullopt;
  return std::pair(account, name);
}

}  // namespace

std::string Call::QueueUrl(const core::QueueId& id) const {
  return context.scheme + "://" + context.host + "/" + id.account + "/" + id.name;
}

Result<core::QueuePtr> Call::Queue() const { return QueueAt(OptionalString("QueueUrl")); }

Result<core::QueuePtr> Call::QueueAt(std::string url) const {
  if (url.empty()) url = path;
  if (url.empty() || url == "/") {
    return Status(ErrorCode::kMissingParameter, "The request must contain the parameter QueueUrl.");
  }
  // AWS also takes the queue's bare name where a URL is expected: the caller's account.
  if (url.find('/') == std::string::npos) {
    return AccessibleQueue(core::QueueId{context.region, context.account, url});
  }
  auto parts = SplitQueuePath(url);
  if (!parts) return NonExistentQueue();
  return AccessibleQueue(core::QueueId{context.region, parts->first, parts->second});
}

Result<core::QueuePtr> Call::AccessibleQueue(const core::QueueId& id) const {
  auto queue = service->GetQueue(id);
  if (!context.authenticated) return queue;
  // A missing queue of one's own account is NonExistentQueue; of another account, the same
  // AccessDenied an existing one without a grant gets, so that names cannot be probed.
  if (!queue.ok() && id.account == context.account) return queue;
  const auto policy = queue.ok() ? (*queue)->access_policy() : nullptr;
  POSTBOX_RETURN_IF_ERROR(CheckAccessTo(id.Arn(), policy.get()));
  return queue;
}

std::string Call::IamAction() const {
  // A batch is authorized as its single-message action, as IAM names them.
  std::string_view name = action;
  constexpr std::string_view kBatch = "Batch";
  if (name.size() > kBatch.size() && name.substr(name.size() - kBatch.size()) == kBatch) {
    name.remove_suffix(kBatch.size());
  }
  return "sqs:" + std::string(name);
}

Status Call::CheckAccessTo(std::string_view resource,
                           const core::policy::Document* resource_policy) const {
  return CheckAccess(context, IamAction(), resource, resource_policy);
}

Result<std::string> Call::RequiredString(const char* name) const {
  auto it = input.find(name);
  if (it == input.end() || !it->is_string()) {
    return Status(ErrorCode::kMissingParameter,
                  std::string("The request must contain the parameter ") + name + ".");
  }
  return it->get<std::string>();
}

std::string Call::OptionalString(const char* name) const {
  auto it = input.find(name);
  return it != input.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<std::optional<int>> Call::OptionalInt(const char* name) const {
  auto it = input.find(name);
  if (it == input.end() || it->is_null()) return std::optional<int>();
  if (it->is_number_integer()) {
    int64_t v = it->get<int64_t>();
    if (v >= INT32_MIN && v <= INT32_MAX) return std::optional<int>(int(v));
  } else if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size()) return std::optional<int>(v);
  }
  return Status(ErrorCode::kInvalidParameterValue, std::string("Value for parameter ") + name +
                                                       " is invalid. Reason: not an integer.");
}

std::vector<std::string> Call::StringList(const char* name) const {
  std::vector<std::string> out;
  auto it = input.find(name);
  if (it == input.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

core::AttributeMap Call::StringMap(const char* name) const {
  core::AttributeMap out;
  auto it = input.find(name);
  if (it == input.end() || !it->is_object()) return out;
  for (const auto& [k, v] : it->items()) {
    out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

Result<std::string> StringMember(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return Status(ErrorCode::kMalformedRequest, std::string(name) + " must be a string.");
  }
  return it->get<std::string>();
}

bool IsValidBatchEntryId(std::string_view id) {
  bool valid = !id.empty() && id.size() <= 80;
  for (char c : id) valid = valid && (std::isalnum(uint8_t(c)) || c == '-' || c == '_');
  return valid;
}

Result<json> BatchEntries(Call& call, const char* entry_name) {
  auto it = call.input.find("Entries");
  if (it == call.input.end() || !it->is_array() || it->empty()) {
    return Status(ErrorCode::kEmptyBatchRequest,
                  std::string("There should be at least one ") + entry_name + " in the request.");
  }
  if (it->size() > kMaxBatchEntries) {
    return Status(ErrorCode::kTooManyEntriesInBatchRequest,
                  "Maximum number of entries per request are 10. You have sent " +
                      std::to_string(it->size()) + ".");
  }
  std::set<std::string> ids;
  for (const auto& entry : *it) {
    std::string id = entry.is_object() && entry.contains("Id") && entry["Id"].is_string()
                         ? entry["Id"].get<std::string>()
                         : "";
    if (!IsValidBatchEntryId(id)) {
      return Status(ErrorCode::kInvalidBatchEntryId,
                    "A batch entry id can only contain alphanumeric characters, hyphens and "
                    "underscores. It can be at most 80 letters long.");
    }
    if (!ids.insert(id).second) {
      return Status(ErrorCode::kBatchEntryIdsNotDistinct, "Id " + id + " repeated.");
    }
  }
  return std::move(*it);
}

}  // namespace postbox::wire::sqs
