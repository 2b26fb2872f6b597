#include "core/queue/move_tasks.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "core/queue/message_codec.h"

namespace postbox::core {
namespace {

using nlohmann::json;

constexpr char kRunning[] = "RUNNING";
constexpr char kCompleted[] = "COMPLETED";
constexpr char kCancelled[] = "CANCELLED";
constexpr char kFailed[] = "FAILED";
// AWS keeps the most recent tasks of a source ("up to 10", ListMessageMoveTasks).
constexpr size_t kTasksKept = 10;
// Without MaxNumberOfMessagesPerSecond: at most this many messages per Advance() step.
constexpr size_t kMessagesPerStep = 1000;
constexpr int kMaxRate = 500;  // MaxNumberOfMessagesPerSecond upper bound (AWS)
constexpr char kNonExistentQueue[] = "AWS.SimpleQueueService.NonExistentQueue";

Status InvalidParameter(const std::string& message) {
  return Status(ErrorCode::kInvalidParameterValue, message);
}

}  // namespace

// The handle names its source so that Cancel can find the task, as AWS's handles do.
std::string EncodeTaskHandle(const std::string& task_id, const std::string& source_arn) {
  return Base64Encode(json{{"taskId", task_id}, {"sourceArn", source_arn}}.dump());
}

std::optional<std::pair<std::string, std::string>> DecodeTaskHandle(std::string_view handle) {
  auto text = Base64Decode(handle);
  if (!text) return std::nullopt;
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("taskId") || !j["taskId"].is_string() ||
      !j.contains("sourceArn") || !j["sourceArn"].is_string()) {
    return std::nullopt;
  }
  return std::pair(j["taskId"].get<std::string>(), j["sourceArn"].get<std::string>());
}

MessageMoveTasks::MessageMoveTasks(QueueService& service, storage::Engine& engine,
                                   const Clock& clock)
    : service_(service), engine_(engine), clock_(clock) {}

std::string MessageMoveTasks::EncodeTask(const Task& task) {
  const MoveTaskStatus& i = task.info;
  return json{{"id", task.id},
              {"status", i.status},
              {"source_arn", i.source_arn},
              {"destination_arn", i.destination_arn},
              {"max_per_second", i.max_per_second},
              {"moved", i.moved},
              {"to_move", i.to_move},
              {"failure_reason", i.failure_reason},
              {"started_ms", i.started_ms},
              {"max_seq", task.max_seq}}
      .dump();
}

std::optional<MessageMoveTasks::Task> MessageMoveTasks::DecodeTask(std::string_view blob) {
  json j = json::parse(blob, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  try {
    Task t;
    t.id = j.at("id").get<std::string>();
    t.info.status = j.at("status").get<std::string>();
    t.info.source_arn = j.at("source_arn").get<std::string>();
    t.info.destination_arn = j.at("destination_arn").get<std::string>();
    t.info.max_per_second = j.at("max_per_second").get<int>();
    t.info.moved = j.at("moved").get<int64_t>();
    t.info.to_move = j.at("to_move").get<int64_t>();
    t.info.failure_reason = j.at("failure_reason").get<std::string>();
    t.info.started_ms = j.at("started_ms").get<int64_t>();
    t.max_seq = j.at("max_seq").get<uint64_t>();
    return t;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

Status MessageMoveTasks::Load() {
  std::lock_guard lock(mu_);
  storage::WriteBatch orphans;
  const int64_t now = clock_.NowMillis();
  POSTBOX_RETURN_IF_ERROR(engine_.LoadRecords(
      storage::RecordKind::kMoveTask,
      [&](uint64_t queue_id, std::string_view key, std::string_view blob) {
        auto task = DecodeTask(blob);
        auto source = task ? ResolveQueue(task->info.source_arn, "SourceArn")
                           : Result<QueuePtr>(Status(ErrorCode::kStorageError, ""));
        if (!source.ok() || (*source)->storage_id() != queue_id) {
          orphans.DeleteRecord(storage::RecordKind::kMoveTask, queue_id, std::string(key));
          return;
        }
        task->refilled_ms = now;
        by_source_[queue_id].tasks.push_back(std::move(*task));
      }));
  for (auto& [queue_id, source] : by_source_) {
    std::sort(source.tasks.begin(), source.tasks.end(),
              [](const Task& a, const Task& b) { return a.info.started_ms < b.info.started_ms; });
  }
  if (!orphans.empty()) engine_.Commit(std::move(orphans), storage::Durability::kLazy, nullptr);
  return Status::Ok();
}

Result<QueuePtr> MessageMoveTasks::ResolveQueue(const std::string& arn,
                                                const char* parameter) const {
  auto id = QueueId::FromArn(arn);
  if (!id) {
    return InvalidParameter(std::string("You must use this format to specify the ") + parameter +
                            ": arn:<partition>:<service>:<region>:<account-id>:<resource-id>");
  }
  auto queue = service_.GetQueue(*id);
  if (!queue.ok()) {
    return Status(ErrorCode::kResourceNotFound, std::string("The resource that you specified for "
                                                            "the ") +
                                                    parameter + " parameter doesn't exist.");
  }
  return queue;
}

void MessageMoveTasks::Start(const StartRequest& request,
                             std::function<void(Result<std::string>)> done) {
  if (request.source_arn.empty()) {
    return done(
        Status(ErrorCode::kMissingParameter, "The request must contain the parameter SourceArn."));
  }
  auto source = ResolveQueue(request.source_arn, "SourceArn");
  if (!source.ok()) return done(source.status());
  if (service_.ListDeadLetterSourceQueues(**source).empty()) {
    return done(InvalidParameter("Source queue must be configured as a Dead Letter Queue."));
  }
  if (!request.destination_arn.empty()) {
    auto destination = ResolveQueue(request.destination_arn, "DestinationArn");
    if (!destination.ok()) return done(destination.status());
    if (*destination == *source) {
      return done(
          InvalidParameter("Source queue arn and destination queue arn cannot be the same."));
    }
    if ((*destination)->fifo() != (*source)->fifo()) {
      return done(InvalidParameter(
          "The source queue and destination queue must be of the same queue type."));
    }
  }
  if (request.max_per_second &&
      (*request.max_per_second < 1 || *request.max_per_second > kMaxRate)) {
    return done(InvalidParameter(
        "Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must enter a "
        "number that's between 1 and 500."));
  }
  // The task is in memory before its record is stored: ask storage first.
  if (Status s = engine_.Accepts(storage::SpaceUse::kGrows); !s.ok()) return done(s);
  const QueuePtr& queue = *source;
  std::lock_guard lock(mu_);
  SourceTasks& tasks = by_source_[queue->storage_id()];
  for (const auto& t : tasks.tasks) {
    if (t.info.status == kRunning) {
      return done(InvalidParameter(
          "There is already a task running. Only one active task is allowed for a source queue "
          "arn at a given time."));
    }
  }
  Task task;
  task.id = NewUuid();
  task.max_seq = queue->LastSeq();
  task.refilled_ms = clock_.NowMillis();
  task.info.status = kRunning;
  task.info.source_arn = queue->id().Arn();
  task.info.destination_arn = request.destination_arn;
  task.info.max_per_second = request.max_per_second.value_or(0);
  task.info.to_move = int64_t(queue->CountUpTo(task.max_seq));
  task.info.started_ms = clock_.NowMillis();
  storage::WriteBatch batch;
  while (tasks.tasks.size() >= kTasksKept) {
    batch.DeleteRecord(storage::RecordKind::kMoveTask, queue->storage_id(), tasks.tasks.front().id);
    tasks.tasks.erase(tasks.tasks.begin());
  }
  batch.PutRecord(storage::RecordKind::kMoveTask, queue->storage_id(), task.id, EncodeTask(task));
  // Memory shows the task already: if the write fails, storage keeps the batch and writes it
  // once it can (the caller's 503 means the task may or may not have started, as on AWS).
  batch.MarkAppliedInMemory();
  std::string handle = EncodeTaskHandle(task.id, task.info.source_arn);
  tasks.tasks.push_back(std::move(task));
  engine_.Commit(std::move(batch), storage::Durability::kSync,
                 [handle, done = std::move(done)](Status s) {
                   if (!s.ok()) return done(s);
                   done(handle);
                 });
}

Result<std::vector<MoveTaskStatus>> MessageMoveTasks::List(const std::string& source_arn,
                                                           std::optional<int> max_results) const {
  if (source_arn.empty()) {
    return Status(ErrorCode::kMissingParameter,
                  "The request must contain the parameter SourceArn.");
  }
  if (max_results && (*max_results < 1 || *max_results > int(kTasksKept))) {
    return InvalidParameter(
        "Value for parameter MaxResults is invalid. Reason: You must enter a number that's "
        "between 1 and 10.");
  }
  auto source = ResolveQueue(source_arn, "SourceArn");
  if (!source.ok()) return source.status();
  std::vector<MoveTaskStatus> out;
  std::lock_guard lock(mu_);
  auto found = by_source_.find((*source)->storage_id());
  if (found == by_source_.end()) return out;
  const auto& tasks = found->second.tasks;
  for (auto it = tasks.rbegin(); it != tasks.rend() && int(out.size()) < max_results.value_or(1);
       ++it) {
    out.push_back(it->info);
    // Only a running task has a handle (AWS hides it once the task ends).
    if (it->info.status == kRunning)
      out.back().task_handle = EncodeTaskHandle(it->id, it->info.source_arn);
  }
  return out;
}

void MessageMoveTasks::Cancel(const std::string& task_handle,
                              std::function<void(Result<int64_t>)> done) {
  if (task_handle.empty()) {
    return done(
        Status(ErrorCode::kMissingParameter, "The request must contain the parameter TaskHandle."));
  }
  auto decoded = DecodeTaskHandle(task_handle);
  if (!decoded) return done(InvalidParameter("Value for parameter TaskHandle is invalid."));
  auto source = ResolveQueue(decoded->second, "SourceArn");
  if (!source.ok()) return done(source.status());
  std::lock_guard lock(mu_);
  auto found = by_source_.find((*source)->storage_id());
  Task* task = nullptr;
  if (found != by_source_.end()) {
    for (auto& t : found->second.tasks) {
      if (t.id == decoded->first) task = &t;
    }
  }
  // Only a running task can be cancelled; a finished one has no handle any more.
  if (task == nullptr || task->info.status != kRunning) {
    return done(Status(ErrorCode::kResourceNotFound, "Task does not exist."));
  }
  task->info.status = kCancelled;
  int64_t moved = task->info.moved;
  PersistLocked(*source, *task, storage::Durability::kSync,
                [moved, done = std::move(done)](Status s) {
                  if (!s.ok()) return done(s);
                  done(moved);
                });
}

void MessageMoveTasks::Advance() {
  // Moving takes messages out of memory before their new copies are stored: not while storage
  // cannot take new messages (a full disk, a failed one); the tasks wait and go on after.
  if (!engine_.Accepts(storage::SpaceUse::kGrows).ok()) return;
  std::lock_guard lock(mu_);
  const int64_t now = clock_.NowMillis();
  for (auto it = by_source_.begin(); it != by_source_.end();) {
    auto running = std::find_if(it->second.tasks.begin(), it->second.tasks.end(),
                                [](const Task& t) { return t.info.status == kRunning; });
    if (running == it->second.tasks.end()) {
      ++it;
      continue;
    }
    auto source = ResolveQueue(running->info.source_arn, "SourceArn");
    if (!source.ok() || (*source)->storage_id() != it->first) {
      // The dead-letter queue was deleted, and its task records with it.
      it = by_source_.erase(it);
      continue;
    }
    AdvanceTaskLocked(*source, *running, now);
    ++it;
  }
}

void MessageMoveTasks::AdvanceTaskLocked(const QueuePtr& source, Task& task, int64_t now) {
  size_t limit = kMessagesPerStep;
  if (task.info.max_per_second > 0) {
    const double rate = task.info.max_per_second;
    task.allowance = std::min(rate, task.allowance + rate * double(now - task.refilled_ms) / 1000);
    task.refilled_ms = now;
    limit = size_t(task.allowance);
    if (limit == 0) return;
  }
  QueuePtr destination;
  if (!task.info.destination_arn.empty()) {
    auto d = ResolveQueue(task.info.destination_arn, "DestinationArn");
    if (!d.ok()) return FailLocked(source, task, kNonExistentQueue);
    destination = *d;
  }
  std::vector<Message> taken = source->TakeForMove(task.max_seq, limit);
  if (taken.empty()) {
    // Messages still in flight in the dead-letter queue are moved once they are visible.
    if (source->CountUpTo(task.max_seq) == 0) {
      task.info.status = kCompleted;
      PersistLocked(source, task, storage::Durability::kSync);
    }
    return;
  }

  storage::WriteBatch batch;
  // Moved messages per destination, inserted once the batch is durable.
  auto arrivals = std::make_shared<std::map<QueuePtr, std::vector<Message>>>();
  auto originals = std::make_shared<std::vector<Message>>();  // to restore if the batch fails
  std::string failure;
  size_t i = 0;
  for (; i < taken.size(); ++i) {
    Message& m = taken[i];
    QueuePtr target = destination;
    if (!target) {
      if (m.dead_letter_source_arn.empty()) {
        failure = "CouldNotDetermineMessageSource";
        break;
      }
      auto back = ResolveQueue(m.dead_letter_source_arn, "DestinationArn");
      if (!back.ok() || (*back)->fifo() != source->fifo()) {
        failure = kNonExistentQueue;
        break;
      }
      target = *back;
    }
    batch.DeleteMessage(source->storage_id(), m.seq);
    originals->push_back(m);
    Message moved = std::move(m);
    moved.seq = target->ReserveSeqs(1);
    moved.message_id = NewUuid();
    moved.sent_ms = now;
    moved.state = storage::MessageState{now, 0, 0};
    if (target->fifo()) {
      // AWS deduplicates a redriven FIFO message by its original id.
      moved.message_deduplication_id = originals->back().message_id;
      moved.sequence_number = SequenceNumber(moved.seq);
    }
    moved.dead_letter_source_arn.clear();
    batch.PutMessage(target->storage_id(), moved.seq, EncodeMessage(moved), moved.state);
    (*arrivals)[target].push_back(std::move(moved));
  }
  if (i < taken.size()) {
    // The rest stays in the dead-letter queue, under the same seqs.
    source->Insert(std::vector<Message>(std::make_move_iterator(taken.begin() + long(i)),
                                        std::make_move_iterator(taken.end())));
  }
  task.info.moved += int64_t(originals->size());
  if (task.info.max_per_second > 0) task.allowance -= double(originals->size());
  if (!failure.empty()) {
    task.info.status = kFailed;
    task.info.failure_reason = failure;
  }
  batch.PutRecord(storage::RecordKind::kMoveTask, source->storage_id(), task.id, EncodeTask(task));
  // Runs without mu_: a storage thread, or this thread for an engine that commits inline.
  engine_.Commit(std::move(batch), storage::Durability::kSync,
                 [source, arrivals, originals](Status s) {
                   if (!s.ok()) {
                     source->Insert(std::move(*originals));  // nothing of the step is stored
                     return;
                   }
                   for (auto& [target, messages] : *arrivals) target->Insert(std::move(messages));
                 });
}

void MessageMoveTasks::FailLocked(const QueuePtr& source, Task& task, std::string reason) {
  task.info.status = kFailed;
  task.info.failure_reason = std::move(reason);
  PersistLocked(source, task, storage::Durability::kSync);
}

void MessageMoveTasks::PersistLocked(const QueuePtr& source, const Task& task,
                                     storage::Durability durability, storage::Engine::Done done) {
  storage::WriteBatch batch;
  batch.PutRecord(storage::RecordKind::kMoveTask, source->storage_id(), task.id, EncodeTask(task));
  engine_.Commit(std::move(batch), durability, std::move(done));
}

}  // namespace postbox::core
