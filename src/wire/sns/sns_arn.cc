#include "wire/sns/sns_arn.h"

#include <algorithm>
#include <charconv>

#include "base/encoding.h"

namespace postbox::wire::sns {
namespace {

// The position of the n-th ':' (1-based); the ARN has at least five.
size_t NthColon(const std::string& arn, int n) {
  size_t at = std::string::npos;
  for (int i = 0; i < n; ++i) at = arn.find(':', at + 1);
  return at;
}

}  // namespace

Result<std::string> RequiredArn(const SnsCall& call, const char* name) {
  auto value = call.Required(name);
  if (!value.ok()) return value.status();
  size_t parts = size_t(std::count(value->begin(), value->end(), ':')) + 1;
  if (parts < 6) {
    return Status(ErrorCode::kInvalidParameter,
                  std::string("Invalid parameter: ") + name +
                      " Reason: An ARN must have at least 6 elements, not " +
                      std::to_string(parts));
  }
  // Authenticated callers reach only their own account's resources (no topic policies yet).
  if (call.context.authenticated) {
    const size_t account_start = NthColon(*value, 4) + 1;
    const size_t account_end = value->find(':', account_start);
    if (value->compare(account_start, account_end - account_start, call.context.account) != 0) {
      return Status(ErrorCode::kAccessDenied,
                    std::string("User is not authorized to access ") + name + " " + *value);
    }
  }
  // A topic belongs to its region: a client in another region cannot name it (AWS answers
  // so for every action that takes a TopicArn).
  if (std::string_view(name) == "TopicArn" || std::string_view(name) == "TargetArn") {
    const size_t region_start = NthColon(*value, 3) + 1;
    const size_t region_end = value->find(':', region_start);
    if (value->compare(region_start, region_end - region_start, call.context.region) != 0) {
      return Status(ErrorCode::kInvalidParameter, std::string("Invalid parameter: ") + name);
    }
  }
  return value;
}

Result<PageRange> Page(size_t total, size_t page_size, const std::string& token) {
  PageRange page;
  if (!token.empty()) {
    // Tokens are the base64 of the next item's position: opaque to clients, as AWS's are.
    auto decoded = Base64Decode(token);
    size_t position = 0;
    bool valid = decoded.has_value();
    if (valid) {
      auto [end, ec] =
          std::from_chars(decoded->data(), decoded->data() + decoded->size(), position);
      valid = ec == std::errc() && end == decoded->data() + decoded->size();
    }
    if (!valid) return Status(ErrorCode::kInvalidParameter, "Invalid parameter: NextToken");
    page.begin = std::min(position, total);
  }
  page.end = std::min(total, page.begin + page_size);
  if (page.end < total) page.next_token = Base64Encode(std::to_string(page.end));
  return page;
}

}  // namespace postbox::wire::sns
