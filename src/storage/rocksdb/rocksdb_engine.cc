#include "storage/rocksdb/rocksdb_engine.h"

#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <functional>
#include <future>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace postbox::storage {
namespace {

constexpr char kQueuePrefix = 'Q';
constexpr char kMessagePrefix = 'M';
constexpr char kStatePrefix = 'S';
constexpr char kRecordPrefix = 'R';
constexpr RecordKind kRecordKinds[] = {RecordKind::kDeduplication, RecordKind::kMoveTask};

void AppendBigEndian(std::string& out, uint64_t v) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = char((v >> (56 - 8 * i)) & 0xff);
  out.append(bytes, 8);
}

uint64_t ReadBigEndian(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

std::string QueueKey(uint64_t queue) {
  std::string key(1, kQueuePrefix);
  AppendBigEndian(key, queue);
  return key;
}

std::string MessageKey(char prefix, uint64_t queue, uint64_t seq) {
  std::string key(1, prefix);
  AppendBigEndian(key, queue);
  AppendBigEndian(key, seq);
  return key;
}

// 'R' + kind + queue id: the prefix of every record of one kind of one queue.
std::string RecordPrefix(RecordKind kind, uint64_t queue) {
  std::string key(1, kRecordPrefix);
  key.push_back(char(kind));
  AppendBigEndian(key, queue);
  return key;
}

// MessageState as 20 little-endian bytes: visible_at(8) receive_count(4) first_receive(8).
constexpr size_t kStateBytes = 20;
std::string EncodeState(const MessageState& s) {
  std::string out(kStateBytes, '\0');
  std::memcpy(out.data(), &s.visible_at_ms, 8);
  std::memcpy(out.data() + 8, &s.receive_count, 4);
  std::memcpy(out.data() + 12, &s.first_receive_ms, 8);
  return out;
}

bool DecodeState(const rocksdb::Slice& in, MessageState* s) {
  if (in.size() != kStateBytes) return false;
  std::memcpy(&s->visible_at_ms, in.data(), 8);
  std::memcpy(&s->receive_count, in.data() + 8, 4);
  std::memcpy(&s->first_receive_ms, in.data() + 12, 8);
  return true;
}

// A message record's value: kStateInValue, the state at send time, then the blob. The state
// record 'S' exists only once the state changed (a receive, a visibility change), so a message
// deleted before that costs two entries (put, delete) instead of four. Records written before
// this format are the bare blob with a required 'S' record; a blob never starts with
// kStateInValue (its first byte is the message codec's version, 1).
constexpr char kStateInValue = char(0xFE);

// The head of a message record's value: kStateInValue and the state; the blob follows.
std::string MessageValueHead(const MessageState& state) {
  return kStateInValue + EncodeState(state);
}

// The blob, and the state written with it if the value has one.
std::string_view SplitMessageValue(const rocksdb::Slice& value,
                                   std::optional<MessageState>* state) {
  if (value.size() > kStateBytes && value[0] == kStateInValue) {
    MessageState s;
    DecodeState(rocksdb::Slice(value.data() + 1, kStateBytes), &s);
    *state = s;
    return std::string_view(value.data() + 1 + kStateBytes, value.size() - 1 - kStateBytes);
  }
  state->reset();
  return std::string_view(value.data(), value.size());
}

Status ToStatus(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  return Status(ErrorCode::kStorageError, s.ToString());
}

}  // namespace

void RocksDbEngine::PutStateRecord(const MessageRef& ref, const MessageState& state,
                                   rocksdb::WriteBatch* out) {
  out->Put(MessageKey(kStatePrefix, ref.queue, ref.seq), EncodeState(state));
  has_state_record_.insert(ref);
}

// `deleted`: messages a later batch of the same write deletes. Their state updates are left
// out: the write is atomic, so the deletion makes them moot.
void RocksDbEngine::AddToRocksBatch(const WriteBatch& batch, Durability durability,
                                    const MessageRefSet& deleted, HeldStates::Clock::time_point now,
                                    rocksdb::WriteBatch* out) {
  for (const auto& op : batch.ops()) {
    if (op.kind == WriteBatch::Kind::kUpdateState && deleted.count({op.queue_id, op.seq})) {
      continue;
    }
    switch (op.kind) {
      case WriteBatch::Kind::kPutQueue:
        out->Put(QueueKey(op.queue_id), op.blob);
        break;
      case WriteBatch::Kind::kDeleteQueue:
        out->Delete(QueueKey(op.queue_id));
        for (RecordKind kind : kRecordKinds) {
          out->DeleteRange(RecordPrefix(kind, op.queue_id), RecordPrefix(kind, op.queue_id + 1));
        }
        [[fallthrough]];
      case WriteBatch::Kind::kPurge:
        for (char prefix : {kMessagePrefix, kStatePrefix}) {
          out->DeleteRange(MessageKey(prefix, op.queue_id, 0),
                           MessageKey(prefix, op.queue_id + 1, 0));
        }
        std::erase_if(has_state_record_,
                      [queue = op.queue_id](const MessageRef& r) { return r.queue == queue; });
        held_states_.ForgetQueue(op.queue_id);
        break;
      case WriteBatch::Kind::kPutMessage: {
        // Head and blob go into the batch as two parts: the body is copied once, not twice.
        const std::string key = MessageKey(kMessagePrefix, op.queue_id, op.seq);
        const std::string head = MessageValueHead(op.state);
        const rocksdb::Slice key_part(key);
        const rocksdb::Slice value_parts[] = {rocksdb::Slice(head), rocksdb::Slice(op.blob)};
        out->Put(rocksdb::SliceParts(&key_part, 1), rocksdb::SliceParts(value_parts, 2));
        break;
      }
      case WriteBatch::Kind::kUpdateState:
        if (durability == Durability::kLazy) {
          held_states_.Hold({op.queue_id, op.seq}, op.state, now);
        } else {
          // A durable state supersedes any held one, which must not overwrite it later.
          held_states_.Forget({op.queue_id, op.seq});
          PutStateRecord({op.queue_id, op.seq}, op.state, out);
        }
        break;
      case WriteBatch::Kind::kDeleteMessage:
        // A message record is never put again while it exists (a queue's seqs restart above
        // every loaded one), so a single delete is enough: when a flush finds it beside the
        // put (most messages live for milliseconds), both vanish, where a plain delete would
        // leave a tombstone to carry through compactions. 'M' keys must therefore never get a
        // point Delete: RocksDB (enforce_single_del_contracts) fails compactions that mix them.
        out->SingleDelete(MessageKey(kMessagePrefix, op.queue_id, op.seq));
        held_states_.Forget({op.queue_id, op.seq});
        if (has_state_record_.erase({op.queue_id, op.seq}) > 0) {
          out->Delete(MessageKey(kStatePrefix, op.queue_id, op.seq));
        }
        break;
      case WriteBatch::Kind::kPutRecord:
        out->Put(RecordPrefix(op.record_kind, op.queue_id) + op.record_key, op.blob);
        break;
      case WriteBatch::Kind::kDeleteRecord:
        out->Delete(RecordPrefix(op.record_kind, op.queue_id) + op.record_key);
        break;
    }
  }
}

Result<std::unique_ptr<RocksDbEngine>> RocksDbEngine::Open(
    const std::string& dir, CallbackRunner run_callbacks,
    std::chrono::milliseconds state_holdback) {
  rocksdb::Options options;
  options.create_if_missing = true;
  // RocksDB keeps every table file open by default: bounded, so that its descriptors stay
  // within the share the server's connection cap leaves to storage.
  options.max_open_files = 64;
  options.IncreaseParallelism(2);
  // Messages are short-lived: most are deleted while still in the memtable.
  options.write_buffer_size = 64 << 20;
  // postbox never reads RocksDB while serving (the hot state is in memory; only start-up scans
  // it), so the memtable can be an unsorted vector that is sorted once when flushed or
  // scanned, instead of a skiplist kept sorted on every insert (perf: a quarter of the core).
  options.memtable_factory.reset(new rocksdb::VectorRepFactory);
  options.allow_concurrent_memtable_write = false;  // one commit thread writes anyway
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return ToStatus(s);
  return std::unique_ptr<RocksDbEngine>(new RocksDbEngine(
      std::unique_ptr<rocksdb::DB>(raw), std::move(run_callbacks), state_holdback));
}

RocksDbEngine::RocksDbEngine(std::unique_ptr<rocksdb::DB> db, CallbackRunner run_callbacks,
                             std::chrono::milliseconds state_holdback)
    : db_(std::move(db)),
      run_callbacks_(std::move(run_callbacks)),
      held_states_(state_holdback),
      committer_([this] { CommitLoop(); }) {}

RocksDbEngine::~RocksDbEngine() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  committer_.join();
  (void)db_->Close();
}

void RocksDbEngine::Commit(WriteBatch batch, Durability durability, Done done) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    // Wake the committer for a durable batch, to start the lazy delay, or when enough lazy
    // work piled up; otherwise let lazy batches gather (each wake-up costs a context switch).
    wake = durability == Durability::kSync || pending_.empty() ||
           pending_.size() + 1 >= kLazyBatchLimit;
    if (durability == Durability::kSync) ++pending_sync_;
    pending_.push_back({std::move(batch), durability, std::move(done), false, false, {}});
  }
  if (wake) wake_.notify_one();
}

// The RocksDB batch of one group: its batches in order, then the held states now due (all of
// them when the group flushes or is the last). Returns whether the write must be synced.
bool RocksDbEngine::BuildWrite(const std::deque<Pending>& group, bool write_all_held,
                               rocksdb::WriteBatch* out) {
  MessageRefSet deleted;
  for (const auto& p : group) {
    for (const auto& op : p.batch.ops()) {
      if (op.kind == WriteBatch::Kind::kDeleteMessage) deleted.insert({op.queue_id, op.seq});
    }
  }
  bool sync = false;
  std::lock_guard state_records_lock(state_records_mu_);
  const auto now = HeldStates::Clock::now();
  for (const auto& p : group) {
    AddToRocksBatch(p.batch, p.durability, deleted, now, out);
    sync = sync || p.durability == Durability::kSync;
    write_all_held = write_all_held || p.write_held;
  }
  auto put = [&](const MessageRef& ref, const MessageState& state) {
    PutStateRecord(ref, state, out);
  };
  if (write_all_held) {
    held_states_.TakeAll(put);
  } else {
    held_states_.TakeDue(now, put);
  }
  return sync;
}

void RocksDbEngine::CommitLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    // held_states_ belongs to this thread alone, so reading it here is safe.
    auto has_work = [this] { return stopping_ || !pending_.empty(); };
    if (held_states_.size() == 0) {
      wake_.wait(lock, has_work);
    } else {
      wake_.wait_until(lock, held_states_.NextDue(), has_work);
    }
    if (pending_.empty()) {
      // Stopping and drained (after a failed write, held states are lost like all others).
      if (stopping_ && (held_states_.size() == 0 || !poisoned_.ok())) return;
      // Otherwise held states fell due (or must be written before stopping): a group of no
      // batches writes them. A wake-up with neither is spurious.
      if (!stopping_ && held_states_.NextDue() > HeldStates::Clock::now()) continue;
    }
    if (pending_sync_ == 0 && !stopping_) {
      // Only lazy work: give it a moment to grow into one write with the work that follows.
      wake_.wait_for(lock, kLazyDelay, [this] {
        return stopping_ || pending_sync_ > 0 || pending_.size() >= kLazyBatchLimit;
      });
    }
    std::deque<Pending> group;
    group.swap(pending_);
    pending_sync_ = 0;
    const bool last_group = stopping_ && group.empty();
    Status poisoned = poisoned_;
    lock.unlock();

    Status result = poisoned;
    if (!result.ok()) {
      // Nothing can be written any more: held states are dropped, not retried every wake-up.
      held_states_.TakeAll([](const MessageRef&, const MessageState&) {});
    } else {
      rocksdb::WriteBatch rocks_batch;
      const bool sync = BuildWrite(group, last_group, &rocks_batch);
      if (group.empty() && rocks_batch.Count() == 0) {
        lock.lock();
        continue;  // a wake-up for held states that were all forgotten meanwhile
      }
      rocksdb::WriteOptions options;
      options.sync = sync;
      result = ToStatus(db_->Write(options, &rocks_batch));
    }

    lock.lock();
    ++writes_;
    if (result.ok()) {
      for (const auto& p : group) {
        if (p.durability == Durability::kSync) {
          ++syncs_;
          break;
        }
      }
    } else if (poisoned_.ok()) {
      poisoned_ = result;
      spdlog::critical(
          "event=storage_failed engine=rocksdb cause=\"{}\" action=\"nothing more is written; "
          "restart postbox to recover\"",
          result.message());
    }
    lock.unlock();
    AnswerGroup(group, result, run_callbacks_);
    lock.lock();
  }
}

Status RocksDbEngine::Accepts(SpaceUse) const {
  std::lock_guard lock(mu_);
  if (poisoned_.ok()) return Status::Ok();
  return Status(ErrorCode::kServiceUnavailable,
                "Storage failed (" + poisoned_.message() + "); restart postbox to recover.");
}

StorageHealth RocksDbEngine::Health() const {
  std::lock_guard lock(mu_);
  if (poisoned_.ok()) return {};
  return {StorageState::kFailed, poisoned_.message()};
}

Status RocksDbEngine::LoadQueues(const QueueVisitor& visit) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(std::string(1, kQueuePrefix)); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (key.size() != 9 || key[0] != kQueuePrefix) break;
    visit(ReadBigEndian(key.data() + 1), std::string_view(it->value().data(), it->value().size()));
  }
  return ToStatus(it->status());
}

Status RocksDbEngine::LoadMessages(const MessageVisitor& visit) {
  // Walk message and state records side by side: both are ordered by (queue, seq).
  std::unique_ptr<rocksdb::Iterator> msg(db_->NewIterator(rocksdb::ReadOptions()));
  std::unique_ptr<rocksdb::Iterator> state(db_->NewIterator(rocksdb::ReadOptions()));
  msg->Seek(std::string(1, kMessagePrefix));
  state->Seek(std::string(1, kStatePrefix));
  std::lock_guard lock(state_records_mu_);
  for (; msg->Valid() && msg->key().size() == 17 && msg->key()[0] == kMessagePrefix; msg->Next()) {
    rocksdb::Slice key = msg->key();
    uint64_t queue = ReadBigEndian(key.data() + 1);
    uint64_t seq = ReadBigEndian(key.data() + 9);
    std::optional<MessageState> sent_state;
    std::string_view blob = SplitMessageValue(msg->value(), &sent_state);
    std::string want_state = MessageKey(kStatePrefix, queue, seq);
    while (state->Valid() && state->key().compare(want_state) < 0) state->Next();
    MessageState s;
    if (state->Valid() && state->key().compare(want_state) == 0) {
      if (!DecodeState(state->value(), &s)) {
        return Status(ErrorCode::kStorageError, "message state record of the wrong size");
      }
      has_state_record_.insert({queue, seq});
    } else if (sent_state) {
      s = *sent_state;
    } else {
      return Status(ErrorCode::kStorageError, "message record without a valid state record");
    }
    visit(queue, seq, blob, s);
  }
  POSTBOX_RETURN_IF_ERROR(ToStatus(msg->status()));
  return ToStatus(state->status());
}

Status RocksDbEngine::LoadRecords(RecordKind kind, const RecordVisitor& visit) {
  const std::string prefix = {kRecordPrefix, char(kind)};
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    rocksdb::Slice key = it->key();
    if (key.size() < prefix.size() + 8) return Status(ErrorCode::kStorageError, "short record key");
    visit(ReadBigEndian(key.data() + 2),
          std::string_view(key.data() + prefix.size() + 8, key.size() - prefix.size() - 8),
          std::string_view(it->value().data(), it->value().size()));
  }
  return ToStatus(it->status());
}

Status RocksDbEngine::Flush() {
  std::promise<Status> promise;
  auto future = promise.get_future();
  // An empty synchronous batch queues behind everything before it and fsyncs the WAL. Its
  // callback runs on the commit thread: at shutdown the I/O loop no longer runs callbacks.
  {
    std::lock_guard lock(mu_);
    ++pending_sync_;
    pending_.push_back({WriteBatch(),
                        Durability::kSync,
                        [&promise](Status s) { promise.set_value(s); },
                        true,
                        true,
                        {}});
  }
  wake_.notify_one();
  Status s = future.get();
  POSTBOX_RETURN_IF_ERROR(s);
  return ToStatus(db_->FlushWAL(true));
}

uint64_t RocksDbEngine::write_count() const {
  std::lock_guard lock(mu_);
  return writes_;
}

uint64_t RocksDbEngine::sync_count() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

}  // namespace postbox::storage
