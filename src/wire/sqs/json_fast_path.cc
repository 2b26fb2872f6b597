#include "wire/sqs/json_fast_path.h"

#include <simdjson.h>

#include <optional>
#include <vector>

#include "base/encoding.h"
#include "core/queue/message_rules.h"
#include "wire/common/json_writer.h"
#include "wire/sqs/message_fast_path.h"
#include "wire/sqs/sqs_protocol.h"

namespace postbox::wire::sqs {
namespace {

namespace dom = simdjson::dom;

// Every reader returns false for a shape it leaves to the general path. Objects are read
// member by member so that, as in the general path, the last of repeated keys wins.

bool ReadString(dom::element value, std::string* out) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return false;
  out->assign(text);
  return true;
}

// An integer within [min, max]; anything else (a string, a fraction, out of range) is left
// to the general path, which accepts numeric strings and words AWS's range errors.
bool ReadInt(dom::element value, int min, int max, std::optional<int>* out) {
  if (value.is_null()) {
    out->reset();
    return true;
  }
  int64_t v = 0;
  if (value.get_int64().get(v) != simdjson::SUCCESS || v < min || v > max) return false;
  *out = int(v);
  return true;
}

// A list of names: not an array is ignored, and so are members that are not strings.
void ReadNames(dom::element value, std::vector<std::string>* out) {
  out->clear();
  dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) return;
  for (dom::element item : array) {
    std::string_view name;
    if (item.get_string().get(name) == simdjson::SUCCESS) out->emplace_back(name);
  }
}

bool ReadAttributes(dom::element value, core::MessageAttributes* out) {
  dom::object attributes;
  if (value.get_object().get(attributes) != simdjson::SUCCESS) return false;
  out->clear();
  for (dom::key_value_pair attribute : attributes) {
    dom::object fields;
    if (attribute.value.get_object().get(fields) != simdjson::SUCCESS) return false;
    core::AttributeValue v;
    std::string binary;
    for (dom::key_value_pair field : fields) {
      std::string* target = field.key == "DataType"      ? &v.data_type
                            : field.key == "StringValue" ? &v.string_value
                            : field.key == "BinaryValue" ? &binary
                                                         : nullptr;
      if (target != nullptr && !ReadString(field.value, target)) return false;
    }
    // A String or Number attribute without a value is an error whose wording depends on
    // which other fields came: the general path words it.
    if (!v.is_binary() && v.string_value.empty()) return false;
    if (v.is_binary()) {
      v.string_value.clear();
      auto decoded = Base64Decode(binary);
      if (!decoded) return false;
      v.binary_value = std::move(*decoded);
    }
    (*out)[std::string(attribute.key)] = std::move(v);
  }
  return true;
}

// The members of a SendMessage request or a SendMessageBatch entry; `id` only for entries.
bool ReadNewMessage(dom::object fields, core::NewMessage* m, std::string* id) {
  for (dom::key_value_pair field : fields) {
    std::string_view key = field.key;
    bool ok = true;
    if (key == "MessageBody") {
      ok = ReadString(field.value, &m->body);
    } else if (key == "MessageAttributes") {
      ok = ReadAttributes(field.value, &m->attributes);
    } else if (key == "MessageSystemAttributes") {
      ok = ReadAttributes(field.value, &m->system_attributes);
    } else if (key == "DelaySeconds") {
      // The core words the range error; only the type is checked here.
      ok = ReadInt(field.value, INT32_MIN, INT32_MAX, &m->delay_seconds) &&
           m->delay_seconds.has_value();
    } else if (key == "MessageGroupId") {
      ok = ReadString(field.value, &m->message_group_id.emplace());
    } else if (key == "MessageDeduplicationId") {
      ok = ReadString(field.value, &m->message_deduplication_id);
    } else if (key == "Id" && id != nullptr) {
      ok = ReadString(field.value, id);
    }
    if (!ok) return false;
  }
  return true;
}

// The entries of a batch, when they follow the batch rules (else the general path answers
// EmptyBatchRequest, TooManyEntriesInBatchRequest, InvalidBatchEntryId, ...).
bool ReadEntries(dom::element value, std::vector<dom::object>* out) {
  dom::array entries;
  if (value.get_array().get(entries) != simdjson::SUCCESS) return false;
  size_t count = entries.size();
  if (count == 0 || count > kMaxBatchEntries) return false;
  for (dom::element entry : entries) {
    dom::object object;
    if (entry.get_object().get(object) != simdjson::SUCCESS) return false;
    out->push_back(object);
  }
  return true;
}

// The request's top-level object; QueueUrl when given (else the request path names it).
struct Request {
  dom::object fields;
  std::string queue_url;
};

bool ReadRequest(dom::parser& parser, std::string_view body, Request* out) {
  dom::element root;
  // realloc_if_needed: the request body has no SIMDJSON_PADDING, so simdjson copies it.
  if (parser.parse(body.data(), body.size(), /*realloc_if_needed=*/true).get(root) !=
          simdjson::SUCCESS ||
      root.get_object().get(out->fields) != simdjson::SUCCESS) {
    return false;
  }
  for (dom::key_value_pair field : out->fields) {
    if (field.key == "QueueUrl" && !ReadString(field.value, &out->queue_url)) return false;
  }
  return true;
}

// ---- answers, written in the member order of the general path's trees (sorted keys) ----

void WriteSent(JsonTextWriter& w, const core::SentMessage& sent, const std::string* id) {
  w.BeginObject();
  if (id != nullptr) w.Member("Id", *id);
  if (!sent.md5_of_attributes.empty()) w.Member("MD5OfMessageAttributes", sent.md5_of_attributes);
  w.Member("MD5OfMessageBody", sent.md5_of_body);
  if (!sent.md5_of_system_attributes.empty()) {
    w.Member("MD5OfMessageSystemAttributes", sent.md5_of_system_attributes);
  }
  w.Member("MessageId", sent.message_id);
  if (!sent.sequence_number.empty()) w.Member("SequenceNumber", sent.sequence_number);
  w.EndObject();
}

void WriteFailed(JsonTextWriter& w, const std::string& id, const Status& status) {
  w.BeginObject();
  w.Member("Code", EntryErrorCode(status.code()));
  w.Member("Id", id);
  w.Member("Message", status.message());
  w.Key("SenderFault");
  w.Bool(IsSenderFault(status.code()));
  w.EndObject();
}

// {"Failed":[..],"Successful":[..]} for a batch; `write_success` writes entry i's object.
template <typename Outcome, typename WriteSuccess>
std::string BatchText(const std::vector<std::string>& ids, const std::vector<Outcome>& outcomes,
                      const Status& (*status_of)(const Outcome&), WriteSuccess write_success) {
  JsonTextWriter w;
  w.BeginObject();
  w.Key("Failed");
  w.BeginArray();
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (!status_of(outcomes[i]).ok()) WriteFailed(w, ids[i], status_of(outcomes[i]));
  }
  w.EndArray();
  w.Key("Successful");
  w.BeginArray();
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (status_of(outcomes[i]).ok()) write_success(w, i, outcomes[i]);
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

const Status& SentStatus(const Result<core::SentMessage>& r) { return r.status(); }
const Status& PlainStatus(const Status& s) { return s; }

void WriteReceived(JsonTextWriter& w, const core::ReceivedMessage& r,
                   const ReceiveSelection& selection) {
  const core::Message& m = *r.message;
  w.BeginObject();
  bool any_system = false;
  ForEachSelectedSystemAttribute(m, selection, [&](const char* name, std::string_view value) {
    if (!any_system) {
      w.Key("Attributes");
      w.BeginObject();
      any_system = true;
    }
    w.Member(name, value);
  });
  if (any_system) w.EndObject();
  w.Member("Body", m.body);
  w.Member("MD5OfBody", m.md5_of_body);

  const core::MessageAttributes selected = SelectedAttributes(m, selection);
  if (!selected.empty()) {
    // The digest covers exactly the attributes returned: the SDKs recompute it.
    w.Member("MD5OfMessageAttributes", core::Md5OfAttributes(selected));
    w.Key("MessageAttributes");
    w.BeginObject();
    for (const auto& [name, value] : selected) {
      w.Key(name);
      w.BeginObject();
      if (value.is_binary()) {
        w.Member("BinaryValue", Base64Encode(value.binary_value));
        w.Member("DataType", value.data_type);
      } else {
        w.Member("DataType", value.data_type);
        w.Member("StringValue", value.string_value);
      }
      w.EndObject();
    }
    w.EndObject();
  }
  w.Member("MessageId", m.message_id);
  w.Member("ReceiptHandle", r.receipt_handle);
  w.EndObject();
}

// The answers in JSON.
std::string SentText(const Call&, const core::SentMessage& sent) {
  JsonTextWriter w;
  WriteSent(w, sent, nullptr);
  return w.Take();
}

std::string SendBatchText(const Call&, const std::vector<std::string>& ids,
                          const std::vector<Result<core::SentMessage>>& results) {
  return BatchText(ids, results, &SentStatus,
                   [&](JsonTextWriter& w, size_t i, const Result<core::SentMessage>& r) {
                     WriteSent(w, *r, &ids[i]);
                   });
}

std::string ReceivedText(const Call&, const std::vector<core::ReceivedMessage>& messages,
                         const ReceiveSelection& selection) {
  JsonTextWriter w;
  // Bodies, attributes and about 400 bytes of ids, digests and names each.
  size_t expected = 16;
  for (const auto& m : messages) {
    expected += m.message->body.size() + m.receipt_handle.size() + 400;
    for (const auto& [name, value] : m.message->attributes) {
      expected += name.size() + value.string_value.size() + value.binary_value.size() * 4 / 3 + 64;
    }
  }
  w.Reserve(expected);
  w.BeginObject();
  if (!messages.empty()) {
    w.Key("Messages");
    w.BeginArray();
    for (const auto& m : messages) WriteReceived(w, m, selection);
    w.EndArray();
  }
  w.EndObject();
  return w.Take();
}

std::string DeletedText(const Call&) { return "{}"; }

std::string DeleteBatchText(const Call&, const std::vector<std::string>& ids,
                            const std::vector<Status>& results) {
  return BatchText(ids, results, &PlainStatus, [&](JsonTextWriter& w, size_t i, const Status&) {
    w.BeginObject();
    w.Member("Id", ids[i]);
    w.EndObject();
  });
}

const FastAnswerWriter kJsonAnswers = {&SentText, &SendBatchText, &ReceivedText, &DeletedText,
                                       &DeleteBatchText};

// ---- the five requests ----

bool ReadSend(const Request& request, bool batch, FastSend* out) {
  out->queue_url = request.queue_url;
  out->batch = batch;
  if (!batch) return ReadNewMessage(request.fields, &out->messages.emplace_back(), nullptr);
  std::vector<dom::object> entries;
  bool has_entries = false;
  for (dom::key_value_pair field : request.fields) {
    if (field.key != "Entries") continue;
    has_entries = true;
    entries.clear();
    if (!ReadEntries(field.value, &entries)) return false;
  }
  if (!has_entries) return false;
  for (dom::object entry : entries) {
    if (!ReadNewMessage(entry, &out->messages.emplace_back(), &out->ids.emplace_back())) {
      return false;
    }
  }
  return true;
}

bool ReadReceive(const Request& request, FastReceive* out) {
  out->queue_url = request.queue_url;
  std::vector<std::string> system_names;
  for (dom::key_value_pair field : request.fields) {
    std::string_view key = field.key;
    bool ok = true;
    if (key == "MaxNumberOfMessages") {
      ok = ReadInt(field.value, 1, kMaxReceiveMessages, &out->max_messages);
    } else if (key == "WaitTimeSeconds") {
      ok = ReadInt(field.value, 0, kMaxWaitTimeSeconds, &out->wait_seconds);
    } else if (key == "VisibilityTimeout") {
      ok = ReadInt(field.value, 0, kMaxVisibilityTimeout, &out->options.visibility_timeout);
    } else if (key == "AttributeNames") {
      ReadNames(field.value, &out->selection.system_names);
    } else if (key == "MessageSystemAttributeNames") {
      ReadNames(field.value, &system_names);
    } else if (key == "MessageAttributeNames") {
      ReadNames(field.value, &out->selection.attribute_names);
    } else if (key == "ReceiveRequestAttemptId") {
      std::string_view id;
      out->options.receive_request_attempt_id.clear();
      if (field.value.get_string().get(id) == simdjson::SUCCESS) {
        out->options.receive_request_attempt_id = id;
      }
    }
    if (!ok) return false;
  }
  auto& names = out->selection.system_names;
  names.insert(names.end(), system_names.begin(), system_names.end());
  return true;
}

bool ReadDelete(const Request& request, bool batch, FastDelete* out) {
  out->queue_url = request.queue_url;
  out->batch = batch;
  for (dom::key_value_pair field : request.fields) {
    if (!batch && field.key == "ReceiptHandle") {
      out->handles.assign(1, std::string());
      if (!ReadString(field.value, &out->handles.front())) return false;
    } else if (batch && field.key == "Entries") {
      std::vector<dom::object> entries;
      if (!ReadEntries(field.value, &entries)) return false;
      out->ids.clear();
      out->handles.clear();
      for (dom::object entry : entries) {
        std::string& id = out->ids.emplace_back();
        std::string& receipt = out->handles.emplace_back();
        for (dom::key_value_pair member : entry) {
          if (member.key == "Id" && !ReadString(member.value, &id)) return false;
          if (member.key == "ReceiptHandle" && !ReadString(member.value, &receipt)) return false;
        }
      }
    }
  }
  return true;
}

}  // namespace

bool TryJsonFastPath(const std::shared_ptr<Call>& call, std::string_view body,
                     const TextReply& reply) {
  const std::string& action = call->action;
  const bool send = action == "SendMessage", send_batch = action == "SendMessageBatch";
  const bool receive = action == "ReceiveMessage";
  const bool remove = action == "DeleteMessage", remove_batch = action == "DeleteMessageBatch";
  if (!(send || send_batch || receive || remove || remove_batch)) return false;
  // The document lives in the parser; everything taken from it is copied out before the
  // core is called, so the next request on this thread may reuse the parser.
  thread_local dom::parser parser;
  Request request;
  if (!ReadRequest(parser, body, &request)) return false;
  if (send || send_batch) {
    FastSend send_request;
    return ReadSend(request, send_batch, &send_request) &&
           RunSend(call, std::move(send_request), kJsonAnswers, reply);
  }
  if (receive) {
    FastReceive receive_request;
    return ReadReceive(request, &receive_request) &&
           RunReceive(call, std::move(receive_request), kJsonAnswers, reply);
  }
  FastDelete delete_request;
  return ReadDelete(request, remove_batch, &delete_request) &&
         RunDelete(call, std::move(delete_request), kJsonAnswers, reply);
}

}  // namespace postbox::wire::sqs
