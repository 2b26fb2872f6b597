// Status and Result<T>: how every expected failure travels in postbox.
//
// Expected failures (bad input, a missing queue, I/O errors) are values, not exceptions:
// AWS errors are ordinary answers on the hot path and must map exactly to a wire error.
// The codes are domain words from a closed set; each wire front-end maps them to its
// protocol's error code and HTTP status in one table (see wire/sqs/errors.cc).
// Thread-safety: plain values, safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace postbox {

enum class ErrorCode {
  kOk = 0,
  // Generic request problems.
  kInvalidParameterValue,  // a parameter has a value outside its rules
  kMissingParameter,       // a required parameter is absent
  kInvalidAction,          // the operation is unknown
  kUnsupportedOperation,   // known to AWS, not implemented by postbox
  kMalformedRequest,       // body could not be decoded (bad JSON, bad form)
  kInvalidContentType,     // content type does not match any protocol
  kRequestTooLarge,        // over the server's request size limit
  kAccessDenied,           // authentication/authorisation failure
  // SigV4 authentication failures (AWS's common errors, same names in every service).
  kMissingAuthenticationToken,  // no signature at all
  kIncompleteSignature,         // a signature with a part missing or malformed
  kInvalidClientTokenId,        // an unknown access key or session token
  kSignatureDoesNotMatch,       // a wrong signature, or a time outside the 15-minute window
  kRequestExpired,              // a presigned URL past its X-Amz-Expires
  kResourceNotFound,            // a named resource (e.g. a move task's queue) does not exist
  kInvalidParameter,            // SNS's generic "InvalidParameter" (its word for a bad value)
  kNotFound,                    // SNS: the topic or subscription does not exist
  kValidationError,   // SNS: a request member breaks the API model ("Member must not be null")
  kMessageRejected,   // SES: the mail cannot be sent (an unverified sender)
  kEndpointDisabled,  // SNS: Publish to a push endpoint whose Enabled is false
  kThrottling,        // SES: over the sending rate or the daily quota
  kAlreadyExists,     // SES v2: the identity exists already
  // Queue errors.
  kQueueDoesNotExist,
  kQueueAlreadyExists,
  kQueueDeletedRecently,
  kInvalidAttributeName,
  kInvalidAttributeValue,
  kPurgeQueueInProgress,
  kOverLimit,
  // Message errors.
  kInvalidMessageContents,
  kReceiptHandleIsInvalid,
  kMessageNotInflight,
  // Batch errors.
  kEmptyBatchRequest,
  kTooManyEntriesInBatchRequest,
  kBatchEntryIdsNotDistinct,
  kInvalidBatchEntryId,
  kBatchRequestTooLong,
  // Server side.
  kStorageError,        // the storage engine failed; nothing was acknowledged
  kStorageFull,         // the disk (or quota) is full: ENOSPC/EDQUOT; retry once space is freed
  kServiceUnavailable,  // overloaded or shutting down; retry later
  kInternal,            // a bug: logged and counted
};

// Name of a code for logs and tests ("QueueDoesNotExist").
const char* ErrorCodeName(ErrorCode code);

// The server's own trouble, not the caller's: storage that cannot write, overload, a bug.
// Such failures are answered 5xx, and a message that met one was not refused by its target.
inline bool IsServerFault(ErrorCode code) {
  return code == ErrorCode::kStorageError || code == ErrorCode::kStorageFull ||
         code == ErrorCode::kServiceUnavailable || code == ErrorCode::kInternal;
}

// A failure that says nothing against the request or message itself: the server's own
// trouble, or storage throttling writes because it is behind (kThrottling). Retrying later can
// succeed; a message that met one was not refused by its target and must not be dropped.
inline bool IsTransient(ErrorCode code) {
  return IsServerFault(code) || code == ErrorCode::kThrottling;
}

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {}  // NOLINT(google-explicit-constructor)
  Result(ErrorCode code, std::string message) : status_(Status(code, std::move(message))) {}

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace postbox

// Returns the Status of a failed expression from the enclosing function.
#define POSTBOX_RETURN_IF_ERROR(expr)           \
  do {                                          \
    ::postbox::Status postbox_status_ = (expr); \
    if (!postbox_status_.ok()) {                \
      return postbox_status_;                   \
    }                                           \
  } while (false)

// For functions that answer through a callback: calls `done(status)` and returns on error.
#define POSTBOX_RETURN_CALLBACK_IF_ERROR(done, expr) \
  do {                                               \
    ::postbox::Status postbox_status_ = (expr);      \
    if (!postbox_status_.ok()) {                     \
      return (done)(postbox_status_);                \
    }                                                \
  } while (false)
