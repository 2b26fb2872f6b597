#include "app/metrics_page.h"

#include "storage/file_system.h"
#include "wire/metrics/prometheus_text.h"

namespace postbox::app {
namespace {

using wire::Labels;
using wire::PrometheusText;

void WriteQueues(const MetricsSources& s, PrometheusText& out) {
  const auto queues = s.queues->AllQueues();
  const size_t shown = std::min(queues.size(), s.max_queue_series);
  out.Family("postbox_queues", "gauge", "Queues that exist.");
  out.Sample("postbox_queues", {}, uint64_t(queues.size()));
  out.Family("postbox_queue_series_omitted", "gauge",
             "Queues left out of the per-queue series (metrics.max_queue_series).");
  out.Sample("postbox_queue_series_omitted", {}, uint64_t(queues.size() - shown));

  std::vector<core::QueueCounters> counters;
  counters.reserve(queues.size());
  core::QueueCounters total;
  for (const auto& q : queues) {
    counters.push_back(q->Counters());
    total.visible += counters.back().visible;
    total.not_visible += counters.back().not_visible;
    total.delayed += counters.back().delayed;
  }
  out.Family("postbox_messages", "gauge", "Messages in all queues, by state.");
  out.Sample("postbox_messages", {{"state", "visible"}}, total.visible);
  out.Sample("postbox_messages", {{"state", "in_flight"}}, total.not_visible);
  out.Sample("postbox_messages", {{"state", "delayed"}}, total.delayed);

  auto labels = [](const core::QueuePtr& q) -> Labels {
    const core::QueueId& id = q->id();
    return {{"region", id.region}, {"account", id.account}, {"queue", id.name}};
  };
  out.Family("postbox_queue_messages", "gauge",
             "Messages in a queue, by state (ApproximateNumberOfMessages, ...NotVisible, "
             "...Delayed).");
  for (size_t i = 0; i < shown; ++i) {
    Labels l = labels(queues[i]);
    for (auto [state, value] : {std::pair{"visible", counters[i].visible},
                                {"in_flight", counters[i].not_visible},
                                {"delayed", counters[i].delayed}}) {
      Labels with_state = l;
      with_state.emplace_back("state", state);
      out.Sample("postbox_queue_messages", with_state, value);
    }
  }
  out.Family("postbox_queue_oldest_message_age_seconds", "gauge",
             "Age of the oldest message in a queue (0 when empty).");
  const int64_t now = s.clock->NowMillis();
  for (size_t i = 0; i < shown; ++i) {
    const int64_t oldest = queues[i]->OldestSentMillis();
    out.Sample("postbox_queue_oldest_message_age_seconds", labels(queues[i]),
               oldest == 0 ? 0.0 : double(std::max<int64_t>(0, now - oldest)) / 1000);
  }
  struct Event {
    const char* name;
    const char* help;
    const Counter core::QueueStats::*counter;
  };
  for (const Event& e : {
           Event{"postbox_queue_sent_messages_total", "Messages stored in a queue.",
                 &core::QueueStats::sent},
           Event{"postbox_queue_received_messages_total",
                 "Deliveries to receivers (a message received twice counts twice).",
                 &core::QueueStats::received},
           Event{"postbox_queue_deleted_messages_total", "Messages deleted by receipt handle.",
                 &core::QueueStats::deleted},
           Event{"postbox_queue_expired_messages_total",
                 "Messages removed past MessageRetentionPeriod.", &core::QueueStats::expired},
           Event{"postbox_queue_dead_lettered_messages_total",
                 "Messages moved to the dead-letter queue by maxReceiveCount.",
                 &core::QueueStats::dead_lettered},
           Event{"postbox_queue_receives_over_limit_total",
                 "Receive attempts that found the queue at its in-flight quota "
                 "(sqs.max_in_flight_messages*): answered OverLimit, or on a FIFO queue with no "
                 "messages; a long poll may try more than once.",
                 &core::QueueStats::over_limit},
       }) {
    out.Family(e.name, "counter", e.help);
    for (size_t i = 0; i < shown; ++i) {
      out.Sample(e.name, labels(queues[i]), (queues[i]->stats().*e.counter).value());
    }
  }
}

void WriteStorage(const MetricsSources& s, PrometheusText& out) {
  const storage::StorageHealth health = s.engine->Health();
  out.Family("postbox_storage_state", "gauge",
             "1 for the storage engine's state: healthy, full (deletes only), stalled (retrying) "
             "or failed (restart).");
  for (auto state : {storage::StorageState::kHealthy, storage::StorageState::kFull,
                     storage::StorageState::kStalled, storage::StorageState::kFailed}) {
    out.Sample("postbox_storage_state", {{"state", storage::StorageStateName(state)}},
               uint64_t(health.state == state ? 1 : 0));
  }
  auto available = storage::PosixFileSystem().AvailableBytes(s.data_dir);
  out.Family("postbox_storage_available_bytes", "gauge",
             "Free space on the file system of the data directory.");
  out.Sample("postbox_storage_available_bytes", {}, available.ok() ? *available : uint64_t(0));
  if (s.admission != nullptr) {
    out.Family("postbox_storage_pending_bytes", "gauge",
               "Bytes of writes waiting for storage (bounded by storage.max_pending_mib).");
    out.Sample("postbox_storage_pending_bytes", {}, s.admission->pending_bytes());
    out.Family("postbox_storage_throttled_total", "counter",
               "Writes that add data refused with a throttling error: storage was behind.");
    out.Sample("postbox_storage_throttled_total", {}, s.admission->throttled().value());
  }
  if (s.log == nullptr) return;
  const storage::LogEngineStats& st = s.log->stats();
  out.Family("postbox_storage_group_batches", "histogram",
             "Batches (requests' writes) that shared one write of the log: group commit.");
  out.HistogramSamples("postbox_storage_group_batches", {}, st.group_batches.Read());
  out.Family("postbox_storage_sync_seconds", "histogram", "Each fdatasync of the active segment.");
  out.HistogramSamples("postbox_storage_sync_seconds", {}, st.sync_seconds.Read());
  struct Value {
    const char* name;
    const char* type;
    const char* help;
    int64_t value;
  };
  for (const Value& v : {
           Value{"postbox_storage_written_bytes_total", "counter", "Bytes appended to the log.",
                 int64_t(st.bytes_written.value())},
           Value{"postbox_storage_write_failures_total", "counter",
                 "Failed writes, syncs, renames and removals (the cause is in the log).",
                 int64_t(st.write_failures.value())},
           Value{"postbox_storage_refused_batches_total", "counter",
                 "Writes refused without trying: full, stalled or failed storage.",
                 int64_t(st.refused_batches.value())},
           Value{"postbox_storage_segments_copied_total", "counter",
                 "Old segments whose live entries were copied forward.",
                 int64_t(st.segments_copied.value())},
           Value{"postbox_storage_log_bytes", "gauge", "Size of the log's segments.",
                 st.log_bytes.value()},
           Value{"postbox_storage_live_bytes", "gauge",
                 "Of which still live (the rest goes with its segment).", st.live_bytes.value()},
       }) {
    out.Family(v.name, v.type, v.help);
    out.Sample(v.name, {}, v.value);
  }
}

void WriteOutbox(const MetricsSources& s, PrometheusText& out) {
  out.Family("postbox_sns_outbox_deliveries", "gauge",
             "SNS deliveries to HTTP/S endpoints, email addresses and phones waiting or in "
             "flight.");
  out.Sample("postbox_sns_outbox_deliveries", {}, uint64_t(s.outbox->pending()));
  out.Family("postbox_sns_deliveries_total", "counter",
             "Outcomes of SNS delivery attempts through the outbox, by protocol (http, https, "
             "email, email-json, sms, ses); permanent_failure attempts are also failed_attempt "
             "ones.");
  for (const auto& [protocol, st] : s.outbox->stats()) {
    for (auto [outcome, value] : {std::pair{"delivered", st->delivered.value()},
                                  {"failed_attempt", st->failed_attempts.value()},
                                  {"permanent_failure", st->permanent_failures.value()},
                                  {"dead_lettered", st->dead_lettered.value()},
                                  {"dropped", st->dropped.value()}}) {
      out.Sample("postbox_sns_deliveries_total", {{"protocol", protocol}, {"outcome", outcome}},
                 value);
    }
  }
}

void WriteSms(const MetricsSources& s, PrometheusText& out) {
  out.Family("postbox_sms_provider_requests_total", "counter",
             "SMS requests to each provider by outcome (sent, retried, permanent, opted_out), and "
             "SMS held back by the provider's max_per_second (rate_limited, not requests).");
  for (const auto& [provider, st] : s.sms->stats()) {
    for (auto [outcome, value] : {std::pair{"sent", st->sent.value()},
                                  {"retried", st->retried.value()},
                                  {"permanent", st->permanent.value()},
                                  {"opted_out", st->opted_out.value()},
                                  {"rate_limited", st->rate_limited.value()}}) {
      out.Sample("postbox_sms_provider_requests_total",
                 {{"provider", provider}, {"outcome", outcome}}, value);
    }
  }
  out.Family("postbox_sms_refused_total", "counter",
             "SMS not sent to any provider: the number had opted out, or the account's "
             "MonthlySpendLimit was reached.");
  out.Sample("postbox_sms_refused_total", {{"reason", "opted_out"}},
             s.sms->refused_opted_out.value());
  out.Sample("postbox_sms_refused_total", {{"reason", "spend_limit"}},
             s.sms->refused_spend.value());
}

void WritePush(const MetricsSources& s, PrometheusText& out) {
  out.Family("postbox_push_requests_total", "counter",
             "Push notifications to FCM by outcome: sent, retried, permanent, dead_token (the "
             "endpoint was disabled), refused (the endpoint was disabled or deleted: not sent).");
  for (auto [outcome, value] : {std::pair{"sent", s.push->sent.value()},
                                {"retried", s.push->retried.value()},
                                {"permanent", s.push->failed.value()},
                                {"dead_token", s.push->disabled_endpoints.value()},
                                {"refused", s.push->refused_disabled.value()}}) {
    out.Sample("postbox_push_requests_total", {{"outcome", outcome}}, value);
  }
  out.Family("postbox_push_oauth_token_requests_total", "counter",
             "OAuth2 access tokens requested for FCM (cached until shortly before they expire).");
  out.Sample("postbox_push_oauth_token_requests_total", {}, s.fcm->token_requests());
}

void WriteAuthentication(const MetricsSources& s, PrometheusText& out) {
  const auto& f = s.authenticator->failures();
  out.Family("postbox_auth_failures_total", "counter",
             "API requests refused by SigV4 authentication, by reason (throttled: over the "
             "key's requests_per_second).");
  for (auto [reason, counter] : {std::pair{"missing_signature", &f.missing},
                                 {"incomplete_signature", &f.incomplete},
                                 {"unknown_key", &f.unknown_key},
                                 {"signature_mismatch", &f.bad_signature},
                                 {"expired", &f.expired},
                                 {"throttled", &f.throttled}}) {
    out.Sample("postbox_auth_failures_total", {{"reason", reason}}, counter->value());
  }
  const auto& d = s.authenticator->denials();
  out.Family("postbox_authorization_denied_total", "counter",
             "Signed API requests refused by access policies (AccessDenied), by reason.");
  out.Sample("postbox_authorization_denied_total", {{"reason", "explicit_deny"}},
             d.explicit_deny.value());
  out.Sample("postbox_authorization_denied_total", {{"reason", "no_allow"}}, d.no_allow.value());
}

void WriteOutboundGuard(const MetricsSources& s, PrometheusText& out) {
  const channels::GuardRefusals& r = *s.outbound_refusals;
  out.Family("postbox_outbound_refused_total", "counter",
             "Connections to URLs that API callers chose (HTTP/S subscriptions, chat webhooks) "
             "refused by the outbound guard, by the class of the address.");
  for (auto [reason, counter] : {std::pair{"loopback", &r.loopback},
                                 {"private", &r.private_network},
                                 {"link_local", &r.link_local},
                                 {"metadata", &r.metadata},
                                 {"reserved", &r.reserved}}) {
    out.Sample("postbox_outbound_refused_total", {{"reason", reason}}, counter->value());
  }
}

void WriteConnections(const MetricsSources& s, PrometheusText& out) {
  const net::ConnectionStats& st = s.server->connection_stats();
  out.Family("postbox_connections_open", "gauge", "Client connections open.");
  out.Sample("postbox_connections_open", {}, st.open.value());
  out.Family("postbox_connections_max", "gauge", "server.max_connections.");
  out.Sample("postbox_connections_max", {}, int64_t(s.server->max_connections()));
  out.Family("postbox_connections_total", "counter",
             "Connections accepted, and of those: closed at once (every connection busy, or "
             "its client address at server.max_connections_per_address) or closed idle to "
             "make room for a new one.");
  out.Sample("postbox_connections_total", {{"outcome", "accepted"}}, st.accepted.value());
  out.Sample("postbox_connections_total", {{"outcome", "refused"}}, st.refused.value());
  out.Sample("postbox_connections_total", {{"outcome", "refused_per_address"}},
             st.refused_per_address.value());
  out.Sample("postbox_connections_total", {{"outcome", "evicted"}}, st.evicted.value());
  out.Family("postbox_accept_errors_total", "counter",
             "accept() failures, such as running out of open files (backed off).");
  out.Sample("postbox_accept_errors_total", {}, st.accept_errors.value());
  if (s.tls_server != nullptr) {
    const net::ConnectionStats& tls = s.tls_server->connection_stats();
    out.Family("postbox_tls_connections_open", "gauge", "Client connections open on tls.listen.");
    out.Sample("postbox_tls_connections_open", {}, tls.open.value());
    out.Family("postbox_tls_connections_total", "counter",
               "Connections accepted on tls.listen, and of those: closed at once (every "
               "connection busy), closed idle to make room, or whose TLS handshake failed "
               "(an old protocol version, a client that gave up, the I/O timeout).");
    out.Sample("postbox_tls_connections_total", {{"outcome", "accepted"}}, tls.accepted.value());
    out.Sample("postbox_tls_connections_total", {{"outcome", "refused"}}, tls.refused.value());
    out.Sample("postbox_tls_connections_total", {{"outcome", "evicted"}}, tls.evicted.value());
    out.Sample("postbox_tls_connections_total", {{"outcome", "handshake_failed"}},
               tls.tls_handshake_failures.value());
  }
}

}  // namespace

std::string RenderMetrics(const MetricsSources& sources) {
  PrometheusText out;
  sources.requests->Write(out);
  WriteQueues(sources, out);
  WriteStorage(sources, out);
  WriteOutbox(sources, out);
  if (sources.sms != nullptr) WriteSms(sources, out);
  if (sources.push != nullptr && sources.fcm != nullptr) WritePush(sources, out);
  if (sources.authenticator != nullptr) WriteAuthentication(sources, out);
  if (sources.outbound_refusals != nullptr) WriteOutboundGuard(sources, out);
  WriteConnections(sources, out);
  return out.Take();
}

}  // namespace postbox::app
