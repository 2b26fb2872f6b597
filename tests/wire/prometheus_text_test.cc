// The Prometheus text format as /metrics writes it: families, escaped labels, histograms.
#include "wire/metrics/prometheus_text.h"

#include <gtest/gtest.h>

#include "wire/metrics/request_metrics.h"

namespace postbox::wire {
namespace {

TEST(PrometheusText, WritesFamiliesAndEscapesLabelValues) {
  PrometheusText out;
  out.Family("postbox_queues", "gauge", "Queues that exist.");
  out.Sample("postbox_queues", {}, uint64_t(3));
  out.Sample("postbox_x", {{"queue", "a\"b\\c\nd"}, {"state", "visible"}}, int64_t(-2));
  EXPECT_EQ(out.Take(),
            "# HELP postbox_queues Queues that exist.\n"
            "# TYPE postbox_queues gauge\n"
            "postbox_queues 3\n"
            "postbox_x{queue=\"a\\\"b\\\\c\\nd\",state=\"visible\"} -2\n");
}

TEST(PrometheusText, ReplacesBytesThatAreNotUtf8) {
  PrometheusText out;
  out.Sample("x", {{"region", "caf\xc3\xa9\xff-\xe2\x82"}}, uint64_t(1));
  EXPECT_EQ(out.Take(), "x{region=\"caf\xc3\xa9\xef\xbf\xbd-\xef\xbf\xbd\xef\xbf\xbd\"} 1\n");
}

TEST(PrometheusText, WritesCumulativeBucketsSumAndCount) {
  Histogram h({0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  PrometheusText out;
  out.HistogramSamples("t", {{"a", "b"}}, h.Read());
  EXPECT_EQ(out.Take(),
            "t_bucket{a=\"b\",le=\"0.1\"} 1\n"
            "t_bucket{a=\"b\",le=\"1\"} 2\n"
            "t_bucket{a=\"b\",le=\"+Inf\"} 3\n"
            "t_sum{a=\"b\"} 5.55\n"
            "t_count{a=\"b\"} 3\n");
}

TEST(RequestMetrics, CountsByActionAndOutcome) {
  RequestMetrics metrics;
  metrics.Observe("sqs", "SendMessage", ErrorCode::kOk, 100);
  metrics.Observe("sqs", "SendMessage", ErrorCode::kOk, 200);
  metrics.Observe("sqs", "SendMessage", ErrorCode::kStorageFull, 50);
  PrometheusText out;
  metrics.Write(out);
  const std::string text = out.Take();
  EXPECT_NE(
      text.find("postbox_requests_total{service=\"sqs\",action=\"SendMessage\",outcome=\"ok\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("outcome=\"StorageFull\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("postbox_request_seconds_count{service=\"sqs\",action=\"SendMessage\"} 3"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace postbox::wire
