// Queue-level SQS actions: translate the request shape to QueueService calls and back.

#include "base/encoding.h"
#include "wire/sqs/sqs_call.h"

namespace postbox::wire::sqs {

using nlohmann::json;

// Turns a Status-only completion into an empty-output reply.
static core::StatusCallback EmptyReply(Reply reply) {
  return [reply = std::move(reply)](Status s) {
    if (!s.ok()) return reply(s);
    reply(json::object());
  };
}

// A RedrivePolicy naming another account's queue (until queue policies can allow it).
Status CheckRedriveTarget(const Call& call, const core::AttributeMap& attributes) {
  auto it = attributes.find("RedrivePolicy");
  if (it == attributes.end() || !NamesAnotherAccount(call.context, it->second)) {
    return Status::Ok();
  }
  return Status(ErrorCode::kAccessDenied,
                "Access to the dead-letter queue in RedrivePolicy is denied: it belongs to "
                "another account.");
}

void CreateQueue(Call& call, Reply reply) {
  auto name = call.RequiredString("QueueName");
  if (!name.ok()) return reply(name.status());
  core::AttributeMap tags = call.StringMap("tags");
  for (auto& [k, v] : call.StringMap("Tags")) tags[k] = v;
  core::QueueId id{call.context.region, call.context.account, *name};
  if (Status s = call.CheckAccessTo(id.Arn()); !s.ok()) return reply(s);
  std::string url = call.QueueUrl(id);
  core::AttributeMap attributes = call.StringMap("Attributes");
  if (Status s = CheckRedriveTarget(call, attributes); !s.ok()) return reply(s);
  call.service->CreateQueue(id, std::move(attributes), tags,
                            [reply = std::move(reply), url](Result<core::QueuePtr> r) {
                              if (!r.ok()) return reply(r.status());
                              reply(json{{"QueueUrl", url}});
                            });
}

void GetQueueUrl(Call& call, Reply reply) {
  auto name = call.RequiredString("QueueName");
  if (!name.ok()) return reply(name.status());
  std::string owner = call.OptionalString("QueueOwnerAWSAccountId");
  core::QueueId id{call.context.region, owner.empty() ? call.context.account : owner, *name};
  auto queue = call.AccessibleQueue(id);
  if (!queue.ok()) return reply(queue.status());
  reply(json{{"QueueUrl", call.QueueUrl(id)}});
}

// MaxResults and NextToken of a paginated list call. The token is the base64 name of the last
// queue already returned; names are listed in sorted order, so the next page starts after it.
struct PageRequest {
  std::optional<int> max_results;
  std::string after;
};

static Result<PageRequest> ReadPageRequest(const Call& call) {
  auto max = call.OptionalInt("MaxResults");
  if (!max.ok()) return max.status();
  if (*max && (**max < 1 || **max > 1000)) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "Value for parameter MaxResults is invalid. Reason: MaxResults must be an "
                  "integer between 1 and 1000.");
  }
  PageRequest page{*max, ""};
  std::string token = call.OptionalString("NextToken");
  if (!token.empty()) {
    auto decoded = Base64Decode(token);
    if (!decoded) return Status(ErrorCode::kInvalidParameterValue, "Invalid NextToken value.");
    page.after = *decoded;
  }
  return page;
}

// One page of queue URLs under `member`, plus NextToken when more remain. As on AWS, only a
// request that set MaxResults gets a NextToken; without it, up to 1000 URLs are returned.
static json ListPage(const Call& call, const PageRequest& page,
                     const std::vector<core::QueueId>& sorted, const char* member,
                     bool omit_empty) {
  const size_t limit = page.max_results.value_or(1000);
  json urls = json::array();
  json out = json::object();
  std::string last;
  for (const auto& id : sorted) {
    if (!page.after.empty() && id.name <= page.after) continue;
    if (urls.size() == limit) {
      if (page.max_results) out["NextToken"] = Base64Encode(last);
      break;
    }
    last = id.name;
    urls.push_back(call.QueueUrl(id));
  }
  if (!urls.empty() || !omit_empty) out[member] = std::move(urls);
  return out;
}

void ListQueues(Call& call, Reply reply) {
  const std::string every_queue =
      "arn:aws:sqs:" + call.context.region + ":" + call.context.account + ":*";
  if (Status s = call.CheckAccessTo(every_queue); !s.ok()) return reply(s);
  auto page = ReadPageRequest(call);
  if (!page.ok()) return reply(page.status());
  std::vector<core::QueueId> ids;
  for (auto& name : call.service->ListQueueNames(call.context.region, call.context.account,
                                                 call.OptionalString("QueueNamePrefix"))) {
    ids.push_back({call.context.region, call.context.account, std::move(name)});
  }
  reply(ListPage(call, *page, ids, "QueueUrls", /*omit_empty=*/true));
}

void DeleteQueue(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  call.service->DeleteQueue(queue, EmptyReply(std::move(reply)));
}

void GetQueueAttributes(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  auto attributes = call.service->GetAttributes(*queue, call.StringList("AttributeNames"));
  if (!attributes.ok()) return reply(attributes.status());
  json out = json::object();
  if (!attributes->empty()) out["Attributes"] = *attributes;
  reply(out);
}

void SetQueueAttributes(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  core::AttributeMap attributes = call.StringMap("Attributes");
  if (Status s = CheckRedriveTarget(call, attributes); !s.ok()) return reply(s);
  call.service->SetAttributes(queue, std::move(attributes), EmptyReply(std::move(reply)));
}

void PurgeQueue(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  call.service->Purge(queue, EmptyReply(std::move(reply)));
}

void TagQueue(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  call.service->TagQueue(queue, call.StringMap("Tags"), EmptyReply(std::move(reply)));
}

void UntagQueue(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  call.service->UntagQueue(queue, call.StringList("TagKeys"), EmptyReply(std::move(reply)));
}

void ListQueueTags(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  json out = json::object();
  auto tags = queue->tags();
  if (!tags.empty()) out["Tags"] = tags;
  reply(out);
}

void ListDeadLetterSourceQueues(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  auto page = ReadPageRequest(call);
  if (!page.ok()) return reply(page.status());
  // queueUrls is a required member (lower-case in the model), present even when empty.
  reply(ListPage(call, *page, call.service->ListDeadLetterSourceQueues(*queue), "queueUrls",
                 /*omit_empty=*/false));
}

}  // namespace postbox::wire::sqs

namespace postbox::wire::sqs {
namespace {

using nlohmann::json;

Status InvalidLabel(const std::string& label, const std::string& reason) {
  return Status(ErrorCode::kInvalidParameterValue,
                "Value " + label + " for parameter Label is invalid. Reason: " + reason);
}

// The queue's Policy document, or a fresh one in the shape AWS generates for AddPermission.
json PolicyDocument(const core::Queue& queue) {
  std::string text = queue.config().policy_json;
  json policy = text.empty() ? json() : json::parse(text, nullptr, false);
  if (!policy.is_object()) {
    policy = {{"Version", "2012-10-17"}, {"Id", queue.id().Arn() + "/SQSDefaultPolicy"}};
  }
  json& statements = policy["Statement"];
  if (statements.is_object()) {
    statements = json::array({statements});  // IAM allows a lone statement: kept, in a list
  } else if (!statements.is_array()) {
    statements = json::array();
  }
  return policy;
}

// A Policy stored before policies were evaluated that cannot be read now: editing it
// statement by statement would rewrite it into something else than was meant (a repeated
// member dropped, say), so it must be set anew as a whole.
Status CheckStoredPolicyReadable(const core::Queue& queue) {
  if (queue.access_policy() != nullptr || queue.config().policy_json.empty()) {
    return Status::Ok();
  }
  return Status(ErrorCode::kInvalidAttributeValue,
                "Invalid value for the parameter Policy. Reason: the queue's stored Policy "
                "cannot be evaluated; set it anew with SetQueueAttributes.");
}

// A statement's Sid; empty for a statement without one (the stored policy is the user's JSON).
std::string Sid(const json& statement) {
  auto sid = statement.is_object() ? StringMember(statement, "Sid") : Result<std::string>("");
  return sid.ok() ? *sid : std::string();
}

}  // namespace

// AddPermission / RemovePermission edit the queue's Policy as AWS does: one statement per
// label. postbox stores and returns the policy; it does not enforce it yet.
void AddPermission(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  if (Status s = CheckStoredPolicyReadable(*queue); !s.ok()) return reply(s);
  auto label = call.RequiredString("Label");
  if (!label.ok()) return reply(label.status());
  auto accounts = call.StringList("AWSAccountIds");
  auto actions = call.StringList("Actions");
  if (accounts.empty()) {
    return reply(Status(ErrorCode::kMissingParameter,
                        "The request must contain the parameter AWSAccountIds."));
  }
  if (actions.empty()) {
    return reply(
        Status(ErrorCode::kMissingParameter, "The request must contain the parameter Actions."));
  }
  json policy = PolicyDocument(*queue);
  for (const auto& statement : policy["Statement"]) {
    if (Sid(statement) == *label) {
      return reply(InvalidLabel(*label, "Already exists."));
    }
  }
  json principals = json::array();
  for (const auto& account : accounts) principals.push_back("arn:aws:iam::" + account + ":root");
  json action_names = json::array();
  for (const auto& action : actions) action_names.push_back("SQS:" + action);
  // AWS writes a lone principal or action as a plain string, several as a list.
  auto one_or_list = [](const json& list) { return list.size() == 1 ? list[0] : list; };
  policy["Statement"].push_back({{"Sid", *label},
                                 {"Effect", "Allow"},
                                 {"Principal", {{"AWS", one_or_list(principals)}}},
                                 {"Action", one_or_list(action_names)},
                                 {"Resource", queue->id().Arn()}});
  call.service->SetAttributes(queue, {{"Policy", policy.dump()}}, EmptyReply(std::move(reply)));
}

void RemovePermission(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  if (Status s = CheckStoredPolicyReadable(*queue); !s.ok()) return reply(s);
  auto label = call.RequiredString("Label");
  if (!label.ok()) return reply(label.status());
  json policy = PolicyDocument(*queue);
  json kept = json::array();
  for (const auto& statement : policy["Statement"]) {
    if (Sid(statement) != *label) kept.push_back(statement);
  }
  if (kept.size() == policy["Statement"].size()) {
    return reply(InvalidLabel(*label, "can't find label."));
  }
  policy["Statement"] = kept;
  std::string text = kept.empty() ? "" : policy.dump();
  call.service->SetAttributes(queue, {{"Policy", text}}, EmptyReply(std::move(reply)));
}

}  // namespace postbox::wire::sqs
