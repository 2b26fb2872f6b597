// The two SQS wire encodings over one request shape.
//
// Every action handler reads its input as the JSON-protocol structure (botocore's
// service-2.json shapes: "Attributes": {..}, "Entries": [..]) and writes its output the same
// way. The query protocol is translated at the edges: form fields become that structure
// (QueryToInput) and the output structure becomes the XML document (OutputToXml), following
// the flattened list/map names of the 2012-11-05 query API (docs/aws-wire.md, section 2).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "wire/common/form.h"
#include "wire/common/http_message.h"

namespace postbox::wire::sqs {

inline constexpr char kXmlNamespace[] = "http://queue.amazonaws.com/doc/2012-11-05/";

enum class Protocol { kJson, kQuery };

// Form fields (without Action/Version) to the JSON input structure.
nlohmann::json QueryToInput(FormFields fields);

// <ActionResponse><ActionResult>..</ActionResult><ResponseMetadata>..</ResponseMetadata>.
std::string OutputToXml(const std::string& action, const nlohmann::json& output,
                        const std::string& request_id);

HttpResponse SuccessResponse(Protocol protocol, const std::string& action,
                             const nlohmann::json& output, const std::string& request_id);
// A JSON-protocol or query-protocol success whose body is already written.
HttpResponse JsonSuccessResponse(std::string body, const std::string& request_id);
HttpResponse XmlSuccessResponse(std::string body, const std::string& request_id);
HttpResponse ErrorResponse(Protocol protocol, const Status& status, const std::string& request_id);

// The code a batch entry failure carries ("InvalidParameterValue").
std::string EntryErrorCode(ErrorCode code);
// A batch entry's SenderFault: false only for the server's own failures.
inline bool IsSenderFault(ErrorCode code) { return !IsServerFault(code); }

}  // namespace postbox::wire::sqs
