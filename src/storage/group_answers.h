// AnswerGroup: how an engine's commit thread answers the batches of one group write.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace postbox::storage {

// Runs a group's callbacks somewhere else than the commit thread (e.g. posts them to the
// server's I/O loop): one hand-over per group instead of one cross-thread wake-up per
// request. Must not drop the closure while the engine is serving.
using CallbackRunner = std::function<void(std::function<void()>)>;

// Answers the batches of `group` that `pick` chooses and are not answered yet, each with its
// `result`: those marked `done_inline` (and all of them without a runner) on this thread, the
// rest in one closure handed to `run_callbacks`. An answered batch's `done` is cleared.
template <typename Pending, typename Pick>
void AnswerGroupWhere(std::deque<Pending>& group, const CallbackRunner& run_callbacks,
                      const Pick& pick) {
  std::vector<std::pair<std::function<void(Status)>, Status>> handed_over;
  for (auto& p : group) {
    if (!p.done || !pick(p)) continue;
    auto done = std::move(p.done);
    p.done = nullptr;
    if (run_callbacks && !p.done_inline) {
      handed_over.emplace_back(std::move(done), p.result);
    } else {
      done(p.result);
    }
  }
  if (!handed_over.empty()) {
    run_callbacks([callbacks = std::move(handed_over)] {
      for (const auto& [done, result] : callbacks) done(result);
    });
  }
}

// Answers every batch of `group` with `result` (see AnswerGroupWhere).
template <typename Pending>
void AnswerGroup(std::deque<Pending>& group, const Status& result,
                 const CallbackRunner& run_callbacks) {
  for (auto& p : group) p.result = result;
  AnswerGroupWhere(group, run_callbacks, [](const Pending&) { return true; });
}

}  // namespace postbox::storage
