// Two SQS front-ends over two in-memory queue services with the same manual clock: one answers
// through the fast paths where they take a request, the other only through the general path.
// Used by the differential tests (tests/wire/json_fast_path_test.cc, query_fast_path_test.cc)
// and the differential fuzz targets (tests/fuzz/json_fast_path, tests/fuzz/query_fast_path).
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

  // A query-protocol request: `form` is the urlencoded body, Action among its fields; posted
  // to `target` (a queue's path names the queue when the form does not).
  static HttpRequest QueryRequest(const std::string& form, const std::string& target = "/") {
    HttpRequest request;
    request.method = "POST";
    request.target = target;
    request.AddHeader("host", "localhost:9324");
    request.AddHeader("content-type", "application/x-www-form-urlencoded; charset=utf-8");
    request.body = form;
    return request;
  }

  // The answer, or nullopt while a long poll is parked. A late answer (a parked poll woken by
  // a later send) goes to its own slot, never to a caller's stack.
  std::optional<HttpResponse> Handle(const std::string& action, const std::string& body) {
    return Answer(Request(action, body));
  }
  std::optional<HttpResponse> HandleQuery(const std::string& form,
                                          const std::string& target = "/") {
    return Answer(QueryRequest(form, target));
  }
  std::optional<HttpResponse> Answer(const HttpRequest& request) {
    auto answer = std::make_shared<std::optional<HttpResponse>>();
    frontend.Handle(request, [answer](HttpResponse r) { *answer = std::move(r); });
    return *answer;
  }

  storage::MemoryEngine engine;
  ManualClock clock;
  core::QueueService service;
  core::MessageMoveTasks moves;
  SqsFrontend frontend;
};

// The answer (JSON or XML) with its random parts (message and request ids, receipt handles)
// replaced by placeholders.
inline std::string WithoutRandomIds(std::string body) {
  static const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  static const std::regex handle("\"ReceiptHandle\":\"[^\"]*\"");
  static const std::regex xml_handle("<ReceiptHandle>[^<]*</ReceiptHandle>");
  body = std::regex_replace(body, uuid, "<uuid>");
  body = std::regex_replace(body, xml_handle, "<ReceiptHandle>handle</ReceiptHandle>");
  return std::regex_replace(body, handle, "\"ReceiptHandle\":\"<handle>\"");
}

// Whether two answers agree: both parked, or the same status and the same bytes apart from
// random ids (the differential fuzz targets abort when not).
inline bool SameAnswer(const std::optional<HttpResponse>& a, const std::optional<HttpResponse>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->status == b->status && a->content_type == b->content_type &&
                WithoutRandomIds(a->body) == WithoutRandomIds(b->body));
}

}  // namespace postbox::wire::sqs
