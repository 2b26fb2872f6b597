// Fuzzes the SNS query-form decoder (wire::sns::QueryToInput over wire::ParseForm): any form
// body a client sends must decode into a JSON object without crashing, and the decoded input
// must serialize (no invalid state inside the tree).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wire/common/form.h"
#include "wire/sns/sns_query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto fields = postbox::wire::ParseForm(body);
  if (!fields.ok()) return 0;
  nlohmann::json input = postbox::wire::sns::QueryToInput(*fields);
  if (!input.is_object()) std::abort();
  (void)input.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
