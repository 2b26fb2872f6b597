#include "wire/metrics/prometheus_text.h"

#include <fmt/format.h>

namespace postbox::wire {
namespace {

// Length of the valid UTF-8 sequence at the start of `s`, or 0.
size_t Utf8SequenceLength(std::string_view s) {
  const auto byte = [&](size_t i) { return uint8_t(s[i]); };
  const uint8_t lead = byte(0);
  size_t length = lead < 0x80           ? 1
                  : (lead >> 5) == 0x6  ? 2
                  : (lead >> 4) == 0xE  ? 3
                  : (lead >> 3) == 0x1E ? 4
                                        : 0;
  if (length == 0 || length > s.size() || (length == 2 && lead < 0xC2)) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
  }
  return length;
}

// Escapes what the format asks (backslash, double quote, newline) and replaces bytes that are
// not UTF-8 with U+FFFD: a label value comes from clients (a queue's region is the one they
// signed for), and one invalid byte would make Prometheus reject the whole scrape.
void AppendEscaped(std::string& out, std::string_view value) {
  while (!value.empty()) {
    const char c = value.front();
    const size_t length = Utf8SequenceLength(value);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      value.remove_prefix(1);
      continue;
    }
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.append(value.substr(0, length));
    }
    value.remove_prefix(length);
  }
}

// Prometheus reads Go's float syntax: shortest round-trip, and +Inf.
std::string Number(double value) { return fmt::format("{}", value); }

}  // namespace

void PrometheusText::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;  // the caller's own words: no newlines
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::Begin(std::string_view name, const Labels& labels,
                           std::string_view extra_label, std::string_view extra_value) {
  out_ += name;
  if (labels.empty() && extra_label.empty()) return;
  out_ += '{';
  bool first = true;
  auto label = [&](std::string_view key, std::string_view value) {
    if (!first) out_ += ',';
    first = false;
    out_ += key;
    out_ += "=\"";
    AppendEscaped(out_, value);
    out_ += '"';
  };
  for (const auto& [key, value] : labels) label(key, value);
  if (!extra_label.empty()) label(extra_label, extra_value);
  out_ += '}';
}

void PrometheusText::Sample(std::string_view name, const Labels& labels, double value) {
  Begin(name, labels);
  out_ += ' ';
  out_ += Number(value);
  out_ += '\n';
}

void PrometheusText::Sample(std::string_view name, const Labels& labels, uint64_t value) {
  Begin(name, labels);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void PrometheusText::Sample(std::string_view name, const Labels& labels, int64_t value) {
  Begin(name, labels);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void PrometheusText::HistogramSamples(std::string_view name, const Labels& labels,
                                      const Histogram::Snapshot& histogram) {
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i < histogram.upper_bounds.size(); ++i) {
    Begin(bucket, labels, "le", Number(histogram.upper_bounds[i]));
    out_ += ' ';
    out_ += std::to_string(histogram.cumulative[i]);
    out_ += '\n';
  }
  Begin(bucket, labels, "le", "+Inf");
  out_ += ' ';
  out_ += std::to_string(histogram.count);
  out_ += '\n';
  Sample(std::string(name) + "_sum", labels, histogram.sum);
  Sample(std::string(name) + "_count", labels, histogram.count);
}

}  // namespace postbox::wire
