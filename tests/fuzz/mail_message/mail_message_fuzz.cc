// Fuzzes what postbox reads of mail written by others and writes into headers (SES
// SendRawEmail, subjects and names from API callers): the raw-message header parser, address
// lists, the SMTP preparation, and RFC 2047 encoding. Beyond not crashing, the output rules
// hold: a prepared message ends every line in CRLF and keeps no Bcc header line, and an encoded
// header value has no line break except the "CRLF space" folds between encoded words.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "channels/mime_message.h"
#include "channels/raw_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace postbox::channels;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto fields = ParseHeaderFields(input);
  for (const char* name : {"To", "Cc", "Bcc", "From"}) {
    for (const std::string& address : AddressList(HeaderValue(fields, name))) {
      (void)IsValidEmailAddress(address);
    }
  }
  const std::string prepared = PrepareForSmtp(input);
  for (size_t i = 0; i < prepared.size(); ++i) {
    if (prepared[i] == '\n' && (i == 0 || prepared[i - 1] != '\r')) std::abort();
  }
  if (prepared.size() < 2 || prepared.compare(prepared.size() - 2, 2, "\r\n") != 0) std::abort();
  if (prepared.rfind("Bcc:", 0) == 0 && input.rfind("Bcc:", 0) == 0) std::abort();

  const std::string encoded = EncodeHeaderText(input);
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '\r' || encoded[i] == '\n') {
      if (encoded.compare(i, 3, "\r\n ") != 0) std::abort();
      i += 2;  // past the fold
    }
  }
  (void)EncodeAddress(input);
  MailContent content;
  content.from = std::string(input);
  content.to = {std::string(input)};
  content.subject = std::string(input);
  content.text = std::string(input);
  (void)BuildMimeMessage(content);
  return 0;
}
