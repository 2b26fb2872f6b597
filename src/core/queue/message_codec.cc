#include "core/queue/message_codec.h"

#include <cstring>

#include "base/encoding.h"

namespace postbox::core {
namespace {

constexpr uint8_t kVersion = 1;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char(v | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
}

void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

void PutAttributes(std::string& out, const MessageAttributes& attributes) {
  PutVarint(out, attributes.size());
  for (const auto& [name, value] : attributes) {
    PutString(out, name);
    PutString(out, value.data_type);
    PutString(out, value.is_binary() ? value.binary_value : value.string_value);
  }
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      uint8_t b = uint8_t(data_[pos_++]);
      *v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool String(std::string* s) {
    uint64_t n = 0;
    if (!Varint(&n) || n > data_.size() - pos_) return false;
    s->assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool Attributes(MessageAttributes* attributes) {
    uint64_t count = 0;
    if (!Varint(&count) || count > data_.size()) return false;
    for (uint64_t i = 0; i < count; ++i) {
      std::string name;
      AttributeValue value;
      std::string payload;
      if (!String(&name) || !String(&value.data_type) || !String(&payload)) return false;
      (value.is_binary() ? value.binary_value : value.string_value) = std::move(payload);
      (*attributes)[std::move(name)] = std::move(value);
    }
    return true;
  }
  bool done() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace

std::string EncodeMessage(const Message& m) {
  std::string out;
  out.reserve(m.body.size() + 128);
  out.push_back(char(kVersion));
  PutString(out, m.message_id);
  PutVarint(out, uint64_t(m.sent_ms));
  PutString(out, m.sender_id);
  PutString(out, m.message_group_id);
  PutString(out, m.message_deduplication_id);
  PutAttributes(out, m.attributes);
  PutAttributes(out, m.system_attributes);
  PutString(out, m.md5_of_attributes);
  PutString(out, m.md5_of_system_attributes);
  PutString(out, m.dead_letter_source_arn);
  PutString(out, m.body);
  return out;
}

Status DecodeMessage(std::string_view data, Message* m) {
  auto corrupt = [] { return Status(ErrorCode::kStorageError, "corrupt message record"); };
  if (data.empty() || uint8_t(data[0]) != kVersion) return corrupt();
  Reader r(data.substr(1));
  uint64_t sent = 0;
  if (!r.String(&m->message_id) || !r.Varint(&sent) || !r.String(&m->sender_id) ||
      !r.String(&m->message_group_id) || !r.String(&m->message_deduplication_id) ||
      !r.Attributes(&m->attributes) || !r.Attributes(&m->system_attributes) ||
      !r.String(&m->md5_of_attributes) || !r.String(&m->md5_of_system_attributes) ||
      !r.String(&m->dead_letter_source_arn) || !r.String(&m->body) || !r.done()) {
    return corrupt();
  }
  m->sent_ms = int64_t(sent);
  m->md5_of_body = Md5Hex(m->body);
  return Status::Ok();
}

}  // namespace postbox::core
