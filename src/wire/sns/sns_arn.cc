#include "wire/sns/sns_arn.h"

#include <algorithm>
#include <charconv>

#include "base/encoding.h"

namespace postbox::wire::sns {

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
