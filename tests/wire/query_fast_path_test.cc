// The query-protocol fast path against the general path: two servers (same clock, same
// requests), one answering SendMessage(Batch), ReceiveMessage and DeleteMessage(Batch) through
// the fast path where it takes them, the other through the general path only. Every answer
// must be the same bytes, apart from the random message and request ids and receipt handles.
// The table also says which requests the fast path must take (the flattened shapes the SDKs
// and kombu send) and which it must leave to the general path.
#include "wire/sqs/query_fast_path.h"

#include <gtest/gtest.h>

#include <regex>
#include <utility>
#include <vector>

#include "base/encoding.h"
#include "wire/sqs/sqs_protocol.h"
#include "wire/sqs_frontend_pair.h"

namespace postbox::wire::sqs {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr char kQueue[] = "http://localhost:9324/000000000000/q";
constexpr char kFifo[] = "http://localhost:9324/000000000000/f.fifo";

struct Step {
  std::string action;
  Fields fields;  // after Action; "{h0}".. in a value stand for the server's receipt handles
  bool taken;     // by the fast path
};

std::string FormOf(const std::string& action, const Fields& fields,
                   const std::vector<std::string>& handles) {
  std::string form = "Action=" + action + "&Version=2012-11-05";
  for (auto [key, value] : fields) {
    for (size_t i = 0; i < handles.size(); ++i) {
      if (value == "{h" + std::to_string(i) + "}") value = handles[i];
    }
    form += "&" + PercentEncode(key) + "=" + PercentEncode(value);
  }
  return form;
}

struct Server : FrontendUnderTest {
  explicit Server(bool fast) : FrontendUnderTest(fast) {}

  HttpResponse Handle(const std::string& form) {
    auto answer = HandleQuery(form);
    EXPECT_TRUE(answer.has_value()) << form;
    return answer.value_or(HttpResponse{});
  }

  // The fast path alone: whether it took the request, and its answer (as the front-end
  // writes it) if it did.
  bool TryFast(const std::string& action, const std::string& form, HttpResponse* out,
               const std::string& target = "/") {
    auto call = frontend.NewCall(QueryRequest(form, target));
    call->action = action;
    auto fields = ParseForm(form);
    EXPECT_TRUE(fields.ok());
    std::optional<Result<std::string>> answer;
    bool taken =
        TryQueryFastPath(call, *fields, [&](Result<std::string> r) { answer = std::move(r); });
    if (!taken) {
      EXPECT_FALSE(answer.has_value());
      return false;
    }
    EXPECT_TRUE(answer.has_value());
    if (!answer) return true;
    const std::string& id = call->context.request_id;
    *out = answer->ok() ? XmlSuccessResponse(std::move(**answer), id)
                        : ErrorResponse(Protocol::kQuery, answer->status(), id);
    return true;
  }

  std::vector<std::string> handles;  // from the last ReceiveMessage
};

std::vector<std::string> HandlesOf(const std::string& xml) {
  static const std::regex handle("<ReceiptHandle>([^<]*)</ReceiptHandle>");
  std::vector<std::string> out;
  for (std::sregex_iterator it(xml.begin(), xml.end(), handle), end; it != end; ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

Fields Attribute(const std::string& prefix, int n, const std::string& name, const std::string& type,
                 const std::string& value) {
  const std::string at = prefix + "." + std::to_string(n) + ".";
  const char* field = type.rfind("Binary", 0) == 0 ? "Value.BinaryValue" : "Value.StringValue";
  return {{at + "Name", name}, {at + "Value.DataType", type}, {at + field, value}};
}

Fields Join(std::initializer_list<Fields> parts) {
  Fields out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Fields Entry(int n, const std::string& id, const std::string& body) {
  const std::string at = "SendMessageBatchRequestEntry." + std::to_string(n) + ".";
  return {{at + "Id", id}, {at + "MessageBody", body}};
}

const std::vector<Step>& Steps() {
  const Fields q = {{"QueueUrl", kQueue}};
  const Fields f = {{"QueueUrl", kFifo}};
  const std::string e1 = "SendMessageBatchRequestEntry.1.";
  const std::string d = "DeleteMessageBatchRequestEntry.";
  static const std::vector<Step> steps = {
      // SendMessage: plain, attributes of each type, a trace header, a delay, markup.
      {"SendMessage", Join({q, {{"MessageBody", "hello"}}}), true},
      {"SendMessage",
       Join({q,
             {{"MessageBody", "with attributes"}},
             Attribute("MessageAttribute", 1, "s", "String", "v"),
             Attribute("MessageAttribute", 2, "n.one", "Number", "1.5"),
             Attribute("MessageAttribute", 3, "b", "Binary", "AAEC"),
             Attribute("MessageAttribute", 4, "c", "String.custom", "x <&>")}),
       true},
      {"SendMessage",
       Join({q,
             {{"MessageBody", "traced"}},
             Attribute("MessageSystemAttribute", 1, "AWSTraceHeader", "String",
                       "Root=1-5759e988-bd862e3fe1be46a994272793")}),
       true},
      {"SendMessage",
       Join({q, {{"MessageBody", "quote \" ' & < > \xc3\xa9 \r\n tab\t"}, {"DelaySeconds", "0"}}}),
       true},
      // Errors of the message itself come from the core, through either path.
      {"SendMessage", Join({q, {{"MessageBody", "bad \x01 char"}}}), true},
      {"SendMessage", Join({q, {{"MessageBody", ""}}}), true},
      {"SendMessage", q, true},
      {"SendMessage", Join({q, {{"MessageBody", "x"}, {"DelaySeconds", "901"}}}), true},
      {"SendMessage", Join({q, {{"MessageBody", "x"}, {"DelaySeconds", "-3"}}}), true},
      // Shapes left to the general path.
      {"SendMessage", Join({q, {{"MessageBody", "x"}, {"DelaySeconds", " 5"}}}), false},
      {"SendMessage", Join({q, {{"MessageBody", "x"}, {"DelaySeconds", "5s"}}}), false},
      {"SendMessage", Join({q, {{"MessageBody", "x"}, {"DelaySeconds", ""}}}), false},
      {"SendMessage", Join({q, {{"MessageBody", "first"}, {"MessageBody", "last"}}}), false},
      {"SendMessage", Join({q, {{"MessageBody", "x"}, {"Unknown", "1"}}}), false},
      {"SendMessage",
       Join({q, {{"MessageBody", "x"}}, Attribute("MessageAttribute", 1, "s", "String", "")}),
       false},
      {"SendMessage",
       Join({q, {{"MessageBody", "x"}}, Attribute("MessageAttribute", 1, "b", "Binary", "!!")}),
       false},
      {"SendMessage",
       Join({q,
             {{"MessageBody", "x"}},
             Attribute("MessageAttribute", 1, "s", "String", "a"),
             Attribute("MessageAttribute", 2, "s", "String", "b")}),
       false},
      {"SendMessage",
       Join({q,
             {{"MessageBody", "x"},
              {"MessageAttribute.01.Name", "s"},
              {"MessageAttribute.01.Value.DataType", "String"},
              {"MessageAttribute.01.Value.StringValue", "v"}}}),
       false},
      {"SendMessage",
       Join({q,
             {{"MessageBody", "x"},
              {"MessageAttribute.1.Name", "s"},
              {"MessageAttribute.1.Value.DataType", "String"},
              {"MessageAttribute.1.Value.StringValue", "v"},
              {"MessageAttribute.1.Value.Other", "v"}}}),
       false},
      {"SendMessage",
       {{"QueueUrl", "http://localhost:9324/000000000000/missing"}, {"MessageBody", "x"}},
       false},
      {"SendMessage", {{"MessageBody", "x"}}, false},
      // SendMessageBatch: all good (entries out of order), one bad entry, request errors.
      {"SendMessageBatch",
       Join(
           {q, Entry(2, "b-2", "two"), Entry(1, "a", "one"), Entry(3, "c_3", "three"),
            Attribute("SendMessageBatchRequestEntry.2.MessageAttribute", 1, "n.x", "Number", "7")}),
       true},
      {"SendMessageBatch",
       Join({q,
             Entry(1, "a", "ok"),
             Entry(2, "b", "\x02"),
             Entry(3, "c", "late"),
             {{"SendMessageBatchRequestEntry.3.DelaySeconds", "-1"}}}),
       true},
      {"SendMessageBatch", Join({q, Entry(1, "a", "x"), Entry(2, "a", "y")}), false},
      {"SendMessageBatch", q, false},
      {"SendMessageBatch", Join({q, Entry(1, "bad id", "x")}), false},
      {"SendMessageBatch", Join({q, {{e1 + "MessageBody", "x"}}}), false},
      {"SendMessageBatch", Join({q, {{"SendMessageBatchRequestEntry.01.Id", "a"}}}), false},
      {"SendMessageBatch", Join({q, Entry(1, "a", "x"), {{e1 + "Id", "b"}}}), false},
      {"SendMessageBatch",
       Join({q, Entry(1, "1", "x"), Entry(2, "2", "x"), Entry(3, "3", "x"), Entry(4, "4", "x"),
             Entry(5, "5", "x"), Entry(6, "6", "x"), Entry(7, "7", "x"), Entry(8, "8", "x"),
             Entry(9, "9", "x"), Entry(10, "10", "x"), Entry(11, "11", "x")}),
       false},
      // ReceiveMessage: selections of attributes; VisibilityTimeout 0 keeps messages visible.
      {"ReceiveMessage",
       Join({q,
             {{"MaxNumberOfMessages", "10"},
              {"VisibilityTimeout", "0"},
              {"AttributeName.1", "All"},
              {"MessageAttributeName.1", "All"}}}),
       true},
      {"ReceiveMessage",
       Join({q,
             {{"MaxNumberOfMessages", "010"},
              {"VisibilityTimeout", "0"},
              {"MessageSystemAttributeName.2", "ApproximateReceiveCount"},
              {"MessageSystemAttributeName.1", "SenderId"},
              {"MessageSystemAttributeName.3", "AWSTraceHeader"},
              {"MessageAttributeName.1", "n.*"},
              {"MessageAttributeName.2", "b"}}}),
       true},
      {"ReceiveMessage", Join({q, {{"MaxNumberOfMessages", "11"}}}), false},
      {"ReceiveMessage", Join({q, {{"MaxNumberOfMessages", "+1"}}}), false},
      {"ReceiveMessage", Join({q, {{"WaitTimeSeconds", "21"}}}), false},
      {"ReceiveMessage", Join({q, {{"VisibilityTimeout", "43201"}}}), false},
      {"ReceiveMessage", Join({q, {{"AttributeName.1.x", "All"}}}), false},
      {"ReceiveMessage", Join({q, {{"AttributeName", "All"}}}), false},
      {"ReceiveMessage", {{"QueueUrl", "http://localhost:9324/000000000000/missing"}}, false},
      // Now take them for real (handles {h0}.. are each server's own) and delete.
      {"ReceiveMessage", Join({q, {{"MaxNumberOfMessages", "10"}, {"WaitTimeSeconds", "0"}}}),
       true},
      {"DeleteMessageBatch",
       Join({q,
             {{d + "1.Id", "a"},
              {d + "1.ReceiptHandle", "{h0}"},
              {d + "2.Id", "b"},
              {d + "2.ReceiptHandle", "not-a-handle"},
              {d + "4.Id", "d"},
              {d + "3.Id", "c"},
              {d + "3.ReceiptHandle", "{h1}"}}}),
       true},
      {"DeleteMessage", Join({q, {{"ReceiptHandle", "{h2}"}}}), true},
      {"DeleteMessage", Join({q, {{"ReceiptHandle", "garbage"}}}), true},
      {"DeleteMessage", q, false},
      {"DeleteMessage", Join({q, {{"ReceiptHandle", "{h3}"}, {"ReceiptHandle", "{h4}"}}}), false},
      {"DeleteMessageBatch",
       Join({q,
             {{d + "1.Id", "a"},
              {d + "1.ReceiptHandle", "x"},
              {d + "2.Id", "a"},
              {d + "2.ReceiptHandle", "y"}}}),
       false},
      {"DeleteMessageBatch", q, false},
      {"DeleteMessageBatch", Join({q, {{d + "1.Id", "a"}, {d + "1.Other", "y"}}}), false},
      {"ReceiveMessage", Join({q, {{"MaxNumberOfMessages", "10"}, {"AttributeName.1", "All"}}}),
       true},
      {"ReceiveMessage", q, true},
      // FIFO: group, deduplication and sequence numbers, and a missing group id.
      {"SendMessageBatch",
       Join({f,
             Entry(1, "a", "f1"),
             Entry(2, "b", "f2"),
             {{e1 + "MessageGroupId", "g"},
              {e1 + "MessageDeduplicationId", "d1"},
              {"SendMessageBatchRequestEntry.2.MessageGroupId", "g"},
              {"SendMessageBatchRequestEntry.2.MessageDeduplicationId", "d2"}}}),
       true},
      {"SendMessage",
       Join(
           {f, {{"MessageBody", "f3"}, {"MessageGroupId", "h"}, {"MessageDeduplicationId", "d3"}}}),
       true},
      {"SendMessage",
       Join(
           {f, {{"MessageBody", "f3"}, {"MessageGroupId", "h"}, {"MessageDeduplicationId", "d3"}}}),
       true},
      {"SendMessage", Join({f, {{"MessageBody", "no group"}, {"MessageDeduplicationId", "d4"}}}),
       true},
      {"ReceiveMessage",
       Join({f,
             {{"MaxNumberOfMessages", "10"},
              {"AttributeName.1", "All"},
              {"ReceiveRequestAttemptId", "try-1"}}}),
       true},
      {"ReceiveMessage",
       Join({f,
             {{"MaxNumberOfMessages", "10"},
              {"AttributeName.1", "All"},
              {"ReceiveRequestAttemptId", "try-1"}}}),
       true},
  };
  return steps;
}

TEST(QueryFastPathTest, AnswersAsTheGeneralPathDoes) {
  Server fast(true), general(false);
  for (Server* s : {&fast, &general}) {
    ASSERT_EQ(s->Handle("Action=CreateQueue&QueueName=q").status, 200);
    ASSERT_EQ(s->Handle("Action=CreateQueue&QueueName=f.fifo&Attribute.1.Name=FifoQueue&"
                        "Attribute.1.Value=true")
                  .status,
              200);
  }
  for (const Step& step : Steps()) {
    const std::string form = FormOf(step.action, step.fields, {});
    SCOPED_TRACE(form);
    HttpResponse taken_answer;
    bool taken =
        fast.TryFast(step.action, FormOf(step.action, step.fields, fast.handles), &taken_answer);
    EXPECT_EQ(taken, step.taken);
    HttpResponse expected = general.Handle(FormOf(step.action, step.fields, general.handles));
    HttpResponse actual =
        taken ? taken_answer : fast.Handle(FormOf(step.action, step.fields, fast.handles));
    EXPECT_EQ(actual.status, expected.status);
    EXPECT_EQ(WithoutRandomIds(actual.body), WithoutRandomIds(expected.body));
    EXPECT_EQ(actual.content_type, expected.content_type);
    if (step.action == "ReceiveMessage") {
      fast.handles = HandlesOf(actual.body);
      general.handles = HandlesOf(expected.body);
      ASSERT_EQ(fast.handles.size(), general.handles.size());
    }
    fast.clock.Advance(7);
    general.clock.Advance(7);
  }
}

// Through the whole front-end: the fast path's answers carry the same headers.
TEST(QueryFastPathTest, AnswersThroughTheFrontendKeepTheirHeaders) {
  Server fast(true), general(false);
  for (Server* s : {&fast, &general}) {
    ASSERT_EQ(s->Handle("Action=CreateQueue&QueueName=q").status, 200);
  }
  const std::string url = PercentEncode(kQueue);
  for (const std::string& form :
       {"Action=SendMessage&QueueUrl=" + url + "&MessageBody=hi",
        "Action=SendMessage&QueueUrl=" + url + "&MessageBody=%01",
        "Action=DeleteMessage&QueueUrl=" + url + "&ReceiptHandle=garbage"}) {
    HttpResponse a = fast.Handle(form);
    HttpResponse b = general.Handle(form);
    EXPECT_EQ(a.status, b.status) << form;
    EXPECT_EQ(WithoutRandomIds(a.body), WithoutRandomIds(b.body)) << form;
    ASSERT_EQ(a.headers.size(), b.headers.size()) << form;
    for (size_t i = 0; i < a.headers.size(); ++i) {
      EXPECT_EQ(a.headers[i].first, b.headers[i].first) << form;
    }
  }
}

// The queue named by the request path rather than a QueueUrl field, and a trace header that
// becomes the message's AWSTraceHeader: taken by the fast path, answered as the general path.
TEST(QueryFastPathTest, QueueFromThePathAndTraceHeaderAsTheGeneralPath) {
  Server fast(true), general(false), probe(true);
  for (Server* s : {&fast, &general, &probe}) {
    ASSERT_EQ(s->Handle("Action=CreateQueue&QueueName=q").status, 200);
  }
  const std::string path = "/000000000000/q";
  HttpRequest send = FrontendUnderTest::QueryRequest("Action=SendMessage&MessageBody=traced", path);
  send.AddHeader("x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793");
  HttpResponse taken;
  ASSERT_TRUE(probe.TryFast("SendMessage", send.body, &taken, path));
  EXPECT_EQ(taken.status, 200);
  for (const std::string& form :
       {std::string("Action=ReceiveMessage&AttributeName.1=All&VisibilityTimeout=0"),
        std::string("Action=SendMessage&MessageBody=plain")}) {
    EXPECT_TRUE(SameAnswer(fast.HandleQuery(form, path), general.HandleQuery(form, path))) << form;
  }
  EXPECT_TRUE(SameAnswer(fast.Answer(send), general.Answer(send)));
  const std::string receive = "Action=ReceiveMessage&MaxNumberOfMessages=10&AttributeName.1=All";
  auto a = fast.HandleQuery(receive, path);
  auto b = general.HandleQuery(receive, path);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->body.find("<Name>AWSTraceHeader</Name>"), std::string::npos) << a->body;
  EXPECT_TRUE(SameAnswer(a, b)) << a->body << "\n" << b->body;
}

}  // namespace
}  // namespace postbox::wire::sqs
