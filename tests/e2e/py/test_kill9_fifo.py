#!/usr/bin/env python3
"""FIFO deduplication and dead-letter move tasks under kill -9.

1. A sender thread sends FIFO messages (SendMessage and SendMessageBatch) with
   explicit MessageDeduplicationIds and records every acknowledged id with the
   MessageId the server answered.  The server is killed with SIGKILL at a random
   moment and restarted on the same data directory (twice).  After each restart
   every acknowledged id is sent again: each must be answered as a duplicate
   (same MessageId, same SequenceNumber).  Finally the queue is drained: each
   acknowledged id arrives exactly once, in send order within its group, and
   nothing arrives that was never sent.

2. A message move task (MaxNumberOfMessagesPerSecond=50) redrives ~300
   messages from a dead-letter queue back to their source queue.  The server is
   killed mid-task and restarted.  The task must resume and reach COMPLETED, or
   report FAILED; it must never stay RUNNING without progress.  Every message is
   then in exactly one of the two queues and none is lost.

  python3 tests/e2e/py/test_kill9_fifo.py
  POSTBOX_KILL9_SEED=1234 python3 tests/e2e/py/test_kill9_fifo.py   # reproduce a run

Needs a server started by the harness: skipped when POSTBOX_ENDPOINT is set.
"""

import json
import os
import random
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import kill9_common  # noqa: E402

GROUPS = 4
CYCLES = 2
MAX_ATTEMPTED = 4000          # bounds the resends and the final drain
DRAIN_DEADLINE_S = 20.0
MOVE_MESSAGES = 300
MOVE_RATE = 50


def note(text):
    if os.environ.get("POSTBOX_E2E_VERBOSE"):
        sys.stderr.write("  [kill9-fifo] %s\n" % text)


class FifoSender(kill9_common.SenderThread):
    """Sends message n with dedup id "d-<n>" to group "g<n % GROUPS>", body "<run>|<n>"."""

    first_batch = False

    def __init__(self, endpoint, url, run, seq_start, attempted, acked, budget):
        super().__init__("kill9-fifo-sender", endpoint, budget)
        self.url = url
        self.run_id = run
        self.seq = seq_start
        self.attempted = attempted  # dedup id -> body
        self.acked = acked          # dedup id -> (MessageId, SequenceNumber)
        self.bad_answers = []

    def entry(self):
        n = self.seq
        self.seq += 1
        dedup, body = "d-%d" % n, "%s|%d" % (self.run_id, n)
        self.attempted[dedup] = body
        return {"Id": "e%d" % n, "MessageBody": body, "MessageGroupId": "g%d" % (n % GROUPS),
                "MessageDeduplicationId": dedup}

    def send_batch(self):
        entries = [self.entry() for _ in range(10)]
        resp = self.client.send_message_batch(QueueUrl=self.url, Entries=entries)
        by_id = {e["Id"]: e["MessageDeduplicationId"] for e in entries}
        if resp.get("Failed"):
            self.bad_answers.append(resp["Failed"])
        for ok in resp.get("Successful", []):
            self.acked[by_id[ok["Id"]]] = (ok["MessageId"], ok.get("SequenceNumber"))
            self.first_ack.set()

    def send_one(self):
        e = self.entry()
        resp = self.client.send_message(QueueUrl=self.url, MessageBody=e["MessageBody"],
                                        MessageGroupId=e["MessageGroupId"],
                                        MessageDeduplicationId=e["MessageDeduplicationId"])
        self.acked[e["MessageDeduplicationId"]] = (resp["MessageId"], resp.get("SequenceNumber"))
        self.first_ack.set()


class Kill9Fifo(kill9_common.Kill9Case):
    maxDiff = 2000

    def started_client(self, server, ctx, what):
        try:
            return harness.make_client(server.endpoint)
        except Exception as exc:  # pragma: no cover
            self.fail("%s: cannot build a client: %r; %s" % (what, exc, ctx))

    # ------------------------------------------------------------------ 1
    def test_deduplication_survives_kill_9(self):
        server = harness.PostboxServer()
        server.require_local("kill -9 test")
        seed, ctx = kill9_common.seed_and_ctx()
        rng = random.Random(seed)
        t_start = time.monotonic()
        run = uuid.uuid4().hex[:8]
        name = "pbx-k9fifo-%s.fifo" % run
        attempted, acked = {}, {}
        seq = 0
        try:
            server.start()
            setup = harness.make_client(server.endpoint)
            setup.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})
            setup.close()

            for cycle in range(CYCLES):
                client = harness.make_client(server.endpoint)
                url = client.get_queue_url(QueueName=name)["QueueUrl"]
                client.close()
                sender = FifoSender(server.endpoint, url, run, seq, attempted, acked, MAX_ATTEMPTED // CYCLES)
                before = len(acked)
                self.kill_while_sending(server, sender, rng, 1.2)
                self.assertEqual(sender.bad_answers, [], "per-entry failures in a FIFO batch; " + ctx)
                seq = sender.seq
                note("cycle %d: %d attempted, %d acknowledged, %d send errors" % (
                    cycle, len(attempted), len(acked), sender.errors))
                self.assertGreater(len(acked), before, "cycle %d: nothing acknowledged before the kill (%s; %s)\n%s"
                                   % (cycle, ctx, sender.first_error, server.output()[-3000:]))

                # restart: every acknowledged id must now be a duplicate of its first send
                server.start()
                client = harness.make_client(server.endpoint)
                try:
                    url = client.get_queue_url(QueueName=name)["QueueUrl"]
                    mismatched = []
                    ids = sorted(acked, key=lambda d: int(d[2:]))
                    for start in range(0, len(ids), 10):
                        chunk = ids[start:start + 10]
                        resp = client.send_message_batch(QueueUrl=url, Entries=[
                            {"Id": "r%d" % i, "MessageBody": attempted[d],
                             "MessageGroupId": "g%d" % (int(d[2:]) % GROUPS), "MessageDeduplicationId": d}
                            for i, d in enumerate(chunk)])
                        self.assertEqual(resp.get("Failed", []), [], ctx)
                        for ok in resp["Successful"]:
                            d = chunk[int(ok["Id"][1:])]
                            if (ok["MessageId"], ok.get("SequenceNumber")) != acked[d]:
                                mismatched.append((d, acked[d], (ok["MessageId"], ok.get("SequenceNumber"))))
                    self.assertEqual(mismatched[:5], [], "%d of %d acknowledged ids not reported as duplicates "
                                     "after kill -9 (id, first answer, resend answer); %s"
                                     % (len(mismatched), len(acked), ctx))
                finally:
                    client.close()

            # drain: each acknowledged id exactly once, per-group send order
            client = harness.make_client(server.endpoint)
            url = client.get_queue_url(QueueName=name)["QueueUrl"]
            by_body = {b: d for d, b in attempted.items()}
            received = []  # dedup ids in delivery order
            message_ids = {}
            unknown = []

            def collect(msgs):
                for m in msgs:
                    d = by_body.get(m["Body"])
                    if d is None or m["Attributes"].get("MessageDeduplicationId") != d:
                        unknown.append((m["Body"][:80], m["Attributes"].get("MessageDeduplicationId")))
                        continue
                    received.append(d)
                    message_ids[d] = m["MessageId"]

            empty_polls, failed = kill9_common.drain(client, url, DRAIN_DEADLINE_S, collect,
                                                     AttributeNames=["All"])
            self.assertEqual(failed, [], ctx)
            client.close()

            self.assertGreaterEqual(empty_polls, 2, "queue not drained within %.0f s; %s" % (DRAIN_DEADLINE_S, ctx))
            self.assertEqual(unknown, [], "messages never sent (or with a wrong dedup id); " + ctx)
            doubled = sorted({d for d in received if received.count(d) > 1}, key=lambda d: int(d[2:]))
            self.assertEqual(doubled[:5], [], "%d ids delivered more than once; %s" % (len(doubled), ctx))
            lost = sorted(set(acked) - set(received), key=lambda d: int(d[2:]))
            self.assertEqual(lost[:5], [], "%d of %d acknowledged ids lost after kill -9; %s"
                             % (len(lost), len(acked), ctx))
            wrong_id = [d for d in acked if message_ids.get(d) != acked[d][0]]
            self.assertEqual(wrong_id[:5], [], "delivered MessageId differs from the acknowledged one; " + ctx)
            for g in range(GROUPS):
                order = [int(d[2:]) for d in received if int(d[2:]) % GROUPS == g]
                self.assertEqual(order, sorted(order), "group g%d delivered out of send order; %s" % (g, ctx))

            self.assertEqual(server.stop(), 0, "postbox exit code on SIGTERM\n" + server.output()[-3000:])
            self.assertLess(time.monotonic() - t_start, 40.0, "test took too long")
        finally:
            server.close()

    # ------------------------------------------------------------------ 2
    def test_move_task_survives_kill_9(self):
        server = harness.PostboxServer()
        server.require_local("kill -9 test")
        seed, ctx = kill9_common.seed_and_ctx()
        rng = random.Random(seed + 1)
        t_start = time.monotonic()
        run = uuid.uuid4().hex[:8]
        dlq_name, src_name = "pbx-k9dlq-" + run, "pbx-k9src-" + run
        dlq_arn = harness.queue_arn(dlq_name)
        try:
            server.start()
            client = harness.make_client(server.endpoint)
            if not hasattr(client, "start_message_move_task"):
                client.close()
                self.skipTest("this botocore has no StartMessageMoveTask")
            dlq = client.create_queue(QueueName=dlq_name)["QueueUrl"]
            src = client.create_queue(QueueName=src_name, Attributes={"RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})["QueueUrl"]
            bodies = ["%s|%03d" % (run, i) for i in range(MOVE_MESSAGES)]
            for start in range(0, MOVE_MESSAGES, 10):
                resp = client.send_message_batch(QueueUrl=src, Entries=[
                    {"Id": str(i), "MessageBody": bodies[i]} for i in range(start, start + 10)])
                self.assertEqual(resp.get("Failed", []), [])
            # receive each once (VisibilityTimeout 0), then again: maxReceiveCount=1 moves them to the DLQ
            received = 0
            deadline = time.monotonic() + 15
            while received < MOVE_MESSAGES and time.monotonic() < deadline:
                received += len(client.receive_message(QueueUrl=src, MaxNumberOfMessages=10,
                                                       VisibilityTimeout=0).get("Messages", []))
            self.assertEqual(received, MOVE_MESSAGES)
            while time.monotonic() < deadline:
                got = client.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)
                self.assertEqual(got.get("Messages", []), [], "delivered beyond maxReceiveCount")
                a = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
                if int(a["Attributes"]["ApproximateNumberOfMessages"]) == MOVE_MESSAGES:
                    break
            a = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
            self.assertEqual(int(a["Attributes"]["ApproximateNumberOfMessages"]), MOVE_MESSAGES)

            handle = client.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=MOVE_RATE)
            self.assertTrue(handle["TaskHandle"])
            client.close()
            # 300 at 50/s take ~6 s: kill somewhere in the middle
            time.sleep(rng.uniform(1.0, 4.0))
            server.kill9()
            server.start()

            client = harness.make_client(server.endpoint)
            tasks = client.list_message_move_tasks(SourceArn=dlq_arn).get("Results", [])
            self.assertEqual(len(tasks), 1, "the move task is gone after kill -9; %s" % ctx)
            after_restart = tasks[0]
            note("after restart: %r" % after_restart)
            self.assertIn(after_restart["Status"], ("RUNNING", "COMPLETED", "FAILED"), after_restart)
            self.assertEqual(after_restart["ApproximateNumberOfMessagesToMove"], MOVE_MESSAGES)

            # it must finish (or fail) on its own; RUNNING without progress is a hang
            deadline = time.monotonic() + 20
            last_moved, last_progress = -1, time.monotonic()
            while True:
                task = client.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
                if task["Status"] != "RUNNING":
                    break
                if task["ApproximateNumberOfMessagesMoved"] != last_moved:
                    last_moved, last_progress = task["ApproximateNumberOfMessagesMoved"], time.monotonic()
                self.assertLess(time.monotonic() - last_progress, 5.0,
                                "task RUNNING without progress for 5 s after restart: %r; %s" % (task, ctx))
                self.assertLess(time.monotonic(), deadline, "task still RUNNING after 20 s: %r; %s" % (task, ctx))
                time.sleep(0.1)
            note("final: %r" % task)
            self.assertIn(task["Status"], ("COMPLETED", "FAILED"), task)
            self.assertNotIn("TaskHandle", task)
            if task["Status"] == "FAILED":
                self.assertTrue(task.get("FailureReason"), "FAILED without FailureReason: %r" % task)

            # count by body: every message in exactly one of the two queues.  The source's
            # redrive policy goes first, so that draining cannot move anything.
            client.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": ""})
            found = {}
            for url, label in ((src, "source"), (dlq, "dlq")):
                def record(msgs, label=label):
                    for m in msgs:
                        found.setdefault(m["Body"], []).append(label)

                empty_polls, _ = kill9_common.drain(client, url, DRAIN_DEADLINE_S, record)
                self.assertGreaterEqual(empty_polls, 2, "%s not drained; %s" % (label, ctx))
            client.close()

            unknown = sorted(set(found) - set(bodies))
            self.assertEqual(unknown[:5], [], "bodies never sent; " + ctx)
            lost = [b for b in bodies if b not in found]
            self.assertEqual(lost[:5], [], "%d of %d messages lost by the move task across kill -9; task %r; %s"
                             % (len(lost), MOVE_MESSAGES, task, ctx))
            doubled = {b: where for b, where in found.items() if len(where) > 1}
            self.assertEqual(dict(list(doubled.items())[:5]), {}, "%d messages in both queues (or twice); %s"
                             % (len(doubled), ctx))
            in_dlq = sum(1 for where in found.values() if where == ["dlq"])
            if task["Status"] == "COMPLETED":
                self.assertEqual(in_dlq, 0, "task COMPLETED but %d messages left in the DLQ; %s" % (in_dlq, ctx))
                self.assertEqual(task["ApproximateNumberOfMessagesMoved"], MOVE_MESSAGES, task)

            self.assertEqual(server.stop(), 0, "postbox exit code on SIGTERM\n" + server.output()[-3000:])
            self.assertLess(time.monotonic() - t_start, 40.0, "test took too long")
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()
