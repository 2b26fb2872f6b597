#include "wire/common/request_context.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wire/common/form.h"

namespace postbox::wire {
namespace {

void ApplyScope(std::string_view credential, RequestContext* context) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (parts.size() < 5) {
    size_t slash = credential.find('/', start);
    parts.push_back(credential.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() != 5 || parts[4] != "aws4_request") return;
  context->access_key_id = std::string(parts[0]);
  if (!parts[2].empty()) context->region = std::string(parts[2]);
  context->service = std::string(parts[3]);
}

}  // namespace

void ParseCredentialScope(const HttpRequest& request, RequestContext* context) {
  const std::string_view authorization = request.Header("authorization");
  constexpr std::string_view kMarker = "Credential=";
  size_t at = authorization.find(kMarker);
  if (at != std::string_view::npos) {
    size_t begin = at + kMarker.size();
    size_t end = authorization.find_first_of(", ", begin);
    ApplyScope(authorization.substr(begin, end - begin), context);
    return;
  }
  auto query = ParseForm(request.Query());
  if (!query.ok()) return;
  for (const auto& [key, value] : *query) {
    if (key == "X-Amz-Credential") ApplyScope(value, context);
  }
}

namespace {

bool TextNamesAnotherAccount(const RequestContext& context, std::string_view text) {
  for (size_t at = text.find("arn:"); at != std::string_view::npos;
       at = text.find("arn:", at + 4)) {
    // arn:partition:service:region:account:resource
    std::string_view fields[5];
    size_t start = at;
    bool complete = true;
    for (auto& field : fields) {
      const size_t colon = text.find(':', start);
      if (colon == std::string_view::npos) {
        complete = false;
        break;
      }
      field = text.substr(start, colon - start);
      start = colon + 1;
    }
    if (!complete) break;
    if ((fields[2] == "sqs" || fields[2] == "sns") && fields[4] != context.account) return true;
  }
  return false;
}

// Every string in a JSON document, decoded.
void CollectStrings(const nlohmann::json& node, std::vector<std::string>* out) {
  if (node.is_string()) {
    out->push_back(node.get<std::string>());
  } else if (node.is_structured()) {
    for (const auto& item : node) CollectStrings(item, out);
  }
}

}  // namespace

bool NamesAnotherAccount(const RequestContext& context, std::string_view text) {
  if (!context.authenticated) return false;
  if (TextNamesAnotherAccount(context, text)) return true;
  // JSON can hide an ARN behind escapes ("arn\u003aaws:sqs:..."), and the server reads the
  // decoded strings: those are what must be checked.
  if (text.find('\\') == std::string_view::npos) return false;
  const nlohmann::json document = nlohmann::json::parse(text, nullptr, false);
  if (document.is_discarded()) return false;
  std::vector<std::string> strings;
  CollectStrings(document, &strings);
  for (const std::string& decoded : strings) {
    if (TextNamesAnotherAccount(context, decoded)) return true;
  }
  return false;
}

}  // namespace postbox::wire
