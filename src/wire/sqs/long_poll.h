// ReceiveWithWait: ReceiveMessage's long polling. A receive that finds nothing parks on the
// queue (no thread held) until a message arrives, one becomes visible, or the deadline
// passes, then answers with what it found (possibly nothing).
#pragma once

#include <functional>
#include <vector>

#include "core/queue/queue_service.h"
#include "wire/sqs/sqs_call.h"

namespace postbox::wire::sqs {

using ReceiveDone = std::function<void(Result<std::vector<core::ReceivedMessage>>)>;

// `deadline` is on the service clock's monotonic scale; `done` runs once, on this thread or
// an I/O thread.
void ReceiveWithWait(core::QueueService* service, Runtime* runtime, core::QueuePtr queue,
                     core::ReceiveOptions options, int64_t deadline, ReceiveDone done);

}  // namespace postbox::wire::sqs
