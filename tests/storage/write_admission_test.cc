#include "storage/write_admission.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "storage/memory_engine.h"

namespace postbox::storage {
namespace {

// Stands for a slow disk: commits are kept (and stored in a MemoryEngine) until the test
// answers them.
class SlowEngine final : public Engine {
 public:
  void Commit(WriteBatch batch, Durability durability, Done done) override {
    held_.push_back({std::move(batch), durability, std::move(done)});
  }
  Status LoadQueues(const QueueVisitor& visit) override { return stored_.LoadQueues(visit); }
  Status LoadMessages(const MessageVisitor& visit) override { return stored_.LoadMessages(visit); }
  Status LoadRecords(RecordKind kind, const RecordVisitor& visit) override {
    return stored_.LoadRecords(kind, visit);
  }
  Status Flush() override { return Status::Ok(); }
  Status Accepts(SpaceUse use) const override { return stored_.Accepts(use); }
  StorageHealth Health() const override { return stored_.Health(); }

  // Stores and answers the oldest held commit.
  void AnswerOldest() {
    Held held = std::move(held_.front());
    held_.pop_front();
    stored_.Commit(std::move(held.batch), held.durability, std::move(held.done));
  }
  size_t held() const { return held_.size(); }
  size_t stored_messages() const { return stored_.message_count(); }

 private:
  struct Held {
    WriteBatch batch;
    Durability durability;
    Done done;
  };
  std::deque<Held> held_;
  MemoryEngine stored_;
};

WriteBatch Send(uint64_t seq, size_t body_bytes) {
  WriteBatch batch;
  batch.PutMessage(1, seq, std::string(body_bytes, 'x'), {});
  return batch;
}

class WriteAdmissionTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kBound = 10'000;

  // Commits and returns where the answer lands (empty until answered).
  std::shared_ptr<std::vector<Status>> Commit(WriteBatch batch, Durability durability) {
    auto answers = std::make_shared<std::vector<Status>>();
    admission_.Commit(std::move(batch), durability,
                      [answers](Status s) { answers->push_back(std::move(s)); });
    return answers;
  }

  SlowEngine slow_;
  WriteAdmission admission_{slow_, kBound};
};

TEST_F(WriteAdmissionTest, NewDataIsThrottledWhileTheBoundWaits) {
  ASSERT_TRUE(admission_.AdmitNewData().ok());
  auto first = Commit(Send(1, 6'000), Durability::kSync);
  EXPECT_GT(admission_.pending_bytes(), 6'000u);
  ASSERT_TRUE(admission_.AdmitNewData().ok());  // below the bound: one more request may come
  auto second = Commit(Send(2, 6'000), Durability::kSync);
  EXPECT_EQ(admission_.pending_bytes(), 2 * (6'000 + WriteBatch::kOpOverheadBytes));

  // At the bound: new data is refused, and so is any change that grows storage.
  Status refused = admission_.AdmitNewData();
  EXPECT_EQ(refused.code(), ErrorCode::kThrottling);
  EXPECT_NE(refused.message().find("storage.max_pending_mib"), std::string::npos);
  EXPECT_EQ(admission_.Accepts(SpaceUse::kGrows).code(), ErrorCode::kThrottling);
  EXPECT_TRUE(admission_.Accepts(SpaceUse::kShrinks).ok());  // deletes drain the backlog
  EXPECT_EQ(admission_.throttled().value(), 1u);

  // What was committed is never refused here: both are stored once the disk answers.
  slow_.AnswerOldest();
  slow_.AnswerOldest();
  ASSERT_EQ(first->size(), 1u);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_TRUE((*first)[0].ok());
  EXPECT_TRUE((*second)[0].ok());
  EXPECT_EQ(slow_.stored_messages(), 2u);
  EXPECT_EQ(admission_.pending_bytes(), 0u);
  EXPECT_TRUE(admission_.AdmitNewData().ok());
}

TEST_F(WriteAdmissionTest, ARequestLargerThanTheBoundGoesThroughWhenLessWaits) {
  ASSERT_TRUE(admission_.AdmitNewData().ok());
  auto big = Commit(Send(1, 3 * kBound), Durability::kSync);
  EXPECT_EQ(admission_.AdmitNewData().code(), ErrorCode::kThrottling);
  slow_.AnswerOldest();
  EXPECT_TRUE((*big)[0].ok());
  EXPECT_TRUE(admission_.AdmitNewData().ok());
}

TEST_F(WriteAdmissionTest, BatchesNobodyWaitsForAreNotCounted) {
  WriteBatch receive;  // a receive's new state, written lazily
  receive.UpdateState(1, 1, {5, 1, 5});
  admission_.Commit(std::move(receive), Durability::kLazy, nullptr);
  admission_.Commit(Send(2, 3 * kBound), Durability::kLazy, nullptr);
  EXPECT_EQ(admission_.pending_bytes(), 0u);
  EXPECT_EQ(slow_.held(), 2u);
  EXPECT_TRUE(admission_.AdmitNewData().ok());
}

}  // namespace
}  // namespace postbox::storage
