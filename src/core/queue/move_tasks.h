// MessageMoveTasks: StartMessageMoveTask, ListMessageMoveTasks and CancelMessageMoveTask.
//
// A task moves the messages a dead-letter queue holds when it starts (seq <= the queue's last
// seq then) to one destination queue, or back to the queue each message came from. Advance(),
// called periodically, moves what each running task's rate allows: every step removes the
// messages from the dead-letter queue, puts them into their destinations and records the
// task's progress in one durable batch, so a crash leaves each message in exactly one queue
// and the task resumes after a restart where it stopped. Moved messages are new messages (new
// MessageId, timestamp and receive count), as AWS's redrive makes them.
//
// Thread-safety: all methods are safe from any thread; callbacks may run on a storage thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "core/queue/queue_service.h"
#include "storage/engine.h"

namespace postbox::core {

struct MoveTaskStatus {
  std::string task_handle;  // only while RUNNING; List() fills it in
  std::string status;       // RUNNING | COMPLETED | CANCELLED | FAILED
  std::string source_arn;
  std::string destination_arn;  // empty: back to each message's source queue
  int max_per_second = 0;       // 0: not given (as fast as postbox goes)
  int64_t moved = 0;
  int64_t to_move = 0;
  std::string failure_reason;  // FAILED only
  int64_t started_ms = 0;
};

// A TaskHandle names its task and source queue: base64 of {"taskId": ..., "sourceArn": ...}.
std::string EncodeTaskHandle(const std::string& task_id, const std::string& source_arn);
// (task id, source ARN), or nullopt for anything that is not such a handle.
std::optional<std::pair<std::string, std::string>> DecodeTaskHandle(std::string_view handle);

class MessageMoveTasks {
 public:
  MessageMoveTasks(QueueService& service, storage::Engine& engine, const Clock& clock);

  // Reads the persisted tasks; call once after QueueService::Load().
  Status Load();

  struct StartRequest {
    std::string source_arn;
    std::string destination_arn;
    std::optional<int> max_per_second;
  };
  // Answers the TaskHandle once the task is durable.
  void Start(const StartRequest& request, std::function<void(Result<std::string>)> done);
  // The source's most recent tasks, newest first (max_results: 1 to 10).
  Result<std::vector<MoveTaskStatus>> List(const std::string& source_arn,
                                           std::optional<int> max_results) const;
  // Stops a running task; answers how many messages it had moved.
  void Cancel(const std::string& task_handle, std::function<void(Result<int64_t>)> done);

  // Moves what every running task may move now. Call every 100 ms or so.
  void Advance();

 private:
  struct Task {
    MoveTaskStatus info;
    std::string id;
    uint64_t max_seq = 0;  // the source's last seq at start: only older messages move
    // Rate limit: messages allowed now, refilled at max_per_second (not persisted).
    double allowance = 0;
    int64_t refilled_ms = 0;
  };
  // Tasks of one source queue incarnation, oldest first.
  struct SourceTasks {
    std::vector<Task> tasks;
  };

  Result<QueuePtr> ResolveQueue(const std::string& arn, const char* parameter) const;
  static std::string EncodeTask(const Task& task);
  static std::optional<Task> DecodeTask(std::string_view blob);
  void AdvanceTaskLocked(const QueuePtr& source, Task& task, int64_t now);
  void FailLocked(const QueuePtr& source, Task& task, std::string reason);
  void PersistLocked(const QueuePtr& source, const Task& task, storage::Durability durability,
                     storage::Engine::Done done = nullptr);

  QueueService& service_;
  storage::Engine& engine_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<uint64_t, SourceTasks> by_source_;  // by the source queue's storage id
};

}  // namespace postbox::core
