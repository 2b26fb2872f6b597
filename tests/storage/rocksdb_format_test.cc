// The RocksDB engine's record format: a message's state at send time travels in its message
// record, an 'S' record appears only once the state changes, and databases written before that
// (bare blob plus a required 'S' record) still load and delete cleanly.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <thread>

#include "storage/rocksdb/rocksdb_engine.h"

namespace postbox::storage {
namespace {

std::string BigEndian(uint64_t v) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(char((v >> shift) & 0xff));
  return out;
}

std::string Key(char prefix, uint64_t queue, uint64_t seq) {
  return std::string(1, prefix) + BigEndian(queue) + BigEndian(seq);
}

std::string StateBytes(const MessageState& s) {
  std::string out(20, '\0');
  std::memcpy(out.data(), &s.visible_at_ms, 8);
  std::memcpy(out.data() + 8, &s.receive_count, 4);
  std::memcpy(out.data() + 12, &s.first_receive_ms, 8);
  return out;
}

class RocksDbFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("postbox-format-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<RocksDbEngine> Open(
      std::chrono::milliseconds state_holdback = RocksDbEngine::kDefaultStateHoldback) {
    auto opened = RocksDbEngine::Open(dir_.string(), nullptr, state_holdback);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  static void Commit(Engine& engine, WriteBatch batch) {
    std::promise<Status> done;
    engine.Commit(std::move(batch), Durability::kSync, [&](Status s) { done.set_value(s); });
    ASSERT_TRUE(done.get_future().get().ok());
  }

  // A state update committed lazily (so the engine may hold it back), without waiting.
  static void UpdateLazily(Engine& engine, uint64_t queue, uint64_t seq, MessageState state) {
    WriteBatch update;
    update.UpdateState(queue, seq, state);
    engine.Commit(std::move(update), Durability::kLazy, nullptr);
  }

  // One message, put durably, whose state then changes lazily to `received`.
  static void PutThenUpdateLazily(Engine& engine, uint64_t queue, MessageState received) {
    WriteBatch b;
    b.PutMessage(queue, 1, "\x01m", {10, 0, 0});
    Commit(engine, std::move(b));
    UpdateLazily(engine, queue, 1, received);
  }

  static std::map<uint64_t, std::pair<std::string, MessageState>> Messages(Engine& engine) {
    std::map<uint64_t, std::pair<std::string, MessageState>> out;
    EXPECT_TRUE(engine
                    .LoadMessages(
                        [&](uint64_t, uint64_t seq, std::string_view blob, const MessageState& st) {
                          out[seq] = {std::string(blob), st};
                        })
                    .ok());
    return out;
  }

  // Every live key, read with RocksDB itself (a read-only view; the engine may be open).
  std::vector<std::string> RawKeys() {
    rocksdb::DB* raw = nullptr;
    EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir_.string(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::vector<std::string> keys;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
    return keys;
  }

  std::filesystem::path dir_;
};

TEST_F(RocksDbFormatTest, StateRecordOnlyOnceTheStateChanges) {
  const MessageState sent1{10, 0, 0}, sent2{11, 0, 0}, received2{20, 1, 15};
  {
    auto engine = Open();
    WriteBatch b;
    b.PutMessage(1, 1, "\x01one", sent1);
    b.PutMessage(1, 2, "\x01two", sent2);
    Commit(*engine, std::move(b));
    WriteBatch update;
    update.UpdateState(1, 2, received2);
    Commit(*engine, std::move(update));
  }
  EXPECT_EQ(RawKeys(), (std::vector<std::string>{Key('M', 1, 1), Key('M', 1, 2), Key('S', 1, 2)}));
  {
    auto engine = Open();
    auto loaded = Messages(*engine);
    ASSERT_EQ(loaded.size(), 2u);
    EXPECT_EQ(loaded[1], (std::pair<std::string, MessageState>{"\x01one", sent1}));
    EXPECT_EQ(loaded[2], (std::pair<std::string, MessageState>{"\x01two", received2}));
    WriteBatch remove;
    remove.DeleteMessage(1, 1);
    remove.DeleteMessage(1, 2);
    Commit(*engine, std::move(remove));
  }
  EXPECT_TRUE(RawKeys().empty());
}

TEST_F(RocksDbFormatTest, LoadsAndDeletesMessagesWrittenInTheEarlierFormat) {
  const MessageState state{5, 2, 3};
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_.string(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), Key('M', 3, 7), "\x01old").ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), Key('S', 3, 7), StateBytes(state)).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), Key('M', 3, 8), "\x01no state").ok());
  }
  {
    auto engine = Open();
    // A bare blob needs its 'S' record: without one the store is damaged, and says so.
    Status damaged =
        engine->LoadMessages([](uint64_t, uint64_t, std::string_view, const MessageState&) {});
    EXPECT_FALSE(damaged.ok());
    WriteBatch drop;
    drop.DeleteMessage(3, 8);
    Commit(*engine, std::move(drop));
  }
  {
    auto engine = Open();
    auto loaded = Messages(*engine);
    ASSERT_EQ(loaded.size(), 1u);
    EXPECT_EQ(loaded[7], (std::pair<std::string, MessageState>{"\x01old", state}));
    WriteBatch remove;
    remove.DeleteMessage(3, 7);  // its 'S' record goes too
    Commit(*engine, std::move(remove));
  }
  EXPECT_TRUE(RawKeys().empty());
}

// Lazy state updates are held back (held_states.h): a message deleted meanwhile never gets an
// 'S' record; Flush() and closing the engine write what is still held.
TEST_F(RocksDbFormatTest, LazyStatesAreHeldBackUntilFlushOrClose) {
  const MessageState received{20, 1, 15};
  auto engine = Open(std::chrono::minutes(10));  // nothing falls due during the test
  WriteBatch b;
  b.PutMessage(1, 1, std::string("\x01") + "deleted soon", {10, 0, 0});
  b.PutMessage(1, 2, "\x01kept", {10, 0, 0});
  Commit(*engine, std::move(b));
  for (uint64_t seq : {1, 2}) UpdateLazily(*engine, 1, seq, received);
  Commit(*engine, WriteBatch());  // ordered after the lazy batches: they were taken
  EXPECT_EQ(RawKeys(), (std::vector<std::string>{Key('M', 1, 1), Key('M', 1, 2)}));
  WriteBatch remove;
  remove.DeleteMessage(1, 1);
  Commit(*engine, std::move(remove));
  ASSERT_TRUE(engine->Flush().ok());
  EXPECT_EQ(RawKeys(), (std::vector<std::string>{Key('M', 1, 2), Key('S', 1, 2)}));

  UpdateLazily(*engine, 1, 2, {40, 2, 15});
  engine.reset();  // closing writes what is still held
  engine = Open();
  auto loaded = Messages(*engine);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[2].second, (MessageState{40, 2, 15}));
}

// A held state falls due after the holdback and is written with no further commit to carry it.
TEST_F(RocksDbFormatTest, AHeldStateIsWrittenOnceDue) {
  auto engine = Open(std::chrono::milliseconds(20));
  PutThenUpdateLazily(*engine, 1, {20, 1, 15});
  std::vector<std::string> keys;
  for (int i = 0; i < 200 && keys.size() != 2; ++i) {  // bounded: 10 s at most
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    keys = RawKeys();
  }
  EXPECT_EQ(keys, (std::vector<std::string>{Key('M', 1, 1), Key('S', 1, 1)}));
}

// A durable state update is written at once and replaces a held lazy one, which must not
// overwrite it later.
TEST_F(RocksDbFormatTest, ADurableStateSupersedesAHeldOne) {
  {
    auto engine = Open();
    PutThenUpdateLazily(*engine, 2, {20, 1, 15});
    WriteBatch durable;
    durable.UpdateState(2, 1, {30, 2, 15});
    Commit(*engine, std::move(durable));
  }
  auto engine = Open();
  EXPECT_EQ(Messages(*engine)[1].second, (MessageState{30, 2, 15}));
}

}  // namespace
}  // namespace postbox::storage
