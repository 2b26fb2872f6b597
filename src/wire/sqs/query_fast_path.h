// The query-protocol fast path for the five calls that carry messages: SendMessage(Batch),
// ReceiveMessage and DeleteMessage(Batch), read from the decoded form fields and answered as
// XML text (message_fast_path.h says what it takes and what it leaves to the general path).
// It takes the flattened shapes the SDKs and kombu send ("SendMessageBatchRequestEntry.1.Id",
// "MessageAttribute.1.Value.StringValue", "AttributeName.1") and declines anything the
// general path would read in a way of its own: a repeated field, an index with a leading zero,
// a number that is not plain digits, a field it does not know. tests/wire/query_fast_path_test.cc
// runs request tables through both paths and requires byte-identical answers.
#pragma once

#include <memory>

#include "wire/common/form.h"
#include "wire/sqs/message_fast_path.h"
#include "wire/sqs/sqs_call.h"

namespace postbox::wire::sqs {

// True when the request was taken: `reply` will be called once (possibly on another thread).
// False when it is left to the general path; nothing has happened then. `fields` (the URL
// query's and the body's, Action among them) are only read.
bool TryQueryFastPath(const std::shared_ptr<Call>& call, const FormFields& fields,
                      const TextReply& reply);

}  // namespace postbox::wire::sqs
