// The fault sweep: one workload (queues created, changed, tagged and deleted; messages sent,
// received and deleted through segment roll-overs and garbage collection; a topic fanning out
// to a queue) runs again and again on the log engine, each time with one file operation made
// to fail: the N-th write, sync, open, rename, removal or directory sync. After each run,
// storage is reopened as a restart would, and every acknowledged effect must be there and
// nothing unacknowledged may pass for acknowledged. Where a fault clears (all but a failed
// sync), the engine must resume by itself and take the next write.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "core/config/config_store.h"
#include "core/queue/queue_service.h"
#include "core/topic/message_signer.h"
#include "core/topic/topic_service.h"
#include "storage/fault_injection.h"
#include "storage/log/log_engine.h"

namespace postbox::core {
namespace {

constexpr char kRegion[] = "us-east-1";
constexpr char kAccount[] = "000000000000";

template <typename T>
T Await(const std::function<void(std::function<void(T)>)>& call) {
  std::promise<T> promise;
  auto future = promise.get_future();
  call([&promise](T value) { promise.set_value(std::move(value)); });
  return future.get();
}

// What the workload was told, and so what a restart must find. A request that failed (5xx)
// may or may not have taken effect, as on AWS: its target is only "uncertain" afterwards.
struct Acknowledged {
  std::set<std::string> queues;          // created, no delete attempted since
  std::set<std::string> deleted_queues;  // acknowledged deleted
  // VisibilityTimeout of "work": the acknowledged value, and those of failed attempts since.
  std::set<std::string> visibility;
  std::map<std::string, std::string> tags;  // tag key -> value acknowledged on "work"
  std::set<std::string> bodies;             // sent to "work" (or published), no delete since
  std::set<std::string> deleted_bodies;     // acknowledged deleted
};

class FaultSweep {
 public:
  FaultSweep(const std::filesystem::path& dir, storage::FileSystem& fs, const MessageSigner& signer)
      : dir_(dir), fs_(fs), signer_(signer) {}

  Status Open() {
    storage::LogEngineOptions options;
    options.segment_bytes = 4096;  // roll-overs and garbage collection within a few sends
    options.reserve_bytes = 16 << 10;
    options.retry_interval = std::chrono::milliseconds(5);
    options.fs = &fs_;
    auto engine = storage::LogEngine::Open(dir_.string(), std::move(options));
    if (!engine.ok()) return engine.status();
    engine_ = std::move(engine).value();
    config_ = std::make_unique<ConfigStore>(*engine_);
    queues_ = std::make_unique<QueueService>(*engine_, clock_, config_.get());
    POSTBOX_RETURN_IF_ERROR(queues_->Load());
    topics_ =
        std::make_unique<TopicService>(*engine_, clock_, *queues_, signer_, nullptr, config_.get());
    return topics_->Load();
  }
  // The engine goes first: its commit thread may still be finishing a callback into the
  // services (a configuration change answers, then runs the next).
  void Close() {
    engine_.reset();
    topics_.reset();
    queues_.reset();
    config_.reset();
  }
  storage::LogEngine& engine() { return *engine_; }
  QueueService& queues() { return *queues_; }

  Result<QueuePtr> CreateQueue(const std::string& name) {
    return Await<Result<QueuePtr>>([&](auto done) {
      queues_->CreateQueue({kRegion, kAccount, name}, {}, {}, std::move(done));
    });
  }
  Result<QueuePtr> Queue(const std::string& name) {
    return queues_->GetQueue({kRegion, kAccount, name});
  }
  Status Send(const QueuePtr& q, const std::vector<std::string>& bodies) {
    std::vector<NewMessage> messages;
    for (const auto& body : bodies) {
      NewMessage& m = messages.emplace_back();
      m.body = body;
    }
    auto results = Await<std::vector<Result<SentMessage>>>(
        [&](auto done) { queues_->SendMessages(q, std::move(messages), "AKID", std::move(done)); });
    return results.front().status();  // a batch is stored whole or not at all
  }

  // The workload, recording what was acknowledged.
  void Run(Acknowledged* ack) {
    ack->visibility = {"30"};  // the default, if "work" is created
    for (const char* name : {"work", "gone"}) {
      if (CreateQueue(name).ok()) ack->queues.insert(name);
    }
    auto work = Queue("work");
    if (!work.ok()) return;  // nothing else can be acknowledged without it
    for (int round = 0; round < 5; ++round) {
      const std::string visibility = std::to_string(40 + round);
      Status set = Await<Status>([&](auto done) {
        queues_->SetAttributes(*work, {{"VisibilityTimeout", visibility}}, std::move(done));
      });
      if (set.ok()) ack->visibility.clear();
      ack->visibility.insert(visibility);
      const std::string key = "k" + std::to_string(round);
      Status tagged = Await<Status>([&](auto done) {
        queues_->TagQueue(*work, {{key, "v"}}, std::move(done));
      });
      if (tagged.ok()) ack->tags[key] = "v";
      // Bodies of about a kilobyte: a few sends fill a 4 KiB segment.
      std::vector<std::string> bodies;
      for (int i = 0; i < 3; ++i) {
        bodies.push_back("m" + std::to_string(round) + "-" + std::to_string(i) +
                         std::string(900, char('a' + i)));
      }
      if (Send(*work, bodies).ok()) ack->bodies.insert(bodies.begin(), bodies.end());
      // Receive everything visible and delete all but one of what came back, so that whole
      // segments die and are collected.
      auto stored = std::make_shared<std::promise<Status>>();
      auto got = queues_->Receive(*work, ReceiveOptions{10, 0, ""},
                                  [stored](Status s) { stored->set_value(s); });
      Status receive_stored = stored->get_future().get();
      if (!got.ok() || !receive_stored.ok()) continue;
      for (size_t i = 0; i + 1 < got->size(); ++i) {
        const ReceivedMessage& r = (*got)[i];
        Status deleted = Await<Status>(
            [&](auto done) { queues_->DeleteMessage(*work, r.receipt_handle, std::move(done)); });
        ack->bodies.erase(r.message->body);
        if (deleted.ok()) ack->deleted_bodies.insert(r.message->body);
      }
    }
    if (auto gone = Queue("gone"); gone.ok()) {
      Status deleted =
          Await<Status>([&](auto done) { queues_->DeleteQueue(*gone, std::move(done)); });
      ack->queues.erase("gone");
      if (deleted.ok()) ack->deleted_queues.insert("gone");
    }
    auto topic = Await<Result<std::string>>([&](auto done) {
      topics_->CreateTopic(kRegion, kAccount, "news", {}, {}, std::move(done));
    });
    if (!topic.ok()) return;
    auto subscribed = Await<Result<SubscribeResult>>([&](auto done) {
      topics_->Subscribe(*topic, "sqs", (*work)->id().Arn(), {{"RawMessageDelivery", "true"}},
                         "http://127.0.0.1", "", std::move(done));
    });
    if (!subscribed.ok()) return;
    PublishRequest request;
    request.message = "published";
    auto published = Await<Result<PublishResult>>(
        [&](auto done) { topics_->Publish(*topic, request, "http://127.0.0.1", std::move(done)); });
    if (published.ok()) ack->bodies.insert("published");
  }

  // Every acknowledged effect, after a restart.
  void Check(const Acknowledged& ack, const std::string& context) {
    for (const auto& name : ack.queues) {
      EXPECT_TRUE(Queue(name).ok()) << context << ": queue " << name << " lost";
    }
    for (const auto& name : ack.deleted_queues) {
      EXPECT_FALSE(Queue(name).ok()) << context << ": deleted queue " << name << " is back";
    }
    auto work = Queue("work");
    if (!work.ok()) return;
    const std::string visibility = std::to_string((*work)->config().visibility_timeout);
    EXPECT_TRUE(ack.visibility.count(visibility))
        << context << ": VisibilityTimeout " << visibility << " was never acknowledged";
    AttributeMap tags = (*work)->tags();
    for (const auto& [key, value] : ack.tags) {
      EXPECT_EQ(tags[key], value) << context << ": tag " << key << " lost";
    }
    clock_.AdvanceSeconds(3600);  // every message visible again
    std::set<std::string> found;
    for (;;) {
      auto got = queues_->Receive(*work, ReceiveOptions{10, 3600, ""});
      ASSERT_TRUE(got.ok()) << context << ": " << got.status().ToString();
      if (got->empty()) break;
      for (const auto& r : *got) found.insert(r.message->body);
    }
    for (const auto& body : ack.bodies) {
      EXPECT_TRUE(found.count(body))
          << context << ": acknowledged message " << body.substr(0, 4) << " lost";
    }
    for (const auto& body : ack.deleted_bodies) {
      EXPECT_FALSE(found.count(body))
          << context << ": deleted message " << body.substr(0, 4) << " is back";
    }
  }

 private:
  std::filesystem::path dir_;
  storage::FileSystem& fs_;
  const MessageSigner& signer_;
  ManualClock clock_;
  std::unique_ptr<storage::LogEngine> engine_;
  std::unique_ptr<ConfigStore> config_;
  std::unique_ptr<QueueService> queues_;
  std::unique_ptr<TopicService> topics_;
};

class FaultSweepTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_dir_ = std::filesystem::temp_directory_path() /
               ("postbox-sweep-key-" + std::to_string(::getpid()));
    auto signer = MessageSigner::Open(key_dir_.string());
    ASSERT_TRUE(signer.ok());
    signer_ = std::move(signer).value().release();
  }
  static void TearDownTestSuite() {
    delete signer_;
    std::filesystem::remove_all(key_dir_);
  }
  std::filesystem::path Dir(const std::string& run) {
    auto dir = std::filesystem::temp_directory_path() /
               ("postbox-sweep-" + std::to_string(::getpid()) + "-" + run);
    std::filesystem::remove_all(dir);
    return dir;
  }

  // How often the clean workload calls `op` on the log's files.
  uint64_t CleanCalls(const std::string& op) {
    auto dir = Dir("clean-" + op);
    storage::FaultInjectingFileSystem counting(storage::PosixFileSystem());
    FaultSweep sweep(dir, counting, *signer_);
    EXPECT_TRUE(sweep.Open().ok());
    const uint64_t before = counting.calls(op);
    Acknowledged ack;
    sweep.Run(&ack);
    const uint64_t calls = counting.calls(op) - before;
    sweep.Close();
    std::filesystem::remove_all(dir);
    return calls;
  }

  void SweepOperation(const std::string& op, int error) {
    const uint64_t calls = CleanCalls(op);
    ASSERT_GT(calls, 0u) << op;
    for (uint64_t n = 0; n < calls; ++n) {
      const std::string context = op + " #" + std::to_string(n);
      auto dir = Dir(op + "-" + std::to_string(n));
      storage::FaultInjectingFileSystem fs(storage::PosixFileSystem());
      Acknowledged ack;
      {
        FaultSweep sweep(dir, fs, *signer_);
        ASSERT_TRUE(sweep.Open().ok()) << context;
        storage::FaultRule rule;
        rule.op = op;
        rule.path = dir.string();
        rule.after = n;
        rule.count = 1;
        rule.error = error;
        fs.SetRules({rule});
        sweep.Run(&ack);
        if (op != "sync" && op != "syncdir") {
          // The fault is over: storage resumes by itself and takes the next write.
          bool resumed = false;
          for (int i = 0; i < 400 && !resumed; ++i) {
            resumed = sweep.engine().Health().state == storage::StorageState::kHealthy;
            if (!resumed) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
          EXPECT_TRUE(resumed) << context << ": " << sweep.engine().Health().cause;
          if (auto work = sweep.Queue("work"); resumed && work.ok()) {
            std::string body = "after the fault";
            EXPECT_TRUE(sweep.Send(*work, {body}).ok()) << context;
            ack.bodies.insert(body);
          }
        }
        sweep.Close();
      }
      fs.SetRules({});
      FaultSweep restarted(dir, storage::PosixFileSystem(), *signer_);
      Status opened = restarted.Open();
      ASSERT_TRUE(opened.ok()) << context << ": " << opened.ToString();
      restarted.Check(ack, context);
      restarted.Close();
      std::filesystem::remove_all(dir);
    }
  }

  static inline std::filesystem::path key_dir_;
  static inline MessageSigner* signer_ = nullptr;
};

TEST_F(FaultSweepTest, EveryWriteFailure) { SweepOperation("write", EIO); }
TEST_F(FaultSweepTest, EveryWriteIntoAFullDisk) { SweepOperation("write", ENOSPC); }
TEST_F(FaultSweepTest, EverySyncFailure) { SweepOperation("sync", EIO); }
TEST_F(FaultSweepTest, EveryDirectorySyncFailure) { SweepOperation("syncdir", EIO); }
TEST_F(FaultSweepTest, EveryOpenFailure) { SweepOperation("open", EIO); }
TEST_F(FaultSweepTest, EveryRenameFailure) { SweepOperation("rename", EIO); }
TEST_F(FaultSweepTest, EveryRemoveFailure) { SweepOperation("remove", EIO); }

}  // namespace
}  // namespace postbox::core
