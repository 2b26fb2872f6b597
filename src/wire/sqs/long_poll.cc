#include "wire/sqs/long_poll.h"

#include <memory>
#include <mutex>
#include <optional>

namespace postbox::wire::sqs {
namespace {

// A receive's messages wait here until storage has written their new states (the receive
// reports that through a callback that may run before or after it returns); a failed write
// is answered instead of the messages.
class StoredAnswer : public std::enable_shared_from_this<StoredAnswer> {
 public:
  using Messages = Result<std::vector<core::ReceivedMessage>>;

  core::StatusCallback StoredCallback() {
    return [self = shared_from_this()](Status s) { self->Stored(std::move(s)); };
  }
  // Once: the receive's result and where to answer.
  void Answer(Messages messages, ReceiveDone done) {
    std::unique_lock lock(mu_);
    messages_.emplace(std::move(messages));
    done_ = std::move(done);
    if (stored_) Fire(lock);
  }

 private:
  void Stored(Status s) {
    std::unique_lock lock(mu_);
    stored_.emplace(std::move(s));
    if (messages_) Fire(lock);
  }
  void Fire(std::unique_lock<std::mutex>& lock) {
    Messages answer = stored_->ok() ? std::move(*messages_) : Messages(*stored_);
    ReceiveDone done = std::move(done_);
    lock.unlock();
    done(std::move(answer));
  }

  std::mutex mu_;
  std::optional<Status> stored_;
  std::optional<Messages> messages_;
  ReceiveDone done_;
};

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
    auto answer = std::make_shared<StoredAnswer>();
    auto messages = service_->Receive(queue_, options_, answer->StoredCallback());
    const int64_t now = service_->clock().MonotonicMillis();
    if (messages.ok() && messages->empty() && now < deadline_ && !queue_->deleted()) {
      waiter_ = queue_->AddWaiter(WakeCallback());
      // A send that landed between the receive and AddWaiter would not wake us: look again.
      answer = std::make_shared<StoredAnswer>();
      messages = service_->Receive(queue_, options_, answer->StoredCallback());
      if (messages.ok() && messages->empty()) {
        ArmTimer(now);
        return;
      }
      queue_->RemoveWaiter(waiter_);
      waiter_ = 0;
    }
    answered_ = true;
    lock.unlock();
    answer->Answer(std::move(messages), std::move(done_));
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
