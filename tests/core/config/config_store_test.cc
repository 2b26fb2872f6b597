// The ConfigStore's promises: changes are stored one at a time in submission order, each
// plan sees every earlier change applied, nothing is applied or answered before it is stored,
// and concurrent acknowledged changes all survive a restart.
#include "core/config/config_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <thread>

#include "core/queue/queue_service.h"
#include "storage/log/log_engine.h"
#include "storage/memory_engine.h"

namespace postbox::core {
namespace {

// A MemoryEngine whose commits wait until the test releases them, one at a time.
class HeldEngine final : public storage::Engine {
 public:
  void Commit(storage::WriteBatch batch, storage::Durability durability, Done done) override {
    std::lock_guard lock(mu_);
    held_.push_back({std::move(batch), durability, std::move(done)});
  }
  // Stores the oldest held commit and answers it; false if none is held.
  bool ReleaseOne() {
    Held h;
    {
      std::lock_guard lock(mu_);
      if (held_.empty()) return false;
      h = std::move(held_.front());
      held_.pop_front();
    }
    inner_.Commit(std::move(h.batch), h.durability, std::move(h.done));
    return true;
  }
  size_t held() {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  Status LoadQueues(const QueueVisitor& visit) override { return inner_.LoadQueues(visit); }
  Status LoadMessages(const MessageVisitor& visit) override { return inner_.LoadMessages(visit); }
  Status LoadRecords(storage::RecordKind kind, const RecordVisitor& visit) override {
    return inner_.LoadRecords(kind, visit);
  }
  Status Flush() override { return Status::Ok(); }
  Status Accepts(storage::SpaceUse use) const override { return inner_.Accepts(use); }
  storage::StorageHealth Health() const override { return inner_.Health(); }

 private:
  struct Held {
    storage::WriteBatch batch;
    storage::Durability durability = storage::Durability::kSync;
    Done done;
  };
  std::mutex mu_;
  std::deque<Held> held_;
  storage::MemoryEngine inner_;
};

TEST(ConfigStore, RunsPlansOneAtATimeInOrderAfterEachIsStored) {
  HeldEngine engine;
  ConfigStore store(engine);
  std::vector<int> applied;
  std::vector<int> seen_by_plan;
  for (int i = 0; i < 3; ++i) {
    store.Submit([&, i]() -> ConfigStore::Change {
      seen_by_plan.push_back(int(applied.size()));  // every earlier change is applied
      storage::WriteBatch batch;
      batch.PutRecord(storage::RecordKind::kTopic, 0, "t" + std::to_string(i), "x");
      return {std::move(batch), [&, i](Status s) {
                ASSERT_TRUE(s.ok());
                applied.push_back(i);
              }};
    });
  }
  // Only the first plan ran; it waits for its write.
  EXPECT_EQ(seen_by_plan, std::vector<int>{0});
  EXPECT_TRUE(applied.empty());
  EXPECT_EQ(engine.held(), 1u);
  while (engine.ReleaseOne()) {
  }
  EXPECT_EQ(applied, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(seen_by_plan, (std::vector<int>{0, 1, 2}));
}

TEST(ConfigStore, APlanThatThrowsDoesNotStopTheOthers) {
  storage::MemoryEngine engine;
  ConfigStore store(engine);
  store.Submit([]() -> ConfigStore::Change { throw std::runtime_error("a bug"); });
  bool answered = false;
  store.Submit([&]() { return ConfigStore::Answer([&](Status s) { answered = s.ok(); }); });
  EXPECT_TRUE(answered);
}

TEST(ConfigStore, AQueueIsVisibleAndAnsweredOnlyOnceStored) {
  HeldEngine engine;
  ManualClock clock;
  QueueService queues(engine, clock);
  const QueueId id{"us-east-1", "000000000000", "orders"};
  std::vector<Result<QueuePtr>> answers;
  for (int i = 0; i < 2; ++i) {
    queues.CreateQueue(id, {}, {}, [&](Result<QueuePtr> r) { answers.push_back(std::move(r)); });
  }
  EXPECT_TRUE(answers.empty());
  EXPECT_EQ(queues.GetQueue(id).status().code(), ErrorCode::kQueueDoesNotExist);
  ASSERT_TRUE(engine.ReleaseOne());
  ASSERT_EQ(answers.size(), 2u);  // the repeat found the stored queue: idempotent, no write
  ASSERT_TRUE(answers[0].ok() && answers[1].ok());
  EXPECT_EQ(*answers[0], *answers[1]);
  EXPECT_TRUE(queues.GetQueue(id).ok());
  EXPECT_FALSE(engine.ReleaseOne());
}

TEST(ConfigStore, AFailedWriteLeavesMemoryAsItWas) {
  storage::MemoryEngine engine;
  ManualClock clock;
  QueueService queues(engine, clock);
  QueuePtr queue;
  queues.CreateQueue({"us-east-1", "000000000000", "q"}, {}, {},
                     [&](Result<QueuePtr> r) { queue = *r; });
  ASSERT_TRUE(queue);
  engine.FailCommits(Status(ErrorCode::kStorageError, "disk gone"));
  Status set;
  queues.SetAttributes(queue, {{"VisibilityTimeout", "99"}}, [&](Status s) { set = s; });
  EXPECT_EQ(set.code(), ErrorCode::kStorageError);
  EXPECT_EQ(queue->config().visibility_timeout, 30);
  Status tagged;
  queues.TagQueue(queue, {{"team", "x"}}, [&](Status s) { tagged = s; });
  EXPECT_EQ(tagged.code(), ErrorCode::kStorageError);
  EXPECT_TRUE(queue->tags().empty());
}

class ConfigOnLog : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("postbox-config-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    auto engine = storage::LogEngine::Open(dir_.string());
    ASSERT_TRUE(engine.ok());
    engine_ = std::move(engine).value();
    queues_ = std::make_unique<QueueService>(*engine_, clock_);
    ASSERT_TRUE(queues_->Load().ok());
  }
  void Close() {
    engine_.reset();  // first: its thread may be finishing a callback into the service
    queues_.reset();
  }
  QueuePtr Create(const std::string& name) {
    std::promise<Result<QueuePtr>> p;
    queues_->CreateQueue({"us-east-1", "000000000000", name}, {}, {},
                         [&p](Result<QueuePtr> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : nullptr;
  }

  std::filesystem::path dir_;
  ManualClock clock_;
  std::unique_ptr<storage::LogEngine> engine_;
  std::unique_ptr<QueueService> queues_;
};

TEST_F(ConfigOnLog, ConcurrentAcknowledgedChangesAllSurviveARestart) {
  QueuePtr queue = Create("tagged");
  constexpr int kThreads = 4;
  constexpr int kTagsEach = 10;
  std::vector<std::thread> threads;
  std::atomic<int> acknowledged{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTagsEach; ++i) {
        std::promise<Status> p;
        queues_->TagQueue(queue, {{"k" + std::to_string(t) + "-" + std::to_string(i), "v"}},
                          [&p](Status s) { p.set_value(s); });
        if (p.get_future().get().ok()) ++acknowledged;
      }
    });
  }
  std::promise<Status> set;
  queues_->SetAttributes(queue, {{"DelaySeconds", "7"}}, [&set](Status s) { set.set_value(s); });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(set.get_future().get().ok());
  ASSERT_EQ(acknowledged.load(), kThreads * kTagsEach);
  Close();
  Open();
  auto reloaded = queues_->GetQueue(queue->id());
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ((*reloaded)->tags().size(), size_t(kThreads * kTagsEach));
  EXPECT_EQ((*reloaded)->config().delay_seconds, 7);
}

TEST_F(ConfigOnLog, AChangeRacingADeleteDoesNotBringTheQueueBack) {
  QueuePtr queue = Create("doomed");
  std::promise<Status> deleted;
  std::promise<Status> changed;
  queues_->DeleteQueue(queue, [&](Status s) { deleted.set_value(s); });
  queues_->SetAttributes(queue, {{"DelaySeconds", "5"}}, [&](Status s) { changed.set_value(s); });
  ASSERT_TRUE(deleted.get_future().get().ok());
  EXPECT_EQ(changed.get_future().get().code(), ErrorCode::kQueueDoesNotExist);
  Close();
  Open();
  EXPECT_FALSE(queues_->GetQueue(queue->id()).ok());
}

}  // namespace
}  // namespace postbox::core
