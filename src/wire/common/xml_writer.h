// XmlWriter: builds the small XML documents of the AWS query protocol responses.
// Escapes text and attribute values; characters XML 1.0 cannot carry become &#xN; references.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postbox::wire {

class XmlWriter {
 public:
  // Opens <name xmlns="ns"> (no namespace when ns is empty).
  void Open(std::string_view name, std::string_view ns = {});
  void Close();
  // <name>escaped text</name>
  void Element(std::string_view name, std::string_view text);
  std::string Finish();
  // Room for `bytes` more output, so that a large answer is not copied as it grows.
  void Reserve(size_t bytes) { out_.reserve(out_.size() + bytes); }

  static void Escape(std::string_view text, std::string* out);

 private:
  std::string out_ = "<?xml version=\"1.0\"?>";
  std::vector<std::string> open_;
};

}  // namespace postbox::wire
