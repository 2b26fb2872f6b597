#include "wire/sqs/long_poll.h"

#include <memory>
#include <mutex>

namespace postbox::wire::sqs {
namespace {

class LongPoll : public std::enable_shared_from_this<LongPoll> {
 public:
  LongPoll(core::QueueService* service, Runtime* runtime, core::QueuePtr queue,
           core::ReceiveOptions options, int64_t deadline, ReceiveDone done)
      : service_(service),
        runtime_(runtime),
        queue_(std::move(queue)),
        options_(options),
        deadline_(deadline),
        done_(std::move(done)) {}

  void Try() {
    std::unique_lock lock(mu_);
    if (answered_) return;
    if (waiter_ != 0) {
      queue_->RemoveWaiter(waiter_);
      waiter_ = 0;
    }
    auto messages = service_->Receive(queue_, options_);
    const int64_t now = service_->clock().MonotonicMillis();
    if (messages.ok() && messages->empty() && now < deadline_ && !queue_->deleted()) {
      waiter_ = queue_->AddWaiter(WakeCallback());
      // A send that landed between the receive and AddWaiter would not wake us: look again.
      messages = service_->Receive(queue_, options_);
      if (messages.ok() && messages->empty()) {
        ArmTimer(now);
        return;
      }
      queue_->RemoveWaiter(waiter_);
      waiter_ = 0;
    }
    answered_ = true;
    lock.unlock();
    done_(std::move(messages));
  }

 private:
  // Runs Try() on an I/O thread. A wake-up for a poll that has already answered is passed on
  // to the next waiter, so a new message is never left waiting for a timer.
  std::function<void()> WakeCallback() {
    std::weak_ptr<LongPoll> weak = weak_from_this();
    std::weak_ptr<core::Queue> queue = queue_;
    Runtime* runtime = runtime_;
    return [weak, queue, runtime] {
      runtime->post([weak, queue] {
        auto self = weak.lock();
        if (self && self->TryIfWaiting()) return;
        if (auto q = queue.lock()) q->WakeOne();
      });
    };
  }

  bool TryIfWaiting() {
    {
      std::lock_guard lock(mu_);
      if (answered_) return false;
    }
    Try();
    return true;
  }

  // One timer for the earliest moment something can change: the end of the wait, or the next
  // delayed/in-flight message becoming visible. Later timers already armed are left to fire
  // harmlessly; no new timer is made unless it is due sooner than the armed one.
  void ArmTimer(int64_t now) {
    int64_t due = deadline_;
    int64_t next_visible = queue_->NextVisibleAtMillis();
    if (next_visible > 0) {
      due = std::min(due, now + next_visible - service_->clock().NowMillis() + 1);
    }
    due = std::max(due, now + 1);
    if (due >= timer_due_ && timer_due_ > now) return;
    timer_due_ = due;
    auto self = shared_from_this();
    runtime_->run_after(due - now, [self] { self->Try(); });
  }

  core::QueueService* service_;
  Runtime* runtime_;
  core::QueuePtr queue_;
  core::ReceiveOptions options_;
  int64_t deadline_;
  ReceiveDone done_;
  std::mutex mu_;
  bool answered_ = false;
  uint64_t waiter_ = 0;
  int64_t timer_due_ = 0;  // monotonic ms of the earliest armed timer
};

}  // namespace

void ReceiveWithWait(core::QueueService* service, Runtime* runtime, core::QueuePtr queue,
                     core::ReceiveOptions options, int64_t deadline, ReceiveDone done) {
  auto poll = std::make_shared<LongPoll>(service, runtime, std::move(queue), std::move(options),
                                         deadline, std::move(done));
  poll->Try();
}

}  // namespace postbox::wire::sqs
