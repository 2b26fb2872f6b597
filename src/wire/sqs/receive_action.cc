// ReceiveMessage, with long polling: a request with WaitTimeSeconds > 0 parks on the queue
// (no thread held) until a message arrives, one becomes visible, or the wait ends.
#include <mutex>

#include "base/encoding.h"
#include "core/queue/message_rules.h"
#include "wire/sqs/sqs_call.h"

namespace postbox::wire::sqs {
namespace {

using nlohmann::json;

struct Selection {
  std::vector<std::string> system_names;     // "All" or names
  std::vector<std::string> attribute_names;  // "All", ".*" prefixes or names
};

bool Wants(const std::vector<std::string>& names, const std::string& name) {
  for (const auto& n : names) {
    if (n == "All" || n == name) return true;
  }
  return false;
}

bool WantsUserAttribute(const std::vector<std::string>& names, const std::string& name) {
  for (const auto& n : names) {
    if (n == "All" || n == ".*" || n == name) return true;
    // "prefix.*" selects every name that starts with "prefix.".
    if (n.size() > 2 && n.compare(n.size() - 2, 2, ".*") == 0 &&
        name.compare(0, n.size() - 1, n, 0, n.size() - 1) == 0) {
      return true;
    }
  }
  return false;
}

json MessageToJson(const core::ReceivedMessage& r, const Selection& selection) {
  const core::Message& m = r.message;
  json out = {{"MessageId", m.message_id},
              {"ReceiptHandle", r.receipt_handle},
              {"MD5OfBody", m.md5_of_body},
              {"Body", m.body}};
  json system = json::object();
  auto add = [&](const char* name, const std::string& value) {
    if (Wants(selection.system_names, name)) system[name] = value;
  };
  add("SenderId", m.sender_id);
  add("SentTimestamp", std::to_string(m.sent_ms));
  add("ApproximateReceiveCount", std::to_string(m.state.receive_count));
  add("ApproximateFirstReceiveTimestamp", std::to_string(m.state.first_receive_ms));
  auto trace = m.system_attributes.find("AWSTraceHeader");
  if (trace != m.system_attributes.end()) add("AWSTraceHeader", trace->second.string_value);
  if (!m.dead_letter_source_arn.empty()) add("DeadLetterQueueSourceArn", m.dead_letter_source_arn);
  if (!m.message_group_id.empty()) add("MessageGroupId", m.message_group_id);
  if (!m.sequence_number.empty()) {  // FIFO queues only
    add("MessageDeduplicationId", m.message_deduplication_id);
    add("SequenceNumber", m.sequence_number);
  }
  if (!system.empty()) out["Attributes"] = system;

  core::MessageAttributes selected;
  for (const auto& [name, value] : m.attributes) {
    if (WantsUserAttribute(selection.attribute_names, name)) selected[name] = value;
  }
  if (!selected.empty()) {
    json attributes = json::object();
    for (const auto& [name, value] : selected) {
      json v = {{"DataType", value.data_type}};
      if (value.is_binary()) {
        v["BinaryValue"] = Base64Encode(value.binary_value);
      } else {
        v["StringValue"] = value.string_value;
      }
      attributes[name] = v;
    }
    // The digest covers exactly the attributes returned: the SDKs recompute it.
    out["MD5OfMessageAttributes"] = core::Md5OfAttributes(selected);
    out["MessageAttributes"] = attributes;
  }
  return out;
}

json ReceiveOutput(const std::vector<core::ReceivedMessage>& messages, const Selection& selection) {
  json out = json::object();
  if (messages.empty()) return out;
  json list = json::array();
  for (const auto& m : messages) list.push_back(MessageToJson(m, selection));
  out["Messages"] = std::move(list);
  return out;
}

class LongPoll : public std::enable_shared_from_this<LongPoll> {
 public:
  LongPoll(core::QueueService* service, Runtime* runtime, core::QueuePtr queue,
           core::ReceiveOptions options, Selection selection, int64_t deadline, Reply reply)
      : service_(service),
        runtime_(runtime),
        queue_(std::move(queue)),
        options_(options),
        selection_(std::move(selection)),
        deadline_(deadline),
        reply_(std::move(reply)) {}

  void Try() {
    std::unique_lock lock(mu_);
    if (done_) return;
    if (waiter_ != 0) {
      queue_->RemoveWaiter(waiter_);
      waiter_ = 0;
    }
    auto messages = service_->Receive(queue_, options_);
    const int64_t now = service_->clock().MonotonicMillis();
    if (messages.ok() && messages->empty() && now < deadline_ && !queue_->deleted()) {
      waiter_ = queue_->AddWaiter(WakeCallback());
      // A send that landed between the receive and AddWaiter would not wake us: look again.
      messages = service_->Receive(queue_, options_);
      if (messages.ok() && messages->empty()) {
        ArmTimer(now);
        return;
      }
      queue_->RemoveWaiter(waiter_);
      waiter_ = 0;
    }
    done_ = true;
    lock.unlock();
    if (!messages.ok()) return reply_(messages.status());
    reply_(ReceiveOutput(*messages, selection_));
  }

 private:
  // Runs Try() on an I/O thread. A wake-up for a poll that has already answered is passed on
  // to the next waiter, so a new message is never left waiting for a timer.
  std::function<void()> WakeCallback() {
    std::weak_ptr<LongPoll> weak = weak_from_this();
    std::weak_ptr<core::Queue> queue = queue_;
    Runtime* runtime = runtime_;
    return [weak, queue, runtime] {
      runtime->post([weak, queue] {
        auto self = weak.lock();
        if (self && self->TryIfWaiting()) return;
        if (auto q = queue.lock()) q->WakeOne();
      });
    };
  }

  bool TryIfWaiting() {
    {
      std::lock_guard lock(mu_);
      if (done_) return false;
    }
    Try();
    return true;
  }

  // One timer for the earliest moment something can change: the end of the wait, or the next
  // delayed/in-flight message becoming visible. Later timers already armed are left to fire
  // harmlessly; no new timer is made unless it is due sooner than the armed one.
  void ArmTimer(int64_t now) {
    int64_t due = deadline_;
    int64_t next_visible = queue_->NextVisibleAtMillis();
    if (next_visible > 0) {
      due = std::min(due, now + next_visible - service_->clock().NowMillis() + 1);
    }
    due = std::max(due, now + 1);
    if (due >= timer_due_ && timer_due_ > now) return;
    timer_due_ = due;
    auto self = shared_from_this();
    runtime_->run_after(due - now, [self] { self->Try(); });
  }

  core::QueueService* service_;
  Runtime* runtime_;
  core::QueuePtr queue_;
  core::ReceiveOptions options_;
  Selection selection_;
  int64_t deadline_;
  Reply reply_;
  std::mutex mu_;
  bool done_ = false;
  uint64_t waiter_ = 0;
  int64_t timer_due_ = 0;  // monotonic ms of the earliest armed timer
};

}  // namespace

void ReceiveMessage(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  auto max = call.OptionalInt("MaxNumberOfMessages");
  if (!max.ok()) return reply(max.status());
  if (*max && (**max < 1 || **max > 10)) {
    return reply(Status(ErrorCode::kInvalidParameterValue,
                        "Value " + std::to_string(**max) +
                            " for parameter MaxNumberOfMessages is invalid. Reason: Must be "
                            "between 1 and 10, if provided."));
  }
  auto wait = call.OptionalInt("WaitTimeSeconds");
  if (!wait.ok()) return reply(wait.status());
  if (*wait && (**wait < 0 || **wait > 20)) {
    return reply(Status(ErrorCode::kInvalidParameterValue,
                        "Value " + std::to_string(**wait) +
                            " for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and "
                            "<= 20, if provided."));
  }
  auto visibility = call.OptionalInt("VisibilityTimeout");
  if (!visibility.ok()) return reply(visibility.status());
  if (*visibility && (**visibility < 0 || **visibility > 43'200)) {
    return reply(Status(ErrorCode::kInvalidParameterValue,
                        "Value " + std::to_string(**visibility) +
                            " for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 "
                            "and <= 43200, if provided."));
  }
  Selection selection;
  selection.system_names = call.StringList("AttributeNames");
  for (auto& name : call.StringList("MessageSystemAttributeNames")) {
    selection.system_names.push_back(std::move(name));
  }
  selection.attribute_names = call.StringList("MessageAttributeNames");

  core::ReceiveOptions options{max->value_or(1), *visibility,
                               call.OptionalString("ReceiveRequestAttemptId")};
  int wait_seconds = wait->value_or(queue->config().receive_message_wait_time_seconds);
  int64_t deadline = call.service->clock().MonotonicMillis() + int64_t(wait_seconds) * 1000;
  auto poll = std::make_shared<LongPoll>(call.service, call.runtime, queue, options,
                                         std::move(selection), deadline, std::move(reply));
  poll->Try();
}

}  // namespace postbox::wire::sqs
