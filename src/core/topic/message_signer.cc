#include "core/topic/message_signer.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/check.h"
#include "base/encoding.h"

namespace postbox::core {
namespace {

constexpr int kKeyBits = 2048;
constexpr long kCertificateDays = 3650;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdContextDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

Status CryptoError(const std::string& what) {
  return Status(ErrorCode::kStorageError, "cannot " + what + " the SNS signing key");
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, size_t(size));
}

Result<std::pair<std::string, std::string>> GenerateKeyAndCertificate() {
  PkeyPtr key(EVP_RSA_gen(kKeyBits));
  if (!key) return CryptoError("generate");
  X509Ptr cert(X509_new());
  if (!cert) return CryptoError("certify");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), long(RandomUint64() >> 2));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kCertificateDays * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("postbox"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("postbox SNS signing"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return CryptoError("certify");
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  if (!key_bio || !cert_bio ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1 ||
      PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1) {
    return CryptoError("encode");
  }
  return std::pair(BioContents(key_bio.get()), BioContents(cert_bio.get()));
}

}  // namespace

struct MessageSigner::Key {
  PkeyPtr pkey;
};

Result<std::unique_ptr<MessageSigner>> MessageSigner::Open(const std::string& dir,
                                                           storage::FileSystem& fs) {
  POSTBOX_RETURN_IF_ERROR(storage::CreateDirectories(fs, dir));
  const std::string key_path = dir + "/key.pem";
  const std::string cert_path = dir + "/certificate.pem";
  std::error_code ec;
  if (!std::filesystem::exists(key_path, ec) || !std::filesystem::exists(cert_path, ec)) {
    auto generated = GenerateKeyAndCertificate();
    if (!generated.ok()) return generated.status();
    // The certificate first: a key without its certificate is regenerated on the next start.
    POSTBOX_RETURN_IF_ERROR(storage::WriteFileDurably(fs, cert_path, generated->second, 0644));
    POSTBOX_RETURN_IF_ERROR(storage::WriteFileDurably(fs, key_path, generated->first, 0600));
  }
  auto key_pem = storage::ReadWholeFile(fs, key_path);
  if (!key_pem.ok()) return key_pem.status();
  auto cert_pem = storage::ReadWholeFile(fs, cert_path);
  if (!cert_pem.ok()) return cert_pem.status();
  BioPtr bio(BIO_new_mem_buf(key_pem->data(), int(key_pem->size())));
  auto key = std::make_unique<Key>();
  key->pkey.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key->pkey) return CryptoError("load");
  BioPtr cert_bio(BIO_new_mem_buf(cert_pem->data(), int(cert_pem->size())));
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert || X509_check_private_key(cert.get(), key->pkey.get()) != 1) {
    return Status(ErrorCode::kStorageError,
                  "the SNS signing certificate in " + dir + " does not match its key");
  }
  return std::unique_ptr<MessageSigner>(new MessageSigner(std::move(key), std::move(*cert_pem)));
}

MessageSigner::MessageSigner(std::unique_ptr<Key> key, std::string certificate_pem)
    : key_(std::move(key)), certificate_pem_(std::move(certificate_pem)) {
  certificate_file_name_ =
      "SimpleNotificationService-" + Sha256Hex(certificate_pem_).substr(0, 32) + ".pem";
}

MessageSigner::~MessageSigner() = default;

std::string MessageSigner::Sign(std::string_view text, int signature_version) const {
  std::unique_ptr<EVP_MD_CTX, MdContextDeleter> ctx(EVP_MD_CTX_new());
  POSTBOX_CHECK(ctx != nullptr);
  const EVP_MD* md = signature_version == 2 ? EVP_sha256() : EVP_sha1();
  POSTBOX_CHECK(EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key_->pkey.get()) == 1);
  size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  POSTBOX_CHECK(EVP_DigestSign(ctx.get(), nullptr, &size, data, text.size()) == 1);
  std::string signature(size, '\0');
  POSTBOX_CHECK(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                               data, text.size()) == 1);
  signature.resize(size);
  return Base64Encode(signature);
}

}  // namespace postbox::core
