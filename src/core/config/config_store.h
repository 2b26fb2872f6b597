// ConfigStore: the one ordered path by which configuration changes reach storage.
//
// Configuration (queues, topics, subscriptions, tags, policies; later schedules, rules and
// alarms) changes rarely, but it must never go backwards: two concurrent acknowledged changes
// must both survive a kill -9, a deleted queue must stay deleted, and nothing may be
// acknowledged before it is durable. So changes run one at a time, in the order they were
// submitted. Each is a plan: a function that runs once every earlier change is stored and
// applied. It reads the current state, checks the request (answering AWS's errors), and
// returns the batch to store and what to do once it is stored. Memory changes only there,
// after the batch is durable: a failed write leaves memory as it was, and a restart finds
// exactly what was acknowledged, in the order it was acknowledged.
//
// Cost: one fsync per change, one change at a time. Configuration changes are rare; sends,
// receives and deletes never come through here.
//
// Thread-safety: Submit may be called from any thread. Plans and their continuations run one
// at a time, on the submitting thread or a storage callback thread: they must not block.
#pragma once

#include <deque>
#include <functional>
#include <mutex>

#include "base/status.h"
#include "storage/engine.h"

namespace postbox::core {

class ConfigStore {
 public:
  struct Change {
    storage::WriteBatch batch;  // empty: nothing to store, `then` runs at once with Ok
    // Runs with the stored outcome: applies the change to memory if Ok, and answers.
    std::function<void(Status)> then;
  };
  using Plan = std::function<Change()>;

  explicit ConfigStore(storage::Engine& engine) : engine_(engine) {}

  void Submit(Plan plan);

  // A Change that stores nothing and answers `status` (a refusal, or an idempotent repeat).
  static Change Answer(std::function<void(Status)> then) { return {{}, std::move(then)}; }

 private:
  // Runs queued plans until one waits on storage or none is left.
  void Drain();

  storage::Engine& engine_;
  std::mutex mu_;
  std::deque<Plan> plans_;
  bool running_ = false;  // a plan is running or waiting for its write
};

}  // namespace postbox::core
