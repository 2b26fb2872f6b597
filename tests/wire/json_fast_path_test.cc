// The JSON fast path against the general path: two servers (same clock, same requests), one
// answering SendMessage(Batch), ReceiveMessage and DeleteMessage(Batch) through the fast path
// where it takes them, the other through the general path only. Every answer must be the
// same bytes, apart from the random message ids and receipt handles. The table also says which
// requests the fast path must take (the plain shapes the SDKs send) and which it must leave
// to the general path (everything the request as a whole answers with an error).
#include "wire/sqs/json_fast_path.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "wire/sqs_frontend_pair.h"

namespace postbox::wire::sqs {
namespace {

struct Server : FrontendUnderTest {
  explicit Server(bool fast) : FrontendUnderTest(fast) {}

  HttpResponse Handle(const std::string& action, const std::string& body) {
    auto answer = FrontendUnderTest::Handle(action, body);
    EXPECT_TRUE(answer.has_value()) << action << " " << body;
    return answer.value_or(HttpResponse{});
  }

  // The fast path alone: whether it took the request, and its answer if it did.
  bool TryFast(const std::string& action, const std::string& body, HttpResponse* out) {
    auto call = frontend.NewCall(Request(action, body));
    call->action = action;
    std::optional<Result<std::string>> answer;
    bool taken = TryJsonFastPath(call, body, [&](Result<std::string> r) { answer = std::move(r); });
    if (!taken) {
      EXPECT_FALSE(answer.has_value());
      return false;
    }
    EXPECT_TRUE(answer.has_value());
    // The error body is the frontend's; compare status and code through a full Handle.
    if (answer && answer->ok()) {
      out->status = 200;
      out->body = **answer;
    } else if (answer) {
      out->status = -1;
      out->body =
          ErrorCodeName(answer->status().code()) + std::string(": ") + answer->status().message();
    }
    return true;
  }

  std::vector<std::string> handles;  // from the last ReceiveMessage
};

std::string Normalize(std::string body) { return WithoutRandomIds(std::move(body)); }

// Replaces {h0}, {h1}, ... with the server's own receipt handles.
std::string WithHandles(std::string body, const std::vector<std::string>& handles) {
  for (size_t i = 0; i < handles.size(); ++i) {
    std::string mark = "{h" + std::to_string(i) + "}";
    for (size_t at; (at = body.find(mark)) != std::string::npos;)
      body.replace(at, mark.size(), handles[i]);
  }
  return body;
}

struct Step {
  std::string action;
  std::string body;  // QUEUE / FIFO stand for the queue URLs
  bool taken;        // by the fast path
};

constexpr char kQueue[] = "\"QueueUrl\":\"http://localhost:9324/000000000000/q\"";
constexpr char kFifo[] = "\"QueueUrl\":\"http://localhost:9324/000000000000/f.fifo\"";

std::string Expand(std::string body) {
  for (auto [mark, url] : {std::pair{"QUEUE", kQueue}, std::pair{"FIFO", kFifo}}) {
    const std::string_view m = mark;
    for (size_t at; (at = body.find(m)) != std::string::npos;) body.replace(at, m.size(), url);
  }
  return body;
}

const std::vector<Step>& Steps() {
  static const std::vector<Step> steps = {
      // SendMessage: plain, attributes of each type, a trace header, a delay.
      {"SendMessage", R"({QUEUE,"MessageBody":"hello"})", true},
      {"SendMessage",
       R"({QUEUE,"MessageBody":"with attributes","MessageAttributes":{)"
       R"("s":{"DataType":"String","StringValue":"v"},"n.one":{"DataType":"Number","StringValue":"1.5"},)"
       R"("b":{"DataType":"Binary","BinaryValue":"AAEC"},"c":{"DataType":"String.custom","StringValue":"x"},)"
       R"("n.two":{"DataType":"Number","StringValue":"2","Ignored":1}}})",
       true},
      {"SendMessage",
       R"({QUEUE,"MessageBody":"traced","MessageSystemAttributes":{"AWSTraceHeader":)"
       R"({"DataType":"String","StringValue":"Root=1-5759e988-bd862e3fe1be46a994272793"}}})",
       true},
      {"SendMessage", R"({QUEUE,"MessageBody":"quote \" and \u00e9 \\ slash","DelaySeconds":0})",
       true},
      {"SendMessage", R"({QUEUE,"MessageBody":"first","MessageBody":"last wins"})", true},
      // Errors of the message itself come from the core, through either path.
      {"SendMessage", R"({QUEUE,"MessageBody":"bad \u0001 char"})", true},
      {"SendMessage", R"({QUEUE,"MessageBody":""})", true},
      {"SendMessage", R"({QUEUE})", true},
      {"SendMessage", R"({QUEUE,"MessageBody":"x","DelaySeconds":901})", true},
      // Shapes left to the general path.
      {"SendMessage", R"({QUEUE,"MessageBody":"x","DelaySeconds":"5"})", false},
      {"SendMessage", R"({QUEUE,"MessageBody":5})", false},
      {"SendMessage", R"({QUEUE,"MessageBody":"x","MessageAttributes":[]})", false},
      {"SendMessage",
       R"({QUEUE,"MessageBody":"x","MessageAttributes":{"b":{"DataType":"Binary","BinaryValue":"!!"}}})",
       false},
      {"SendMessage", R"({QUEUE,"MessageBody":"x","MessageAttributes":{"s":"v"}})", false},
      {"SendMessage",
       R"({"QueueUrl":"http://localhost:9324/000000000000/missing","MessageBody":"x"})", false},
      {"SendMessage", R"({"MessageBody":"x"})", false},
      {"SendMessage", R"({QUEUE,"MessageBody":"x")", false},
      {"SendMessage", R"([1])", false},
      {"SendMessage", "", false},
      // SendMessageBatch: all good, one bad entry, and the request-level errors.
      {"SendMessageBatch",
       R"({QUEUE,"Entries":[{"Id":"a","MessageBody":"one"},{"Id":"b-2","MessageBody":"two",)"
       R"("MessageAttributes":{"n.x":{"DataType":"Number","StringValue":"7"}}},{"Id":"c_3","MessageBody":"three"}]})",
       true},
      {"SendMessageBatch",
       R"({QUEUE,"Entries":[{"Id":"a","MessageBody":"ok"},{"Id":"b","MessageBody":"\u0002"},)"
       R"({"Id":"c","MessageBody":"late","DelaySeconds":-1}]})",
       true},
      {"SendMessageBatch",
       R"({QUEUE,"Entries":[{"Id":"a","MessageBody":"x"},{"Id":"a","MessageBody":"y"}]})", false},
      {"SendMessageBatch", R"({QUEUE,"Entries":[]})", false},
      {"SendMessageBatch", R"({QUEUE})", false},
      {"SendMessageBatch", R"({QUEUE,"Entries":[{"Id":"bad id","MessageBody":"x"}]})", false},
      {"SendMessageBatch", R"({QUEUE,"Entries":[{"MessageBody":"x"}]})", false},
      {"SendMessageBatch",
       R"({QUEUE,"Entries":[{"Id":"1","MessageBody":"x"},{"Id":"2","MessageBody":"x"},{"Id":"3","MessageBody":"x"},)"
       R"({"Id":"4","MessageBody":"x"},{"Id":"5","MessageBody":"x"},{"Id":"6","MessageBody":"x"},)"
       R"({"Id":"7","MessageBody":"x"},{"Id":"8","MessageBody":"x"},{"Id":"9","MessageBody":"x"},)"
       R"({"Id":"10","MessageBody":"x"},{"Id":"11","MessageBody":"x"}]})",
       false},
      // ReceiveMessage: selections of attributes; VisibilityTimeout 0 keeps messages visible.
      {"ReceiveMessage",
       R"({QUEUE,"MaxNumberOfMessages":10,"VisibilityTimeout":0,"AttributeNames":["All"],)"
       R"("MessageAttributeNames":["All"]})",
       true},
      {"ReceiveMessage",
       R"({QUEUE,"MaxNumberOfMessages":10,"VisibilityTimeout":0,"MessageSystemAttributeNames":)"
       R"(["SenderId","ApproximateReceiveCount","AWSTraceHeader",5],"MessageAttributeNames":["n.*","b"]})",
       true},
      {"ReceiveMessage",
       R"({QUEUE,"MaxNumberOfMessages":3,"VisibilityTimeout":0,"AttributeNames":"All"})", true},
      {"ReceiveMessage", R"({QUEUE,"MaxNumberOfMessages":11})", false},
      {"ReceiveMessage", R"({QUEUE,"MaxNumberOfMessages":"10","VisibilityTimeout":0})", false},
      {"ReceiveMessage", R"({QUEUE,"WaitTimeSeconds":21})", false},
      {"ReceiveMessage", R"({QUEUE,"VisibilityTimeout":43201})", false},
      {"ReceiveMessage", R"({"QueueUrl":"http://localhost:9324/000000000000/missing"})", false},
      // Now take them for real (handles {h0}.. are each server's own) and delete.
      {"ReceiveMessage", R"({QUEUE,"MaxNumberOfMessages":10,"WaitTimeSeconds":0})", true},
      {"DeleteMessageBatch",
       R"({QUEUE,"Entries":[{"Id":"a","ReceiptHandle":"{h0}"},{"Id":"b","ReceiptHandle":"not-a-handle"},)"
       R"({"Id":"c","ReceiptHandle":"{h1}"},{"Id":"d"}]})",
       true},
      {"DeleteMessage", R"({QUEUE,"ReceiptHandle":"{h2}"})", true},
      {"DeleteMessage", R"({QUEUE,"ReceiptHandle":"garbage"})", true},
      {"DeleteMessage", R"({QUEUE})", false},
      {"DeleteMessageBatch",
       R"({QUEUE,"Entries":[{"Id":"a","ReceiptHandle":"x"},{"Id":"a","ReceiptHandle":"y"}]})",
       false},
      {"DeleteMessageBatch", R"({QUEUE,"Entries":[]})", false},
      {"ReceiveMessage", R"({QUEUE,"MaxNumberOfMessages":10,"AttributeNames":["All"]})", true},
      {"ReceiveMessage", R"({QUEUE})", true},
      // FIFO: group, deduplication and sequence numbers, and a missing group id.
      {"SendMessageBatch",
       R"({FIFO,"Entries":[{"Id":"a","MessageBody":"f1","MessageGroupId":"g","MessageDeduplicationId":"d1"},)"
       R"({"Id":"b","MessageBody":"f2","MessageGroupId":"g","MessageDeduplicationId":"d2"}]})",
       true},
      {"SendMessage",
       R"({FIFO,"MessageBody":"f3","MessageGroupId":"h","MessageDeduplicationId":"d3"})", true},
      {"SendMessage",
       R"({FIFO,"MessageBody":"f3","MessageGroupId":"h","MessageDeduplicationId":"d3"})", true},
      {"SendMessage", R"({FIFO,"MessageBody":"no group","MessageDeduplicationId":"d4"})", true},
      {"SendMessage", R"({FIFO,"MessageBody":"x","MessageGroupId":7})", false},
      {"ReceiveMessage",
       R"({FIFO,"MaxNumberOfMessages":10,"AttributeNames":["All"],"ReceiveRequestAttemptId":"try-1"})",
       true},
      {"ReceiveMessage",
       R"({FIFO,"MaxNumberOfMessages":10,"AttributeNames":["All"],"ReceiveRequestAttemptId":"try-1"})",
       true},
  };
  return steps;
}

std::vector<std::string> HandlesOf(const std::string& body) {
  std::vector<std::string> out;
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("Messages")) return out;
  for (const auto& m : doc["Messages"]) out.push_back(m.value("ReceiptHandle", ""));
  return out;
}

TEST(JsonFastPathTest, AnswersAsTheGeneralPathDoes) {
  Server fast(true), general(false);
  for (Server* s : {&fast, &general}) {
    for (const char* create :
         {R"({"QueueName":"q"})", R"({"QueueName":"f.fifo","Attributes":{"FifoQueue":"true"}})"}) {
      ASSERT_EQ(s->Handle("CreateQueue", create).status, 200);
    }
  }
  for (const Step& step : Steps()) {
    const std::string template_body = Expand(step.body);
    SCOPED_TRACE(step.action + " " + template_body);
    HttpResponse taken_answer;
    bool taken = fast.TryFast(step.action, WithHandles(template_body, fast.handles), &taken_answer);
    EXPECT_EQ(taken, step.taken);
    HttpResponse expected =
        general.Handle(step.action, WithHandles(template_body, general.handles));
    HttpResponse actual =
        taken ? taken_answer : fast.Handle(step.action, WithHandles(template_body, fast.handles));
    if (actual.status == -1) {
      // A request-level error of the fast path: same code and message as the general path's.
      auto error = nlohmann::json::parse(expected.body);
      EXPECT_NE(expected.status, 200);
      EXPECT_EQ(actual.body.substr(actual.body.find(": ") + 2), error.value("message", ""));
    } else {
      EXPECT_EQ(actual.status, expected.status);
      EXPECT_EQ(Normalize(actual.body), Normalize(expected.body));
    }
    if (step.action == "ReceiveMessage") {
      fast.handles = HandlesOf(actual.body);
      general.handles = HandlesOf(expected.body);
      ASSERT_EQ(fast.handles.size(), general.handles.size());
    }
    fast.clock.Advance(7);
    general.clock.Advance(7);
  }
}

// The error answers of the fast path go through the frontend like the general path's.
TEST(JsonFastPathTest, RequestLevelErrorsKeepTheirCodeThroughTheFrontend) {
  Server fast(true), general(false);
  for (Server* s : {&fast, &general}) {
    ASSERT_EQ(s->Handle("CreateQueue", R"({"QueueName":"q"})").status, 200);
  }
  for (const char* body :
       {R"({QUEUE,"MessageBody":"bad \u0001 char"})", R"({QUEUE,"ReceiptHandle":"garbage"})"}) {
    const char* action =
        std::string(body).find("Receipt") != std::string::npos ? "DeleteMessage" : "SendMessage";
    HttpResponse a = fast.Handle(action, Expand(body));
    HttpResponse b = general.Handle(action, Expand(body));
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.body, b.body);
    EXPECT_EQ(a.headers.size(), b.headers.size());
  }
}

}  // namespace
}  // namespace postbox::wire::sqs
