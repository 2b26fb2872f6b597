// Two SQS front-ends over two in-memory queue services with the same manual clock: one answers
// through the JSON fast path where it takes a request, the other only through the general
// path. Used by the differential test (tests/wire/json_fast_path_test.cc) and the differential
// fuzz target (tests/fuzz/json_fast_path).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>

#include "base/clock.h"
#include "core/queue/move_tasks.h"
#include "core/queue/queue_service.h"
#include "storage/memory_engine.h"
#include "wire/sqs/sqs_frontend.h"

namespace postbox::wire::sqs {

struct FrontendUnderTest {
  explicit FrontendUnderTest(bool fast)
      : service(engine, clock),
        moves(service, engine, clock),
        frontend(
            service, moves,
            // Posted work runs at once; timers never fire (a long poll stays parked).
            Runtime{[](std::function<void()> fn) { fn(); }, [](int64_t, std::function<void()>) {}},
            FrontendOptions{"us-east-1", "000000000000", fast}) {}

  static HttpRequest Request(const std::string& action, const std::string& body) {
    HttpRequest request;
    request.method = "POST";
    request.target = "/";
    request.AddHeader("host", "localhost:9324");
    request.AddHeader("x-amz-target", "AmazonSQS." + action);
    request.AddHeader("content-type", "application/x-amz-json-1.0");
    request.body = body;
    return request;
  }

  // The answer, or nullopt while a long poll is parked. A late answer (a parked poll woken by
  // a later send) goes to its own slot, never to a caller's stack.
  std::optional<HttpResponse> Handle(const std::string& action, const std::string& body) {
    auto answer = std::make_shared<std::optional<HttpResponse>>();
    frontend.Handle(Request(action, body), [answer](HttpResponse r) { *answer = std::move(r); });
    return *answer;
  }

  storage::MemoryEngine engine;
  ManualClock clock;
  core::QueueService service;
  core::MessageMoveTasks moves;
  SqsFrontend frontend;
};

// The answer with its random parts (message ids, receipt handles) replaced by placeholders.
inline std::string WithoutRandomIds(std::string body) {
  static const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  static const std::regex handle("\"ReceiptHandle\":\"[^\"]*\"");
  body = std::regex_replace(body, uuid, "<uuid>");
  return std::regex_replace(body, handle, "\"ReceiptHandle\":\"<handle>\"");
}

}  // namespace postbox::wire::sqs
