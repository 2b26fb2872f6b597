// Differential fuzzing of the SQS JSON fast path: the input's first byte picks one of the five
// calls it serves, the rest is the request body. Two front-ends with identical state answer
// it, one through the fast path where it takes the request, one through the general path
// only; the answers must be the same bytes (apart from random ids). Seeds carry the queue URLs
// of the two queues created here, so mutations reach real queues.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "wire/sqs_frontend_pair.h"

namespace {

using postbox::wire::sqs::FrontendUnderTest;

constexpr const char* kActions[] = {"SendMessage", "SendMessageBatch", "ReceiveMessage",
                                    "DeleteMessage", "DeleteMessageBatch"};

struct Pair {
  FrontendUnderTest fast{true};
  FrontendUnderTest general{false};
  Pair() {
    for (FrontendUnderTest* s : {&fast, &general}) {
      for (const char* create : {R"({"QueueName":"q"})",
                                 R"({"QueueName":"f.fifo","Attributes":{"FifoQueue":"true"}})"}) {
        auto answer = s->Handle("CreateQueue", create);
        if (!answer || answer->status != 200) std::abort();
      }
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<Pair> pair;
  static int runs = 0;
  // Fresh queues now and then, so that messages sent by earlier inputs do not pile up.
  if (!pair || ++runs % 1000 == 0) pair = std::make_unique<Pair>();
  if (size == 0) return 0;
  const std::string action = kActions[data[0] % std::size(kActions)];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (!postbox::wire::sqs::SameAnswer(pair->fast.Handle(action, body),
                                      pair->general.Handle(action, body))) {
    std::abort();
  }
  pair->fast.clock.Advance(1);
  pair->general.clock.Advance(1);
  return 0;
}
