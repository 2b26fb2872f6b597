#!/usr/bin/env python3
"""The core SQS flow, FIFO queues and dead-letter message move tasks through
the AWS CLI, against postbox.

Two CLI generations speak the two wire protocols:
  - v1: `aws` on PATH (pip awscli 1.x on botocore 1.43): JSON 1.0 protocol
  - v2: /usr/bin/aws (Debian awscli 2.9): query/XML protocol
A variant whose binary is missing (or is not the expected major version) is
skipped, and so is the move-task test on a CLI without those commands (Debian's
2.9 predates them).  Override the binaries with POSTBOX_AWS_CLI_V1 / POSTBOX_AWS_CLI_V2.

  python3 tests/e2e/py/test_sqs_cli.py
"""

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

SERVER = None


def setUpModule():
    global SERVER
    SERVER = harness.PostboxServer()
    try:
        SERVER.start()
    except Exception:
        SERVER.close()
        raise


def tearDownModule():
    if SERVER is not None:
        SERVER.close()


def _cli_major(path):
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60,
                             env=harness.aws_env())
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stdout + out.stderr).strip()
    if text.startswith("aws-cli/1."):
        return 1
    if text.startswith("aws-cli/2."):
        return 2
    return None


def find_cli(major):
    env_var = "POSTBOX_AWS_CLI_V%d" % major
    candidates = [os.environ.get(env_var)] if os.environ.get(env_var) else []
    if major == 1:
        candidates.append(shutil.which("aws"))
    else:
        candidates += ["/usr/bin/aws", shutil.which("aws")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK) and _cli_major(c) == major:
            return c
    return None


class CliFlow:
    """Mixin; subclasses set MAJOR."""

    MAJOR = None
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.cli = find_cli(cls.MAJOR)
        if cls.cli is None:
            raise unittest.SkipTest("AWS CLI v%d not found" % cls.MAJOR)
        cls.queues = []

    @classmethod
    def tearDownClass(cls):
        if SERVER is not None and SERVER.is_external:
            for url in cls.queues:
                cls.run_cli("delete-queue", "--queue-url", url, check=False)

    @classmethod
    def run_cli(cls, *args, check=True):
        cmd = [cls.cli, "--endpoint-url", SERVER.endpoint, "--output", "json", "sqs"] + list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=harness.aws_env())
        if check and proc.returncode != 0:
            raise AssertionError("command failed (exit %d): %s\n--- stdout\n%s\n--- stderr\n%s"
                                 % (proc.returncode, " ".join(cmd), proc.stdout, proc.stderr))
        return proc

    def call(self, *args):
        out = self.run_cli(*args).stdout.strip()
        return json.loads(out) if out else {}

    def parallel(self, *calls):
        """Run independent CLI calls (zero-argument callables) at once.

        Each CLI process spends about a second starting up, so running
        independent steps side by side keeps this file's run time down.
        Returns their results in order; the first exception is re-raised.
        """
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(calls)) as pool:
            futures = [pool.submit(c) for c in calls]
            return [f.result() for f in futures]

    def assert_cli_error(self, proc, code, message=None):
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        self.assertIn("An error occurred (%s)" % code, proc.stderr)
        if message is not None:
            self.assertIn(message, proc.stderr)
        self.assertEqual(proc.stdout.strip(), "")

    def new_name(self, prefix, fifo=False):
        return "pbx-cli-v%d-%s-%s%s" % (self.MAJOR, prefix, uuid.uuid4().hex[:10], ".fifo" if fifo else "")

    def test_core_flow(self):
        name = "pbx-cli-v%d-%s" % (self.MAJOR, uuid.uuid4().hex[:10])

        # create-queue / get-queue-url
        url = self.call("create-queue", "--queue-name", name,
                        "--attributes", "VisibilityTimeout=40,DelaySeconds=0")["QueueUrl"]
        type(self).queues.append(url)
        self.assertEqual(url, SERVER.queue_url(name))
        self.assertEqual(self.call("get-queue-url", "--queue-name", name)["QueueUrl"], url)

        # list-queues
        listed = self.call("list-queues", "--queue-name-prefix", name)
        self.assertEqual(listed.get("QueueUrls"), [url])

        # send-message with message attributes
        body = "hello from CLI v%d \u00e9\u4e2d" % self.MAJOR
        attrs = {
            "kind": {"DataType": "String", "StringValue": "cli"},
            "n": {"DataType": "Number", "StringValue": "12"},
        }
        sent = self.call("send-message", "--queue-url", url, "--message-body", body,
                         "--message-attributes", json.dumps(attrs))
        self.assertEqual(sent["MD5OfMessageBody"], harness.md5_hex(body))
        self.assertEqual(sent["MD5OfMessageAttributes"], harness.md5_of_message_attributes(attrs))
        self.assertTrue(sent["MessageId"])

        # get-queue-attributes
        qa = self.call("get-queue-attributes", "--queue-url", url, "--attribute-names", "All")["Attributes"]
        self.assertEqual(qa["QueueArn"], harness.queue_arn(name))
        self.assertEqual(qa["VisibilityTimeout"], "40")
        self.assertEqual(qa["ApproximateNumberOfMessages"], "1")

        # receive-message
        got = self.call("receive-message", "--queue-url", url, "--message-attribute-names", "All",
                        "--attribute-names", "All", "--wait-time-seconds", "1")
        msgs = got.get("Messages", [])
        self.assertEqual(len(msgs), 1, got)
        m = msgs[0]
        self.assertEqual(m["MessageId"], sent["MessageId"])
        self.assertEqual(m["Body"], body)
        self.assertEqual(m["MD5OfBody"], harness.md5_hex(body))
        self.assertEqual(m["MessageAttributes"], attrs)
        self.assertEqual(m["MD5OfMessageAttributes"], sent["MD5OfMessageAttributes"])
        self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "1")

        # delete-message
        proc = self.run_cli("delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
        self.assertEqual(proc.stdout.strip(), "")
        qa = self.call("get-queue-attributes", "--queue-url", url, "--attribute-names",
                       "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")["Attributes"]
        self.assertEqual(qa, {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"})

        # purge-queue
        self.call("send-message", "--queue-url", url, "--message-body", "to be purged")
        self.run_cli("purge-queue", "--queue-url", url)
        got = self.call("receive-message", "--queue-url", url)
        self.assertEqual(got.get("Messages", []), [])

        # delete-queue
        self.run_cli("delete-queue", "--queue-url", url)
        self.assertNotIn(url, self.call("list-queues", "--queue-name-prefix", name).get("QueueUrls", []))

    def test_get_queue_url_of_missing_queue_fails(self):
        proc = self.run_cli("get-queue-url", "--queue-name", "pbx-cli-missing-" + uuid.uuid4().hex[:10],
                            check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("AWS.SimpleQueueService.NonExistentQueue", proc.stderr)
        self.assertEqual(proc.stdout.strip(), "")

    # ------------------------------------------------------------- FIFO
    def test_fifo_flow(self):
        name = self.new_name("fifo", fifo=True)
        url = self.call("create-queue", "--queue-name", name, "--attributes",
                        "FifoQueue=true,ContentBasedDeduplication=false,"
                        "DeduplicationScope=messageGroup,FifoThroughputLimit=perMessageGroupId,"
                        "VisibilityTimeout=40")["QueueUrl"]
        type(self).queues.append(url)
        self.assertEqual(url, SERVER.queue_url(name))

        attrs, first, no_group = self.parallel(
            lambda: self.call("get-queue-attributes", "--queue-url", url, "--attribute-names", "All"),
            lambda: self.call("send-message", "--queue-url", url, "--message-body", "first",
                              "--message-group-id", "g1", "--message-deduplication-id", "d-1"),
            # FIFO error: no MessageGroupId.
            lambda: self.run_cli("send-message", "--queue-url", url, "--message-body", "x",
                                 "--message-deduplication-id", "d-x", check=False),
        )
        qa = attrs["Attributes"]
        self.assertEqual(qa["FifoQueue"], "true")
        self.assertEqual(qa["ContentBasedDeduplication"], "false")
        self.assertEqual(qa["DeduplicationScope"], "messageGroup")
        self.assertEqual(qa["FifoThroughputLimit"], "perMessageGroupId")
        self.assertEqual(qa["VisibilityTimeout"], "40")
        self.assertEqual(qa["QueueArn"], harness.queue_arn(name))

        self.assertEqual(first["MD5OfMessageBody"], harness.md5_hex("first"))
        self.assertRegex(first["SequenceNumber"], r"^\d+$")
        self.assert_cli_error(no_group, "MissingParameter",
                              "The request must contain the parameter MessageGroupId.")

        dup, batch = self.parallel(
            # Same deduplication id: accepted, the original MessageId comes back.
            lambda: self.call("send-message", "--queue-url", url, "--message-body", "first again",
                              "--message-group-id", "g1", "--message-deduplication-id", "d-1"),
            lambda: self.call("send-message-batch", "--queue-url", url, "--entries", json.dumps([
                {"Id": "b1", "MessageBody": "second", "MessageGroupId": "g1", "MessageDeduplicationId": "d-2"},
                {"Id": "b2", "MessageBody": "third", "MessageGroupId": "g2", "MessageDeduplicationId": "d-3"},
            ])),
        )
        self.assertEqual(dup["MessageId"], first["MessageId"])
        self.assertEqual(dup.get("SequenceNumber"), first["SequenceNumber"])
        self.assertEqual(batch.get("Failed", []), [])
        by_id = {e["Id"]: e for e in batch["Successful"]}
        self.assertEqual(sorted(by_id), ["b1", "b2"])
        for e in by_id.values():
            self.assertRegex(e["SequenceNumber"], r"^\d+$")
            self.assertGreater(int(e["SequenceNumber"]), int(first["SequenceNumber"]))
        self.assertEqual(by_id["b1"]["MD5OfMessageBody"], harness.md5_hex("second"))

        got = self.call("receive-message", "--queue-url", url, "--attribute-names", "All",
                        "--max-number-of-messages", "10", "--wait-time-seconds", "1")
        msgs = got.get("Messages", [])
        # The duplicate was not enqueued: three messages, each group in order.
        self.assertEqual(sorted(m["Body"] for m in msgs), ["first", "second", "third"], got)
        g1 = [m for m in msgs if m["Attributes"]["MessageGroupId"] == "g1"]
        self.assertEqual([m["Body"] for m in g1], ["first", "second"])
        expected = {
            "first": ("g1", first["SequenceNumber"], "d-1"),
            "second": ("g1", by_id["b1"]["SequenceNumber"], "d-2"),
            "third": ("g2", by_id["b2"]["SequenceNumber"], "d-3"),
        }
        for m in msgs:
            a = m["Attributes"]
            self.assertEqual((a["MessageGroupId"], a["SequenceNumber"], a["MessageDeduplicationId"]),
                             expected[m["Body"]])
            self.assertEqual(a["ApproximateReceiveCount"], "1")
        self.assertEqual([m["MessageId"] for m in msgs if m["Body"] == "first"], [first["MessageId"]])

    # -------------------------------------------------- message move tasks
    def test_message_move_tasks(self):
        dlq_name, src_name = self.new_name("dlq"), self.new_name("src")
        dlq_arn, src_arn = harness.queue_arn(dlq_name), harness.queue_arn(src_name)
        missing_arn = harness.queue_arn(self.new_name("missing"))
        unknown, dlq = self.parallel(
            lambda: self.run_cli("start-message-move-task", "--source-arn", missing_arn, check=False),
            lambda: self.call("create-queue", "--queue-name", dlq_name),
        )
        dlq_url = dlq["QueueUrl"]
        type(self).queues.append(dlq_url)
        if "invalid choice" in unknown.stderr.lower():
            self.skipTest("AWS CLI v%d has no start-message-move-task" % self.MAJOR)
        self.assert_cli_error(unknown, "ResourceNotFoundException",
                              "The resource that you specified for the SourceArn parameter doesn't exist.")

        policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
        # 20 messages at 1 message/s: the task is still running when it is
        # cancelled, even on a slow machine (each CLI call takes 1-2 s).
        n = 20

        def send_batch(first):
            return self.call("send-message-batch", "--queue-url", dlq_url, "--entries", json.dumps(
                [{"Id": "m%d" % i, "MessageBody": "dead %d" % i} for i in range(first, first + 10)]))

        src, sent1, sent2 = self.parallel(
            # The source queue's RedrivePolicy makes the other one a dead-letter queue.
            lambda: self.call("create-queue", "--queue-name", src_name, "--attributes",
                              json.dumps({"RedrivePolicy": policy})),
            lambda: send_batch(0),
            lambda: send_batch(10),
        )
        src_url = src["QueueUrl"]
        type(self).queues.append(src_url)
        self.assertEqual(len(sent1["Successful"]) + len(sent2["Successful"]), n)

        # A slow task (1 message/s). The messages were sent straight to the DLQ,
        # so they have no known source: the destination is given explicitly.
        started, not_dlq = self.parallel(
            lambda: self.call("start-message-move-task", "--source-arn", dlq_arn, "--destination-arn", src_arn,
                              "--max-number-of-messages-per-second", "1"),
            # The source queue is no queue's dead-letter queue.
            lambda: self.run_cli("start-message-move-task", "--source-arn", src_arn, check=False),
        )
        handle = started["TaskHandle"]
        self.assertTrue(handle)
        self.assert_cli_error(not_dlq, "InvalidParameterValue",
                              "Source queue must be configured as a Dead Letter Queue.")

        listed = self.call("list-message-move-tasks", "--source-arn", dlq_arn)["Results"]
        self.assertEqual(len(listed), 1, listed)
        t = listed[0]
        self.assertEqual(t["Status"], "RUNNING", t)
        self.assertEqual(t["TaskHandle"], handle)
        self.assertEqual(t["SourceArn"], dlq_arn)
        self.assertEqual(t["DestinationArn"], src_arn)
        self.assertEqual(t["MaxNumberOfMessagesPerSecond"], 1)
        self.assertEqual(t["ApproximateNumberOfMessagesToMove"], n)
        self.assertLess(t["ApproximateNumberOfMessagesMoved"], n)
        self.assertIsInstance(t["StartedTimestamp"], int)

        cancelled = self.call("cancel-message-move-task", "--task-handle", handle)
        self.assertLess(cancelled["ApproximateNumberOfMessagesMoved"], n)
        deadline = time.monotonic() + 15
        while True:
            t = self.call("list-message-move-tasks", "--source-arn", dlq_arn)["Results"][0]
            if t["Status"] != "CANCELLING" or time.monotonic() > deadline:
                break
        self.assertEqual(t["Status"], "CANCELLED", t)
        self.assertNotIn("TaskHandle", t)
        self.assertEqual(t["DestinationArn"], src_arn)
        self.assertGreaterEqual(t["ApproximateNumberOfMessagesMoved"], cancelled["ApproximateNumberOfMessagesMoved"])
        self.assertLess(t["ApproximateNumberOfMessagesMoved"], n)


class CliV1JsonProtocol(CliFlow, unittest.TestCase):
    MAJOR = 1


class CliV2QueryProtocol(CliFlow, unittest.TestCase):
    MAJOR = 2


if __name__ == "__main__":
    unittest.main()
