#include "core/config/config_store.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <memory>

namespace postbox::core {

void ConfigStore::Submit(Plan plan) {
  {
    std::lock_guard lock(mu_);
    plans_.push_back(std::move(plan));
    if (running_) return;  // the running drain takes it in turn
    running_ = true;
  }
  Drain();
}

void ConfigStore::Drain() {
  for (;;) {
    Plan plan;
    {
      std::lock_guard lock(mu_);
      if (plans_.empty()) {
        running_ = false;
        return;
      }
      plan = std::move(plans_.front());
      plans_.pop_front();
    }
    Change change;
    try {
      change = plan();
    } catch (const std::exception& e) {
      // A bug in one plan must not stop every later change (nor escape an engine thread):
      // that change is dropped, the others go on.
      spdlog::error("event=config_plan_failed error=\"{}\"", e.what());
      continue;
    }
    if (change.batch.empty()) {
      if (change.then) change.then(Status::Ok());
      continue;
    }
    // The commit's callback may run before Commit returns (an engine that answers inline):
    // then this loop goes on, rather than the callback draining on a deeper and deeper stack.
    struct Handoff {
      std::mutex mu;
      bool returned = false;  // Commit has returned
      bool answered = false;  // the callback has run
    };
    auto handoff = std::make_shared<Handoff>();
    engine_.Commit(std::move(change.batch), storage::Durability::kSync,
                   [this, handoff, then = std::move(change.then)](Status s) {
                     if (then) then(s);
                     {
                       std::lock_guard lock(handoff->mu);
                       handoff->answered = true;
                       if (!handoff->returned) return;  // the loop below goes on
                     }
                     Drain();
                   });
    std::lock_guard lock(handoff->mu);
    handoff->returned = true;
    if (!handoff->answered) return;  // the callback drains when it runs
  }
}

}  // namespace postbox::core
