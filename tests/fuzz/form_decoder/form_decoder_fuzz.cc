// Fuzzes the query-protocol edge: a form body through wire::ParseForm, the fields through
// wire::sqs::QueryToInput, and that JSON input back out through OutputToXml (as the front-end
// would echo a structure of that shape in a response).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wire/common/form.h"
#include "wire/sqs/sqs_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto fields = postbox::wire::ParseForm(text);
  if (!fields.ok()) {
    // Only a malformed percent escape may fail the parse.
    if (text.find('%') == std::string_view::npos) std::abort();
    return 0;
  }
  size_t pairs = 1;
  for (char c : text) pairs += c == '&';
  if (fields->size() > pairs) std::abort();

  nlohmann::json input = postbox::wire::sqs::QueryToInput(*fields);
  if (!input.is_object()) std::abort();

  std::string xml = postbox::wire::sqs::OutputToXml("SendMessageBatch", input, "fuzz-request-id");
  if (xml.find("</SendMessageBatchResponse>") == std::string::npos) std::abort();
  return 0;
}
