// The answer to GET /metrics: everything postbox counts, in Prometheus text format.
//
// Requests by service, action and outcome with latencies; per-queue depth (visible, in flight,
// delayed), oldest message age and message counts; storage (state, group commit sizes, fsync
// latency, bytes written, failures, log size, free space); the SNS outbox; SMS providers;
// connections; authentication failures and outbound connections refused by the guard.
// Per-queue series are capped (metrics.max_queue_series, the first queues by region,
// account and name): beyond it, queues are only in the totals and postbox_queue_series_omitted
// counts them, so that a tenant with a million queues cannot make a million series.
#pragma once

#include <string>

#include "base/clock.h"
#include "channels/outbound_guard.h"
#include "core/push/push_channel.h"
#include "core/queue/queue_service.h"
#include "core/sms/sms_channel.h"
#include "core/topic/delivery_outbox.h"
#include "net/http_server.h"
#include "storage/engine.h"
#include "storage/log/log_engine.h"
#include "storage/write_admission.h"
#include "wire/auth/authenticator.h"
#include "wire/metrics/request_metrics.h"

namespace postbox::app {

struct MetricsSources {
  const wire::RequestMetrics* requests = nullptr;
  const core::QueueService* queues = nullptr;
  const core::DeliveryOutbox* outbox = nullptr;
  const core::SmsChannel* sms = nullptr;  // null when SMS is off
  const core::PushChannel* push = nullptr;
  const channels::FcmClient* fcm = nullptr;
  const storage::Engine* engine = nullptr;
  const storage::LogEngine* log = nullptr;  // null on the RocksDB engine
  const storage::WriteAdmission* admission = nullptr;
  const net::HttpServer* server = nullptr;
  const net::HttpServer* tls_server = nullptr;  // null without tls.listen
  const Clock* clock = nullptr;
  const wire::auth::Authenticator* authenticator = nullptr;  // null in development mode
  const channels::GuardRefusals* outbound_refusals = nullptr;
  std::string data_dir;
  size_t max_queue_series = 1000;
};

std::string RenderMetrics(const MetricsSources& sources);

}  // namespace postbox::app
