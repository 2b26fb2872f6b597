#include "base/encoding.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstring>
#include <memory>

#include "base/check.h"
#include "base/uuid.h"

namespace postbox {
namespace {

// OpenSSL 3 looks an algorithm up by name on every EVP_md5()/EVP_sha256() digest call unless
// it is fetched once; that lookup cost more than hashing a 1 KiB body (perf: 8% of the I/O
// thread). Fetched algorithms are immutable and safe to share between threads.
const EVP_MD* Md5Algorithm() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  POSTBOX_CHECK(md != nullptr);
  return md;
}

const EVP_MD* Sha256Algorithm() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  POSTBOX_CHECK(md != nullptr);
  return md;
}

std::string Digest(const EVP_MD* md, std::string_view data) {
  // One context per thread, reused: EVP_Digest allocates and frees a context per call, which
  // cost as much as hashing the 60-byte receipt handles.
  struct ContextDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, ContextDeleter> context(EVP_MD_CTX_new());
  POSTBOX_CHECK(context != nullptr);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  POSTBOX_CHECK(EVP_DigestInit_ex(context.get(), md, nullptr) == 1);
  POSTBOX_CHECK(EVP_DigestUpdate(context.get(), data.data(), data.size()) == 1);
  POSTBOX_CHECK(EVP_DigestFinal_ex(context.get(), out, &len) == 1);
  return std::string(reinterpret_cast<char*>(out), len);
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  // Written through a pointer into a sized string: push_back's capacity check per character
  // showed in profiles (every message's MD5 digests pass through here).
  std::string out(bytes.size() * 2, '\0');
  char* o = out.data();
  for (unsigned char c : bytes) {
    *o++ = kDigits[c >> 4];
    *o++ = kDigits[c & 15];
  }
  return out;
}

std::string Md5Hex(std::string_view data) { return HexEncode(Digest(Md5Algorithm(), data)); }
std::string Sha256(std::string_view data) { return Digest(Sha256Algorithm(), data); }
std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

std::string PercentDecode(std::string_view text) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out.push_back(char(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  POSTBOX_CHECK(HMAC(EVP_sha256(), key.data(), int(key.size()),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
                     &length) != nullptr);
  return std::string(reinterpret_cast<char*>(out), length);
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out((bytes.size() + 2) / 3 * 4, '\0');
  char* o = out.data();
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    *o++ = kAlphabet[(n >> 18) & 63];
    *o++ = kAlphabet[(n >> 12) & 63];
    *o++ = kAlphabet[(n >> 6) & 63];
    *o++ = kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= uint8_t(bytes[i + 1]) << 8;
    *o++ = kAlphabet[(n >> 18) & 63];
    *o++ = kAlphabet[(n >> 12) & 63];
    *o++ = i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    *o++ = '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  char* o = out.data();
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=') {
        // Padding only in the last group's final one or two places.
        if (i + 4 != text.size() || k < 2) return std::nullopt;
        v[k] = 0;
        ++pad;
      } else {
        if (pad > 0) return std::nullopt;
        v[k] = Base64Value(c);
        if (v[k] < 0) return std::nullopt;
      }
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    *o++ = char((n >> 16) & 255);
    if (pad < 2) *o++ = char((n >> 8) & 255);
    if (pad < 1) *o++ = char(n & 255);
  }
  out.resize(size_t(o - out.data()));  // less than the full groups when there was padding
  return out;
}

std::string RandomBytes(size_t count) {
  std::string out(count, '\0');
  POSTBOX_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), int(count)) == 1);
  return out;
}

uint64_t RandomUint64() {
  uint64_t v = 0;
  std::string b = RandomBytes(sizeof(v));
  std::memcpy(&v, b.data(), sizeof(v));
  return v;
}

namespace {

// xoshiro256** (Blackman and Vigna), one state per thread, seeded from OpenSSL.
class FastRandom {
 public:
  FastRandom() {
    std::string seed = RandomBytes(sizeof(state_));
    std::memcpy(state_, seed.data(), sizeof(state_));
  }
  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

}  // namespace

UuidBytes NewUuidBytes() {
  thread_local FastRandom random;
  uint64_t words[2] = {random.Next(), random.Next()};
  UuidBytes b;
  std::memcpy(b.data(), words, b.size());
  b[6] = uint8_t((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = uint8_t((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return b;
}

std::string NewUuid() { return FormatUuid(NewUuidBytes()); }

}  // namespace postbox
