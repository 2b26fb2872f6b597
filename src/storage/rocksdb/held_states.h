// HeldStates: lazy message-state updates the RocksDB engine holds back for a while before
// writing them, so that most never need writing.
//
// A consumer receives a message (its state changes: receive count, visibility) and deletes it
// a few milliseconds later. Written at once, that state costs a put and a tombstone in the log,
// the memtable and the SST files, as many entries as the message itself. Held back for a
// second, it is usually forgotten by the delete instead. Lazy state updates may be lost in a
// crash anyway (storage/engine.h): the message then shows its previous state again, which
// at-least-once delivery tolerates.
//
// Thread-safety: none; the engine's commit thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "storage/engine.h"

namespace postbox::storage {

// (queue id, seq) of a message.
struct MessageRef {
  uint64_t queue;
  uint64_t seq;
  bool operator==(const MessageRef&) const = default;
};
struct MessageRefHash {
  size_t operator()(const MessageRef& r) const {
    return std::hash<uint64_t>()(r.queue * 31 + r.seq);
  }
};
using MessageRefSet = std::unordered_set<MessageRef, MessageRefHash>;

class HeldStates {
 public:
  using Clock = std::chrono::steady_clock;

  explicit HeldStates(Clock::duration holdback) : holdback_(holdback) {}

  // Holds `state` as the message's newest. A state already held is replaced but keeps its due
  // time, so a message whose state keeps changing is still written within one holdback.
  void Hold(const MessageRef& ref, const MessageState& state, Clock::time_point now) {
    auto [it, inserted] = held_.try_emplace(ref, Held{state, now + holdback_});
    if (inserted) {
      order_.emplace_back(it->second.due, ref);
    } else {
      it->second.state = state;
    }
  }

  // The message is gone (deleted, moved) or its newer state was written another way.
  void Forget(const MessageRef& ref) { held_.erase(ref); }
  void ForgetQueue(uint64_t queue) {
    std::erase_if(held_, [queue](const auto& entry) { return entry.first.queue == queue; });
  }

  // Calls write(ref, state) for each state due by `now`, oldest first, and forgets it.
  void TakeDue(Clock::time_point now,
               const std::function<void(const MessageRef&, const MessageState&)>& write) {
    while (!order_.empty() && order_.front().first <= now) {
      auto [due, ref] = order_.front();
      order_.pop_front();
      auto it = held_.find(ref);
      // An entry forgotten (and perhaps held again since, with a later due time) is stale.
      if (it == held_.end() || it->second.due != due) continue;
      write(ref, it->second.state);
      held_.erase(it);
    }
  }
  void TakeAll(const std::function<void(const MessageRef&, const MessageState&)>& write) {
    TakeDue(Clock::time_point::max(), write);
  }

  // When the oldest held state falls due; max() if none is held. Drops the stale entries in
  // front, so that the commit thread does not wake for states forgotten meanwhile.
  Clock::time_point NextDue() {
    while (!order_.empty()) {
      auto it = held_.find(order_.front().second);
      if (it != held_.end() && it->second.due == order_.front().first) {
        return order_.front().first;
      }
      order_.pop_front();
    }
    return Clock::time_point::max();
  }
  size_t size() const { return held_.size(); }

 private:
  struct Held {
    MessageState state;
    Clock::time_point due;
  };
  const Clock::duration holdback_;
  std::unordered_map<MessageRef, Held, MessageRefHash> held_;
  // Due order; entries of forgotten states stay until they are reached.
  std::deque<std::pair<Clock::time_point, MessageRef>> order_;
};

}  // namespace postbox::storage
