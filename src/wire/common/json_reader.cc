#include "wire/common/json_reader.h"

#include <simdjson.h>

namespace postbox::wire {
namespace {

using nlohmann::json;

template <typename T>
bool Scalar(simdjson::dom::element element, json* out) {
  T value{};
  if (element.get<T>().get(value) != simdjson::SUCCESS) return false;
  *out = value;
  return true;
}

// (Results are taken with get(), never value_unsafe() on a temporary: that returns a
// reference into the temporary, which dies before a range-for loop runs.)
// Depth is bounded by the parser (simdjson's default maximum depth, 1024), so is this recursion.
bool Convert(simdjson::dom::element element, json* out) {
  switch (element.type()) {
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array array;
      if (element.get_array().get(array) != simdjson::SUCCESS) return false;
      *out = json::array();
      for (simdjson::dom::element item : array) {
        json converted;
        if (!Convert(item, &converted)) return false;
        out->push_back(std::move(converted));
      }
      return true;
    }
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object object;
      if (element.get_object().get(object) != simdjson::SUCCESS) return false;
      *out = json::object();
      for (simdjson::dom::key_value_pair field : object) {
        // The last of repeated keys wins, as with nlohmann::json::parse.
        if (!Convert(field.value, &(*out)[std::string(field.key)])) return false;
      }
      return true;
    }
    case simdjson::dom::element_type::STRING: {
      std::string_view text;
      if (element.get_string().get(text) != simdjson::SUCCESS) return false;
      *out = std::string(text);
      return true;
    }
    case simdjson::dom::element_type::INT64:
      return Scalar<int64_t>(element, out);
    case simdjson::dom::element_type::UINT64:
      return Scalar<uint64_t>(element, out);
    case simdjson::dom::element_type::DOUBLE:
      return Scalar<double>(element, out);
    case simdjson::dom::element_type::BOOL:
      return Scalar<bool>(element, out);
    case simdjson::dom::element_type::NULL_VALUE:
      *out = nullptr;
      return true;
  }
  return false;
}

}  // namespace

std::optional<json> ParseJson(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  // realloc_if_needed: the request body has no SIMDJSON_PADDING, so simdjson copies it.
  if (parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root) !=
      simdjson::SUCCESS) {
    return std::nullopt;
  }
  json out;
  if (!Convert(root, &out)) return std::nullopt;
  return out;
}

}  // namespace postbox::wire
