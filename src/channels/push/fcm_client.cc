#include "channels/push/fcm_client.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/encoding.h"

namespace postbox::channels {
namespace {

using nlohmann::json;

constexpr char kScope[] = "https://www.googleapis.com/auth/firebase.messaging";
constexpr int64_t kTokenLifetimeSeconds = 3600;
constexpr int64_t kRefreshMarginMs = 60'000;  // a cached token is renewed this long before

std::string Base64Url(std::string_view bytes) {
  std::string out = Base64Encode(bytes);
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

// RSA-SHA256 of `data` with the PEM private key.
std::optional<std::string> SignRs256(const std::string& pem, const std::string& data) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                &BIO_free);
  if (!bio) return std::nullopt;
  // No passphrase callback: an encrypted key must fail, not prompt on a terminal.
  auto no_passphrase = +[](char*, int, int, void*) -> int { return 0; };
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr), &EVP_PKEY_free);
  if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return std::nullopt;
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return std::nullopt;
  }
  signature.resize(length);
  return signature;
}

std::string StringAt(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<ServiceAccount> ParseServiceAccount(const std::string& json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (!j.is_object()) return Status(ErrorCode::kInvalidParameterValue, "not a JSON object");
  ServiceAccount account;
  account.client_email = StringAt(j, "client_email");
  account.private_key = StringAt(j, "private_key");
  account.project_id = StringAt(j, "project_id");
  const std::string token_uri = StringAt(j, "token_uri");
  if (!token_uri.empty()) account.token_uri = token_uri;
  if (account.client_email.empty() || account.private_key.empty() || account.project_id.empty()) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "a Firebase service-account key needs client_email, private_key and project_id");
  }
  if (account.token_uri.rfind("https://", 0) != 0 && account.token_uri.rfind("http://", 0) != 0) {
    return Status(ErrorCode::kInvalidParameterValue, "token_uri is not an http(s) URL");
  }
  return account;
}

Result<std::string> MakeServiceAccountJwt(const ServiceAccount& account, int64_t now_seconds) {
  const std::string header = Base64Url(R"({"alg":"RS256","typ":"JWT"})");
  const std::string claims = Base64Url(json{
      {"iss", account.client_email},
      {"scope", kScope},
      {"aud", account.token_uri},
      {"iat", now_seconds},
      {"exp", now_seconds +
                  kTokenLifetimeSeconds}}.dump());
  const std::string signed_part = header + "." + claims;
  auto signature = SignRs256(account.private_key, signed_part);
  if (!signature) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "the service account's private_key is not a usable PEM RSA key");
  }
  return signed_part + "." + Base64Url(*signature);
}

PushResult ClassifyFcmAnswer(const OutboundResponse& r) {
  PushResult result{PushVerdict::kRetry, r.status, "", r.retry_after_seconds};
  if (r.status == kCancelled) return {PushVerdict::kNotTried, 0, r.error, -1};
  if (r.status >= 200 && r.status < 300) return {PushVerdict::kSent, r.status, "", -1};
  if (r.status == 0) {
    result.error = r.error;
    return result;
  }
  std::string code;
  std::string message;
  json body = json::parse(r.body, nullptr, false);
  auto error = body.is_object() ? body.find("error") : body.end();
  if (error != body.end() && error->is_object()) {
    message = StringAt(*error, "message");
    auto details = error->find("details");
    if (details != error->end() && details->is_array()) {
      for (const json& detail : *details) {
        if (detail.is_object() && !StringAt(detail, "errorCode").empty()) {
          code = StringAt(detail, "errorCode");
        }
      }
    }
    if (code.empty()) code = StringAt(*error, "status");
  }
  result.error = "FCM " + std::to_string(r.status) + " " + code + ": " + message.substr(0, 200);
  // Only FCM's own word kills a token: a bare 404 may be a wrong endpoint or proxy.
  if (code == "UNREGISTERED" || code == "SENDER_ID_MISMATCH") {
    result.verdict = PushVerdict::kDeadToken;
  } else if (code == "INVALID_ARGUMENT" || r.status == 400) {
    // FCM names the token when the token is what is wrong.
    const bool bad_token = message.find("registration token") != std::string::npos;
    result.verdict = bad_token ? PushVerdict::kDeadToken : PushVerdict::kPermanent;
  } else if (r.status == 403 && code != "THIRD_PARTY_AUTH_ERROR") {
    result.verdict = PushVerdict::kRetry;  // the project's permissions: an operator mends them
  }
  return result;
}

FcmClient::FcmClient(HttpSender& sender, const Clock& clock, std::string endpoint)
    : sender_(sender), clock_(clock), endpoint_(std::move(endpoint)) {}

std::string FcmClient::CacheKey(const ServiceAccount& account) {
  // The whole credential: an application naming another's client_email with another key must
  // not be handed that account's token, and a rotated key gets a token of its own.
  return Sha256(account.client_email + "\n" + account.private_key + "\n" + account.token_uri);
}

uint64_t FcmClient::token_requests() const {
  std::lock_guard lock(mu_);
  return token_requests_;
}

void FcmClient::Send(const ServiceAccount& account, const std::string& device_token,
                     const std::string& message_json, std::function<void(PushResult)> done) {
  const int64_t now = clock_.NowMillis();
  std::string bearer;
  {
    std::lock_guard lock(mu_);
    auto it = tokens_.find(CacheKey(account));
    if (it != tokens_.end() && it->second.expires_ms - kRefreshMarginMs > now) {
      bearer = it->second.access_token;
    } else {
      ++token_requests_;
    }
  }
  // Sent outside the lock: the callback may run at once and reach the outbox.
  if (!bearer.empty()) {
    return SendWithToken(account, bearer, device_token, message_json, std::move(done));
  }
  auto jwt = MakeServiceAccountJwt(account, now / 1000);
  if (!jwt.ok()) return done({PushVerdict::kRetry, 0, jwt.status().message(), -1});
  OutboundRequest request;
  request.url = account.token_uri;
  // Not operator_configured: a platform application's credential (sent by an API caller) names
  // this URL, so the outbound guard checks it like a subscriber's.
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = "grant_type=" + PercentEncode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
                 "&assertion=" + *jwt;
  sender_.Exchange(std::move(request), [this, account, device_token, message_json,
                                        done = std::move(done)](OutboundResponse r) mutable {
    if (r.status == kCancelled) return done({PushVerdict::kNotTried, 0, r.error, -1});
    // The credential names a token URL the outbound guard refuses: no retry can reach it.
    if (r.status == kRefusedByGuard) return done({PushVerdict::kPermanent, 0, r.error, -1});
    json body = json::parse(r.body, nullptr, false);
    const std::string token = body.is_object() ? StringAt(body, "access_token") : "";
    if (r.status != 200 || token.empty()) {
      // Credentials an operator must fix, or the token service is down: retried.
      return done({PushVerdict::kRetry, r.status,
                   "OAuth token request to " + account.token_uri +
                       " failed: " + (r.status <= 0 ? r.error : "HTTP " + std::to_string(r.status)),
                   r.retry_after_seconds});
    }
    int64_t lifetime = kTokenLifetimeSeconds;
    auto expires = body.find("expires_in");
    if (expires != body.end() && expires->is_number_integer()) {
      lifetime = std::clamp<int64_t>(expires->get<int64_t>(), 2 * kRefreshMarginMs / 1000, 86400);
    }
    {
      std::lock_guard lock(mu_);
      const int64_t now = clock_.NowMillis();
      // Expired tokens go as new ones come: the cache holds about one per live credential.
      for (auto it = tokens_.begin(); it != tokens_.end();) {
        it = it->second.expires_ms <= now ? tokens_.erase(it) : std::next(it);
      }
      tokens_[CacheKey(account)] = {token, now + lifetime * 1000};
    }
    SendWithToken(account, token, device_token, message_json, std::move(done));
  });
}

void FcmClient::SendWithToken(const ServiceAccount& account, const std::string& bearer,
                              const std::string& device_token, const std::string& message_json,
                              std::function<void(PushResult)> done) {
  json message = json::parse(message_json, nullptr, false);
  if (!message.is_object()) message = json::object();
  message["token"] = device_token;
  std::string endpoint = endpoint_;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  OutboundRequest request;
  request.url = endpoint + "/v1/projects/" + PercentEncode(account.project_id) + "/messages:send";
  request.operator_configured = true;  // the provider's API, from the configuration
  request.headers = {{"Content-Type", "application/json; charset=utf-8"},
                     {"Authorization", "Bearer " + bearer}};
  request.body = json{{"message", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
  sender_.Exchange(std::move(request),
                   [this, key = CacheKey(account), done = std::move(done)](OutboundResponse r) {
                     if (r.status == 401) {
                       // The bearer token expired or was revoked early: fetch a new one next time.
                       std::lock_guard lock(mu_);
                       tokens_.erase(key);
                     }
                     done(ClassifyFcmAnswer(r));
                   });
}

}  // namespace postbox::channels
