// Fuzzes SigV4 reading and checking (wire::auth): any Authorization header, X-Amz-* query,
// date and body a client sends must be parsed, canonicalized and judged without crashing, and
// a request the verifier accepts must have been signed with the known secret.
//
// Input: four lines, "<target>\n<authorization>\n<x-amz-date>\n<body>" (missing lines are
// empty); the request is a POST with Host 127.0.0.1 and those fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wire/auth/sigv4.h"

namespace {

std::string_view NextLine(std::string_view* rest) {
  const size_t end = rest->find('\n');
  std::string_view line = rest->substr(0, end);
  rest->remove_prefix(end == std::string_view::npos ? rest->size() : end + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace postbox::wire;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  HttpRequest request;
  request.method = "POST";
  request.target = std::string(NextLine(&rest));
  request.AddHeader("host", "127.0.0.1");
  if (std::string_view authorization = NextLine(&rest); !authorization.empty()) {
    request.AddHeader("authorization", std::string(authorization));
  }
  if (std::string_view date = NextLine(&rest); !date.empty()) {
    request.AddHeader("x-amz-date", std::string(date));
  }
  request.body = std::string(rest);
  auto fields = auth::ParseSigV4(request);
  if (fields.ok()) {
    const std::string canonical = auth::CanonicalRequest(request, *fields, "UNSIGNED-PAYLOAD");
    (void)auth::Sign("secret", *fields, auth::StringToSign(*fields, canonical));
  }
  auto verified = auth::VerifySigV4(
      request,
      [](const std::string& key) -> std::optional<auth::SigningSecret> {
        if (key != "AKIDEXAMPLE") return std::nullopt;
        return auth::SigningSecret{"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
      },
      1'780'000'000);
  // Accepting a fuzzed signature would mean forging HMAC-SHA256: a bug, not luck.
  if (verified.ok()) std::abort();
  return 0;
}
