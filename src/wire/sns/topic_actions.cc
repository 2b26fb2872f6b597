// Topic and tag actions of the SNS API.
#include "core/topic/topic_permissions.h"
#include "wire/sns/sns_arn.h"
#include "wire/sns/sns_call.h"

namespace postbox::wire::sns {
namespace {

constexpr size_t kPageSize = 100;

}  // namespace

void CreateTopic(SnsCall& call, Reply reply) {
  auto name = call.Required("Name");
  if (!name.ok()) return reply(name.status());
  call.topics->CreateTopic(call.context.region, call.context.account, *name, call.Map("Attributes"),
                           call.TagList("Tags"), [reply](Result<std::string> arn) {
                             if (!arn.ok()) return reply(arn.status());
                             Answer(reply,
                                    [arn = *arn](XmlWriter& xml) { xml.Element("TopicArn", arn); });
                           });
}

void DeleteTopic(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "TopicArn");
  if (!arn.ok()) return reply(arn.status());
  call.topics->DeleteTopic(*arn, ReplyEmpty(reply));
}

void ListTopics(SnsCall& call, Reply reply) {
  std::vector<std::string> arns =
      call.topics->ListTopics(call.context.region, call.context.account);
  auto page = Page(arns.size(), kPageSize, call.String("NextToken"));
  if (!page.ok()) return reply(page.status());
  Answer(reply, [arns = std::move(arns), page = *page](XmlWriter& xml) {
    xml.Open("Topics");
    for (size_t i = page.begin; i < page.end; ++i) {
      xml.Open("member");
      xml.Element("TopicArn", arns[i]);
      xml.Close();
    }
    xml.Close();
    if (!page.next_token.empty()) xml.Element("NextToken", page.next_token);
  });
}

void GetTopicAttributes(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "TopicArn");
  if (!arn.ok()) return reply(arn.status());
  auto attributes = call.topics->GetTopicAttributes(*arn);
  if (!attributes.ok()) return reply(attributes.status());
  Answer(reply, [attributes = *attributes](XmlWriter& xml) {
    WriteAttributeMap(xml, "Attributes", attributes);
  });
}

void SetTopicAttributes(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "TopicArn");
  if (!arn.ok()) return reply(arn.status());
  auto name = call.Required("AttributeName");
  if (!name.ok()) return reply(name.status());
  call.topics->SetTopicAttribute(*arn, *name, call.String("AttributeValue"), ReplyEmpty(reply));
}

void AddPermission(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "TopicArn");
  if (!arn.ok()) return reply(arn.status());
  auto accounts = call.StringList("AWSAccountId");
  auto actions = call.StringList("ActionName");
  if (Status s = core::CheckPermissionRequest(call.String("Label"), accounts, actions); !s.ok()) {
    return reply(s);
  }
  call.topics->AddPermission(*arn, call.String("Label"), std::move(accounts), std::move(actions),
                             ReplyEmpty(reply));
}

void RemovePermission(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "TopicArn");
  if (!arn.ok()) return reply(arn.status());
  call.topics->RemovePermission(*arn, call.String("Label"), ReplyEmpty(reply));
}

void PutDataProtectionPolicy(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "ResourceArn");
  if (!arn.ok()) return reply(arn.status());
  auto policy = call.Required("DataProtectionPolicy");
  if (!policy.ok()) return reply(policy.status());
  call.topics->PutDataProtectionPolicy(*arn, *policy, ReplyEmpty(reply));
}

void GetDataProtectionPolicy(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "ResourceArn");
  if (!arn.ok()) return reply(arn.status());
  auto policy = call.topics->GetDataProtectionPolicy(*arn);
  if (!policy.ok()) return reply(policy.status());
  Answer(reply, [policy = *policy](XmlWriter& xml) {
    if (!policy.empty()) xml.Element("DataProtectionPolicy", policy);
  });
}

void TagResource(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "ResourceArn");
  if (!arn.ok()) return reply(arn.status());
  core::AttributeMap tags;
  auto list = call.input.find("Tags");
  if (list != call.input.end() && list->is_array()) {
    for (const auto& tag : *list) {
      std::string key = StringMember(tag, "Key");
      if (!tags.emplace(key, StringMember(tag, "Value")).second) {
        return reply(Status(ErrorCode::kInvalidParameter,
                            "Invalid parameter: Duplicated keys are not allowed."));
      }
    }
  }
  // TagResource has an (empty) output shape: botocore needs the <TagResourceResult/> element.
  call.topics->TagResource(*arn, tags, [reply](Status s) {
    if (!s.ok()) return reply(s);
    Answer(reply, [](XmlWriter&) {});
  });
}

void UntagResource(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "ResourceArn");
  if (!arn.ok()) return reply(arn.status());
  call.topics->UntagResource(*arn, call.StringList("TagKeys"), [reply](Status s) {
    if (!s.ok()) return reply(s);
    Answer(reply, [](XmlWriter&) {});
  });
}

void ListTagsForResource(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "ResourceArn");
  if (!arn.ok()) return reply(arn.status());
  auto tags = call.topics->ListTagsForResource(*arn);
  if (!tags.ok()) return reply(tags.status());
  Answer(reply, [tags = *tags](XmlWriter& xml) {
    xml.Open("Tags");
    for (const auto& [key, value] : tags) {
      xml.Open("member");
      xml.Element("Key", key);
      xml.Element("Value", value);
      xml.Close();
    }
    xml.Close();
  });
}

}  // namespace postbox::wire::sns
