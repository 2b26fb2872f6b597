// The JSON-protocol fast path for the five calls that carry messages: SendMessage(Batch),
// ReceiveMessage and DeleteMessage(Batch).
//
// The general path converts every request into a nlohmann::json tree, reads it through Call,
// and builds the answer as another tree before writing it out; for 10 KiB batches those trees
// were about a fifth of the server's CPU. This path reads the simdjson document directly and
// writes the answer as text.
//
// It takes only requests in the plain shape the SDKs send, and only when nothing in them is
// an error the request as a whole would answer (an empty batch, a repeated entry id, an
// out-of-range parameter, a malformed attribute). Everything else it declines, before any
// side effect, and the general path answers it, so AWS's errors are written in one place.
// Only an access refusal of the queue lookup, the last step of a request read whole, is
// answered here: the general path would meet the same answer, and count the denial twice. Errors of
// single messages (an invalid body, too large) come from the core, and both paths render them the
// same way. tests/wire/json_fast_path_test.cc runs request tables through both paths and requires
// byte-identical answers.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "wire/sqs/sqs_call.h"

namespace postbox::wire::sqs {

// The answer: the JSON body of a success, or the status of a request-level failure.
using TextReply = std::function<void(Result<std::string>)>;

// True when the request was taken: `reply` will be called once (possibly on another thread).
// False when it is left to the general path; nothing has happened then.
bool TryJsonFastPath(const std::shared_ptr<Call>& call, std::string_view body,
                     const TextReply& reply);

}  // namespace postbox::wire::sqs
