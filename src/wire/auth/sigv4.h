// AWS Signature Version 4: reading a request's signature (the Authorization header, or a
// presigned URL's X-Amz-* query parameters), rebuilding the canonical request exactly as AWS
// clients build it, and checking the signature with the caller's secret key.
//
// The canonical request (AWS's "Create a canonical request for Signature Version 4"):
//   METHOD \n canonical URI \n canonical query \n canonical headers \n signed headers \n
//   payload hash
// where the URI is the path as sent, each byte but unreserved ones and '/' percent-encoded
// once more (non-S3 services encode twice); the query is every parameter (but a presigned
// URL's X-Amz-Signature) decoded as the application decodes it ('+' is a space), re-encoded
// (RFC 3986, upper-case hex) and sorted; each signed header is
// "name:value" with the value trimmed and inner runs of spaces collapsed, repeated headers
// joined by ','; the payload hash is x-amz-content-sha256 when sent, else SHA-256 of the body.
// The string to sign is "AWS4-HMAC-SHA256\n<X-Amz-Date>\n<date>/<region>/<service>/
// aws4_request\n<hex SHA-256 of the canonical request>", signed with the key derived from
// "AWS4"+secret through the date, region, service and "aws4_request".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "wire/common/http_message.h"

namespace postbox::wire::auth {

// What a request says about its signature, before any check.
struct SigV4Fields {
  std::string access_key_id;
  std::string date;     // YYYYMMDD, from the credential scope
  std::string region;   // from the credential scope
  std::string service;  // from the credential scope ("sqs", "sns", "ses", "email", ...)
  std::vector<std::string> signed_headers;  // lower-case, as listed
  std::string signature;                    // lower-case hex
  std::string amz_date;                     // YYYYMMDDTHHMMSSZ (X-Amz-Date, or from Date)
  std::string session_token;                // X-Amz-Security-Token, if any
  bool presigned = false;
  int64_t expires_seconds = 0;  // presigned: X-Amz-Expires
};

// Reads the signature fields. kMissingAuthenticationToken when the request carries none;
// kIncompleteSignature when the header or query misses a part or has a malformed one.
Result<SigV4Fields> ParseSigV4(const HttpRequest& request);

// The canonical request for `fields` with `payload_hash` (see above).
std::string CanonicalRequest(const HttpRequest& request, const SigV4Fields& fields,
                             const std::string& payload_hash);
// The string to sign for a canonical request.
std::string StringToSign(const SigV4Fields& fields, const std::string& canonical_request);
// The hex signature of `string_to_sign` with the key derived from `secret`.
std::string Sign(const std::string& secret, const SigV4Fields& fields,
                 const std::string& string_to_sign);

// A key the server knows: its secret, and the session token it must come with (temporary
// credentials), empty for a long-term key.
struct SigningSecret {
  std::string secret_key;
  std::string session_token;
};
using SecretLookup = std::function<std::optional<SigningSecret>(const std::string& access_key)>;

// How far a request's time may be from the server's: AWS's 15 minutes.
inline constexpr int64_t kMaxClockSkewSeconds = 15 * 60;
// The longest validity a presigned URL may ask for: AWS's 7 days.
inline constexpr int64_t kMaxPresignedSeconds = 7 * 24 * 3600;

// Checks the request's signature. `now_seconds` (Unix time) enables the clock checks (±15
// minutes, a presigned URL's expiry); nullopt skips them (replaying captured requests).
// Errors: kMissingAuthenticationToken, kIncompleteSignature, kInvalidClientTokenId (an
// unknown key, or a session token that is not the key's), kSignatureDoesNotMatch (also for a
// time outside the window, with AWS's "Signature expired" text), kRequestExpired (a presigned
// URL past its expiry). On success, the fields the request was signed with.
Result<SigV4Fields> VerifySigV4(const HttpRequest& request, const SecretLookup& lookup,
                                std::optional<int64_t> now_seconds);

}  // namespace postbox::wire::auth
