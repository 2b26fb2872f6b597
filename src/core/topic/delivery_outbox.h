// DeliveryOutbox: the durable queue of deliveries to endpoints outside postbox: HTTP/S (and
// chat webhooks), email, SES mail, SMS and mobile push, each through its DeliveryChannel.
//
// A delivery (a notification, a subscription confirmation or an unsubscribe confirmation) is
// stored as a record in the same fsync'd write that acknowledges its cause (the Publish, the
// Subscribe), so an acknowledged message reaches its subscriber even if postbox is killed
// right after: the records are reloaded at start and resumed. Advance() posts due deliveries,
// at most kMaxInFlightPerEndpoint at once per endpoint; a delivered one's record is removed, a
// failed one is retried as the subscription's DeliveryPolicy says, and a permanent failure (a
// mailbox that does not exist) is given up at once. When retries
// run out the document goes to the subscription's RedrivePolicy dead-letter queue if it has
// one (else it is dropped and logged). Publishing never waits for deliveries.
//
// Memory is bounded per endpoint: the notifications of one endpoint, waiting or in flight, may
// hold at most `max_backlog_bytes_per_endpoint` (their strings plus a fixed 512 bytes each). A
// notification that would exceed it (its endpoint has been failing for a while, under load) is
// given up at once like one whose retries ran out: to the dead-letter queue if there is one,
// else dropped and logged. Its record was already written with the publish; giving up deletes
// it. Confirmations always fit.
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/status.h"
#include "channels/http_sender.h"
#include "core/queue/queue_service.h"
#include "core/topic/channels.h"
#include "core/topic/delivery_channel.h"
#include "storage/engine.h"

namespace postbox::core {

class DeliveryOutbox {
 public:
  static constexpr int kMaxInFlightPerEndpoint = 8;
  // Due deliveries of one endpoint looked at per Advance when throttling holds them back.
  static constexpr int kMaxScanPerEndpoint = 1000;

  static constexpr size_t kDefaultMaxBacklogBytesPerEndpoint = size_t(64) << 20;
  // A delivery whose dead-letter queue could not store it (storage trouble) waits this long
  // and is tried again.
  static constexpr int64_t kGiveUpRetryMs = 60'000;

  DeliveryOutbox(storage::Engine& engine, const Clock& clock, channels::HttpSender& sender,
                 QueueService& queues,
                 size_t max_backlog_bytes_per_endpoint = kDefaultMaxBacklogBytesPerEndpoint);

  // Routes deliveries of `protocol` to `channel` (which must outlive the outbox); http and
  // https go to the HttpSender given above. Call before Advance.
  void AddChannel(const std::string& protocol, DeliveryChannel* channel);
  bool HasChannel(const std::string& protocol) const;

  // Reloads stored deliveries. Call once, before Advance.
  Status Load();
  // Adds the delivery's record to `batch`; call Activate once the batch is committed.
  static void Stage(const Delivery& delivery, storage::WriteBatch* batch);
  void Activate(Delivery delivery);
  // A publish that is a single delivery (an SMS, a push, an SES mail): stores it alone in an
  // fsync'd write, then activates it and calls `done`, or calls `done` with the write's error.
  void Enqueue(Delivery delivery, std::function<void(Status)> done);
  // Posts the deliveries that are due. Call periodically (main: every 100 ms).
  void Advance();
  // Drops the waiting notifications of a subscription that was deleted (AWS stops delivering
  // to it); its UnsubscribeConfirmation still goes out.
  void CancelSubscription(const std::string& subscription_arn);

  size_t pending() const;

  // Outcomes since start, for /metrics, per protocol (and "unrouted": a stored delivery whose
  // protocol this server has no channel for).
  struct Stats {
    Counter delivered;           // a 2xx answer
    Counter failed_attempts;     // any other outcome (each retry counts)
    Counter permanent_failures;  // of those, refusals no retry can mend (given up at once)
    Counter dead_lettered;       // given up, sent to the subscription's dead-letter queue
    Counter dropped;             // given up with no dead-letter queue to take it (logged)
  };
  // Filled by the constructor and AddChannel, read without a lock afterwards.
  const std::map<std::string, std::unique_ptr<Stats>>& stats() const { return stats_; }

  // What a notification counts toward its endpoint's limit: its strings and a fixed 512 bytes
  // of bookkeeping (map and set nodes, the policy), so that many tiny raw messages are bounded
  // too. Confirmations count for nothing: they always fit.
  static size_t BacklogBytes(const Delivery& delivery);

 private:
  void Finish(const std::string& id, DeliveryOutcome outcome);
  // Sends the delivery to its dead-letter queue, or drops it, and deletes its record.
  void GiveUp(const Delivery& delivery, const std::string& reason);
  // Require mu_. Whether the delivery fits its endpoint's backlog; adding one; removing one.
  bool FitsLocked(const Delivery& delivery) const;
  void AddLocked(Delivery delivery);
  Delivery TakeLocked(std::map<std::string, Delivery>::iterator it);

  storage::Engine& engine_;
  const Clock& clock_;
  HttpChannel http_channel_;
  QueueService& queues_;
  const size_t max_backlog_bytes_per_endpoint_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, DeliveryChannel*> channels_;  // by protocol
  std::unordered_map<DeliveryChannel*, int> channel_load_;      // attempts in flight
  std::map<std::string, Delivery> deliveries_;                  // by id: waiting and in flight
  // The waiting ones per endpoint, by their next attempt: Advance reads only what is due, and
  // a slow endpoint's backlog does not stand in front of other endpoints. A delivery being
  // posted is in deliveries_ but not here.
  std::map<std::string, std::set<std::pair<int64_t, std::string>>> waiting_;
  std::unordered_map<std::string, int> per_endpoint_;      // in-flight count by endpoint
  std::unordered_map<std::string, size_t> backlog_bytes_;  // notification bodies by endpoint
  std::unordered_map<std::string, std::pair<int64_t, int>> sent_this_second_;  // throttle
  Stats& StatsFor(const std::string& protocol);
  std::map<std::string, std::unique_ptr<Stats>> stats_;
};

std::string EncodeDelivery(const Delivery& delivery);
std::optional<Delivery> DecodeDelivery(std::string_view blob);

}  // namespace postbox::core
