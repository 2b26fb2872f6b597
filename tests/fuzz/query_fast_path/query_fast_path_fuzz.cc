// Differential fuzzing of the SQS query-protocol fast path: the input is a form body (its
// Action field names the call). Two front-ends with identical state answer it, one through the
// fast path where it takes the request, one through the general path only; the answers must
// be the same bytes (apart from random ids). Seeds carry the queue URLs of the two queues
// created here, so mutations reach real queues.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "wire/sqs_frontend_pair.h"

namespace {

using postbox::wire::sqs::FrontendUnderTest;

struct Pair {
  FrontendUnderTest fast{true};
  FrontendUnderTest general{false};
  Pair() {
    for (FrontendUnderTest* s : {&fast, &general}) {
      for (const char* create : {"Action=CreateQueue&QueueName=q",
                                 "Action=CreateQueue&QueueName=f.fifo&Attribute.1.Name=FifoQueue&"
                                 "Attribute.1.Value=true"}) {
        auto answer = s->HandleQuery(create);
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
  const std::string form(reinterpret_cast<const char*>(data), size);
  if (!postbox::wire::sqs::SameAnswer(pair->fast.HandleQuery(form),
                                      pair->general.HandleQuery(form))) {
    std::abort();
  }
  pair->fast.clock.Advance(1);
  pair->general.clock.Advance(1);
  return 0;
}
