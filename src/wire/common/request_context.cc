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

// Looks at every string of a JSON document (keys included), decoded, as the parser meets it:
// no document is built, nesting costs no stack (nlohmann's SAX parser keeps its own), and the
// first hit stops the parse.
class ArnFinder final : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit ArnFinder(const RequestContext& context) : context_(context) {}
  bool found() const { return found_; }

  bool string(string_t& value) override { return Check(value); }
  bool key(string_t& value) override { return Check(value); }
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;  // not JSON: the raw text was checked already
  }

 private:
  bool Check(const std::string& text) {
    found_ = TextNamesAnotherAccount(context_, text);
    return !found_;
  }

  const RequestContext& context_;
  bool found_ = false;
};

}  // namespace

bool NamesAnotherAccount(const RequestContext& context, std::string_view text) {
  if (!context.authenticated) return false;
  if (TextNamesAnotherAccount(context, text)) return true;
  // JSON can hide an ARN behind escapes ("arn\u003aaws:sqs:..."), and the server reads the
  // decoded strings: those are what must be checked.
  if (text.find('\\') == std::string_view::npos) return false;
  ArnFinder finder(context);
  try {
    nlohmann::json::sax_parse(text, &finder);
  } catch (const nlohmann::json::exception&) {
    // Malformed: the core refuses the value when it parses it.
  }
  return finder.found();
}

}  // namespace postbox::wire
