#include "wire/auth/sigv4.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <map>

#include "base/encoding.h"
#include "wire/common/form.h"

namespace postbox::wire::auth {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

Status Incomplete(const std::string& message) {
  return Status(ErrorCode::kIncompleteSignature, message);
}

// A query component as the application will read it (ParseForm: '+' is a space), so that the
// signature covers what the handler sees: a '+' and a '%2B' must not both pass one signature.
// A malformed escape is kept as sent (the application refuses such a request anyway).
std::string QueryDecode(std::string_view text) {
  auto decoded = UrlDecode(text);
  return decoded ? *decoded : std::string(text);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "AKID/20261124/us-east-1/sqs/aws4_request" into the fields.
Status ApplyCredential(std::string_view credential, SigV4Fields* fields) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t slash = credential.find('/', start);
    parts.push_back(credential.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  // The access key may not hold '/', so the scope is always the last four parts.
  if (parts.size() != 5 || parts[4] != "aws4_request" || parts[0].empty() || parts[1].size() != 8 ||
      parts[2].empty() || parts[3].empty()) {
    return Incomplete(
        "Credential is not of the form <access key>/<date>/<region>/<service>/"
        "aws4_request.");
  }
  fields->access_key_id = std::string(parts[0]);
  fields->date = std::string(parts[1]);
  fields->region = std::string(parts[2]);
  fields->service = std::string(parts[3]);
  return Status::Ok();
}

Status ApplySignedHeaders(std::string_view list, SigV4Fields* fields) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(';', start);
    if (end == std::string_view::npos) end = list.size();
    std::string name(list.substr(start, end - start));
    if (name.empty()) return Incomplete("SignedHeaders holds an empty header name.");
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    fields->signed_headers.push_back(std::move(name));
    start = end + 1;
  }
  return Status::Ok();
}

// RFC 1123 ("Tue, 24 Nov 2026 09:19:56 GMT") as YYYYMMDDTHHMMSSZ, "" when it is not.
std::string FromHttpDate(std::string_view date) {
  std::tm tm{};
  const std::string text(date);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return "";
  char out[17];
  std::strftime(out, sizeof out, "%Y%m%dT%H%M%SZ", &tm);
  return out;
}

// YYYYMMDDTHHMMSSZ as Unix seconds; nullopt when malformed.
std::optional<int64_t> ParseAmzDate(const std::string& amz_date) {
  if (amz_date.size() != 16 || amz_date[8] != 'T' || amz_date[15] != 'Z') return std::nullopt;
  std::tm tm{};
  const char* end = strptime(amz_date.c_str(), "%Y%m%dT%H%M%SZ", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return int64_t(timegm(&tm));
}

std::string AmzDate(int64_t seconds) {
  const time_t t = time_t(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[17];
  std::strftime(out, sizeof out, "%Y%m%dT%H%M%SZ", &tm);
  return out;
}

Result<SigV4Fields> FromHeader(const HttpRequest& request, std::string_view authorization) {
  SigV4Fields fields;
  if (authorization.substr(0, kAlgorithm.size()) != kAlgorithm ||
      (authorization.size() > kAlgorithm.size() && authorization[kAlgorithm.size()] != ' ')) {
    return Incomplete("Unsupported AWS 'algorithm': only AWS4-HMAC-SHA256 is accepted.");
  }
  std::map<std::string, std::string, std::less<>> parts;
  std::string_view rest = authorization.substr(kAlgorithm.size());
  size_t start = 0;
  while (start < rest.size()) {
    size_t comma = rest.find(',', start);
    if (comma == std::string_view::npos) comma = rest.size();
    std::string_view part = Trim(rest.substr(start, comma - start));
    const size_t eq = part.find('=');
    if (!part.empty()) {
      if (eq == std::string_view::npos) {
        return Incomplete(
            "Authorization header requires each component to be of the form "
            "key=value.");
      }
      parts[std::string(part.substr(0, eq))] = std::string(part.substr(eq + 1));
    }
    start = comma + 1;
  }
  std::string missing;
  for (const char* name : {"Credential", "Signature", "SignedHeaders"}) {
    if (!parts.count(name)) {
      missing += std::string(missing.empty() ? "" : " ") + "Authorization header requires '" +
                 name + "' parameter.";
    }
  }
  std::string amz_date(request.Header("x-amz-date"));
  if (amz_date.empty() && !request.Header("date").empty()) {
    amz_date = FromHttpDate(request.Header("date"));
  }
  if (amz_date.empty()) {
    missing += std::string(missing.empty() ? "" : " ") +
               "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
               "header.";
  }
  if (!missing.empty()) return Incomplete(missing + " Authorization=" + std::string(kAlgorithm));
  POSTBOX_RETURN_IF_ERROR(ApplyCredential(parts["Credential"], &fields));
  POSTBOX_RETURN_IF_ERROR(ApplySignedHeaders(parts["SignedHeaders"], &fields));
  fields.signature = parts["Signature"];
  fields.amz_date = amz_date;
  fields.session_token = std::string(request.Header("x-amz-security-token"));
  return fields;
}

Result<SigV4Fields> FromQuery(const HttpRequest& request) {
  SigV4Fields fields;
  fields.presigned = true;
  std::map<std::string, std::string> query;
  std::string_view q = request.Query();
  size_t start = 0;
  while (start < q.size()) {
    size_t end = q.find('&', start);
    if (end == std::string_view::npos) end = q.size();
    std::string_view pair = q.substr(start, end - start);
    const size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq));
    if (key.rfind("X-Amz-", 0) == 0) {
      query[key] = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    }
    start = end + 1;
  }
  std::string missing;
  for (const char* name : {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature",
                           "X-Amz-SignedHeaders", "X-Amz-Date", "X-Amz-Expires"}) {
    if (!query.count(name)) missing += std::string(missing.empty() ? "" : ", ") + name;
  }
  if (!missing.empty()) {
    return Incomplete("AWS query-string parameters must include " + missing +
                      ". Re-examine the query-string parameters.");
  }
  if (query["X-Amz-Algorithm"] != kAlgorithm) {
    return Incomplete("X-Amz-Algorithm only supports AWS4-HMAC-SHA256.");
  }
  POSTBOX_RETURN_IF_ERROR(ApplyCredential(query["X-Amz-Credential"], &fields));
  POSTBOX_RETURN_IF_ERROR(ApplySignedHeaders(query["X-Amz-SignedHeaders"], &fields));
  fields.signature = query["X-Amz-Signature"];
  fields.amz_date = query["X-Amz-Date"];
  fields.session_token = query["X-Amz-Security-Token"];
  const std::string& expires = query["X-Amz-Expires"];
  auto [end, ec] =
      std::from_chars(expires.data(), expires.data() + expires.size(), fields.expires_seconds);
  if (ec != std::errc() || end != expires.data() + expires.size() || fields.expires_seconds < 0) {
    return Incomplete("X-Amz-Expires must be a non-negative integer.");
  }
  if (fields.expires_seconds > kMaxPresignedSeconds) {
    return Incomplete("X-Amz-Expires must be less than a week (in seconds) that is 604800.");
  }
  return fields;
}

std::string CanonicalUri(std::string_view path) {
  if (path.empty()) return "/";
  std::string out;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    out += PercentEncode(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    start = slash + 1;
  }
  return out;
}

std::string CanonicalQuery(std::string_view query, bool presigned) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key = QueryDecode(pair.substr(0, eq));
    if (presigned && key == "X-Amz-Signature") continue;  // the signature cannot sign itself
    pairs.emplace_back(
        PercentEncode(key),
        PercentEncode(QueryDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1))));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += key + "=" + value;
  }
  return out;
}

// A header value as signed: trimmed, inner runs of spaces and tabs as one space.
std::string CanonicalValue(std::string_view value) {
  value = Trim(value);
  std::string out;
  out.reserve(value.size());
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// "Signature expired: <date> is now earlier than <now - 15 min> (<now> - 15 min.)", or the
// "not yet current" text for a request from the future; "" when the time is within the window.
std::string SkewProblem(int64_t request_seconds, int64_t now) {
  if (request_seconds < now - kMaxClockSkewSeconds) {
    return "Signature expired: " + AmzDate(request_seconds) + " is now earlier than " +
           AmzDate(now - kMaxClockSkewSeconds) + " (" + AmzDate(now) + " - 15 min.)";
  }
  if (request_seconds > now + kMaxClockSkewSeconds) {
    return "Signature not yet current: " + AmzDate(request_seconds) + " is still later than " +
           AmzDate(now + kMaxClockSkewSeconds) + " (" + AmzDate(now) + " + 15 min.)";
  }
  return "";
}

// Constant-time comparison, so that the time taken says nothing about how much matched.
bool SameSignature(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= (unsigned char)(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

Result<SigV4Fields> ParseSigV4(const HttpRequest& request) {
  const std::string_view authorization = request.Header("authorization");
  if (!authorization.empty()) return FromHeader(request, authorization);
  if (request.Query().find("X-Amz-") != std::string_view::npos) {
    // A query carrying X-Amz-Signature or X-Amz-Credential is a presigned URL.
    const std::string_view q = request.Query();
    if (q.find("X-Amz-Signature=") != std::string_view::npos ||
        q.find("X-Amz-Credential=") != std::string_view::npos ||
        q.find("X-Amz-Algorithm=") != std::string_view::npos) {
      return FromQuery(request);
    }
  }
  return Status(ErrorCode::kMissingAuthenticationToken, "Request is missing Authentication Token");
}

std::string CanonicalRequest(const HttpRequest& request, const SigV4Fields& fields,
                             const std::string& payload_hash) {
  std::string out = request.method + "\n" + CanonicalUri(request.Path()) + "\n" +
                    CanonicalQuery(request.Query(), fields.presigned) + "\n";
  for (const std::string& name : fields.signed_headers) {
    std::string joined;
    bool first = true;
    for (const auto& [field, value] : request.headers) {
      if (field != name) continue;
      if (!first) joined.push_back(',');
      joined += CanonicalValue(value);
      first = false;
    }
    out += name + ":" + joined + "\n";
  }
  out.push_back('\n');
  for (size_t i = 0; i < fields.signed_headers.size(); ++i) {
    if (i > 0) out.push_back(';');
    out += fields.signed_headers[i];
  }
  out += "\n" + payload_hash;
  return out;
}

std::string StringToSign(const SigV4Fields& fields, const std::string& canonical_request) {
  return std::string(kAlgorithm) + "\n" + fields.amz_date + "\n" + fields.date + "/" +
         fields.region + "/" + fields.service + "/aws4_request\n" + Sha256Hex(canonical_request);
}

std::string Sign(const std::string& secret, const SigV4Fields& fields,
                 const std::string& string_to_sign) {
  std::string key = HmacSha256("AWS4" + secret, fields.date);
  key = HmacSha256(key, fields.region);
  key = HmacSha256(key, fields.service);
  key = HmacSha256(key, "aws4_request");
  return HexEncode(HmacSha256(key, string_to_sign));
}

Result<SigV4Fields> VerifySigV4(const HttpRequest& request, const SecretLookup& lookup,
                                std::optional<int64_t> now_seconds) {
  auto fields = ParseSigV4(request);
  if (!fields.ok()) return fields.status();
  if (std::find(fields->signed_headers.begin(), fields->signed_headers.end(), "host") ==
      fields->signed_headers.end()) {
    return Incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const std::optional<int64_t> signed_at = ParseAmzDate(fields->amz_date);
  if (!signed_at) {
    return Incomplete("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  }
  if (fields->amz_date.compare(0, 8, fields->date) != 0) {
    return Status(ErrorCode::kSignatureDoesNotMatch,
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                  "date from HTTP: '" +
                      fields->date + "' != '" + fields->amz_date.substr(0, 8) + "', from '" +
                      fields->amz_date + "'.");
  }
  const std::optional<SigningSecret> secret = lookup(fields->access_key_id);
  if (!secret) {
    return Status(ErrorCode::kInvalidClientTokenId,
                  "The security token included in the request is invalid.");
  }
  if (fields->session_token != secret->session_token) {
    return Status(ErrorCode::kInvalidClientTokenId,
                  "The security token included in the request is invalid.");
  }
  if (now_seconds) {
    if (fields->presigned) {
      if (*now_seconds > *signed_at + fields->expires_seconds) {
        return Status(ErrorCode::kRequestExpired, "Request has expired.");
      }
      if (*signed_at > *now_seconds + kMaxClockSkewSeconds) {
        return Status(ErrorCode::kSignatureDoesNotMatch, SkewProblem(*signed_at, *now_seconds));
      }
    } else if (std::string skew = SkewProblem(*signed_at, *now_seconds); !skew.empty()) {
      return Status(ErrorCode::kSignatureDoesNotMatch, skew);
    }
  }
  // The payload hash: the one the client sent, else the body's. UNSIGNED-PAYLOAD only for a
  // presigned URL without a body: anywhere else it would let a body be swapped under a
  // valid signature.
  const bool may_be_unsigned = fields->presigned && request.body.empty();
  std::vector<std::string> payload_hashes;
  const std::string body_hash = Sha256Hex(request.body);
  const std::string_view sent_hash = request.Header("x-amz-content-sha256");
  if (!sent_hash.empty()) {
    if (sent_hash == kUnsignedPayload ? !may_be_unsigned : sent_hash != body_hash) {
      return Status(ErrorCode::kSignatureDoesNotMatch,
                    "The provided 'x-amz-content-sha256' header does not match what was "
                    "computed.");
    }
    payload_hashes.emplace_back(sent_hash);
  } else {
    payload_hashes.push_back(body_hash);
    // A presigned URL is signed before any body exists: signers use UNSIGNED-PAYLOAD.
    if (may_be_unsigned) payload_hashes.emplace_back(kUnsignedPayload);
  }
  for (const std::string& hash : payload_hashes) {
    const std::string expected =
        Sign(secret->secret_key, *fields,
             StringToSign(*fields, CanonicalRequest(request, *fields, hash)));
    if (SameSignature(expected, fields->signature)) return fields;
  }
  return Status(ErrorCode::kSignatureDoesNotMatch,
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.");
}

}  // namespace postbox::wire::auth
