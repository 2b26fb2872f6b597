// The log engine's own behaviour beyond the engine contract: torn tails, corruption, and
// segments deleted or copied forward as their contents die.
#include "storage/log/log_engine.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <set>
#include <sstream>

namespace postbox::storage {
namespace {

class LogEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("postbox-log-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  Status Open(uint64_t segment_bytes = LogEngine::kDefaultSegmentBytes) {
    engine_.reset();
    auto opened = LogEngine::Open(dir_.string(), nullptr, segment_bytes);
    if (!opened.ok()) return opened.status();
    engine_ = std::move(opened).value();
    return Status::Ok();
  }
  Status Commit(WriteBatch batch, Durability d = Durability::kSync) {
    std::promise<Status> p;
    auto f = p.get_future();
    engine_->Commit(std::move(batch), d, [&p](Status s) { p.set_value(s); });
    return f.get();
  }
  std::map<uint64_t, std::pair<std::string, MessageState>> Messages(uint64_t queue) {
    std::map<uint64_t, std::pair<std::string, MessageState>> out;
    EXPECT_TRUE(engine_
                    ->LoadMessages([&](uint64_t q, uint64_t seq, std::string_view blob,
                                       const MessageState& s) {
                      if (q == queue) out[seq] = {std::string(blob), s};
                    })
                    .ok());
    return out;
  }
  std::filesystem::path SegmentFile(uint32_t id) {
    char name[32];
    std::snprintf(name, sizeof(name), "%08u.log", id);
    return dir_ / name;
  }

  std::filesystem::path dir_;
  std::unique_ptr<LogEngine> engine_;
};

TEST_F(LogEngineTest, TornTailIsCutOffAndTheLogGoesOn) {
  ASSERT_TRUE(Open().ok());
  WriteBatch first;
  first.PutMessage(1, 1, "kept", {});
  ASSERT_TRUE(Commit(std::move(first)).ok());
  engine_.reset();
  const auto file = SegmentFile(1);
  const auto good_size = std::filesystem::file_size(file);
  {
    // Half a frame, as a crash in the middle of a write leaves it.
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out.write("\x40\x00\x00\x00\x12\x34\x56\x78partial", 15);
  }
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(std::filesystem::file_size(file), good_size);
  WriteBatch second;
  second.PutMessage(1, 2, "after", {});
  ASSERT_TRUE(Commit(std::move(second)).ok());
  ASSERT_TRUE(Open().ok());
  auto messages = Messages(1);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].first, "kept");
  EXPECT_EQ(messages[2].first, "after");
}

TEST_F(LogEngineTest, CorruptionBeforeTheLastSegmentFailsOpen) {
  ASSERT_TRUE(Open(/*segment_bytes=*/64).ok());
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    WriteBatch b;
    b.PutMessage(1, seq, std::string(100, 'x'), {});
    ASSERT_TRUE(Commit(std::move(b)).ok());
  }
  engine_.reset();
  {
    std::fstream f(SegmentFile(1), std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(20);
    f.write("!", 1);  // inside the first frame's payload
  }
  Status s = Open(64);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("00000001.log is damaged at byte"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("--repair"), std::string::npos) << s.message();
}

TEST_F(LogEngineTest, DeadSegmentsAreDeleted) {
  ASSERT_TRUE(Open(/*segment_bytes=*/4096).ok());
  for (uint64_t seq = 1; seq <= 200; ++seq) {
    WriteBatch put;
    put.PutMessage(1, seq, std::string(500, 'b'), {});
    ASSERT_TRUE(Commit(std::move(put)).ok());
    WriteBatch del;
    del.DeleteMessage(1, seq);
    ASSERT_TRUE(Commit(std::move(del), Durability::kLazy).ok());
  }
  // 100 KB went through; what is left is the active segment and at most one behind it, at
  // most two files of deleted ones, kept for reuse, and the reserve.
  EXPECT_LE(engine_->segment_ids().size(), 2u);
  EXPECT_GT(engine_->segment_ids().front(), 10u);
  size_t files = 0;
  size_t spares = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    ++files;
    if (entry.path().extension() == ".spare") ++spares;
  }
  EXPECT_LE(spares, 2u);
  EXPECT_LE(files, 5u);
  // Reused files still hold frames of their earlier segments: none of them may come back.
  ASSERT_TRUE(Open(4096).ok());
  EXPECT_TRUE(Messages(1).empty());
  WriteBatch more;
  more.PutMessage(1, 1000, "after reopening", {});
  ASSERT_TRUE(Commit(std::move(more)).ok());
  ASSERT_TRUE(Open(4096).ok());
  ASSERT_EQ(Messages(1).size(), 1u);
}

TEST_F(LogEngineTest, APileOfBatchesIsWrittenInGroupsOfAboutASegment) {
  constexpr uint64_t kSegmentBytes = 16 * 1024;
  constexpr int kBatches = 100;
  ASSERT_TRUE(Open(kSegmentBytes).ok());
  // Without a runner, answers run on the commit thread: the first one holds it until all the
  // other batches have queued up, 100 KB that one group would put into one segment.
  std::promise<void> queued;
  std::shared_future<void> all_queued = queued.get_future().share();
  std::promise<Status> first;
  WriteBatch head;
  head.PutMessage(1, 1000, "first", {});
  engine_->Commit(std::move(head), Durability::kSync, [&](Status s) {
    all_queued.wait();
    first.set_value(s);
  });
  std::vector<std::promise<Status>> answers(kBatches);
  for (int i = 0; i < kBatches; ++i) {
    WriteBatch put;
    put.PutMessage(1, uint64_t(i), std::string(1000, char('a' + i % 26)), {});
    engine_->Commit(std::move(put), Durability::kSync,
                    [&answers, i](Status s) { answers[size_t(i)].set_value(s); });
  }
  queued.set_value();
  ASSERT_TRUE(first.get_future().get().ok());
  for (auto& answer : answers) ASSERT_TRUE(answer.get_future().get().ok());
  // A segment ends at the first group after it reaches kSegmentBytes, and groups hold at most
  // about kSegmentBytes: no segment grows to twice its size.
  EXPECT_GE(engine_->segment_ids().size(), 4u);
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().extension() != ".log") continue;
    EXPECT_LT(std::filesystem::file_size(entry.path()), 2 * kSegmentBytes) << entry.path();
  }
  ASSERT_TRUE(Open(kSegmentBytes).ok());
  auto messages = Messages(1);
  ASSERT_EQ(messages.size(), size_t(kBatches + 1));
  EXPECT_EQ(messages[7].first, std::string(1000, 'h'));
}

TEST_F(LogEngineTest, EndedLastSegmentIsFollowedByANewOne) {
  ASSERT_TRUE(Open(/*segment_bytes=*/256).ok());
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    WriteBatch b;
    b.PutMessage(1, seq, std::string(300, 'e'), {});
    ASSERT_TRUE(Commit(std::move(b)).ok());
  }
  engine_.reset();
  // As after a crash between ending segment 2 and creating segment 3: segment 2 is ended
  // and last (message 3 goes with segment 3's file here; in a real crash it was never written).
  ASSERT_TRUE(std::filesystem::remove(SegmentFile(3)));
  ASSERT_TRUE(Open(256).ok());
  WriteBatch after;
  after.PutMessage(1, 4, "after", {});
  ASSERT_TRUE(Commit(std::move(after)).ok());
  ASSERT_TRUE(Open(256).ok());
  auto messages = Messages(1);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[1].first, std::string(300, 'e'));
  EXPECT_EQ(messages[2].first, std::string(300, 'e'));
  EXPECT_EQ(messages[4].first, "after");
  // The new write went to a new segment 3, not after segment 2's end frame.
  EXPECT_TRUE(std::filesystem::exists(SegmentFile(3)));
}

TEST_F(LogEngineTest, LiveEntriesOfOldSegmentsAreCopiedForward) {
  ASSERT_TRUE(Open(/*segment_bytes=*/4096).ok());
  WriteBatch keep;
  keep.PutQueue(1, "queue one");
  keep.PutRecord(RecordKind::kDeduplication, 1, "dedup-key", "dedup value");
  keep.PutMessage(1, 1, "long-lived", {10, 0, 0});
  ASSERT_TRUE(Commit(std::move(keep)).ok());
  WriteBatch receive;
  receive.UpdateState(1, 1, {5000, 2, 20});
  ASSERT_TRUE(Commit(std::move(receive), Durability::kLazy).ok());
  for (uint64_t seq = 2; seq <= 300; ++seq) {
    WriteBatch put;
    put.PutMessage(1, seq, std::string(500, 'c'), {});
    ASSERT_TRUE(Commit(std::move(put)).ok());
    WriteBatch del;
    del.DeleteMessage(1, seq);
    ASSERT_TRUE(Commit(std::move(del), Durability::kLazy).ok());
  }
  // The first segment held live entries, yet it is gone: they were appended again.
  EXPECT_GT(engine_->segment_ids().front(), 1u);
  EXPECT_LE(engine_->segment_ids().size(), 20u);  // up to 16 segments of slack

  ASSERT_TRUE(Open(4096).ok());
  auto messages = Messages(1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[1].first, "long-lived");
  EXPECT_EQ(messages[1].second, (MessageState{5000, 2, 20}));
  std::string queue_blob;
  ASSERT_TRUE(engine_->LoadQueues([&](uint64_t, std::string_view b) { queue_blob = b; }).ok());
  EXPECT_EQ(queue_blob, "queue one");
  std::string record;
  ASSERT_TRUE(engine_
                  ->LoadRecords(RecordKind::kDeduplication,
                                [&](uint64_t q, std::string_view key, std::string_view blob) {
                                  EXPECT_EQ(q, 1u);
                                  EXPECT_EQ(key, "dedup-key");
                                  record = blob;
                                })
                  .ok());
  EXPECT_EQ(record, "dedup value");
}

TEST_F(LogEngineTest, DeletedQueueDoesNotComeBackAfterItsSegmentsGo) {
  ASSERT_TRUE(Open(/*segment_bytes=*/4096).ok());
  WriteBatch create;
  create.PutQueue(2, "doomed");
  create.PutMessage(2, 1, "m", {});
  ASSERT_TRUE(Commit(std::move(create)).ok());
  WriteBatch drop;
  drop.DeleteQueue(2);
  ASSERT_TRUE(Commit(std::move(drop)).ok());
  for (uint64_t seq = 1; seq <= 100; ++seq) {
    WriteBatch put;
    put.PutMessage(3, seq, std::string(500, 'd'), {});
    ASSERT_TRUE(Commit(std::move(put)).ok());
    WriteBatch del;
    del.DeleteMessage(3, seq);
    ASSERT_TRUE(Commit(std::move(del)).ok());
  }
  ASSERT_TRUE(Open(4096).ok());
  int queues = 0;
  ASSERT_TRUE(engine_->LoadQueues([&](uint64_t, std::string_view) { ++queues; }).ok());
  EXPECT_EQ(queues, 0);
  EXPECT_TRUE(Messages(2).empty());
}

}  // namespace
}  // namespace postbox::storage

namespace postbox::storage {
namespace {

// A child process puts messages (durably, one at a time) and deletes nine in ten of them
// (lazily), reporting each acknowledgement through a pipe, until it is killed with SIGKILL at
// a random moment. Segments are tiny, so the kills land in rollovers, deletions, reused files
// and copies forward. After each kill, the log must hold exactly the acknowledged puts that
// were not acknowledged deleted (a lazy write is in the page cache before its answer), each
// intact; the puts in flight may or may not be there.
TEST(LogEngineCrash, KillNineNeverLosesAnAcknowledgedWrite) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("postbox-log-crash-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  constexpr uint64_t kSegmentBytes = 4096;
  auto blob_of = [](uint64_t seq) {
    return "message " + std::to_string(seq) + std::string(200, '.');
  };
  std::set<uint64_t> live;  // acknowledged put, not acknowledged deleted
  std::mt19937 random(42);
  uint64_t next_seq = 1;
  uint32_t first_segment = 0;
  for (int cycle = 0; cycle < 4; ++cycle) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      auto opened = LogEngine::Open(dir.string(), nullptr, kSegmentBytes);
      if (!opened.ok()) ::_exit(3);
      auto engine = std::move(opened).value();
      for (uint64_t seq = next_seq;; ++seq) {
        auto commit = [&](WriteBatch b, Durability d) {
          std::promise<Status> p;
          auto f = p.get_future();
          engine->Commit(std::move(b), d, [&p](Status s) { p.set_value(s); });
          return f.get().ok();
        };
        WriteBatch put;
        put.PutMessage(1, seq, blob_of(seq), {});
        if (!commit(std::move(put), Durability::kSync)) ::_exit(4);
        std::string line = "P " + std::to_string(seq) + "\n";
        if (::write(fds[1], line.data(), line.size()) < 0) ::_exit(5);
        if (seq % 10 == 0) continue;  // long-lived: its segment must be copied forward
        WriteBatch del;
        del.DeleteMessage(1, seq);
        if (!commit(std::move(del), Durability::kLazy)) ::_exit(4);
        line = "D " + std::to_string(seq) + "\n";
        if (::write(fds[1], line.data(), line.size()) < 0) ::_exit(5);
      }
    }
    ::close(fds[1]);
    ::usleep(useconds_t(200000 + random() % 300000));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child failed on its own: exit " << WEXITSTATUS(status);
    std::string reports;
    char chunk[4096];
    for (ssize_t n; (n = ::read(fds[0], chunk, sizeof(chunk))) > 0;)
      reports.append(chunk, size_t(n));
    ::close(fds[0]);
    uint64_t last_put = 0;
    std::istringstream lines(reports);
    for (std::string op; lines >> op;) {
      uint64_t seq = 0;
      lines >> seq;
      if (op == "P") {
        live.insert(seq);
        last_put = seq;
      } else {
        live.erase(seq);
      }
    }
    ASSERT_GT(last_put, next_seq) << "cycle " << cycle << ": the child acknowledged nothing";

    auto opened = LogEngine::Open(dir.string(), nullptr, kSegmentBytes);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    std::set<uint64_t> found;
    ASSERT_TRUE(
        (*opened)
            ->LoadMessages([&](uint64_t, uint64_t seq, std::string_view blob, const MessageState&) {
              EXPECT_EQ(blob, blob_of(seq)) << "corrupt message " << seq;
              found.insert(seq);
            })
            .ok());
    for (uint64_t seq : live) {
      // The last put's delete may have been written without being reported.
      if (seq != last_put) {
        EXPECT_TRUE(found.count(seq)) << "lost message " << seq;
      }
    }
    if (!found.count(last_put)) live.erase(last_put);
    for (uint64_t seq : found) {
      // The one put in flight (or its delete) may go either way.
      if (seq <= last_put) {
        EXPECT_TRUE(live.count(seq)) << "deleted message " << seq << " is back";
      }
      if (seq > last_put) live.insert(seq);
    }
    // What the next child's deletes would see: the in-flight put counts if it survived.
    if (found.count(last_put) && !live.count(last_put)) live.insert(last_put);
    first_segment = (*opened)->segment_ids().front();
    next_seq = last_put + 2;  // past the put that may have been in flight
  }
  // Segment 1 held long-lived messages: it went only by being copied forward.
  EXPECT_GT(first_segment, 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace postbox::storage
