#include "wire/sqs/sqs_protocol.h"

#include <charconv>
#include <map>

#include "wire/common/json_writer.h"
#include "wire/common/xml_writer.h"

namespace postbox::wire::sqs {
namespace {

using nlohmann::json;

// Flattened query list/map prefixes and the JSON member they become.
struct Collection {
  const char* query_prefix;
  const char* json_name;
  enum Kind { kList, kNameValueMap, kKeyValueMap, kAttributeValueMap, kStructList } kind;
};

constexpr Collection kCollections[] = {
    {"Attribute", "Attributes", Collection::kNameValueMap},
    {"Tag", "Tags", Collection::kKeyValueMap},
    {"TagKey", "TagKeys", Collection::kList},
    {"AttributeName", "AttributeNames", Collection::kList},
    {"MessageAttributeName", "MessageAttributeNames", Collection::kList},
    {"MessageSystemAttributeName", "MessageSystemAttributeNames", Collection::kList},
    {"MessageAttribute", "MessageAttributes", Collection::kAttributeValueMap},
    {"MessageSystemAttribute", "MessageSystemAttributes", Collection::kAttributeValueMap},
    {"SendMessageBatchRequestEntry", "Entries", Collection::kStructList},
    {"DeleteMessageBatchRequestEntry", "Entries", Collection::kStructList},
    {"ChangeMessageVisibilityBatchRequestEntry", "Entries", Collection::kStructList},
    {"AWSAccountId", "AWSAccountIds", Collection::kList},
    {"ActionName", "Actions", Collection::kList},
};

const Collection* FindCollection(std::string_view prefix) {
  for (const auto& c : kCollections) {
    if (prefix == c.query_prefix) return &c;
  }
  return nullptr;
}

std::optional<int> ParseIndex(std::string_view text) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1) return std::nullopt;
  return v;
}

std::string SubValue(const FormFields& fields, const std::string& key) {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return "";
}

bool HasKey(const FormFields& fields, const std::string& key) {
  for (const auto& [k, v] : fields) {
    if (k == key) return true;
  }
  return false;
}

// Output list members and the element each item is written as.
const char* ListItemName(const std::string& action, const std::string& key) {
  if (key == "Messages") return "Message";
  if (key == "QueueUrls" || key == "queueUrls") return "QueueUrl";
  if (key == "Failed") return "BatchResultErrorEntry";
  if (key == "Successful") {
    if (action == "SendMessageBatch") return "SendMessageBatchResultEntry";
    if (action == "DeleteMessageBatch") return "DeleteMessageBatchResultEntry";
    return "ChangeMessageVisibilityBatchResultEntry";
  }
  if (key == "Results") return "ListMessageMoveTasksResultEntry";
  return "member";
}

// A scalar member as an element; strings (message bodies among them) are written from the
// tree without a copy.
void WriteScalar(XmlWriter& xml, std::string_view name, const json& v) {
  if (v.is_string()) return xml.Element(name, v.get_ref<const std::string&>());
  if (v.is_boolean()) return xml.Element(name, v.get<bool>() ? "true" : "false");
  xml.Element(name, v.dump());
}

void WriteMembers(XmlWriter& xml, const std::string& action, const json& object);

void WriteMember(XmlWriter& xml, const std::string& action, const std::string& key,
                 const json& value) {
  if (value.is_object() && (key == "Attributes" || key == "Tags")) {
    // Flattened maps: <Attribute><Name/><Value/></Attribute>, <Tag><Key/><Value/></Tag>.
    const bool tags = key == "Tags";
    for (const auto& [k, v] : value.items()) {
      xml.Open(tags ? "Tag" : "Attribute");
      xml.Element(tags ? "Key" : "Name", k);
      WriteScalar(xml, "Value", v);
      xml.Close();
    }
  } else if (value.is_object() && key == "MessageAttributes") {
    for (const auto& [k, v] : value.items()) {
      xml.Open("MessageAttribute");
      xml.Element("Name", k);
      xml.Open("Value");
      WriteMembers(xml, action, v);
      xml.Close();
      xml.Close();
    }
  } else if (value.is_array()) {
    const char* item = ListItemName(action, key);
    for (const auto& v : value) {
      if (v.is_object()) {
        xml.Open(item);
        WriteMembers(xml, action, v);
        xml.Close();
      } else {
        WriteScalar(xml, item, v);
      }
    }
  } else if (value.is_object()) {
    xml.Open(key);
    WriteMembers(xml, action, value);
    xml.Close();
  } else {
    WriteScalar(xml, key, value);
  }
}

void WriteMembers(XmlWriter& xml, const std::string& action, const json& object) {
  for (const auto& [key, value] : object.items()) WriteMember(xml, action, key, value);
}

struct ErrorInfo {
  // "__type" in JSON. For the generic parameter errors AWS names other shapes than the
  // query codes (InvalidParameterValueException for InvalidParameterValue,
  // MissingRequiredParameterException for MissingParameter); botocore shows the __type as
  // QueryErrorCode and the x-amzn-query-error code as the error's Code.
  const char* json_type;
  const char* query_code;  // legacy query code, also sent in x-amzn-query-error
  int http_status;
  bool sender_fault;
};

ErrorInfo Lookup(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
    case ErrorCode::kInternal:
      return {"InternalError", "InternalError", 500, false};
    case ErrorCode::kInvalidParameterValue:
    case ErrorCode::kInvalidContentType:
    case ErrorCode::kInvalidParameter:  // SNS and SES codes; SQS never produces them
    case ErrorCode::kValidationError:
    case ErrorCode::kMessageRejected:
    case ErrorCode::kEndpointDisabled:
    case ErrorCode::kAlreadyExists:
      return {"InvalidParameterValueException", "InvalidParameterValue", 400, true};
    case ErrorCode::kMissingParameter:
      return {"MissingRequiredParameterException", "MissingParameter", 400, true};
    // A key over its requests_per_second, or storage behind. 403, as AWS answers it: botocore's
    // legacy retry mode (the default) retries RequestThrottled only with that status.
    case ErrorCode::kThrottling:
      return {"RequestThrottled", "RequestThrottled", 403, true};
    case ErrorCode::kInvalidAction:
      return {"InvalidAction", "InvalidAction", 400, true};
    case ErrorCode::kUnsupportedOperation:
      return {"UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", 400, true};
    case ErrorCode::kMalformedRequest:
      return {"SerializationException", "MalformedQueryString", 400, true};
    case ErrorCode::kRequestTooLarge:
      return {"RequestEntityTooLarge", "RequestEntityTooLarge", 413, true};
    case ErrorCode::kAccessDenied:
      return {"AccessDenied", "AccessDenied", 403, true};
    case ErrorCode::kMissingAuthenticationToken:
      return {"MissingAuthenticationToken", "MissingAuthenticationToken", 403, true};
    case ErrorCode::kIncompleteSignature:
      return {"IncompleteSignature", "IncompleteSignature", 400, true};
    case ErrorCode::kInvalidClientTokenId:
      return {"InvalidClientTokenId", "InvalidClientTokenId", 403, true};
    case ErrorCode::kSignatureDoesNotMatch:
      return {"SignatureDoesNotMatch", "SignatureDoesNotMatch", 403, true};
    case ErrorCode::kRequestExpired:
      return {"RequestExpired", "RequestExpired", 400, true};
    case ErrorCode::kNotFound:
      return {"ResourceNotFoundException", "ResourceNotFoundException", 404, true};
    case ErrorCode::kResourceNotFound:
      return {"ResourceNotFoundException", "ResourceNotFoundException", 404, true};
    case ErrorCode::kQueueDoesNotExist:
      return {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400, true};
    case ErrorCode::kQueueAlreadyExists:
      return {"QueueNameExists", "QueueAlreadyExists", 400, true};
    case ErrorCode::kQueueDeletedRecently:
      return {"QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently", 400, true};
    case ErrorCode::kInvalidAttributeName:
      return {"InvalidAttributeName", "InvalidAttributeName", 400, true};
    case ErrorCode::kInvalidAttributeValue:
      return {"InvalidAttributeValue", "InvalidAttributeValue", 400, true};
    case ErrorCode::kPurgeQueueInProgress:
      return {"PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress", 403, true};
    case ErrorCode::kOverLimit:
      return {"OverLimit", "OverLimit", 403, true};
    case ErrorCode::kInvalidMessageContents:
      return {"InvalidMessageContents", "InvalidMessageContents", 400, true};
    case ErrorCode::kReceiptHandleIsInvalid:
      // 404 per the Smithy model (awsQueryError httpResponseCode), as AWS answers.
      return {"ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 404, true};
    case ErrorCode::kMessageNotInflight:
      return {"MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", 400, true};
    case ErrorCode::kEmptyBatchRequest:
      return {"EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", 400, true};
    case ErrorCode::kTooManyEntriesInBatchRequest:
      return {"TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
              400, true};
    case ErrorCode::kBatchEntryIdsNotDistinct:
      return {"BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400,
              true};
    case ErrorCode::kInvalidBatchEntryId:
      return {"InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", 400, true};
    case ErrorCode::kBatchRequestTooLong:
      return {"BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", 400, true};
    // Storage that cannot write (a failed disk, a full one) is the server's passing trouble:
    // 503 ServiceUnavailable, which AWS's SDKs retry with backoff.
    case ErrorCode::kStorageError:
    case ErrorCode::kStorageFull:
    case ErrorCode::kServiceUnavailable:
      return {"ServiceUnavailable", "ServiceUnavailable", 503, false};
  }
  return {"InternalError", "InternalError", 500, false};
}

}  // namespace

json QueryToInput(FormFields fields) {
  json input = json::object();
  // prefix -> index -> the fields under "prefix.index." with that part removed. Values are
  // moved, never copied: a batch's message bodies pass through here.
  std::map<std::string, std::map<int, FormFields>> groups;
  for (auto& [key, value] : fields) {
    size_t dot = key.find('.');
    const Collection* collection =
        dot == std::string::npos ? nullptr : FindCollection(std::string_view(key).substr(0, dot));
    if (collection == nullptr) {
      if (key != "Action" && key != "Version") input[key] = std::move(value);
      continue;
    }
    std::string_view rest = std::string_view(key).substr(dot + 1);
    size_t dot2 = rest.find('.');
    auto index = ParseIndex(rest.substr(0, dot2));
    if (!index) continue;
    std::string sub = dot2 == std::string_view::npos ? "" : std::string(rest.substr(dot2 + 1));
    groups[collection->query_prefix][*index].emplace_back(std::move(sub), std::move(value));
  }
  for (auto& [prefix, items] : groups) {
    const Collection* c = FindCollection(prefix);
    json& out = input[c->json_name];
    // A plain field of the same name ("Attributes=x") must not turn the member into a string
    // that the indexed fields then cannot extend: the indexed form wins (found by fuzzing).
    const bool is_list = c->kind == Collection::kList || c->kind == Collection::kStructList;
    if (is_list && !out.is_array()) out = json::array();
    if (!is_list && !out.is_object()) out = json::object();
    for (auto& [index, sub] : items) {
      switch (c->kind) {
        case Collection::kList:
          out.push_back(SubValue(sub, ""));
          break;
        case Collection::kNameValueMap:
          out[SubValue(sub, "Name")] = SubValue(sub, "Value");
          break;
        case Collection::kKeyValueMap:
          out[SubValue(sub, "Key")] = SubValue(sub, "Value");
          break;
        case Collection::kAttributeValueMap: {
          json value = json::object();
          for (const char* field : {"DataType", "StringValue", "BinaryValue"}) {
            std::string k = std::string("Value.") + field;
            if (HasKey(sub, k)) value[field] = SubValue(sub, k);
          }
          out[SubValue(sub, "Name")] = value;
          break;
        }
        case Collection::kStructList:
          out.push_back(QueryToInput(std::move(sub)));
          break;
      }
    }
  }
  return input;
}

std::string OutputToXml(const std::string& action, const json& output,
                        const std::string& request_id) {
  XmlWriter xml;
  xml.Open(action + "Response", kXmlNamespace);
  // Always present, even when empty: older botocore (aws-cli v2 2.9) expects the element.
  xml.Open(action + "Result");
  WriteMembers(xml, action, output);
  xml.Close();
  xml.Open("ResponseMetadata");
  xml.Element("RequestId", request_id);
  xml.Close();
  return xml.Finish();
}

HttpResponse JsonSuccessResponse(std::string body, const std::string& request_id) {
  HttpResponse response;
  response.headers.emplace_back("x-amzn-RequestId", request_id);
  response.content_type = "application/x-amz-json-1.0";
  response.body = std::move(body);
  return response;
}

HttpResponse XmlSuccessResponse(std::string body, const std::string& request_id) {
  HttpResponse response;
  response.headers.emplace_back("x-amzn-RequestId", request_id);
  response.content_type = "text/xml";
  response.body = std::move(body);
  return response;
}

HttpResponse SuccessResponse(Protocol protocol, const std::string& action, const json& output,
                             const std::string& request_id) {
  if (protocol == Protocol::kJson) return JsonSuccessResponse(ToJson(output), request_id);
  return XmlSuccessResponse(OutputToXml(action, output, request_id), request_id);
}

HttpResponse ErrorResponse(Protocol protocol, const Status& status, const std::string& request_id) {
  ErrorInfo info = Lookup(status.code());
  HttpResponse response;
  response.status = info.http_status;
  response.headers.emplace_back("x-amzn-RequestId", request_id);
  const char* fault = info.sender_fault ? "Sender" : "Receiver";
  if (protocol == Protocol::kJson) {
    response.content_type = "application/x-amz-json-1.0";
    // Query-compatible clients read the legacy code from this header (botocore
    // _do_query_compatible_error_parse).
    response.headers.emplace_back("x-amzn-query-error", std::string(info.query_code) + ";" + fault);
    json body = {{"__type", std::string("com.amazonaws.sqs#") + info.json_type},
                 {"message", status.message()}};
    response.body = ToJson(body);
  } else {
    response.content_type = "text/xml";
    XmlWriter xml;
    xml.Open("ErrorResponse", kXmlNamespace);
    xml.Open("Error");
    xml.Element("Type", fault);
    xml.Element("Code", info.query_code);
    // The query protocol keeps AWS's older wording of a missing queue.
    const bool older_wording = status.code() == ErrorCode::kQueueDoesNotExist;
    xml.Element("Message", older_wording
                               ? std::string("The specified queue does not exist for this wsdl "
                                             "version.")
                               : status.message());
    xml.Element("Detail", "");
    xml.Close();
    xml.Element("RequestId", request_id);
    response.body = xml.Finish();
  }
  return response;
}

std::string EntryErrorCode(ErrorCode code) { return Lookup(code).query_code; }

}  // namespace postbox::wire::sqs
