// AnswerGroup: how an engine's commit thread answers the batches of one group write.
#pragma once

#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "base/status.h"

namespace postbox::storage {

// Runs a group's callbacks somewhere else than the commit thread (e.g. posts them to the
// server's I/O loop): one hand-over per group instead of one cross-thread wake-up per
// request. Must not drop the closure while the engine is serving.
using CallbackRunner = std::function<void(std::function<void()>)>;

// Answers every batch of `group` with `result`: those marked `done_inline` (and all of them
// without a runner) on this thread, the rest in one closure handed to `run_callbacks`.
template <typename Pending>
void AnswerGroup(std::deque<Pending>& group, const Status& result,
                 const CallbackRunner& run_callbacks) {
  std::vector<std::function<void(Status)>> handed_over;
  for (auto& p : group) {
    if (!p.done) continue;
    if (run_callbacks && !p.done_inline) {
      handed_over.push_back(std::move(p.done));
    } else {
      p.done(result);
    }
  }
  if (!handed_over.empty()) {
    run_callbacks([callbacks = std::move(handed_over), result] {
      for (const auto& done : callbacks) done(result);
    });
  }
}

}  // namespace postbox::storage
