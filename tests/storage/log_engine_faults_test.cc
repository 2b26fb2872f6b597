// The log engine under failing file operations (through FaultInjectingFileSystem): what is
// acknowledged, what is refused, when it resumes, and what a restart finds.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "storage/fault_injection.h"
#include "storage/log/log_engine.h"

namespace postbox::storage {
namespace {

using std::chrono::milliseconds;

class LogEngineFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("postbox-log-faults-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  LogEngineOptions Options() {
    LogEngineOptions options;
    options.segment_bytes = 4096;
    options.reserve_bytes = 64 << 10;
    options.retry_interval = milliseconds(20);
    options.fs = &fs_;
    return options;
  }
  Status Open(LogEngineOptions options) {
    engine_.reset();
    auto opened = LogEngine::Open(dir_.string(), std::move(options), &report_);
    if (!opened.ok()) return opened.status();
    engine_ = std::move(opened).value();
    return Status::Ok();
  }
  Status Open() { return Open(Options()); }
  Status Commit(WriteBatch batch, Durability d = Durability::kSync) {
    std::promise<Status> p;
    auto f = p.get_future();
    engine_->Commit(std::move(batch), d, [&p](Status s) { p.set_value(s); });
    return f.get();
  }
  static WriteBatch Put(uint64_t seq, std::string body = "body") {
    WriteBatch b;
    b.PutMessage(1, seq, std::move(body), {});
    return b;
  }
  static WriteBatch Delete(uint64_t seq) {
    WriteBatch b;
    b.DeleteMessage(1, seq);
    return b;
  }
  std::set<uint64_t> Seqs() {
    std::set<uint64_t> out;
    EXPECT_TRUE(engine_
                    ->LoadMessages([&](uint64_t, uint64_t seq, std::string_view,
                                       const MessageState&) { out.insert(seq); })
                    .ok());
    return out;
  }
  // Reopens on the real file system, as a restart after the fault would.
  std::set<uint64_t> SeqsAfterRestart() {
    engine_.reset();
    fs_.SetRules({});
    fs_.SetAvailableBytes(std::nullopt);
    Status opened = Open();
    EXPECT_TRUE(opened.ok()) << opened.ToString();
    if (!opened.ok()) return {};
    return Seqs();
  }
  // Polls until the engine is in `state` (the probe runs every 20 ms).
  bool WaitForState(StorageState state) {
    for (int i = 0; i < 500; ++i) {
      if (engine_->Health().state == state) return true;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return false;
  }
  static FaultRule Rule(std::string op, int error, uint64_t after = 0, uint64_t count = 0) {
    FaultRule rule;
    rule.op = std::move(op);
    rule.path = "/0";  // segment files, not the probe or the reserve
    rule.error = error;
    rule.after = after;
    rule.count = count;
    return rule;
  }

  // A write fails with `error` once and the fault is gone at once. The empty batch of a
  // duplicate FIFO send queued behind its original must be refused (`refusal`), not written
  // by a probe that finds storage writable again right after the failure.
  void ExpectQueuedBehindFailureRefused(int error, ErrorCode failure, ErrorCode refusal) {
    LogEngineOptions options = Options();
    options.retry_interval = milliseconds(300);
    ASSERT_TRUE(Open(std::move(options)).ok());
    // Long enough after the start that a probe would be due, had the engine not just failed.
    std::this_thread::sleep_for(milliseconds(400));
    FaultRule slow = Rule("write", 0, 0, 1);
    slow.delay_ms = 200;
    fs_.SetRules({slow, Rule("write", error, 0, 1)});  // one slow write, then one failed write
    std::promise<Status> first, original, duplicate;
    engine_->Commit(Put(1), Durability::kSync, [&](Status s) { first.set_value(s); });
    std::this_thread::sleep_for(milliseconds(50));  // Put(1) is being written (slowly)
    // Larger than a group, so the duplicate that waits for it is written in the next group.
    engine_->Commit(Put(2, std::string(5000, 'x')), Durability::kSync,
                    [&](Status s) { original.set_value(s); });
    WriteBatch waiting;  // a duplicate FIFO send, answered after its original
    waiting.MarkGrowing();
    engine_->Commit(std::move(waiting), Durability::kSync,
                    [&](Status s) { duplicate.set_value(s); });
    EXPECT_TRUE(first.get_future().get().ok());
    EXPECT_EQ(original.get_future().get().code(), failure);
    EXPECT_EQ(duplicate.get_future().get().code(), refusal);
    ASSERT_TRUE(WaitForState(StorageState::kHealthy));
    EXPECT_EQ(SeqsAfterRestart(), (std::set<uint64_t>{1}));
  }

  std::filesystem::path dir_;
  FaultInjectingFileSystem fs_{PosixFileSystem()};
  RecoveryReport report_;
  std::unique_ptr<LogEngine> engine_;
};

TEST_F(LogEngineFaultTest, AFailedWriteFailsItsBatchAndStallsUntilWritingWorksAgain) {
  ASSERT_TRUE(Open().ok());
  ASSERT_TRUE(Commit(Put(1)).ok());
  fs_.SetRules({Rule("write", EIO)});
  Status failed = Commit(Put(2));
  EXPECT_EQ(failed.code(), ErrorCode::kStorageError) << failed.ToString();
  EXPECT_EQ(engine_->Health().state, StorageState::kStalled);
  // Refused without trying while stalled: with a clear reason, and for deletes too.
  Status refused = Commit(Put(3));
  EXPECT_EQ(refused.code(), ErrorCode::kServiceUnavailable);
  EXPECT_NE(refused.message().find("cannot write"), std::string::npos) << refused.message();
  EXPECT_FALSE(engine_->Accepts(SpaceUse::kShrinks).ok());
  fs_.SetRules({});
  ASSERT_TRUE(WaitForState(StorageState::kHealthy));
  ASSERT_TRUE(Commit(Put(4)).ok());
  EXPECT_EQ(Seqs(), (std::set<uint64_t>{1, 4}));
  EXPECT_EQ(SeqsAfterRestart(), (std::set<uint64_t>{1, 4}));
}

TEST_F(LogEngineFaultTest, AShortWriteIsCutOffAndNeverReadBack) {
  ASSERT_TRUE(Open().ok());
  ASSERT_TRUE(Commit(Put(1)).ok());
  FaultRule rule = Rule("write", ENOSPC);
  rule.short_write = true;
  rule.count = 1;
  fs_.SetRules({rule});
  EXPECT_EQ(Commit(Put(2, std::string(1000, 'x'))).code(), ErrorCode::kStorageFull);
  fs_.SetRules({});
  ASSERT_TRUE(WaitForState(StorageState::kHealthy));
  ASSERT_TRUE(Commit(Put(3)).ok());
  // Half of put 2 reached the file; it was cut off, so put 3 follows put 1 directly.
  EXPECT_EQ(SeqsAfterRestart(), (std::set<uint64_t>{1, 3}));
  EXPECT_TRUE(report_.notes.empty()) << report_.notes.front();
}

TEST_F(LogEngineFaultTest, LazyBatchesAppliedInMemoryAreWrittenOnceStorageRecovers) {
  ASSERT_TRUE(Open().ok());
  ASSERT_TRUE(Commit(Put(1)).ok());
  ASSERT_TRUE(Commit(Put(2)).ok());
  fs_.SetRules({Rule("write", EIO)});
  // A delete whose write fails is answered with the failure, but memory already dropped the
  // message: the engine keeps the delete and writes it when it can.
  EXPECT_FALSE(Commit(Delete(1), Durability::kLazy).ok());
  fs_.SetRules({});
  ASSERT_TRUE(WaitForState(StorageState::kHealthy));
  ASSERT_TRUE(Commit(Put(3)).ok());
  EXPECT_EQ(SeqsAfterRestart(), (std::set<uint64_t>{2, 3}));
}

TEST_F(LogEngineFaultTest, AFailedSyncIsNeverRetriedAndNothingMoreIsTaken) {
  ASSERT_TRUE(Open().ok());
  ASSERT_TRUE(Commit(Put(1)).ok());
  fs_.SetRules({Rule("sync", EIO, 0, 1)});
  EXPECT_EQ(Commit(Put(2)).code(), ErrorCode::kStorageError);
  EXPECT_EQ(engine_->Health().state, StorageState::kFailed);
  const uint64_t syncs = fs_.calls("sync");
  // The fault is gone, but the engine must not trust a second sync of the same data.
  fs_.SetRules({});
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(engine_->Health().state, StorageState::kFailed);
  Status refused = Commit(Put(3));
  EXPECT_EQ(refused.code(), ErrorCode::kServiceUnavailable);
  EXPECT_NE(refused.message().find("restart"), std::string::npos) << refused.message();
  EXPECT_EQ(fs_.calls("sync"), syncs);
  // A restart recovers from what the log holds: put 1 for sure (put 2 was never acknowledged
  // and may or may not have reached the disk).
  auto after = SeqsAfterRestart();
  EXPECT_TRUE(after.count(1));
  EXPECT_FALSE(after.count(3));
}

TEST_F(LogEngineFaultTest, AFullDiskTakesDeletesFromTheReserveAndResumesWhenSpaceReturns) {
  ASSERT_TRUE(Open().ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ / LogEngine::kReserveFileName));
  for (uint64_t seq = 1; seq <= 3; ++seq) ASSERT_TRUE(Commit(Put(seq)).ok());
  fs_.SetAvailableBytes(0);
  fs_.SetRules({Rule("write", ENOSPC, 0, 1)});
  Status full = Commit(Put(4));
  EXPECT_EQ(full.code(), ErrorCode::kStorageFull) << full.ToString();
  EXPECT_EQ(engine_->Health().state, StorageState::kFull);
  // The reserve went back to the file system; deletes and receives still go through.
  EXPECT_FALSE(std::filesystem::exists(dir_ / LogEngine::kReserveFileName));
  EXPECT_TRUE(engine_->Accepts(SpaceUse::kShrinks).ok());
  EXPECT_EQ(engine_->Accepts(SpaceUse::kGrows).code(), ErrorCode::kStorageFull);
  EXPECT_TRUE(Commit(Delete(1), Durability::kLazy).ok());
  WriteBatch state;
  state.UpdateState(1, 2, MessageState{5, 1, 5});
  EXPECT_TRUE(Commit(std::move(state), Durability::kLazy).ok());
  Status refused = Commit(Put(5));
  EXPECT_EQ(refused.code(), ErrorCode::kStorageFull);
  EXPECT_NE(refused.message().find("only deletes"), std::string::npos) << refused.message();
  std::this_thread::sleep_for(milliseconds(60));
  EXPECT_EQ(engine_->Health().state, StorageState::kFull);  // still no room
  fs_.SetAvailableBytes(std::nullopt);                      // space was freed
  ASSERT_TRUE(WaitForState(StorageState::kHealthy));
  EXPECT_TRUE(std::filesystem::exists(dir_ / LogEngine::kReserveFileName));
  ASSERT_TRUE(Commit(Put(6)).ok());
  EXPECT_EQ(SeqsAfterRestart(), (std::set<uint64_t>{2, 3, 6}));
}

TEST_F(LogEngineFaultTest, AFullDiskRefusesAnEmptyBatchThatStandsForAGrowingOne) {
  ASSERT_TRUE(Open().ok());
  fs_.SetAvailableBytes(0);
  fs_.SetRules({Rule("write", ENOSPC, 0, 1)});
  EXPECT_EQ(Commit(Put(1)).code(), ErrorCode::kStorageFull);
  WriteBatch duplicate;  // a duplicate FIFO send, answered after its original
  duplicate.MarkGrowing();
  EXPECT_EQ(Commit(std::move(duplicate)).code(), ErrorCode::kStorageFull);
  EXPECT_TRUE(Commit(WriteBatch(), Durability::kLazy).ok());  // an ordering point for a delete
}

TEST_F(LogEngineFaultTest, ABatchQueuedBehindAFailedWriteIsRefusedEvenIfTheFaultIsGoneAtOnce) {
  ExpectQueuedBehindFailureRefused(EIO, ErrorCode::kStorageError, ErrorCode::kServiceUnavailable);
}

TEST_F(LogEngineFaultTest, ABatchQueuedBehindAFullWriteIsRefusedEvenIfSpaceIsBackAtOnce) {
  ExpectQueuedBehindFailureRefused(ENOSPC, ErrorCode::kStorageFull, ErrorCode::kStorageFull);
}

TEST_F(LogEngineFaultTest, StillFullAfterAnotherFullWriteDeletesGoOnOnceRoomIsMade) {
  ASSERT_TRUE(Open().ok());
  ASSERT_TRUE(Commit(Put(1)).ok());
  ASSERT_TRUE(Commit(Put(2)).ok());
  fs_.SetAvailableBytes(0);
  fs_.SetRules({Rule("write", ENOSPC, 0, 2)});  // the send, then the first delete
  EXPECT_EQ(Commit(Put(3)).code(), ErrorCode::kStorageFull);
  EXPECT_EQ(Commit(Delete(1), Durability::kLazy).code(), ErrorCode::kStorageFull);
  // Not stalled: deletes are still taken, and the one that did not fit is written first.
  EXPECT_EQ(engine_->Health().state, StorageState::kFull);
  EXPECT_TRUE(Commit(Delete(2), Durability::kLazy).ok());
  fs_.SetAvailableBytes(std::nullopt);
  ASSERT_TRUE(WaitForState(StorageState::kHealthy));
  EXPECT_TRUE(SeqsAfterRestart().empty());
}

TEST_F(LogEngineFaultTest, AStalledProbeOnAFullDiskGivesBackTheReserve) {
  ASSERT_TRUE(Open().ok());
  ASSERT_TRUE(Commit(Put(1)).ok());
  fs_.SetAvailableBytes(0);
  // EIO first (stalled, the reserve kept), then every write of the probe file is full until
  // the reserve is gone.
  FaultRule eio = Rule("write", EIO, 0, 1);
  FaultRule probe_full;
  probe_full.op = "write";
  probe_full.path = "/probe";
  probe_full.error = ENOSPC;
  probe_full.count = 1;
  fs_.SetRules({eio, probe_full});
  EXPECT_EQ(Commit(Put(2)).code(), ErrorCode::kStorageError);
  EXPECT_TRUE(std::filesystem::exists(dir_ / LogEngine::kReserveFileName));
  ASSERT_TRUE(WaitForState(StorageState::kFull));
  EXPECT_FALSE(std::filesystem::exists(dir_ / LogEngine::kReserveFileName));
  EXPECT_TRUE(Commit(Delete(1), Durability::kLazy).ok());
}

TEST_F(LogEngineFaultTest, AFailedCutStallsUntilAProbeMakesIt) {
  ASSERT_TRUE(Open().ok());
  ASSERT_TRUE(Commit(Put(1)).ok());
  FaultRule write = Rule("write", EIO, 0, 1);
  write.short_write = true;  // half the frame reaches the file
  fs_.SetRules({write, Rule("truncate", EIO, 0, 1)});
  EXPECT_FALSE(Commit(Put(2, std::string(500, 'x'))).ok());
  EXPECT_EQ(engine_->Health().state, StorageState::kStalled);
  ASSERT_TRUE(WaitForState(StorageState::kHealthy));  // the probe cut it, then wrote
  ASSERT_TRUE(Commit(Put(3)).ok());
  EXPECT_EQ(SeqsAfterRestart(), (std::set<uint64_t>{1, 3}));
  EXPECT_TRUE(report_.notes.empty());
}

TEST_F(LogEngineFaultTest, AReserveThatCannotBeMadeAgainKeepsTheDiskFull) {
  ASSERT_TRUE(Open().ok());
  FaultRule allocate = Rule("allocate", ENOSPC, 0, 4);
  allocate.path = LogEngine::kReserveFileName;
  fs_.SetRules({Rule("write", ENOSPC, 0, 1), allocate});
  EXPECT_EQ(Commit(Put(1)).code(), ErrorCode::kStorageFull);
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_EQ(engine_->Health().state, StorageState::kFull);  // the reserve would not fit
  ASSERT_TRUE(WaitForState(StorageState::kHealthy));        // the fifth try does
  EXPECT_TRUE(std::filesystem::exists(dir_ / LogEngine::kReserveFileName));
}

TEST_F(LogEngineFaultTest, AFailedRollOverIsRetriedWithoutLosingTheEndedSegment) {
  ASSERT_TRUE(Open().ok());
  // Fill the first segment, then fail the creation of the second.
  uint64_t seq = 1;
  ASSERT_TRUE(Commit(Put(seq++, std::string(4100, 'a'))).ok());
  FaultRule rule;
  rule.op = "open";
  rule.path = "00000002.log";
  rule.error = EIO;
  fs_.SetRules({rule});
  EXPECT_FALSE(Commit(Put(seq++, "after the end")).ok());
  EXPECT_EQ(engine_->Health().state, StorageState::kStalled);
  fs_.SetRules({});
  ASSERT_TRUE(WaitForState(StorageState::kHealthy));
  ASSERT_TRUE(Commit(Put(seq++, "in the next segment")).ok());
  EXPECT_EQ(SeqsAfterRestart(), (std::set<uint64_t>{1, 3}));
}

TEST_F(LogEngineFaultTest, ATornTailIsCutAndReported) {
  ASSERT_TRUE(Open().ok());
  ASSERT_TRUE(Commit(Put(1)).ok());
  engine_.reset();
  {
    std::ofstream f(dir_ / "00000001.log", std::ios::binary | std::ios::app);
    f.write("\x40\x00\x00\x00garbage", 11);  // a frame header promising more than follows
  }
  ASSERT_TRUE(Open().ok());
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_NE(report_.notes[0].find("torn tail"), std::string::npos) << report_.notes[0];
  EXPECT_NE(report_.notes[0].find("11 bytes"), std::string::npos) << report_.notes[0];
  EXPECT_EQ(Seqs(), std::set<uint64_t>{1});
}

// A bad frame with a valid one after it is damage, not a torn write: refused, then repaired.
TEST_F(LogEngineFaultTest, DamageBeforeTheEndStopsTheStartUnlessRepairing) {
  ASSERT_TRUE(Open().ok());
  ASSERT_TRUE(Commit(Put(1, "first")).ok());
  ASSERT_TRUE(Commit(Put(2, "second")).ok());
  ASSERT_TRUE(Commit(Put(3, "third")).ok());
  engine_.reset();
  {
    std::fstream f(dir_ / "00000001.log", std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(20);  // inside the first frame's payload
    f.write("!", 1);
  }
  Status refused = Open();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("damaged frame at byte 0 followed by valid ones"),
            std::string::npos)
      << refused.message();
  EXPECT_NE(refused.message().find("--repair"), std::string::npos);

  LogEngineOptions repairing = Options();
  repairing.repair = true;
  ASSERT_TRUE(Open(repairing).ok());
  ASSERT_FALSE(report_.notes.empty());
  EXPECT_NE(report_.notes[0].find("lost"), std::string::npos) << report_.notes[0];
  EXPECT_TRUE(Seqs().empty());  // the damage was in the first frame: everything after it lost
  ASSERT_TRUE(Commit(Put(4)).ok());
  // The log is whole again: a plain start works and keeps what came after the repair.
  report_ = {};
  EXPECT_EQ(SeqsAfterRestart(), std::set<uint64_t>{4});
  EXPECT_TRUE(report_.notes.empty());
}

TEST_F(LogEngineFaultTest, AMissingSegmentStopsTheStartUnlessRepairing) {
  ASSERT_TRUE(Open().ok());
  for (uint64_t seq = 1; seq <= 6; ++seq) {
    ASSERT_TRUE(Commit(Put(seq, std::string(3000, char('a' + seq)))).ok());
  }
  auto ids = engine_->segment_ids();
  ASSERT_GE(ids.size(), 3u);
  engine_.reset();
  char name[32];
  std::snprintf(name, sizeof(name), "%08u.log", ids[1]);
  std::filesystem::remove(dir_ / name);
  Status refused = Open();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("missing"), std::string::npos) << refused.message();

  LogEngineOptions repairing = Options();
  repairing.repair = true;
  ASSERT_TRUE(Open(repairing).ok());
  const std::set<uint64_t> kept = Seqs();
  EXPECT_FALSE(kept.empty());
  EXPECT_LT(kept.size(), 6u);
  report_ = {};
  EXPECT_EQ(SeqsAfterRestart(), kept);
  EXPECT_TRUE(report_.notes.empty());
}

TEST(FaultRules, AreReadFromText) {
  auto rules = ParseFaultRules("op=sync path=/log/ after=3 count=1 errno=EIO; op=write short=1\n");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].op, "sync");
  EXPECT_EQ((*rules)[0].path, "/log/");
  EXPECT_EQ((*rules)[0].after, 3u);
  EXPECT_EQ((*rules)[0].count, 1u);
  EXPECT_EQ((*rules)[1].error, EIO);
  EXPECT_TRUE((*rules)[1].short_write);
  EXPECT_FALSE(ParseFaultRules("op=fsync").ok());
  EXPECT_FALSE(ParseFaultRules("errno=EWHAT").ok());
  EXPECT_FALSE(ParseFaultRules("after").ok());
  EXPECT_FALSE(ParseFaultRules("delay_ms=soon").ok());
}

// A delaying rule slows the calls it picks (a slow disk) and lets them through.
TEST(FaultRules, DelayedCallsGoThrough) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("postbox-delay-" + std::to_string(::getpid())))
          .string();
  { std::ofstream(path) << "slow bytes"; }
  FaultInjectingFileSystem fs(PosixFileSystem());
  auto rules = ParseFaultRules("op=read delay_ms=60 count=1");
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ((*rules)[0].delay_ms, 60u);
  fs.SetRules(std::move(*rules));
  auto fd = fs.Open(path, O_RDONLY, 0);
  ASSERT_TRUE(fd.ok());
  char buffer[4] = {};
  const auto start = std::chrono::steady_clock::now();
  auto read = fs.ReadAt(*fd, path, buffer, sizeof buffer, 0);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(60));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(std::string(buffer, *read), "slow");
  read = fs.ReadAt(*fd, path, buffer, sizeof buffer, 5);  // past the rule's count: as usual
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(std::string(buffer, *read), "byte");
  EXPECT_EQ(fs.injected(), 0u);  // slowed, not failed
  fs.Close(*fd);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace postbox::storage
