#include "wire/sqs/sqs_protocol.h"

#include <gtest/gtest.h>

namespace postbox::wire::sqs {
namespace {

using nlohmann::json;

json Decode(const std::string& form) {
  auto fields = ParseForm(form);
  EXPECT_TRUE(fields.ok());
  return QueryToInput(*fields);
}

TEST(QueryToInput, BuildsTheJsonProtocolShape) {
  json in = Decode(
      "Action=SendMessageBatch&QueueUrl=u&SendMessageBatchRequestEntry.1.Id=a"
      "&SendMessageBatchRequestEntry.1.MessageBody=hello+world"
      "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=n"
      "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String"
      "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=v"
      "&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=x");
  EXPECT_EQ(in["QueueUrl"], "u");
  EXPECT_FALSE(in.contains("Action"));
  ASSERT_EQ(in["Entries"].size(), 2u);
  EXPECT_EQ(in["Entries"][0]["MessageBody"], "hello world");
  EXPECT_EQ(in["Entries"][0]["MessageAttributes"]["n"]["StringValue"], "v");
  EXPECT_EQ(in["Entries"][1]["Id"], "b");
}

TEST(QueryToInput, MapsAndLists) {
  json in = Decode(
      "Attribute.1.Name=DelaySeconds&Attribute.1.Value=5&Tag.1.Key=k&Tag.1.Value=v"
      "&AttributeName.1=All&AttributeName.2=QueueArn");
  EXPECT_EQ(in["Attributes"], (json{{"DelaySeconds", "5"}}));
  EXPECT_EQ(in["Tags"], (json{{"k", "v"}}));
  EXPECT_EQ(in["AttributeNames"], (json{"All", "QueueArn"}));
}

// Regression: a plain field named like a collection member made QueryToInput throw
// (found by tests/fuzz/form_decoder).
TEST(QueryToInput, PlainFieldNamedLikeACollectionDoesNotThrow) {
  json a = Decode("Attributes=x&Attribute.1.Name=DelaySeconds&Attribute.1.Value=5");
  EXPECT_EQ(a["Attributes"], (json{{"DelaySeconds", "5"}}));
  json b = Decode("Entries=x&SendMessageBatchRequestEntry.1.Id=a");
  EXPECT_EQ(b["Entries"][0]["Id"], "a");
  json c = Decode(
      "SendMessageBatchRequestEntry.1.MessageAttributes=x"
      "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=n");
  EXPECT_TRUE(c["Entries"][0]["MessageAttributes"].is_object());
}

TEST(OutputToXml, FlattensListsAndMaps) {
  json out = {{"Messages",
               {{{"MessageId", "m"},
                 {"Body", "<&>"},
                 {"Attributes", {{"SentTimestamp", "1"}}},
                 {"MessageAttributes", {{"n", {{"DataType", "String"}, {"StringValue", "v"}}}}}}}}};
  std::string xml = OutputToXml("ReceiveMessage", out, "rid");
  EXPECT_NE(xml.find("<ReceiveMessageResult><Message><Attribute><Name>SentTimestamp</Name>"
                     "<Value>1</Value></Attribute><Body>&lt;&amp;&gt;</Body>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<MessageAttribute><Name>n</Name><Value><DataType>String</DataType>"
                     "<StringValue>v</StringValue></Value></MessageAttribute>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<RequestId>rid</RequestId>"), std::string::npos);
}

TEST(ErrorResponse, JsonCarriesTheQueryCompatibleCode) {
  HttpResponse r =
      ErrorResponse(Protocol::kJson, Status(ErrorCode::kQueueDoesNotExist, "gone"), "rid");
  EXPECT_EQ(r.status, 400);
  bool found = false;
  for (const auto& [name, value] : r.headers) {
    if (name == "x-amzn-query-error") {
      EXPECT_EQ(value, "AWS.SimpleQueueService.NonExistentQueue;Sender");
      found = true;
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(json::parse(r.body)["__type"], "com.amazonaws.sqs#QueueDoesNotExist");
}

TEST(ErrorResponse, EveryCodeMapsToAnAwsStatus) {
  for (int c = int(ErrorCode::kOk); c <= int(ErrorCode::kInternal); ++c) {
    HttpResponse r = ErrorResponse(Protocol::kQuery, Status(ErrorCode(c), "m"), "rid");
    EXPECT_GE(r.status, 400) << ErrorCodeName(ErrorCode(c));
    EXPECT_LT(r.status, 600);
    EXPECT_NE(r.body.find("<Code>"), std::string::npos);
  }
}

}  // namespace
}  // namespace postbox::wire::sqs
