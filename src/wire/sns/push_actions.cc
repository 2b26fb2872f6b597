// SNS's mobile push operations: platform applications and their endpoints (publishing to an
// endpoint is in publish_actions.cc).
#include "core/push/platform_service.h"
#include "wire/sns/sns_arn.h"
#include "wire/sns/sns_call.h"

namespace postbox::wire::sns {
namespace {

core::PlatformService* PushOrFail(SnsCall& call, const Reply& reply) {
  if (call.push == nullptr) {
    reply(Status(ErrorCode::kUnsupportedOperation, "Mobile push is not available on this server."));
  }
  return call.push;
}

}  // namespace

void PublishToEndpoint(SnsCall& call, const std::string& endpoint_arn,
                       const core::PublishRequest& request, Reply reply) {
  core::PlatformService* push = PushOrFail(call, reply);
  if (push == nullptr) return;
  push->Publish(endpoint_arn, request, [reply](Result<std::string> id) {
    if (!id.ok()) return reply(id.status());
    Answer(reply, [id = *id](XmlWriter& xml) { xml.Element("MessageId", id); });
  });
}

void CreatePlatformApplication(SnsCall& call, Reply reply) {
  core::PlatformService* push = PushOrFail(call, reply);
  if (push == nullptr) return;
  auto name = call.Required("Name");
  if (!name.ok()) return reply(name.status());
  auto platform = call.Required("Platform");
  if (!platform.ok()) return reply(platform.status());
  push->CreateApplication(
      call.context.region, call.context.account, *name, *platform, call.Map("Attributes"),
      [reply](Result<std::string> arn) {
        if (!arn.ok()) return reply(arn.status());
        Answer(reply, [arn = *arn](XmlWriter& xml) { xml.Element("PlatformApplicationArn", arn); });
      });
}

void GetPlatformApplicationAttributes(SnsCall& call, Reply reply) {
  core::PlatformService* push = PushOrFail(call, reply);
  if (push == nullptr) return;
  auto arn = RequiredArn(call, "PlatformApplicationArn");
  if (!arn.ok()) return reply(arn.status());
  auto attributes = push->GetApplicationAttributes(*arn);
  if (!attributes.ok()) return reply(attributes.status());
  Answer(reply, [a = *attributes](XmlWriter& xml) { WriteAttributeMap(xml, "Attributes", a); });
}

void SetPlatformApplicationAttributes(SnsCall& call, Reply reply) {
  core::PlatformService* push = PushOrFail(call, reply);
  if (push == nullptr) return;
  auto arn = RequiredArn(call, "PlatformApplicationArn");
  if (!arn.ok()) return reply(arn.status());
  push->SetApplicationAttributes(*arn, call.Map("Attributes"), ReplyEmpty(reply));
}

void DeletePlatformApplication(SnsCall& call, Reply reply) {
  core::PlatformService* push = PushOrFail(call, reply);
  if (push == nullptr) return;
  auto arn = RequiredArn(call, "PlatformApplicationArn");
  if (!arn.ok()) return reply(arn.status());
  push->DeleteApplication(*arn, ReplyEmpty(reply));
}

void ListPlatformApplications(SnsCall& call, Reply reply) {
  core::PlatformService* push = PushOrFail(call, reply);
  if (push == nullptr) return;
  auto page =
      push->ListApplications(call.context.region, call.context.account, call.String("NextToken"));
  if (!page.ok()) return reply(page.status());
  Answer(reply, [page = *page](XmlWriter& xml) {
    xml.Open("PlatformApplications");
    for (const auto& app : page.first) {
      xml.Open("member");
      xml.Element("PlatformApplicationArn", app.arn);
      WriteAttributeMap(xml, "Attributes", app.attributes);
      xml.Close();
    }
    xml.Close();
    if (!page.second.empty()) xml.Element("NextToken", page.second);
  });
}

void CreatePlatformEndpoint(SnsCall& call, Reply reply) {
  core::PlatformService* push = PushOrFail(call, reply);
  if (push == nullptr) return;
  auto arn = RequiredArn(call, "PlatformApplicationArn");
  if (!arn.ok()) return reply(arn.status());
  auto token = call.Required("Token");
  if (!token.ok()) return reply(token.status());
  push->CreateEndpoint(
      *arn, *token, call.String("CustomUserData"), call.Map("Attributes"),
      [reply](Result<std::string> endpoint) {
        if (!endpoint.ok()) return reply(endpoint.status());
        Answer(reply, [arn = *endpoint](XmlWriter& xml) { xml.Element("EndpointArn", arn); });
      });
}

void GetEndpointAttributes(SnsCall& call, Reply reply) {
  core::PlatformService* push = PushOrFail(call, reply);
  if (push == nullptr) return;
  auto arn = RequiredArn(call, "EndpointArn");
  if (!arn.ok()) return reply(arn.status());
  auto attributes = push->GetEndpointAttributes(*arn);
  if (!attributes.ok()) return reply(attributes.status());
  Answer(reply, [a = *attributes](XmlWriter& xml) { WriteAttributeMap(xml, "Attributes", a); });
}

void SetEndpointAttributes(SnsCall& call, Reply reply) {
  core::PlatformService* push = PushOrFail(call, reply);
  if (push == nullptr) return;
  auto arn = RequiredArn(call, "EndpointArn");
  if (!arn.ok()) return reply(arn.status());
  push->SetEndpointAttributes(*arn, call.Map("Attributes"), ReplyEmpty(reply));
}

void DeleteEndpoint(SnsCall& call, Reply reply) {
  core::PlatformService* push = PushOrFail(call, reply);
  if (push == nullptr) return;
  auto arn = RequiredArn(call, "EndpointArn");
  if (!arn.ok()) return reply(arn.status());
  push->DeleteEndpoint(*arn, ReplyEmpty(reply));
}

void ListEndpointsByPlatformApplication(SnsCall& call, Reply reply) {
  core::PlatformService* push = PushOrFail(call, reply);
  if (push == nullptr) return;
  auto arn = RequiredArn(call, "PlatformApplicationArn");
  if (!arn.ok()) return reply(arn.status());
  auto page = push->ListEndpoints(*arn, call.String("NextToken"));
  if (!page.ok()) return reply(page.status());
  Answer(reply, [page = *page](XmlWriter& xml) {
    xml.Open("Endpoints");
    for (const auto& endpoint : page.first) {
      xml.Open("member");
      xml.Element("EndpointArn", endpoint.arn);
      WriteAttributeMap(xml, "Attributes", endpoint.attributes);
      xml.Close();
    }
    xml.Close();
    if (!page.second.empty()) xml.Element("NextToken", page.second);
  });
}

}  // namespace postbox::wire::sns
