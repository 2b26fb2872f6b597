#include "wire/sqs/query_fast_path.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"
#include "core/queue/message_rules.h"
#include "wire/common/xml_writer.h"
#include "wire/sqs/sqs_protocol.h"

namespace postbox::wire::sqs {
namespace {

// ---- reading: every reader returns false for a shape it leaves to the general path ----

// The values read are pointers into the form fields, set once: a field named twice is
// declined (the general path keeps the last of plain fields but the first of indexed ones).
using Slot = const std::string*;

bool Fill(Slot* slot, const std::string& value) {
  if (*slot != nullptr) return false;
  *slot = &value;
  return true;
}

// "Prefix.N.rest": a flattened list member. The index must be written as the general path
// would sort it (digits without a leading zero), else "01" and "1" would be one entry there.
struct IndexedKey {
  std::string_view prefix;
  int index = 0;
  std::string_view rest;  // empty when the key ends at the index
};

bool SplitIndexed(std::string_view key, IndexedKey* out) {
  const size_t dot = key.find('.');
  if (dot == std::string_view::npos) return false;
  out->prefix = key.substr(0, dot);
  std::string_view tail = key.substr(dot + 1);
  const size_t dot2 = tail.find('.');
  const std::string_view digits = tail.substr(0, dot2);
  if (digits.empty() || digits.size() > 9 || digits.front() == '0') return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  std::from_chars(digits.data(), digits.data() + digits.size(), out->index);
  out->rest = dot2 == std::string_view::npos ? std::string_view() : tail.substr(dot2 + 1);
  return true;
}

// The item of `items` with `index`, added if new; null beyond `limit` items.
template <typename Item>
Item* ItemAt(std::vector<Item>* items, int index, size_t limit) {
  for (Item& item : *items) {
    if (item.index == index) return &item;
  }
  if (items->size() >= limit) return nullptr;
  Item& added = items->emplace_back();
  added.index = index;
  return &added;
}

template <typename Item>
void SortByIndex(std::vector<Item>* items) {
  std::sort(items->begin(), items->end(),
            [](const Item& a, const Item& b) { return a.index < b.index; });
}

// An integer as the general path reads a query value (std::from_chars over the whole text),
// within [min, max]; out-of-range values are left for the general path to word.
bool ReadInt(Slot text, int min, int max, std::optional<int>* out) {
  if (text == nullptr) return true;
  int v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size() || v < min || v > max) return false;
  *out = v;
  return true;
}

// DelaySeconds, which the general path reads with std::stoi: plain digits with an optional
// minus sign read the same both ways. Its range is the core's to check.
bool ReadDelay(Slot text, std::optional<int>* out) {
  if (text == nullptr) return true;
  std::string_view digits = *text;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 9) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  int v = 0;
  std::from_chars(text->data(), text->data() + text->size(), v);
  *out = v;
  return true;
}

// A message attribute: MessageAttribute.N.Name, .Value.DataType, .Value.StringValue,
// .Value.BinaryValue.
struct PendingAttribute {
  int index = 0;
  Slot name = nullptr, data_type = nullptr, string_value = nullptr, binary_value = nullptr;
};

// More than AWS's ten attributes per message are left to the general path (the core answers).
constexpr size_t kMaxAttributes = 10;

bool ReadAttributeField(const IndexedKey& key, const std::string& value,
                        std::vector<PendingAttribute>* attributes) {
  PendingAttribute* a = ItemAt(attributes, key.index, kMaxAttributes);
  if (a == nullptr) return false;
  Slot* slot = key.rest == "Name"                ? &a->name
               : key.rest == "Value.DataType"    ? &a->data_type
               : key.rest == "Value.StringValue" ? &a->string_value
               : key.rest == "Value.BinaryValue" ? &a->binary_value
                                                 : nullptr;
  return slot != nullptr && Fill(slot, value);
}

// As the JSON fast path reads attributes: a String or Number attribute without a value, and a
// name given twice, are the general path's to word.
bool ToAttributes(const std::vector<PendingAttribute>& pending, core::MessageAttributes* out) {
  for (const PendingAttribute& a : pending) {
    if (a.name == nullptr || a.name->empty()) return false;
    core::AttributeValue v;
    if (a.data_type != nullptr) v.data_type = *a.data_type;
    if (v.is_binary()) {
      auto decoded = Base64Decode(a.binary_value != nullptr ? *a.binary_value : std::string());
      if (!decoded) return false;
      v.binary_value = std::move(*decoded);
    } else {
      if (a.string_value == nullptr || a.string_value->empty()) return false;
      v.string_value = *a.string_value;
    }
    if (!out->emplace(*a.name, std::move(v)).second) return false;
  }
  return true;
}

// A SendMessage's fields, or one SendMessageBatch entry's (with its Id).
struct PendingMessage {
  int index = 0;  // entries only
  Slot id = nullptr, body = nullptr, delay = nullptr, group = nullptr, deduplication = nullptr;
  std::vector<PendingAttribute> attributes, system_attributes;
};

// One field of a message: `key` is the whole key for SendMessage, the part after
// "SendMessageBatchRequestEntry.N." for an entry.
bool ReadMessageField(std::string_view key, const std::string& value, bool entry,
                      PendingMessage* m) {
  Slot* slot = key == "MessageBody"              ? &m->body
               : key == "DelaySeconds"           ? &m->delay
               : key == "MessageGroupId"         ? &m->group
               : key == "MessageDeduplicationId" ? &m->deduplication
               : entry && key == "Id"            ? &m->id
                                                 : nullptr;
  if (slot != nullptr) return Fill(slot, value);
  IndexedKey indexed;
  if (!SplitIndexed(key, &indexed)) return false;
  if (indexed.prefix == "MessageAttribute") {
    return ReadAttributeField(indexed, value, &m->attributes);
  }
  if (indexed.prefix == "MessageSystemAttribute") {
    return ReadAttributeField(indexed, value, &m->system_attributes);
  }
  return false;
}

bool ToNewMessage(const PendingMessage& p, core::NewMessage* m) {
  if (p.body != nullptr) m->body = *p.body;
  if (p.group != nullptr) m->message_group_id = *p.group;
  if (p.deduplication != nullptr) m->message_deduplication_id = *p.deduplication;
  return ReadDelay(p.delay, &m->delay_seconds) && ToAttributes(p.attributes, &m->attributes) &&
         ToAttributes(p.system_attributes, &m->system_attributes);
}

bool IsProtocolField(std::string_view key) { return key == "Action" || key == "Version"; }

bool ReadSend(const FormFields& fields, bool batch, FastSend* out) {
  out->batch = batch;
  Slot queue_url = nullptr;
  PendingMessage single;
  std::vector<PendingMessage> entries;
  for (const auto& [key, value] : fields) {
    if (IsProtocolField(key)) continue;
    if (key == "QueueUrl") {
      if (!Fill(&queue_url, value)) return false;
      continue;
    }
    if (!batch) {
      if (!ReadMessageField(key, value, false, &single)) return false;
      continue;
    }
    IndexedKey indexed;
    if (!SplitIndexed(key, &indexed) || indexed.prefix != "SendMessageBatchRequestEntry") {
      return false;
    }
    PendingMessage* entry = ItemAt(&entries, indexed.index, kMaxBatchEntries);
    if (entry == nullptr || !ReadMessageField(indexed.rest, value, true, entry)) return false;
  }
  if (queue_url != nullptr) out->queue_url = *queue_url;
  if (!batch) return ToNewMessage(single, &out->messages.emplace_back());
  SortByIndex(&entries);
  for (const PendingMessage& entry : entries) {
    if (entry.id == nullptr || !ToNewMessage(entry, &out->messages.emplace_back())) return false;
    out->ids.push_back(*entry.id);
  }
  return true;
}

// One name of AttributeName.N, MessageSystemAttributeName.N or MessageAttributeName.N.
struct PendingName {
  int index = 0;
  Slot value = nullptr;
};

// The number of names a list may have here; a longer one is the general path's.
constexpr size_t kMaxNames = 32;

void AppendNames(std::vector<PendingName>* names, std::vector<std::string>* out) {
  SortByIndex(names);
  for (const PendingName& name : *names) out->push_back(*name.value);
}

bool ReadReceive(const FormFields& fields, FastReceive* out) {
  Slot queue_url = nullptr, max = nullptr, wait = nullptr, visibility = nullptr, attempt = nullptr;
  std::vector<PendingName> system_names, more_system_names, attribute_names;
  for (const auto& [key, value] : fields) {
    if (IsProtocolField(key)) continue;
    Slot* slot = key == "QueueUrl"                  ? &queue_url
                 : key == "MaxNumberOfMessages"     ? &max
                 : key == "WaitTimeSeconds"         ? &wait
                 : key == "VisibilityTimeout"       ? &visibility
                 : key == "ReceiveRequestAttemptId" ? &attempt
                                                    : nullptr;
    if (slot != nullptr) {
      if (!Fill(slot, value)) return false;
      continue;
    }
    IndexedKey indexed;
    if (!SplitIndexed(key, &indexed) || !indexed.rest.empty()) return false;
    std::vector<PendingName>* names = indexed.prefix == "AttributeName" ? &system_names
                                      : indexed.prefix == "MessageSystemAttributeName"
                                          ? &more_system_names
                                      : indexed.prefix == "MessageAttributeName" ? &attribute_names
                                                                                 : nullptr;
    if (names == nullptr) return false;
    PendingName* name = ItemAt(names, indexed.index, kMaxNames);
    if (name == nullptr || !Fill(&name->value, value)) return false;
  }
  if (!ReadInt(max, 1, kMaxReceiveMessages, &out->max_messages) ||
      !ReadInt(wait, 0, kMaxWaitTimeSeconds, &out->wait_seconds) ||
      !ReadInt(visibility, 0, kMaxVisibilityTimeout, &out->options.visibility_timeout)) {
    return false;
  }
  if (queue_url != nullptr) out->queue_url = *queue_url;
  if (attempt != nullptr) out->options.receive_request_attempt_id = *attempt;
  AppendNames(&system_names, &out->selection.system_names);
  AppendNames(&more_system_names, &out->selection.system_names);
  AppendNames(&attribute_names, &out->selection.attribute_names);
  return true;
}

struct PendingDelete {
  int index = 0;
  Slot id = nullptr, handle = nullptr;
};

bool ReadDelete(const FormFields& fields, bool batch, FastDelete* out) {
  out->batch = batch;
  Slot queue_url = nullptr, handle = nullptr;
  std::vector<PendingDelete> entries;
  for (const auto& [key, value] : fields) {
    if (IsProtocolField(key)) continue;
    if (key == "QueueUrl" || (!batch && key == "ReceiptHandle")) {
      if (!Fill(key == "QueueUrl" ? &queue_url : &handle, value)) return false;
      continue;
    }
    IndexedKey indexed;
    if (!batch || !SplitIndexed(key, &indexed) ||
        indexed.prefix != "DeleteMessageBatchRequestEntry") {
      return false;
    }
    PendingDelete* entry = ItemAt(&entries, indexed.index, kMaxBatchEntries);
    Slot* slot = entry == nullptr                  ? nullptr
                 : indexed.rest == "Id"            ? &entry->id
                 : indexed.rest == "ReceiptHandle" ? &entry->handle
                                                   : nullptr;
    if (slot == nullptr || !Fill(slot, value)) return false;
  }
  if (queue_url != nullptr) out->queue_url = *queue_url;
  if (!batch) {
    if (handle == nullptr) return false;  // the general path words the missing parameter
    out->handles.push_back(*handle);
    return true;
  }
  SortByIndex(&entries);
  for (const PendingDelete& entry : entries) {
    if (entry.id == nullptr) return false;
    out->ids.push_back(*entry.id);
    // A missing handle is the entry's error (ReceiptHandleIsInvalid), as in the general path.
    out->handles.push_back(entry.handle != nullptr ? *entry.handle : std::string());
  }
  return true;
}

// ---- the answers, element for element as the general path writes its trees (members in
// sorted order, lists and maps flattened) ----

void OpenResult(XmlWriter& xml, const Call& call) {
  xml.Open(call.action + "Response", kXmlNamespace);
  xml.Open(call.action + "Result");
}

std::string FinishResult(XmlWriter& xml, const Call& call) {
  xml.Close();
  xml.Open("ResponseMetadata");
  xml.Element("RequestId", call.context.request_id);
  return xml.Finish();
}

void WriteSent(XmlWriter& xml, const core::SentMessage& sent, const std::string* id) {
  if (id != nullptr) xml.Element("Id", *id);
  if (!sent.md5_of_attributes.empty()) {
    xml.Element("MD5OfMessageAttributes", sent.md5_of_attributes);
  }
  xml.Element("MD5OfMessageBody", sent.md5_of_body);
  if (!sent.md5_of_system_attributes.empty()) {
    xml.Element("MD5OfMessageSystemAttributes", sent.md5_of_system_attributes);
  }
  xml.Element("MessageId", sent.message_id);
  if (!sent.sequence_number.empty()) xml.Element("SequenceNumber", sent.sequence_number);
}

// Failed entries first (the tree's "Failed" sorts before "Successful"), each in its order.
template <typename Outcome, typename WriteSuccess>
void WriteBatch(XmlWriter& xml, const std::vector<std::string>& ids,
                const std::vector<Outcome>& outcomes, const Status& (*status_of)(const Outcome&),
                const char* success_element, WriteSuccess write_success) {
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const Status& status = status_of(outcomes[i]);
    if (status.ok()) continue;
    xml.Open("BatchResultErrorEntry");
    xml.Element("Code", EntryErrorCode(status.code()));
    xml.Element("Id", ids[i]);
    xml.Element("Message", status.message());
    xml.Element("SenderFault", IsSenderFault(status.code()) ? "true" : "false");
    xml.Close();
  }
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (!status_of(outcomes[i]).ok()) continue;
    xml.Open(success_element);
    write_success(i, outcomes[i]);
    xml.Close();
  }
}

const Status& SentStatus(const Result<core::SentMessage>& r) { return r.status(); }
const Status& PlainStatus(const Status& s) { return s; }

std::string SentXml(const Call& call, const core::SentMessage& sent) {
  XmlWriter xml;
  OpenResult(xml, call);
  WriteSent(xml, sent, nullptr);
  return FinishResult(xml, call);
}

std::string SendBatchXml(const Call& call, const std::vector<std::string>& ids,
                         const std::vector<Result<core::SentMessage>>& results) {
  XmlWriter xml;
  OpenResult(xml, call);
  WriteBatch(xml, ids, results, &SentStatus, "SendMessageBatchResultEntry",
             [&](size_t i, const Result<core::SentMessage>& r) { WriteSent(xml, *r, &ids[i]); });
  return FinishResult(xml, call);
}

void WriteReceived(XmlWriter& xml, const core::ReceivedMessage& r,
                   const ReceiveSelection& selection) {
  const core::Message& m = *r.message;
  xml.Open("Message");
  ForEachSelectedSystemAttribute(m, selection, [&](const char* name, std::string_view value) {
    xml.Open("Attribute");
    xml.Element("Name", name);
    xml.Element("Value", value);
    xml.Close();
  });
  xml.Element("Body", m.body);
  xml.Element("MD5OfBody", m.md5_of_body);
  const core::MessageAttributes selected = SelectedAttributes(m, selection);
  if (!selected.empty()) {
    // The digest covers exactly the attributes returned: the SDKs recompute it.
    xml.Element("MD5OfMessageAttributes", core::Md5OfAttributes(selected));
    for (const auto& [name, value] : selected) {
      xml.Open("MessageAttribute");
      xml.Element("Name", name);
      xml.Open("Value");
      if (value.is_binary()) {
        xml.Element("BinaryValue", Base64Encode(value.binary_value));
        xml.Element("DataType", value.data_type);
      } else {
        xml.Element("DataType", value.data_type);
        xml.Element("StringValue", value.string_value);
      }
      xml.Close();
      xml.Close();
    }
  }
  xml.Element("MessageId", m.message_id);
  xml.Element("ReceiptHandle", r.receipt_handle);
  xml.Close();
}

std::string ReceivedXml(const Call& call, const std::vector<core::ReceivedMessage>& messages,
                        const ReceiveSelection& selection) {
  XmlWriter xml;
  // Bodies (escaping may lengthen them), handles and about 500 bytes of markup, ids and digests.
  size_t expected = 256;
  for (const auto& m : messages) {
    expected += m.message->body.size() + m.message->body.size() / 8 + m.receipt_handle.size() + 500;
  }
  xml.Reserve(expected);
  OpenResult(xml, call);
  for (const auto& m : messages) WriteReceived(xml, m, selection);
  return FinishResult(xml, call);
}

std::string DeletedXml(const Call& call) {
  XmlWriter xml;
  OpenResult(xml, call);
  return FinishResult(xml, call);
}

std::string DeleteBatchXml(const Call& call, const std::vector<std::string>& ids,
                           const std::vector<Status>& results) {
  XmlWriter xml;
  OpenResult(xml, call);
  WriteBatch(xml, ids, results, &PlainStatus, "DeleteMessageBatchResultEntry",
             [&](size_t i, const Status&) { xml.Element("Id", ids[i]); });
  return FinishResult(xml, call);
}

const FastAnswerWriter kXmlAnswers = {&SentXml, &SendBatchXml, &ReceivedXml, &DeletedXml,
                                      &DeleteBatchXml};

}  // namespace

bool TryQueryFastPath(const std::shared_ptr<Call>& call, const FormFields& fields,
                      const TextReply& reply) {
  const std::string& action = call->action;
  const bool send = action == "SendMessage", send_batch = action == "SendMessageBatch";
  const bool receive = action == "ReceiveMessage";
  const bool remove = action == "DeleteMessage", remove_batch = action == "DeleteMessageBatch";
  if (send || send_batch) {
    FastSend request;
    return ReadSend(fields, send_batch, &request) &&
           RunSend(call, std::move(request), kXmlAnswers, reply);
  }
  if (receive) {
    FastReceive request;
    return ReadReceive(fields, &request) &&
           RunReceive(call, std::move(request), kXmlAnswers, reply);
  }
  if (remove || remove_batch) {
    FastDelete request;
    return ReadDelete(fields, remove_batch, &request) &&
           RunDelete(call, std::move(request), kXmlAnswers, reply);
  }
  return false;
}

}  // namespace postbox::wire::sqs
