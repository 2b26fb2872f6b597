// Compact JSON output for responses. nlohmann-json's dump() escapes strings one character at a
// time, which was the largest single cost of ReceiveMessage (1 KiB bodies); this writer copies
// runs that need no escaping in one append. Output is the same as dump() with
// ensure_ascii=false and invalid UTF-8 replaced by U+FFFD.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace postbox::wire {

void AppendJsonString(std::string_view text, std::string* out);
void AppendJson(const nlohmann::json& value, std::string* out);
std::string ToJson(const nlohmann::json& value);

// Writes a document straight to text, without building a tree first, in the same compact
// form as ToJson. The caller writes members in the order ToJson would (nlohmann's objects
// sort their keys) when the two must agree.
class JsonTextWriter {
 public:
  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(std::string_view name) {
    Separate();
    AppendJsonString(name, &out_);
    out_.push_back(':');
    first_ = true;  // the value follows without a comma
  }
  void String(std::string_view value) {
    Separate();
    AppendJsonString(value, &out_);
  }
  void Bool(bool value) {
    Separate();
    out_.append(value ? "true" : "false");
  }
  void Member(std::string_view name, std::string_view value) {
    Key(name);
    String(value);
  }

  // Room for `bytes` more output, so that a large answer is not copied as it grows.
  void Reserve(size_t bytes) { out_.reserve(out_.size() + bytes); }
  std::string Take() { return std::move(out_); }

 private:
  void Separate() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  void Open(char c) {
    Separate();
    out_.push_back(c);
    first_ = true;
  }
  void Close(char c) {
    out_.push_back(c);
    first_ = false;
  }

  std::string out_;
  bool first_ = true;
};

}  // namespace postbox::wire
