#include "wire/metrics/prometheus_text.h"

#include <fmt/format.h>

namespace postbox::wire {
namespace {

void AppendEscaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
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
