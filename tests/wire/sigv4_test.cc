// SigV4 verification against real signatures: the 455 captured client requests
// (tests/fixtures/wire) and botocore-signed vectors (tests/fixtures/sigv4), then every
// single-byte change to a signed element, the clock window, presigned expiry, session tokens
// and AWS's errors for unknown keys and malformed headers.
#include "wire/auth/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "base/clock.h"
#include "base/encoding.h"
#include "wire/auth/authenticator.h"
#include "wire/common/request_context.h"

namespace postbox::wire::auth {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr char kAccessKey[] = "AKIDEXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct Vector {
  std::string name;
  HttpRequest request;
  std::string session_token;
};

Vector Load(const fs::path& file) {
  std::ifstream in(file);
  json j = json::parse(in);
  const json& r = j.at("request");
  Vector v;
  v.name = file.lexically_relative(POSTBOX_FIXTURES_DIR).string();
  v.request.method = r.at("method");
  v.request.target = r.at("target");
  for (const auto& h : r.at("headers")) {
    std::string name = h.at(0);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    v.request.AddHeader(name, h.at(1));
  }
  if (r.contains("body_base64")) {
    v.request.body = Base64Decode(r.at("body_base64").get<std::string>()).value();
  } else {
    v.request.body = r.value("body", "");
  }
  v.session_token = j.value("session_token", "");
  return v;
}

std::vector<Vector> LoadAll(const std::string& folder) {
  std::vector<Vector> out;
  for (const auto& entry :
       fs::recursive_directory_iterator(fs::path(POSTBOX_FIXTURES_DIR) / folder)) {
    if (entry.path().extension() == ".json") out.push_back(Load(entry.path()));
  }
  std::sort(out.begin(), out.end(),
            [](const Vector& a, const Vector& b) { return a.name < b.name; });
  return out;
}

SecretLookup Keys(std::string session_token = "") {
  return [session_token](const std::string& key) -> std::optional<SigningSecret> {
    if (key != kAccessKey) return std::nullopt;
    return SigningSecret{kSecret, session_token};
  };
}

Status Verify(const Vector& v, std::optional<int64_t> now = std::nullopt) {
  return VerifySigV4(v.request, Keys(v.session_token), now).status();
}

TEST(SigV4, EveryCapturedRequestVerifies) {
  const std::vector<Vector> all = LoadAll("wire");
  EXPECT_EQ(all.size(), 455u);
  for (const Vector& v : all) {
    Status s = Verify(v);
    EXPECT_TRUE(s.ok()) << v.name << ": " << s.message();
  }
}

TEST(SigV4, BotocoreVectorsVerify) {
  const std::vector<Vector> all = LoadAll("sigv4");
  ASSERT_EQ(all.size(), 3u);
  for (const Vector& v : all) {
    Status s = Verify(v);
    EXPECT_TRUE(s.ok()) << v.name << ": " << s.message();
  }
}

// A different byte that is not a separator a decoder could read the same way.
char Other(char c) { return c == 'x' ? 'y' : 'x'; }

// Changes each byte of the method, the target (path and query), the value of each signed
// header and the body, one at a time: every change must fail.
void ExpectEveryByteMatters(const Vector& original) {
  auto fields = ParseSigV4(original.request);
  ASSERT_TRUE(fields.ok()) << original.name;
  auto expect_fails = [&](const Vector& changed, const std::string& where) {
    EXPECT_FALSE(Verify(changed).ok()) << original.name << ": a change at " << where << " passed";
  };
  for (size_t i = 0; i < original.request.method.size(); ++i) {
    Vector v = original;
    v.request.method[i] = Other(v.request.method[i]);
    expect_fails(v, "method byte " + std::to_string(i));
  }
  const std::string& target = original.request.target;
  const size_t signature_at = target.find("X-Amz-Signature=");
  for (size_t i = 0; i < target.size(); ++i) {
    if (signature_at != std::string::npos && i >= signature_at) break;  // the signature itself
    Vector v = original;
    v.request.target[i] = Other(v.request.target[i]);
    expect_fails(v, "target byte " + std::to_string(i));
  }
  for (size_t h = 0; h < original.request.headers.size(); ++h) {
    const auto& [name, value] = original.request.headers[h];
    if (std::find(fields->signed_headers.begin(), fields->signed_headers.end(), name) ==
        fields->signed_headers.end()) {
      continue;
    }
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] == ' ') continue;  // runs of spaces are collapsed by design
      Vector v = original;
      v.request.headers[h].second[i] = Other(value[i]);
      expect_fails(v, name + " byte " + std::to_string(i));
    }
  }
  for (size_t i = 0; i < original.request.body.size(); ++i) {
    Vector v = original;
    v.request.body[i] = Other(v.request.body[i]);
    expect_fails(v, "body byte " + std::to_string(i));
  }
  const std::string authorization(original.request.Header("authorization"));
  const size_t hex = authorization.find("Signature=");
  for (size_t i = hex == std::string::npos ? authorization.size() : hex + 10;
       i < authorization.size(); ++i) {
    Vector v = original;
    for (auto& [name, value] : v.request.headers) {
      if (name == "authorization") value[i] = value[i] == '0' ? '1' : '0';
    }
    expect_fails(v, "signature byte " + std::to_string(i));
  }
}

TEST(SigV4, EverySignedByteMatters) {
  // One request of each service, protocol and client: every way a request is built.
  std::set<std::string> seen;
  for (const Vector& v : LoadAll("wire")) {
    const std::string kind = fs::path(v.name).parent_path().string();
    if (!seen.insert(kind).second) continue;
    ExpectEveryByteMatters(v);
  }
  EXPECT_GE(seen.size(), 20u);
  for (const Vector& v : LoadAll("sigv4")) ExpectEveryByteMatters(v);
}

int64_t SignedAt(const Vector& v) {
  auto fields = ParseSigV4(v.request);
  std::tm tm{};
  strptime(fields->amz_date.c_str(), "%Y%m%dT%H%M%SZ", &tm);
  return int64_t(timegm(&tm));
}

TEST(SigV4, TheClockWindowIsFifteenMinutes) {
  const Vector v = LoadAll("wire").front();
  const int64_t at = SignedAt(v);
  EXPECT_TRUE(Verify(v, at + 14 * 60).ok());
  EXPECT_TRUE(Verify(v, at - 14 * 60).ok());
  Status late = Verify(v, at + 16 * 60);
  EXPECT_EQ(late.code(), ErrorCode::kSignatureDoesNotMatch);
  EXPECT_EQ(late.message().rfind("Signature expired: ", 0), 0u) << late.message();
  EXPECT_NE(late.message().find(" - 15 min.)"), std::string::npos);
  Status early = Verify(v, at - 16 * 60);
  EXPECT_EQ(early.code(), ErrorCode::kSignatureDoesNotMatch);
  EXPECT_EQ(early.message().rfind("Signature not yet current: ", 0), 0u) << early.message();
}

TEST(SigV4, PresignedUrlsExpire) {
  Vector v;
  for (const Vector& each : LoadAll("sigv4")) {
    if (each.name == "sigv4/presigned-get.json") v = each;
  }
  ASSERT_FALSE(v.name.empty());
  auto fields = ParseSigV4(v.request);
  ASSERT_TRUE(fields.ok());
  EXPECT_TRUE(fields->presigned);
  EXPECT_EQ(fields->expires_seconds, 900);
  const int64_t at = SignedAt(v);
  EXPECT_TRUE(Verify(v, at + 899).ok());
  EXPECT_EQ(Verify(v, at + 901).code(), ErrorCode::kRequestExpired);
  // A body slipped under an UNSIGNED-PAYLOAD URL is refused.
  v.request.body = "Action=DeleteQueue";
  EXPECT_EQ(Verify(v).code(), ErrorCode::kSignatureDoesNotMatch);
}

TEST(SigV4, SessionTokensMustBeTheKeys) {
  Vector v;
  for (const Vector& each : LoadAll("sigv4")) {
    if (each.name == "sigv4/session-token.json") v = each;
  }
  ASSERT_FALSE(v.session_token.empty());
  EXPECT_TRUE(Verify(v).ok());
  EXPECT_EQ(VerifySigV4(v.request, Keys("another-token"), std::nullopt).status().code(),
            ErrorCode::kInvalidClientTokenId);
  EXPECT_EQ(VerifySigV4(v.request, Keys(""), std::nullopt).status().code(),
            ErrorCode::kInvalidClientTokenId);
  // A long-term key's request with a token it does not have.
  Vector plain = LoadAll("wire").front();
  plain.request.AddHeader("x-amz-security-token", "stolen");
  EXPECT_EQ(Verify(plain).code(), ErrorCode::kInvalidClientTokenId);
}

TEST(SigV4, ErrorsAsAwsGivesThem) {
  Vector v = LoadAll("wire").front();
  Status unknown = VerifySigV4(
                       v.request, [](const std::string&) { return std::nullopt; }, std::nullopt)
                       .status();
  EXPECT_EQ(unknown.code(), ErrorCode::kInvalidClientTokenId);
  EXPECT_EQ(unknown.message(), "The security token included in the request is invalid.");
  Status wrong = VerifySigV4(
                     v.request,
                     [](const std::string&) {
                       return std::optional<SigningSecret>(SigningSecret{"not-the-secret", ""});
                     },
                     std::nullopt)
                     .status();
  EXPECT_EQ(wrong.code(), ErrorCode::kSignatureDoesNotMatch);
  EXPECT_EQ(wrong.message().rfind("The request signature we calculated does not match", 0), 0u);

  HttpRequest bare;
  bare.method = "POST";
  bare.target = "/";
  EXPECT_EQ(VerifySigV4(bare, Keys(), std::nullopt).status().code(),
            ErrorCode::kMissingAuthenticationToken);
  HttpRequest partial = bare;
  partial.AddHeader("x-amz-date", "20261124T091956Z");
  partial.AddHeader("authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/sqs/aws4_request");
  Status incomplete = VerifySigV4(partial, Keys(), std::nullopt).status();
  EXPECT_EQ(incomplete.code(), ErrorCode::kIncompleteSignature);
  EXPECT_NE(incomplete.message().find("Authorization header requires 'Signature' parameter."),
            std::string::npos);
  HttpRequest unsigned_host = bare;
  unsigned_host.AddHeader("x-amz-date", "20261124T091956Z");
  unsigned_host.AddHeader("authorization",
                          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/sqs/"
                          "aws4_request, SignedHeaders=x-amz-date, Signature=00");
  EXPECT_EQ(VerifySigV4(unsigned_host, Keys(), std::nullopt).status().message(),
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  HttpRequest other_day = unsigned_host;
  other_day.headers.back().second =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/sqs/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=00";
  EXPECT_EQ(VerifySigV4(other_day, Keys(), std::nullopt).status().code(),
            ErrorCode::kSignatureDoesNotMatch);
}

Vector Named(const std::string& name) {
  for (Vector& each : LoadAll(name.substr(0, name.find('/')))) {
    if (each.name == name) return each;
  }
  ADD_FAILURE() << "no vector " << name;
  return {};
}

// The key the captured vectors were signed with, in account 111111111111.
AccessKey KeyFor(const Vector& v) {
  AccessKey key;
  key.access_key_id = kAccessKey;
  key.secret_key = kSecret;
  key.session_token = v.session_token;
  key.account = "111111111111";
  return key;
}

TEST(Authenticator, UnsignedOperationHeadersAreRefused) {
  Vector v = Named("sigv4/presigned-get.json");
  ManualClock clock(SignedAt(v) * 1000);
  Authenticator auth({KeyFor(v)}, clock);
  RequestContext context;
  ASSERT_TRUE(auth.Authenticate(v.request, "sqs", &context).ok());
  EXPECT_TRUE(context.authenticated);
  EXPECT_EQ(context.account, "111111111111");
  // A presigned URL signs only host: it must not be replayed as another operation.
  Vector replay = v;
  replay.request.AddHeader("x-amz-target", "AmazonSQS.DeleteQueue");
  RequestContext refused;
  Status s = auth.Authenticate(replay.request, "sqs", &refused);
  EXPECT_EQ(s.code(), ErrorCode::kIncompleteSignature);
  EXPECT_FALSE(refused.authenticated);
  EXPECT_EQ(auth.failures().incomplete.value(), 1u);
}

TEST(Authenticator, AScopeForAnotherServedApiIsRefused) {
  Vector v = Named("sigv4/presigned-get.json");
  ManualClock clock(SignedAt(v) * 1000);
  Authenticator auth({KeyFor(v)}, clock);
  RequestContext context;
  Status s = auth.Authenticate(v.request, "sns", &context);  // signed for sqs
  EXPECT_EQ(s.code(), ErrorCode::kSignatureDoesNotMatch);
  EXPECT_EQ(s.message(), "Credential should be scoped to correct service: 'sns'. ");
  EXPECT_FALSE(context.authenticated);
  EXPECT_EQ(auth.failures().bad_signature.value(), 1u);
}

TEST(Authenticator, AScopeForAnApiPostboxDoesNotServePassesToTheUnsupportedAnswer) {
  Vector v = Named("wire/events/json/aws-cli-v2/ListRules.json");
  ManualClock clock(SignedAt(v) * 1000);
  Authenticator auth({KeyFor(v)}, clock);
  RequestContext context;
  Status s = auth.Authenticate(v.request, "sqs", &context);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(context.service, "events");
}

TEST(SigV4, PlusInAQueryIsASpaceAsTheApplicationReadsIt) {
  auto canonical = [](const std::string& query) {
    HttpRequest r;
    r.method = "GET";
    r.target = "/?" + query;
    SigV4Fields fields;
    fields.signed_headers = {"host"};
    return CanonicalRequest(r, fields, "x");
  };
  EXPECT_EQ(canonical("MessageBody=a+b"), canonical("MessageBody=a%20b"));
  EXPECT_NE(canonical("MessageBody=a+b"), canonical("MessageBody=a%2Bb"));
  // X-Amz-Signature is left out of a presigned URL's canonical query only.
  EXPECT_NE(canonical("A=1&X-Amz-Signature=00"), canonical("A=1"));
}

TEST(CallerAccount, SignedCallersNameOnlyTheirOwnAccountsResources) {
  RequestContext signed_in;
  signed_in.authenticated = true;
  signed_in.account = "111111111111";
  EXPECT_FALSE(NamesAnotherAccount(signed_in, "arn:aws:sqs:us-east-1:111111111111:dlq"));
  EXPECT_TRUE(NamesAnotherAccount(signed_in, "arn:aws:sqs:us-east-1:222222222222:dlq"));
  EXPECT_TRUE(NamesAnotherAccount(
      signed_in, R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:222222222222:dlq",)"
                 R"("maxReceiveCount":"3"})"));
  EXPECT_TRUE(NamesAnotherAccount(signed_in,
                                  "arn:aws:sns:us-east-1:222222222222:endpoint/GCM/app/0f1e2d3c"));
  // Escapes in JSON are decoded as the server decodes them.
  EXPECT_TRUE(NamesAnotherAccount(
      signed_in, R"({"deadLetterTargetArn":"arn\u003aaws:sqs:us-east-1:222222222222:dlq"})"));
  EXPECT_TRUE(NamesAnotherAccount(
      signed_in, R"({"deadLetterTargetArn":"\u0061rn:aws:sqs:us-east-1:222222222222:dlq"})"));
  EXPECT_FALSE(NamesAnotherAccount(
      signed_in, R"({"deadLetterTargetArn":"arn\u003aaws:sqs:us-east-1:111111111111:dlq"})"));
  // Deep nesting is walked without recursion (a million levels would overflow a stack).
  std::string deep = std::string(1'000'000, '[') + R"("\n")" + std::string(1'000'000, ']');
  EXPECT_FALSE(NamesAnotherAccount(signed_in, deep));
  // Other services' ARNs (a policy's principal) and text without an ARN are not resources.
  EXPECT_FALSE(NamesAnotherAccount(signed_in, "arn:aws:iam::222222222222:root"));
  EXPECT_FALSE(NamesAnotherAccount(signed_in, "https://example.com/hook"));
  EXPECT_FALSE(NamesAnotherAccount(signed_in, "arn:aws:sqs"));
  // Development mode is one account's world.
  RequestContext dev;
  dev.account = "111111111111";
  EXPECT_FALSE(NamesAnotherAccount(dev, "arn:aws:sqs:us-east-1:222222222222:dlq"));
}

}  // namespace
}  // namespace postbox::wire::auth
