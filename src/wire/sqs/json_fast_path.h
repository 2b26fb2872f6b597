// The JSON-protocol fast path for the five calls that carry messages: SendMessage(Batch),
// ReceiveMessage and DeleteMessage(Batch), read from the simdjson document and answered as
// JSON text (message_fast_path.h says what it takes and what it leaves to the general path).
// tests/wire/json_fast_path_test.cc runs request tables through both paths and requires
// byte-identical answers.
#pragma once

#include <memory>
#include <string_view>

#include "wire/sqs/message_fast_path.h"
#include "wire/sqs/sqs_call.h"

namespace postbox::wire::sqs {

// True when the request was taken: `reply` will be called once (possibly on another thread).
// False when it is left to the general path; nothing has happened then.
bool TryJsonFastPath(const std::shared_ptr<Call>& call, std::string_view body,
                     const TextReply& reply);

}  // namespace postbox::wire::sqs
