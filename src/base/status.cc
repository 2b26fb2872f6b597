#include "base/status.h"

namespace postbox {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "Ok";
    case ErrorCode::kInvalidParameterValue:
      return "InvalidParameterValue";
    case ErrorCode::kMissingParameter:
      return "MissingParameter";
    case ErrorCode::kInvalidAction:
      return "InvalidAction";
    case ErrorCode::kUnsupportedOperation:
      return "UnsupportedOperation";
    case ErrorCode::kMalformedRequest:
      return "MalformedRequest";
    case ErrorCode::kInvalidContentType:
      return "InvalidContentType";
    case ErrorCode::kRequestTooLarge:
      return "RequestTooLarge";
    case ErrorCode::kAccessDenied:
      return "AccessDenied";
    case ErrorCode::kMissingAuthenticationToken:
      return "MissingAuthenticationToken";
    case ErrorCode::kIncompleteSignature:
      return "IncompleteSignature";
    case ErrorCode::kInvalidClientTokenId:
      return "InvalidClientTokenId";
    case ErrorCode::kSignatureDoesNotMatch:
      return "SignatureDoesNotMatch";
    case ErrorCode::kRequestExpired:
      return "RequestExpired";
    case ErrorCode::kResourceNotFound:
      return "ResourceNotFound";
    case ErrorCode::kInvalidParameter:
      return "InvalidParameter";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kMessageRejected:
      return "MessageRejected";
    case ErrorCode::kEndpointDisabled:
      return "EndpointDisabled";
    case ErrorCode::kThrottling:
      return "Throttling";
    case ErrorCode::kAlreadyExists:
      return "AlreadyExists";
    case ErrorCode::kValidationError:
      return "ValidationError";
    case ErrorCode::kQueueDoesNotExist:
      return "QueueDoesNotExist";
    case ErrorCode::kQueueAlreadyExists:
      return "QueueAlreadyExists";
    case ErrorCode::kQueueDeletedRecently:
      return "QueueDeletedRecently";
    case ErrorCode::kInvalidAttributeName:
      return "InvalidAttributeName";
    case ErrorCode::kInvalidAttributeValue:
      return "InvalidAttributeValue";
    case ErrorCode::kPurgeQueueInProgress:
      return "PurgeQueueInProgress";
    case ErrorCode::kOverLimit:
      return "OverLimit";
    case ErrorCode::kInvalidMessageContents:
      return "InvalidMessageContents";
    case ErrorCode::kReceiptHandleIsInvalid:
      return "ReceiptHandleIsInvalid";
    case ErrorCode::kMessageNotInflight:
      return "MessageNotInflight";
    case ErrorCode::kEmptyBatchRequest:
      return "EmptyBatchRequest";
    case ErrorCode::kTooManyEntriesInBatchRequest:
      return "TooManyEntriesInBatchRequest";
    case ErrorCode::kBatchEntryIdsNotDistinct:
      return "BatchEntryIdsNotDistinct";
    case ErrorCode::kInvalidBatchEntryId:
      return "InvalidBatchEntryId";
    case ErrorCode::kBatchRequestTooLong:
      return "BatchRequestTooLong";
    case ErrorCode::kStorageError:
      return "StorageError";
    case ErrorCode::kStorageFull:
      return "StorageFull";
    case ErrorCode::kServiceUnavailable:
      return "ServiceUnavailable";
    case ErrorCode::kInternal:
      return "Internal";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) {
    return "OK";
  }
  return std::string(ErrorCodeName(code_)) + ": " + message_;
}

}  // namespace postbox
