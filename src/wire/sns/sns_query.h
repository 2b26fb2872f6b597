// Decoding of SNS query-protocol requests into one JSON-shaped input structure.
//
// SNS (like CloudWatch and SES) serializes lists and maps without flattening: lists as
// `Name.member.N`, maps as `Name.entry.N.key` / `.value` (message attributes use `.Name` /
// `.Value.*`), structures by dotted member names (docs/aws-wire.md section 2). The decoder is
// generic over those rules: `Tags.member.1.Key=a` becomes {"Tags": [{"Key": "a"}]}.
#pragma once

#include <nlohmann/json.hpp>

#include "wire/common/form.h"

namespace postbox::wire::sns {

// Fields (Action and Version included) to the input structure. Malformed indexes are ignored.
nlohmann::json QueryToInput(const FormFields& fields);

}  // namespace postbox::wire::sns
