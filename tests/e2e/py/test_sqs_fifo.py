#!/usr/bin/env python3
"""End-to-end scenarios for postbox's FIFO queues, deduplication, redrive and
dead-letter message move tasks, driven through boto3.

Runs unchanged under two interpreters, which exercise the two wire protocols:

  python3 tests/e2e/py/test_sqs_fifo.py            # boto3 1.43: JSON 1.0 protocol
  /usr/bin/python3 tests/e2e/py/test_sqs_fifo.py   # Debian boto3 1.26: query/XML protocol

Debian's botocore 1.29 predates StartMessageMoveTask / ListMessageMoveTasks /
CancelMessageMoveTask and MessageSystemAttributeNames: the tests that need them
skip themselves there.

Error codes are the codes botocore reports (query <Code>; for JSON the first
field of x-amzn-query-error), as in test_sqs_boto3.py.  Where the expected
message text is quoted, it is AWS's exact text as recorded against real AWS
(LocalStack's AWS-validated snapshots, or real errors pasted in public issues);
texts known only from emulators are asserted by code and status only, or by a
fragment, and marked so.
"""

import base64
import hashlib
import json
import os
import re
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import uid  # noqa: E402

SEQ_RE = re.compile(r"^[1-9]\d{19}$")  # like AWS's: 20 digits, no leading zero
MOVE_RATE_MSG = ("Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must enter a "
                 "number that's between 1 and 500.")
NOT_RETRYABLE = ("Value %s for parameter ReceiveRequestAttemptId is invalid. Reason: The "
                 "receiveRequestAttemptId is not valid anymore since the receive call is not retryable.")
TOKEN_REASON = ("Value %s for parameter %s is invalid. Reason: %s can only include alphanumeric and "
                "punctuation characters. 1 to 128 in length.")
NO_DEDUP_MSG = ("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                "provided explicitly")
NO_GROUP_MSG = "The request must contain the parameter MessageGroupId."
STD_NAME_MSG = "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
FIFO_NAME_MSG = ("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, "
                 "must end with .fifo suffix and be 1 to 80 in length.")


class FifoE2E(harness.SqsTestCase):
    # ----------------------------------------------------------- helpers
    def create_fifo(self, name=None, attributes=None, prefix="f"):
        name = name or self.new_name(prefix, fifo=True)
        attrs = {"FifoQueue": "true"}
        attrs.update(attributes or {})
        return self.create(name, attrs)

    def drain(self, url, timeout=10.0, delete=True, **kw):
        """Receive (and delete) until two empty polls; returns the messages in receive order."""
        out, empty = [], 0
        deadline = time.monotonic() + timeout
        kw.setdefault("AttributeNames", ["All"])
        kw.setdefault("MessageAttributeNames", ["All"])
        while empty < 2 and time.monotonic() < deadline:
            msgs = self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=60, **kw)
            if not msgs:
                empty += 1
                time.sleep(0.05)
                continue
            empty = 0
            out += msgs
            if delete:
                self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
        self.assertGreaterEqual(empty, 2, "queue %s not drained within %.0f s" % (url, timeout))
        return out

    def send_fifo(self, url, body, group="g", dedup=None, **kw):
        return self.sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group,
                                     MessageDeduplicationId=dedup or uid(), **kw)

    def require_move_tasks(self):
        if not hasattr(self.sqs, "start_message_move_task"):
            self.skipTest("this botocore has no StartMessageMoveTask")

    def assertSeq(self, value):
        self.assertRegex(value, SEQ_RE, "SequenceNumber must be a 20-digit decimal string")

    def dlq_with_source(self, fifo=False, max_receive=1, source_attrs=None):
        """(dlq_url, source_url): source's RedrivePolicy targets the DLQ."""
        dlq = self.create_fifo(prefix="dlq") if fifo else self.create(self.new_name("dlq"))
        policy = json.dumps({"deadLetterTargetArn": self.arn_of(dlq), "maxReceiveCount": max_receive})
        attrs = {"RedrivePolicy": policy}
        attrs.update(source_attrs or {})
        src = self.create_fifo(prefix="src", attributes=attrs) if fifo else self.create(self.new_name("src"), attrs)
        return dlq, src

    def fill(self, url, n, prefix="m", fifo=False, group_of=None):
        """Sends n messages (batches of 10); returns the bodies in send order."""
        bodies = ["%s-%03d" % (prefix, i) for i in range(n)]
        for start in range(0, n, 10):
            entries = []
            for i in range(start, min(n, start + 10)):
                e = {"Id": "e%d" % i, "MessageBody": bodies[i]}
                if fifo:
                    e["MessageGroupId"] = group_of(i) if group_of else "g"
                    e["MessageDeduplicationId"] = "d-" + bodies[i]
                entries.append(e)
            resp = self.sqs.send_message_batch(QueueUrl=url, Entries=entries)
            self.assertEqual(resp.get("Failed", []), [])
        return bodies

    def push_to_dlq(self, src, expected, timeout=10.0):
        """Receives every message of src (maxReceiveCount=1) once, then again so that each
        moves to the dead-letter queue.  Returns the first receives."""
        first = []
        deadline = time.monotonic() + timeout
        while len(first) < expected and time.monotonic() < deadline:
            first += self.receive(src, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                  AttributeNames=["All"], MessageAttributeNames=["All"])
        self.assertEqual(len(first), expected)
        while time.monotonic() < deadline:
            got = self.receive(src, MaxNumberOfMessages=10, VisibilityTimeout=0)
            self.assertEqual(got, [], "message delivered beyond maxReceiveCount")
            if self.counters(src) == (0, 0, 0):
                break
        self.assertEqual(self.counters(src), (0, 0, 0))
        return first

    def list_tasks(self, source_arn, **kw):
        return self.sqs.list_message_move_tasks(SourceArn=source_arn, **kw).get("Results", [])

    def wait_task(self, source_arn, statuses=("COMPLETED",), timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            results = self.list_tasks(source_arn)
            self.assertTrue(results, "ListMessageMoveTasks returned no task")
            if results[0]["Status"] in statuses or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertIn(results[0]["Status"], statuses, results[0])
        return results[0]

    # ===================================================== CreateQueue / attributes
    def test_create_fifo_queue_default_attributes(self):
        name = self.new_name("f", fifo=True)
        url = self.create_fifo(name)
        self.assertEqual(url, self.server.queue_url(name))
        got = self.attrs(url)
        created, modified = got.pop("CreatedTimestamp", None), got.pop("LastModifiedTimestamp", None)
        self.assertTrue(created and modified)
        # AWS-recorded GetQueueAttributes(All) of a new FIFO queue
        self.assertEqual(got, {
            "QueueArn": harness.queue_arn(name),
            "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0",
            "ApproximateNumberOfMessagesDelayed": "0",
            "DelaySeconds": "0",
            "MaximumMessageSize": "1048576",
            "MessageRetentionPeriod": "345600",
            "ReceiveMessageWaitTimeSeconds": "0",
            "VisibilityTimeout": "30",
            "SqsManagedSseEnabled": "true",
            "FifoQueue": "true",
            "ContentBasedDeduplication": "false",
            "DeduplicationScope": "queue",
            "FifoThroughputLimit": "perQueue",
        })
        self.assertEqual(self.attrs(url, ["FifoQueue", "DeduplicationScope"]),
                         {"FifoQueue": "true", "DeduplicationScope": "queue"})
        # a standard queue has none of the FIFO attributes
        std = self.attrs(self.create())
        for a in ("FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"):
            self.assertNotIn(a, std)

    def test_create_fifo_queue_is_idempotent(self):
        name = self.new_name("f", fifo=True)
        url = self.create_fifo(name, {"VisibilityTimeout": "40"})
        self.assertEqual(self.sqs.create_queue(QueueName=name, Attributes={
            "FifoQueue": "true", "VisibilityTimeout": "40"})["QueueUrl"], url)
        self.assertEqual(self.sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"], url)
        # explicit defaults match
        self.assertEqual(self.sqs.create_queue(QueueName=name, Attributes={
            "FifoQueue": "true", "ContentBasedDeduplication": "false", "DeduplicationScope": "queue",
            "FifoThroughputLimit": "perQueue"})["QueueUrl"], url)
        # AWS-recorded: "...different value for attribute ContentBasedDeduplication" (no period)
        self.assertAwsError("QueueAlreadyExists", 400, self.raw.create_queue, QueueName=name,
                            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
                            message="A queue already exists with the same name and a different value for "
                                    "attribute ContentBasedDeduplication")
        self.assertEqual(self.attrs(url, ["ContentBasedDeduplication"]), {"ContentBasedDeduplication": "false"})

    def test_create_queue_name_and_fifo_attribute_must_agree(self):
        base = "pbx-mix-" + uid()
        # .fifo name without FifoQueue=true is validated as a standard name (real AWS text)
        self.assertAwsError("InvalidParameterValue", 400, self.raw.create_queue, QueueName=base + ".fifo",
                            message=STD_NAME_MSG)
        self.assertAwsError("InvalidParameterValue", 400, self.raw.create_queue, QueueName=base + ".fifo",
                            Attributes={"FifoQueue": "false"}, message=STD_NAME_MSG)
        # FifoQueue=true without .fifo (real AWS text, with the final period)
        self.assertAwsError("InvalidParameterValue", 400, self.raw.create_queue, QueueName=base,
                            Attributes={"FifoQueue": "true"}, message=FIFO_NAME_MSG)
        # ".fifo" counts towards the 80 characters; bad characters are refused too
        long_base = ("x" + uid() * 10)[:75]
        self.assertAwsError("InvalidParameterValue", 400, self.raw.create_queue, QueueName=long_base + "y.fifo",
                            Attributes={"FifoQueue": "true"})
        self.assertAwsError("InvalidParameterValue", 400, self.raw.create_queue, QueueName="bad!name.fifo",
                            Attributes={"FifoQueue": "true"})
        for n in (base, base + ".fifo"):
            self.assertAwsError("AWS.SimpleQueueService.NonExistentQueue", 400, self.raw.get_queue_url, QueueName=n)
        url = self.create_fifo(long_base + ".fifo")  # exactly 80
        self.assertEqual(len(self.name_of(url)), 80)

    def test_create_fifo_queue_with_capitalised_boolean(self):
        # AWS-validated (LocalStack's suite): booleans are case-insensitive, "FifoQueue": "True" works
        name = self.new_name("f", fifo=True)
        url = self.create(name, {"FifoQueue": "True", "ContentBasedDeduplication": "False"})
        self.assertEqual(self.attrs(url, ["FifoQueue", "ContentBasedDeduplication"]),
                         {"FifoQueue": "true", "ContentBasedDeduplication": "false"})

    def test_per_message_group_throughput_needs_message_group_scope(self):
        msg = ("Invalid value for the parameter FifoThroughputLimit. Reason: To set FifoThroughputLimit to "
               "perMessageGroupId, the DeduplicationScope must be messageGroup.")
        for attrs in ({"FifoThroughputLimit": "perMessageGroupId"},
                      {"FifoThroughputLimit": "perMessageGroupId", "DeduplicationScope": "queue"}):
            with self.subTest(attrs=attrs):
                a = {"FifoQueue": "true"}
                a.update(attrs)
                self.assertAwsError("InvalidAttributeValue", 400, self.raw.create_queue,
                                    QueueName=self.new_name("f", fifo=True), Attributes=a, message=msg)
        # the opposite combination is allowed
        url = self.create_fifo(attributes={"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perQueue"})
        self.assertEqual(self.attrs(url, ["DeduplicationScope", "FifoThroughputLimit"]),
                         {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perQueue"})
        # and SetQueueAttributes checks the resulting combination
        self.assertAwsError("InvalidAttributeValue", 400, self.raw.set_queue_attributes, QueueUrl=url,
                            Attributes={"DeduplicationScope": "queue", "FifoThroughputLimit": "perMessageGroupId"},
                            message=msg)

    def test_fifo_only_attributes_on_standard_queue(self):
        # AWS-recorded (test_create_standard_queue_with_fifo_attribute_raises_error)
        cases = [
            ({"ContentBasedDeduplication": "false"}, "Unknown Attribute ContentBasedDeduplication."),
            ({"DeduplicationScope": "queue"},
             "You can specify the DeduplicationScope only when FifoQueue is set to true."),
            ({"FifoThroughputLimit": "perQueue"},
             "You can specify the FifoThroughputLimit only when FifoQueue is set to true."),
        ]
        std = self.create()
        for attrs, msg in cases:
            with self.subTest(attrs=attrs):
                self.assertAwsError("InvalidAttributeName", 400, self.raw.create_queue,
                                    QueueName=self.new_name(), Attributes=attrs, message=msg)
                self.assertAwsError("InvalidAttributeName", 400, self.raw.set_queue_attributes,
                                    QueueUrl=std, Attributes=attrs)
        # AWS-recorded (test_set_unsupported_attribute_fifo)
        self.assertAwsError("InvalidAttributeName", 400, self.raw.set_queue_attributes, QueueUrl=std,
                            Attributes={"FifoQueue": "true"}, message="Unknown Attribute FifoQueue.")

    def test_create_standard_queue_with_fifo_queue_false_is_refused(self):
        # AWS-recorded (test_create_standard_queue_with_fifo_attribute_raises_error):
        # FifoQueue=false on a standard name is an unknown attribute.
        self.assertAwsError("InvalidAttributeName", 400, self.raw.create_queue, QueueName=self.new_name(),
                            Attributes={"FifoQueue": "false"}, message="Unknown Attribute FifoQueue.")

    def test_set_queue_attributes_fifo_queue(self):
        url = self.create_fifo()
        # AWS-recorded: FifoQueue=true on a FIFO queue is a no-op, false is refused
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})
        self.assertAwsError("InvalidAttributeValue", 400, self.raw.set_queue_attributes, QueueUrl=url,
                            Attributes={"FifoQueue": "false"},
                            message="Invalid value for the parameter FifoQueue. Reason: Modifying queue type "
                                    "is not supported.")
        self.assertEqual(self.attrs(url, ["FifoQueue"]), {"FifoQueue": "true"})

    def test_switch_fifo_queue_to_high_throughput(self):
        url = self.create_fifo()
        # AWS-recorded (test_fifo_change_to_high_throughput_after_creation)
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={
            "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"})
        self.assertEqual(self.attrs(url, ["DeduplicationScope", "FifoThroughputLimit", "FifoQueue"]), {
            "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId", "FifoQueue": "true"})
        # the new scope applies at once: one dedup id in two groups is two messages
        a = self.send_fifo(url, "a", group="g1", dedup="same")
        b = self.send_fifo(url, "b", group="g2", dedup="same")
        self.assertNotEqual(a["MessageId"], b["MessageId"])
        self.assertEqual(self.send_fifo(url, "a2", group="g1", dedup="same")["MessageId"], a["MessageId"])
        self.assertEqual(sorted(m["Body"] for m in self.drain(url)), ["a", "b"])
        # and back
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={
            "DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue", "ContentBasedDeduplication": "true"})
        self.assertEqual(self.attrs(url, ["DeduplicationScope", "FifoThroughputLimit", "ContentBasedDeduplication"]),
                         {"DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue",
                          "ContentBasedDeduplication": "true"})

    # ===================================================== ordering
    def test_order_within_groups_with_concurrent_consumers(self):
        url = self.create_fifo()
        groups, per_group = 5, 16
        total = groups * per_group
        # interleave the groups across batches
        order = [(g, i) for i in range(per_group) for g in range(groups)]
        for start in range(0, total, 10):
            entries = [{"Id": "e%d" % k, "MessageBody": "g%d:%d" % order[k], "MessageGroupId": "grp-%d" % order[k][0],
                        "MessageDeduplicationId": "d-%d-%d" % order[k]}
                       for k in range(start, min(total, start + 10))]
            self.assertEqual(self.sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", []), [])

        lock = threading.Lock()
        seen = []                      # (group, index) in the order the server handed them out
        errors = []
        done = threading.Event()
        deadline = time.monotonic() + 20

        def consumer(n):
            client = self.server.client()
            try:
                while not done.is_set() and time.monotonic() < deadline:
                    msgs = client.receive_message(QueueUrl=url, MaxNumberOfMessages=1 + n % 3, WaitTimeSeconds=1,
                                                  VisibilityTimeout=30, AttributeNames=["MessageGroupId"]
                                                  ).get("Messages", [])
                    parsed = []
                    for m in msgs:
                        g, i = m["Body"][1:].split(":")
                        if m["Attributes"].get("MessageGroupId") != "grp-" + g:
                            errors.append("wrong MessageGroupId on %r" % m)
                        parsed.append((int(g), int(i)))
                    # recorded before the delete: the group's next message cannot be handed
                    # out before the delete, so the shared list is in server order per group
                    with lock:
                        seen.extend(parsed)
                        if len(seen) >= total:
                            done.set()
                    for m in msgs:
                        client.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(repr(exc))
            finally:
                client.close()

        threads = [threading.Thread(target=consumer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertFalse(any(t.is_alive() for t in threads), "consumer thread hung")
        self.assertEqual(errors, [])
        self.assertEqual(len(seen), len(set(seen)), "a message was delivered twice")
        self.assertEqual(len(seen), total)
        for g in range(groups):
            self.assertEqual([i for gg, i in seen if gg == g], list(range(per_group)), "group %d out of order" % g)
        self.assertEqual(self.counters(url), (0, 0, 0))

    def test_group_blocked_while_in_flight(self):
        url = self.create_fifo()
        a1 = self.send_fifo(url, "a1", group="A")["MessageId"]
        a2 = self.send_fifo(url, "a2", group="A")["MessageId"]
        b1 = self.send_fifo(url, "b1", group="B")["MessageId"]
        m = self.receive_one(url, MaxNumberOfMessages=1, VisibilityTimeout=60)
        self.assertEqual(m["MessageId"], a1)
        # A is blocked by a1 in flight; only B's message can go out
        got = self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        self.assertEqual([x["MessageId"] for x in got], [b1])
        b2 = self.send_fifo(url, "b2", group="B")["MessageId"]
        self.assertEqual(self.receive(url, MaxNumberOfMessages=10), [])
        self.assertEqual(self.counters(url), (2, 2, 0))
        # deleting a1 releases a2
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        m2 = self.receive_one(url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                              AttributeNames=["ApproximateReceiveCount"])
        self.assertEqual(m2["MessageId"], a2)
        # making b1 visible again releases group B, starting with b1 itself
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=0)
        again = self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                             AttributeNames=["ApproximateReceiveCount"], WaitTimeSeconds=1)
        self.assertEqual([(x["MessageId"], x["Attributes"]["ApproximateReceiveCount"]) for x in again],
                         [(b1, "2"), (b2, "1")])

    def test_receive_returns_a_groups_messages_in_order_in_one_call(self):
        url = self.create_fifo()
        ids = [self.send_fifo(url, "m%d" % i, group="one")["MessageId"] for i in range(5)]
        got = self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=60, WaitTimeSeconds=1)
        self.assertEqual([m["MessageId"] for m in got], ids)

    # ===================================================== SequenceNumber / system attributes
    def test_sequence_numbers_and_system_attributes(self):
        url = self.create_fifo()
        seqs = []
        sent = []
        for i in range(3):
            r = self.send_fifo(url, "s%d" % i, group="G1", dedup="dd-%d" % i)
            self.assertSeq(r["SequenceNumber"])
            seqs.append(int(r["SequenceNumber"]))
            sent.append(r)
        batch = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "b%d" % i, "MessageBody": "b%d" % i, "MessageGroupId": "G%d" % (i % 2),
             "MessageDeduplicationId": "bd-%d" % i} for i in range(4)])
        self.assertEqual(batch.get("Failed", []), [])
        ok = sorted(batch["Successful"], key=lambda e: e["Id"])
        for e in ok:
            self.assertSeq(e["SequenceNumber"])
            self.assertEqual(e["MD5OfMessageBody"], harness.md5_hex(e["Id"]))
        seqs += [int(e["SequenceNumber"]) for e in ok]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), len(seqs), "SequenceNumber must strictly increase")

        got = self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=60, AttributeNames=["All"],
                           WaitTimeSeconds=1)
        by_id = {m["MessageId"]: m for m in got}
        first = by_id[sent[0]["MessageId"]]["Attributes"]
        self.assertEqual(set(first), {"ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount",
                                      "MessageDeduplicationId", "MessageGroupId", "SenderId", "SentTimestamp",
                                      "SequenceNumber"})
        self.assertEqual(first["SequenceNumber"], sent[0]["SequenceNumber"])
        self.assertEqual(first["MessageGroupId"], "G1")
        self.assertEqual(first["MessageDeduplicationId"], "dd-0")
        self.assertEqual(first["ApproximateReceiveCount"], "1")
        for e in ok:
            a = by_id[e["MessageId"]]["Attributes"]
            self.assertEqual(a["SequenceNumber"], e["SequenceNumber"])
            self.assertEqual(a["MessageDeduplicationId"], "bd-" + e["Id"][1:])

        # only what was asked for
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=by_id[sent[0]["MessageId"]]["ReceiptHandle"],
                                           VisibilityTimeout=0)
        m = self.receive_one(url, AttributeNames=["SequenceNumber", "MessageGroupId"], VisibilityTimeout=0)
        self.assertEqual(m["Attributes"], {"SequenceNumber": sent[0]["SequenceNumber"], "MessageGroupId": "G1"})
        if self.supports_system_attribute_names():
            m = self.receive_one(url, MessageSystemAttributeNames=["MessageDeduplicationId", "SequenceNumber"],
                                 VisibilityTimeout=0)
            self.assertEqual(m["Attributes"], {"SequenceNumber": sent[0]["SequenceNumber"],
                                               "MessageDeduplicationId": "dd-0"})
            m = self.receive_one(url, MessageSystemAttributeNames=["All"], VisibilityTimeout=0)
            self.assertEqual(m["Attributes"]["MessageGroupId"], "G1")
            self.assertEqual(m["Attributes"]["SequenceNumber"], sent[0]["SequenceNumber"])

        # standard queues: no SequenceNumber
        std = self.create()
        r = self.sqs.send_message(QueueUrl=std, MessageBody="x")
        self.assertNotIn("SequenceNumber", r)
        b = self.sqs.send_message_batch(QueueUrl=std, Entries=[{"Id": "a", "MessageBody": "y"}])
        self.assertNotIn("SequenceNumber", b["Successful"][0])

    # ===================================================== deduplication
    def test_deduplication_by_explicit_id(self):
        url = self.create_fifo()
        first = self.send_fifo(url, "original", group="g", dedup="dup-1")
        again = self.send_fifo(url, "different body", group="g", dedup="dup-1")
        self.assertEqual(again["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual((again["MessageId"], again["SequenceNumber"]),
                         (first["MessageId"], first["SequenceNumber"]))
        # same id from another group: still the queue-scope duplicate
        other = self.send_fifo(url, "other group", group="h", dedup="dup-1")
        self.assertEqual(other["MessageId"], first["MessageId"])
        # in a batch: a duplicate of an earlier send, and two entries sharing an id
        resp = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "dup-1"},
            {"Id": "b", "MessageBody": "y", "MessageGroupId": "g", "MessageDeduplicationId": "dup-2"},
            {"Id": "c", "MessageBody": "z", "MessageGroupId": "g", "MessageDeduplicationId": "dup-2"},
        ])
        self.assertEqual(resp.get("Failed", []), [])
        ok = {e["Id"]: e for e in resp["Successful"]}
        self.assertEqual(ok["a"]["MessageId"], first["MessageId"])
        self.assertEqual(ok["a"]["SequenceNumber"], first["SequenceNumber"])
        self.assertEqual(ok["c"]["MessageId"], ok["b"]["MessageId"])
        self.assertEqual(ok["c"]["SequenceNumber"], ok["b"]["SequenceNumber"])
        self.assertEqual(self.counters(url), (2, 0, 0))
        got = self.drain(url)
        self.assertEqual([(m["MessageId"], m["Body"]) for m in got],
                         [(first["MessageId"], "original"), (ok["b"]["MessageId"], "y")])
        # deduplication outlives the delete (AWS-recorded)
        after = self.send_fifo(url, "third try", group="g", dedup="dup-1")
        self.assertEqual(after["MessageId"], first["MessageId"])
        self.assertEqual(self.receive(url, WaitTimeSeconds=1), [])

    def test_content_based_deduplication(self):
        url = self.create_fifo(attributes={"ContentBasedDeduplication": "true"})
        body = "same body " + uid()
        a = self.sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
        b = self.sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g",
                                  MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
        self.assertEqual((b["MessageId"], b["SequenceNumber"]), (a["MessageId"], a["SequenceNumber"]))
        c = self.sqs.send_message(QueueUrl=url, MessageBody=body + "!", MessageGroupId="g")
        self.assertNotEqual(c["MessageId"], a["MessageId"])
        # an explicit id overrides the content hash
        d = self.sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g", MessageDeduplicationId="x1")
        self.assertNotEqual(d["MessageId"], a["MessageId"])
        got = self.drain(url)
        self.assertEqual([m["MessageId"] for m in got], [a["MessageId"], c["MessageId"], d["MessageId"]])
        # AWS-recorded: the deduplication id is the SHA-256 hex of the body
        self.assertEqual(got[0]["Attributes"]["MessageDeduplicationId"], hashlib.sha256(body.encode()).hexdigest())
        self.assertEqual(got[2]["Attributes"]["MessageDeduplicationId"], "x1")

    def test_deduplication_scope_message_group(self):
        url = self.create_fifo(attributes={"DeduplicationScope": "messageGroup"})
        a = self.send_fifo(url, "a", group="g1", dedup="same")
        b = self.send_fifo(url, "b", group="g2", dedup="same")
        self.assertNotEqual(a["MessageId"], b["MessageId"])
        a2 = self.send_fifo(url, "a-again", group="g1", dedup="same")
        self.assertEqual((a2["MessageId"], a2["SequenceNumber"]), (a["MessageId"], a["SequenceNumber"]))
        got = self.drain(url)
        self.assertEqual(sorted((m["Body"], m["MessageId"]) for m in got),
                         [("a", a["MessageId"]), ("b", b["MessageId"])])

    # ===================================================== send errors
    def test_send_without_group_id(self):
        url = self.create_fifo()
        # AWS-recorded: MissingParameter on SendMessage ...
        self.assertAwsError("MissingParameter", 400, self.raw.send_message, QueueUrl=url, MessageBody="x",
                            MessageDeduplicationId="d1", message=NO_GROUP_MSG)
        # ... and the group error comes first when both ids are missing
        self.assertAwsError("MissingParameter", 400, self.raw.send_message, QueueUrl=url, MessageBody="x",
                            message=NO_GROUP_MSG)
        # ... but the whole SendMessageBatch fails with InvalidParameterValue
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message_batch, QueueUrl=url, Entries=[
            {"Id": "ok", "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d2"},
            {"Id": "bad", "MessageBody": "y", "MessageDeduplicationId": "d3"},
        ], message=NO_GROUP_MSG)
        self.assertEqual(self.counters(url), (0, 0, 0), "nothing of a refused batch may be stored")

    def test_send_without_deduplication_id(self):
        url = self.create_fifo()
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url, MessageBody="x",
                            MessageGroupId="g", message=NO_DEDUP_MSG)
        # a whole-request error in a batch too, even with a valid entry beside it
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message_batch, QueueUrl=url, Entries=[
            {"Id": "ok", "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d2"},
            {"Id": "bad", "MessageBody": "y", "MessageGroupId": "g"},
        ], message=NO_DEDUP_MSG)
        self.assertEqual(self.counters(url), (0, 0, 0))

    def test_send_delay_seconds_on_fifo(self):
        url = self.create_fifo()
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url, MessageBody="x",
                            MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=5,
                            message="Value 5 for parameter DelaySeconds is invalid. Reason: The request include "
                                    "parameter that is not valid for this queue type.")
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url, MessageBody="x",
                            MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=900,
                            message_contains="Value 900 for parameter DelaySeconds is invalid.")
        r = self.sqs.send_message(QueueUrl=url, MessageBody="zero", MessageGroupId="g", MessageDeduplicationId="d0",
                                  DelaySeconds=0)
        self.assertSeq(r["SequenceNumber"])
        self.assertEqual(self.receive_one(url)["MessageId"], r["MessageId"])

    def test_fifo_zero_delay_seconds_keeps_queue_delay(self):
        url = self.create_fifo(attributes={"DelaySeconds": "1"})
        # 0 is accepted; the queue's delay then applies (AWS-recorded)
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "1"})
        r = self.sqs.send_message(QueueUrl=url, MessageBody="zero", MessageGroupId="g", MessageDeduplicationId="d0",
                                  DelaySeconds=0)
        self.assertSeq(r["SequenceNumber"])
        b = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "1", "MessageBody": "b1", "MessageGroupId": "g", "MessageDeduplicationId": "d1", "DelaySeconds": 0}])
        self.assertEqual(b.get("Failed", []), [])
        self.assertEqual(self.counters(url), (0, 0, 2))
        self.assertEqual(self.receive(url), [])
        # both become visible after the queue's 1 s delay (a long poll would return as soon as
        # the first does, and the second is in the same group, so wait them out instead)
        time.sleep(1.5)
        got = self.receive(url, MaxNumberOfMessages=10)
        self.assertEqual([m["Body"] for m in got], ["zero", "b1"])

    def test_send_invalid_group_and_deduplication_ids(self):
        url = self.create_fifo()
        for value in ("group 123", "a" * 129, "tab\there", "caf\u00e9"):
            with self.subTest(value=value):
                self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url,
                                    MessageBody="x", MessageGroupId=value, MessageDeduplicationId="d",
                                    message=TOKEN_REASON % (value, "MessageGroupId", "MessageGroupId"))
                self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url,
                                    MessageBody="x", MessageGroupId="g", MessageDeduplicationId=value,
                                    message=TOKEN_REASON % (value, "MessageDeduplicationId",
                                                            "MessageDeduplicationId"))
        # 128 characters of the allowed set are accepted
        punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
        long_id = (punct + "A1" * 64)[:128]
        r = self.sqs.send_message(QueueUrl=url, MessageBody="ok", MessageGroupId=long_id,
                                  MessageDeduplicationId=long_id)
        m = self.receive_one(url, AttributeNames=["All"])
        self.assertEqual(m["MessageId"], r["MessageId"])
        self.assertEqual(m["Attributes"]["MessageGroupId"], long_id)
        self.assertEqual(m["Attributes"]["MessageDeduplicationId"], long_id)

    def test_send_empty_group_id_is_invalid_not_missing(self):
        # AWS-recorded: an empty MessageGroupId is an invalid value ("Value  for parameter ...",
        # two spaces), not a missing parameter
        url = self.create_fifo()
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url, MessageBody="x",
                            MessageGroupId="", MessageDeduplicationId="d",
                            message=TOKEN_REASON % ("", "MessageGroupId", "MessageGroupId"))

    def test_fifo_parameters_on_standard_queue(self):
        url = self.create()
        # MessageDeduplicationId: refused (emulator text; code asserted, text by fragment)
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url, MessageBody="x",
                            MessageDeduplicationId="d1",
                            message_contains="Value d1 for parameter MessageDeduplicationId is invalid.")
        # MessageGroupId: accepted (fair queues), returned, no SequenceNumber (AWS-recorded)
        r = self.sqs.send_message(QueueUrl=url, MessageBody="fair", MessageGroupId="test")
        self.assertNotIn("SequenceNumber", r)
        m = self.receive_one(url, AttributeNames=["All"])
        self.assertEqual(m["MessageId"], r["MessageId"])
        self.assertEqual(m["Attributes"].get("MessageGroupId"), "test")
        self.assertNotIn("SequenceNumber", m["Attributes"])
        self.assertNotIn("MessageDeduplicationId", m["Attributes"])
        self.assertEqual(set(m["Attributes"]), {"ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount",
                                                "MessageGroupId", "SenderId", "SentTimestamp"})
        # the group id is still validated
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url, MessageBody="x",
                            MessageGroupId="group 123",
                            message=TOKEN_REASON % ("group 123", "MessageGroupId", "MessageGroupId"))
        # messages without a group id carry none
        self.sqs.send_message(QueueUrl=url, MessageBody="plain")
        m = self.receive_one(url, AttributeNames=["All"])
        self.assertNotIn("MessageGroupId", m["Attributes"])

    # ===================================================== ReceiveRequestAttemptId
    def test_receive_request_attempt_id_retry(self):
        url = self.create_fifo()
        for i in range(3):
            self.send_fifo(url, "a%d" % i, group="A")
        self.send_fifo(url, "b0", group="B")
        first = self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=60, ReceiveRequestAttemptId="att-1",
                             WaitTimeSeconds=1)
        self.assertEqual(sorted(m["Body"] for m in first), ["a0", "a1", "a2", "b0"])
        retry = self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=60, ReceiveRequestAttemptId="att-1")
        self.assertEqual([(m["MessageId"], m["ReceiptHandle"]) for m in retry],
                         [(m["MessageId"], m["ReceiptHandle"]) for m in first])
        # another attempt id is a new receive: everything is in flight
        self.assertEqual(self.receive(url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="att-2"), [])
        # the handles of the retry work
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=retry[0]["ReceiptHandle"])
        # after a delete the original receive is not retryable (real AWS text)
        self.assertAwsError("InvalidParameterValue", 400, self.raw.receive_message, QueueUrl=url,
                            MaxNumberOfMessages=10, ReceiveRequestAttemptId="att-1",
                            message=NOT_RETRYABLE % "att-1")
        self.assertEqual(self.counters(url), (0, 3, 0))

    def test_receive_request_attempt_id_after_visibility_change(self):
        url = self.create_fifo()
        self.send_fifo(url, "x", group="A")
        first = self.receive(url, VisibilityTimeout=60, ReceiveRequestAttemptId="att-v", WaitTimeSeconds=1)
        self.assertEqual(len(first), 1)
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"],
                                           VisibilityTimeout=100)
        self.assertAwsError("InvalidParameterValue", 400, self.raw.receive_message, QueueUrl=url,
                            ReceiveRequestAttemptId="att-v", message=NOT_RETRYABLE % "att-v")

    def test_receive_request_attempt_id_ignored_on_standard_queue(self):
        url = self.create()
        self.sqs.send_message(QueueUrl=url, MessageBody="one")
        self.sqs.send_message(QueueUrl=url, MessageBody="two")
        a = self.receive(url, VisibilityTimeout=60, ReceiveRequestAttemptId="same", WaitTimeSeconds=1)
        b = self.receive(url, VisibilityTimeout=60, ReceiveRequestAttemptId="same", WaitTimeSeconds=1)
        self.assertEqual(len(a), 1)
        self.assertEqual(len(b), 1)
        self.assertNotEqual(a[0]["MessageId"], b[0]["MessageId"], "a standard queue must not replay the receive")

    # ===================================================== long polling
    def test_long_poll_wakes_when_group_is_released(self):
        url = self.create_fifo()
        self.send_fifo(url, "first", group="only")
        second = self.send_fifo(url, "second", group="only")["MessageId"]
        m = self.receive_one(url, VisibilityTimeout=60)
        self.assertEqual(m["Body"], "first")
        waiter = self.server.client()
        result = {}

        def wait():
            t0 = time.monotonic()
            result["msgs"] = waiter.receive_message(QueueUrl=url, WaitTimeSeconds=10, VisibilityTimeout=60
                                                    ).get("Messages", [])
            result["t"] = time.monotonic()
            result["elapsed"] = result["t"] - t0

        t = threading.Thread(target=wait)
        t.start()
        try:
            time.sleep(0.8)
            self.assertNotIn("msgs", result, "long poll returned while the group was blocked")
            t_delete = time.monotonic()
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        finally:
            t.join(15)
            waiter.close()
        self.assertEqual([x["MessageId"] for x in result["msgs"]], [second])
        self.assertLess(result["t"] - t_delete, 2.5, "long poll did not wake on the delete (%.2f s total)"
                        % result["elapsed"])

    def test_long_poll_wakes_when_visibility_is_reset(self):
        url = self.create_fifo()
        sent = self.send_fifo(url, "only", group="g")["MessageId"]
        m = self.receive_one(url, VisibilityTimeout=60)
        waiter = self.server.client()
        result = {}

        def wait():
            result["msgs"] = waiter.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
            result["t"] = time.monotonic()

        t = threading.Thread(target=wait)
        t.start()
        try:
            time.sleep(0.8)
            t_change = time.monotonic()
            self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        finally:
            t.join(15)
            waiter.close()
        self.assertEqual([x["MessageId"] for x in result["msgs"]], [sent])
        self.assertLess(result["t"] - t_change, 2.5)

    # ===================================================== RedrivePolicy / RedriveAllowPolicy
    def test_redrive_policy_target_must_exist_and_match_type(self):
        missing = harness.queue_arn("pbx-missing-" + uid())
        raw = json.dumps({"deadLetterTargetArn": missing, "maxReceiveCount": 3})
        not_exist = "Value %s for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist." % raw
        self.assertAwsError("InvalidParameterValue", 400, self.raw.create_queue, QueueName=self.new_name(),
                            Attributes={"RedrivePolicy": raw}, message=not_exist)
        std = self.create()
        self.assertAwsError("InvalidParameterValue", 400, self.raw.set_queue_attributes, QueueUrl=std,
                            Attributes={"RedrivePolicy": raw}, message=not_exist)
        fifo_raw = json.dumps({"deadLetterTargetArn": missing + ".fifo", "maxReceiveCount": 3})
        self.assertAwsError("InvalidParameterValue", 400, self.raw.create_queue,
                            QueueName=self.new_name("f", fifo=True),
                            Attributes={"FifoQueue": "true", "RedrivePolicy": fifo_raw},
                            message_contains="Reason: Dead letter target does not exist.")

        # same type required (real AWS text, with its two periods)
        fifo_dlq, std_dlq = self.create_fifo(prefix="dlq"), self.create(self.new_name("dlq"))
        raw = json.dumps({"deadLetterTargetArn": self.arn_of(fifo_dlq), "maxReceiveCount": 3})
        self.assertAwsError("InvalidParameterValue", 400, self.raw.set_queue_attributes, QueueUrl=std,
                            Attributes={"RedrivePolicy": raw},
                            message="Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter queue "
                                    "must be same type of queue as the source.." % raw)
        raw = json.dumps({"deadLetterTargetArn": self.arn_of(std_dlq), "maxReceiveCount": 3})
        self.assertAwsError("InvalidParameterValue", 400, self.raw.create_queue,
                            QueueName=self.new_name("f", fifo=True),
                            Attributes={"FifoQueue": "true", "RedrivePolicy": raw},
                            message="Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter queue "
                                    "must be same type of queue as the source.." % raw)
        self.assertNotIn("RedrivePolicy", self.attrs(std))
        # a FIFO source with a FIFO DLQ is fine
        raw = json.dumps({"deadLetterTargetArn": self.arn_of(fifo_dlq), "maxReceiveCount": 3})
        src = self.create_fifo(attributes={"RedrivePolicy": raw})
        self.assertEqual(json.loads(self.attrs(src, ["RedrivePolicy"])["RedrivePolicy"]),
                         {"deadLetterTargetArn": self.arn_of(fifo_dlq), "maxReceiveCount": 3})

    def test_redrive_policy_field_errors(self):
        dlq = self.create(self.new_name("dlq"))
        arn = self.arn_of(dlq)
        cases = [
            ({"deadLetterTargetArn": arn, "maxReceiveCount": 0},
             "Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive."),
            ({"deadLetterTargetArn": arn, "maxReceiveCount": 1001},
             "Invalid value for maxReceiveCount: 1001, valid values are from 1 to 1000 both inclusive."),
            ({"deadLetterTargetArn": arn}, "Redrive policy does not contain mandatory attribute: maxReceiveCount."),
            ({"maxReceiveCount": 2}, "Redrive policy does not contain mandatory attribute: deadLetterTargetArn."),
        ]
        url = self.create()
        for policy, reason in cases:
            raw = json.dumps(policy)
            with self.subTest(policy=raw):
                self.assertAwsError("InvalidParameterValue", 400, self.raw.set_queue_attributes, QueueUrl=url,
                                    Attributes={"RedrivePolicy": raw},
                                    message="Value %s for parameter RedrivePolicy is invalid. Reason: %s"
                                            % (raw, reason))
        # maxReceiveCount as a string is accepted
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": arn, "maxReceiveCount": "5"})})
        self.assertEqual(json.loads(self.attrs(url, ["RedrivePolicy"])["RedrivePolicy"])["maxReceiveCount"], 5)

    def test_redrive_allow_policy_validation(self):
        dlq = self.create(self.new_name("dlq"))
        src_arn = harness.queue_arn("pbx-some-source")
        unsupported = ("Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't create the "
                       "redrive allow policy, as it\u2019s in an unsupported format.")
        prefix = ("Value %s for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't create the "
                  "redrive allow policy. ")
        cases = [
            ("not json", unsupported),
            (json.dumps({"redrivePermission": "sometimes"}), unsupported),
            (json.dumps({"redrivePermission": "allowAll", "unknownKey": 1}), unsupported),
            (json.dumps({"redrivePermission": "allowAll", "sourceQueueArns": [src_arn]}),
             prefix + "To specify one or more source queue ARNs, you must set redrivePermission to byQueue."),
            (json.dumps({"redrivePermission": "denyAll", "sourceQueueArns": [src_arn]}),
             prefix + "To specify one or more source queue ARNs, you must set redrivePermission to byQueue."),
            (json.dumps({"redrivePermission": "byQueue"}),
             prefix + "When you specify the byQueue permission type, you must also specify one or more "
                      "sourceQueueArns values."),
            (json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": []}),
             prefix + "When you specify the byQueue permission type, you must also specify one or more "
                      "sourceQueueArns values."),
            (json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [src_arn + str(i) for i in range(11)]}),
             prefix + "The maximum number of source queue ARNs you can specify is 10."),
        ]
        for raw, msg in cases:
            with self.subTest(policy=raw):
                expected = msg % raw if "%s" in msg else msg
                self.assertAwsError("InvalidParameterValue", 400, self.raw.set_queue_attributes, QueueUrl=dlq,
                                    Attributes={"RedriveAllowPolicy": raw}, message=expected)
        self.assertNotIn("RedriveAllowPolicy", self.attrs(dlq))
        ok = json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [src_arn + str(i) for i in range(10)]})
        self.sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": ok})
        self.assertEqual(json.loads(self.attrs(dlq, ["RedriveAllowPolicy"])["RedriveAllowPolicy"]), json.loads(ok))

    def test_redrive_allow_policy_is_enforced(self):
        dlq = self.create(self.new_name("dlq"), {"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})})
        raw = json.dumps({"deadLetterTargetArn": self.arn_of(dlq), "maxReceiveCount": 2})
        # AWS's text for this case is undocumented: code, status and the usual prefix only
        self.assertAwsError("InvalidParameterValue", 400, self.raw.create_queue, QueueName=self.new_name("src"),
                            Attributes={"RedrivePolicy": raw},
                            message_contains="Value %s for parameter RedrivePolicy is invalid." % raw)
        allowed_name, other_name = self.new_name("src"), self.new_name("src")
        self.sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(
            {"redrivePermission": "byQueue", "sourceQueueArns": [harness.queue_arn(allowed_name)]})})
        allowed = self.create(allowed_name, {"RedrivePolicy": raw})
        self.assertIn("RedrivePolicy", self.attrs(allowed))
        other = self.create(other_name)
        self.assertAwsError("InvalidParameterValue", 400, self.raw.set_queue_attributes, QueueUrl=other,
                            Attributes={"RedrivePolicy": raw},
                            message_contains="Value %s for parameter RedrivePolicy is invalid." % raw)
        self.assertNotIn("RedrivePolicy", self.attrs(other))
        # allowAll again: the other source may use it
        self.sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(
            {"redrivePermission": "allowAll"})})
        self.sqs.set_queue_attributes(QueueUrl=other, Attributes={"RedrivePolicy": raw})
        self.assertEqual(sorted(self.sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]),
                         sorted([allowed, other]))

    def test_fifo_redrive_to_fifo_dead_letter_queue(self):
        dlq, src = self.dlq_with_source(fifo=True, max_receive=2)
        ids = [self.send_fifo(src, "p%d" % i, group="grp", dedup="pd-%d" % i)["MessageId"] for i in range(2)]
        for n in (1, 2):
            m = self.receive_one(src, VisibilityTimeout=0, MaxNumberOfMessages=1,
                                 AttributeNames=["ApproximateReceiveCount"])
            self.assertEqual((m["MessageId"], m["Attributes"]["ApproximateReceiveCount"]), (ids[0], str(n)))
        # the third receive moves p0 to the DLQ; the group then goes on with p1
        got = self.receive(src, VisibilityTimeout=60, MaxNumberOfMessages=1, WaitTimeSeconds=1)
        self.assertEqual([m["MessageId"] for m in got], [ids[1]])
        d = self.receive_one(dlq, WaitTimeSeconds=2, AttributeNames=["All"])
        self.assertEqual((d["MessageId"], d["Body"]), (ids[0], "p0"))
        self.assertEqual(d["Attributes"]["MessageGroupId"], "grp")
        self.assertEqual(d["Attributes"]["MessageDeduplicationId"], "pd-0")
        self.assertSeq(d["Attributes"]["SequenceNumber"])
        self.assertEqual(d["Attributes"].get("DeadLetterQueueSourceArn"), self.arn_of(src))

    # ===================================================== message move tasks
    def test_move_task_default_destination_returns_messages_to_their_sources(self):
        self.require_move_tasks()
        dlq, src1 = self.dlq_with_source()
        src2 = self.create(self.new_name("src"), {"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": self.arn_of(dlq), "maxReceiveCount": 1})})
        attrs = {"trace": {"DataType": "String", "StringValue": "abc"},
                 "n": {"DataType": "Number", "StringValue": "42"},
                 "bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"}}
        sent = {}
        for url, tag in ((src1, "one"), (src2, "two")):
            for i in range(2):
                body = "%s-%d" % (tag, i)
                r = self.sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attrs)
                sent[body] = (url, r)
            self.push_to_dlq(url, 2)
        self.assertEqual(self.counters(dlq), (4, 0, 0))

        dlq_arn = self.arn_of(dlq)
        t0_ms = int(time.time() * 1000)
        handle = self.sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
        self.assertTrue(handle)
        done = self.wait_task(dlq_arn)
        self.assertEqual(done["SourceArn"], dlq_arn)
        self.assertEqual(done["ApproximateNumberOfMessagesMoved"], 4)
        self.assertEqual(done["ApproximateNumberOfMessagesToMove"], 4)
        # AWS-recorded: no DestinationArn / MaxNumberOfMessagesPerSecond unless given; no handle once done
        for absent in ("TaskHandle", "DestinationArn", "MaxNumberOfMessagesPerSecond", "FailureReason"):
            self.assertNotIn(absent, done)
        self.assertIsInstance(done["StartedTimestamp"], int)
        self.assertLess(abs(done["StartedTimestamp"] - t0_ms), 60000, "StartedTimestamp must be epoch ms")
        self.assertEqual(self.counters(dlq), (0, 0, 0))

        for url in (src1, src2):
            got = self.drain(url)
            self.assertEqual(len(got), 2)
            for m in got:
                orig_url, r = sent[m["Body"]]
                self.assertEqual(orig_url, url, "message went back to the wrong source")
                self.assertNotEqual(m["MessageId"], r["MessageId"], "a redriven message has a new MessageId")
                self.assertEqual(m["MD5OfBody"], r["MD5OfMessageBody"])
                self.assertEqual(m["MessageAttributes"], attrs)
                self.assertEqual(m["MD5OfMessageAttributes"], r["MD5OfMessageAttributes"])
                self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "1")

    def test_move_task_explicit_destination_and_rate_limit(self):
        self.require_move_tasks()
        dlq, _src = self.dlq_with_source()
        dest = self.create(self.new_name("dest"))
        bodies = self.fill(dlq, 20, prefix="rate")
        dlq_arn, dest_arn = self.arn_of(dlq), self.arn_of(dest)
        t0 = time.monotonic()
        handle = self.sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=dest_arn,
                                                  MaxNumberOfMessagesPerSecond=5)["TaskHandle"]
        running = self.list_tasks(dlq_arn)[0]
        self.assertEqual(running["Status"], "RUNNING")
        self.assertEqual(running["TaskHandle"], handle)
        self.assertEqual(running["DestinationArn"], dest_arn)
        self.assertEqual(running["MaxNumberOfMessagesPerSecond"], 5)
        self.assertEqual(running["ApproximateNumberOfMessagesToMove"], 20)
        self.assertLess(running["ApproximateNumberOfMessagesMoved"], 20)
        time.sleep(1.0)
        mid = self.list_tasks(dlq_arn)[0]
        self.assertEqual(mid["Status"], "RUNNING")
        self.assertLess(mid["ApproximateNumberOfMessagesMoved"], 15, "rate limit not applied: %r" % mid)
        done = self.wait_task(dlq_arn, timeout=15)
        elapsed = time.monotonic() - t0
        # 20 messages at 5/s need about 4 s; allow for an initial burst
        self.assertGreaterEqual(elapsed, 3.0, "20 messages at 5/s moved in %.2f s" % elapsed)
        self.assertEqual(done["ApproximateNumberOfMessagesMoved"], 20)
        self.assertEqual(done["DestinationArn"], dest_arn)
        self.assertEqual(done["MaxNumberOfMessagesPerSecond"], 5)
        self.assertNotIn("TaskHandle", done)
        self.assertEqual(sorted(m["Body"] for m in self.drain(dest)), bodies)
        self.assertEqual(self.counters(dlq), (0, 0, 0))

    def test_cancel_move_task(self):
        self.require_move_tasks()
        dlq, _src = self.dlq_with_source()
        dest = self.create(self.new_name("dest"))
        bodies = self.fill(dlq, 30, prefix="cancel")
        dlq_arn = self.arn_of(dlq)
        handle = self.sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=self.arn_of(dest),
                                                  MaxNumberOfMessagesPerSecond=4)["TaskHandle"]
        time.sleep(1.2)
        resp = self.sqs.cancel_message_move_task(TaskHandle=handle)
        moved = resp["ApproximateNumberOfMessagesMoved"]
        self.assertIsInstance(moved, int)
        self.assertLess(moved, 30)
        time.sleep(0.5)
        entry = self.list_tasks(dlq_arn)[0]
        self.assertEqual(entry["Status"], "CANCELLED")
        self.assertNotIn("TaskHandle", entry)
        self.assertGreaterEqual(entry["ApproximateNumberOfMessagesMoved"], moved)
        self.assertEqual(entry["ApproximateNumberOfMessagesToMove"], 30)
        time.sleep(0.5)
        self.assertEqual(self.list_tasks(dlq_arn)[0]["ApproximateNumberOfMessagesMoved"],
                         entry["ApproximateNumberOfMessagesMoved"], "a cancelled task kept moving")
        # nothing lost, nothing doubled
        in_dest = [m["Body"] for m in self.drain(dest)]
        in_dlq = [m["Body"] for m in self.drain(dlq)]
        self.assertEqual(len(in_dest), entry["ApproximateNumberOfMessagesMoved"])
        self.assertEqual(sorted(in_dest + in_dlq), bodies)
        # only a RUNNING task can be cancelled (AWS's error for this case is not recorded;
        # it no longer resolves the handle, as for an unknown task)
        self.assertAwsError("ResourceNotFoundException", 404, self.raw.cancel_message_move_task, TaskHandle=handle)
        # the source is free for a new task
        self.sqs.send_message(QueueUrl=dlq, MessageBody="late")
        self.sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=self.arn_of(dest))
        self.wait_task(dlq_arn)

    def test_list_message_move_tasks_history(self):
        self.require_move_tasks()
        dlq, _src = self.dlq_with_source()
        dest = self.create(self.new_name("dest"))
        dlq_arn = self.arn_of(dlq)
        self.assertEqual(self.list_tasks(dlq_arn), [])
        self.fill(dlq, 2)
        self.sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=self.arn_of(dest))
        first = self.wait_task(dlq_arn)
        self.fill(dlq, 3, prefix="n")
        self.sqs.start_message_move_task(SourceArn=dlq_arn)
        # messages sent straight to the DLQ have no source: CouldNotDetermineMessageSource
        failed = self.wait_task(dlq_arn, statuses=("FAILED",))
        self.assertEqual(failed.get("FailureReason"), "CouldNotDetermineMessageSource")
        self.assertNotIn("TaskHandle", failed)
        self.assertNotIn("DestinationArn", failed)
        self.assertEqual(failed["ApproximateNumberOfMessagesToMove"], 3)
        # default MaxResults is 1: the newest only
        self.assertEqual(len(self.list_tasks(dlq_arn)), 1)
        both = self.list_tasks(dlq_arn, MaxResults=10)
        self.assertEqual([t["Status"] for t in both], ["FAILED", "COMPLETED"])
        self.assertEqual(both[1]["ApproximateNumberOfMessagesMoved"], 2)
        self.assertEqual(both[1]["DestinationArn"], self.arn_of(dest))
        self.assertGreaterEqual(both[0]["StartedTimestamp"], first["StartedTimestamp"])
        # the messages that could not be moved are still in the DLQ
        self.assertEqual(sorted(m["Body"] for m in self.drain(dlq)), ["n-000", "n-001", "n-002"])

    def test_move_task_errors(self):
        self.require_move_tasks()
        dlq, src = self.dlq_with_source()
        fifo_dlq, _fsrc = self.dlq_with_source(fifo=True)
        plain = self.create()
        dlq_arn = self.arn_of(dlq)
        missing_arn = harness.queue_arn("pbx-missing-" + uid())
        start = self.raw.start_message_move_task
        # AWS-recorded errors
        self.assertAwsError("InvalidParameterValue", 400, start, SourceArn=self.arn_of(plain),
                            message="Source queue must be configured as a Dead Letter Queue.")
        self.assertAwsError("ResourceNotFoundException", 404, start, SourceArn=missing_arn,
                            message="The resource that you specified for the SourceArn parameter doesn't exist.")
        self.assertAwsError("ResourceNotFoundException", 404, start, SourceArn=dlq_arn, DestinationArn=missing_arn,
                            message="The resource that you specified for the DestinationArn parameter doesn't exist.")
        self.assertAwsError("InvalidParameterValue", 400, self.raw.cancel_message_move_task,
                            TaskHandle="garbage!!", message="Value for parameter TaskHandle is invalid.")
        unknown = base64.b64encode(json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": dlq_arn}).encode()).decode()
        self.assertAwsError("ResourceNotFoundException", 404, self.raw.cancel_message_move_task, TaskHandle=unknown,
                            message="Task does not exist.")
        gone = base64.b64encode(json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": missing_arn}).encode()).decode()
        self.assertAwsError("ResourceNotFoundException", 404, self.raw.cancel_message_move_task, TaskHandle=gone,
                            message="The resource that you specified for the SourceArn parameter doesn't exist.")
        # emulator-derived texts (medium confidence)
        for rate in (0, 501, -1):
            with self.subTest(rate=rate):
                self.assertAwsError("InvalidParameterValue", 400, start, SourceArn=dlq_arn,
                                    MaxNumberOfMessagesPerSecond=rate, message=MOVE_RATE_MSG)
        self.assertAwsError("InvalidParameterValue", 400, start, SourceArn=dlq_arn, DestinationArn=dlq_arn)
        self.assertAwsError("InvalidParameterValue", 400, start, SourceArn=dlq_arn,
                            DestinationArn=self.arn_of(fifo_dlq))
        self.assertAwsError("InvalidParameterValue", 400, start, SourceArn="not-an-arn")
        self.assertAwsError("ResourceNotFoundException", 404, self.raw.list_message_move_tasks, SourceArn=missing_arn)
        for n in (0, 11):
            self.assertAwsError("InvalidParameterValue", 400, self.raw.list_message_move_tasks, SourceArn=dlq_arn,
                                MaxResults=n)
        self.assertEqual(self.list_tasks(dlq_arn), [], "failed starts must not create tasks")

        # one active task per source (AWS-recorded)
        self.fill(dlq, 10)
        dest = self.create(self.new_name("dest"))
        handle = self.sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=self.arn_of(dest),
                                                  MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
        self.assertAwsError("InvalidParameterValue", 400, start, SourceArn=dlq_arn,
                            message="There is already a task running. Only one active task is allowed for a "
                                    "source queue arn at a given time.")
        self.sqs.cancel_message_move_task(TaskHandle=handle)
        self.assertEqual(self.list_tasks(dlq_arn)[0]["Status"], "CANCELLED")

    def test_move_task_fails_when_destination_is_deleted(self):
        self.require_move_tasks()
        dlq, _src = self.dlq_with_source()
        dest = self.create(self.new_name("dest"))
        self.fill(dlq, 20)
        dlq_arn = self.arn_of(dlq)
        self.sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=self.arn_of(dest),
                                         MaxNumberOfMessagesPerSecond=2)
        time.sleep(0.8)
        self.sqs.delete_queue(QueueUrl=dest)
        failed = self.wait_task(dlq_arn, statuses=("FAILED",), timeout=5)
        # AWS-recorded (test_move_task_delete_destination_queue_while_running)
        self.assertEqual(failed["FailureReason"], "AWS.SimpleQueueService.NonExistentQueue")
        self.assertNotIn("TaskHandle", failed)
        left = self.counters(dlq)[0]
        self.assertEqual(left + failed["ApproximateNumberOfMessagesMoved"], 20)

    def test_fifo_move_task_to_explicit_fifo_destination_keeps_group_order(self):
        self.require_move_tasks()
        dlq, _src = self.dlq_with_source(fifo=True)
        dest = self.create_fifo(prefix="dest")
        groups = ("ga", "gb", "gc")
        sent = {}
        for i in range(5):
            for g in groups:
                body = "%s-%d" % (g, i)
                sent[body] = self.send_fifo(dlq, body, group=g, dedup="x-" + body)["MessageId"]
        # ga's first message is in flight in the DLQ: the task must not move ga's later
        # messages ahead of it, and may only finish once it is visible again (about 2 s)
        held = self.receive_one(dlq, MaxNumberOfMessages=1, VisibilityTimeout=2)
        self.assertEqual(held["Body"], "ga-0")
        dlq_arn = self.arn_of(dlq)
        self.sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=self.arn_of(dest))
        done = self.wait_task(dlq_arn, timeout=10)
        self.assertEqual(done["ApproximateNumberOfMessagesMoved"], 15)
        self.assertEqual(done["ApproximateNumberOfMessagesToMove"], 15)
        got = self.drain(dest)
        self.assertEqual(sorted(m["Body"] for m in got), sorted(sent))
        for g in groups:
            in_group = [m for m in got if m["Attributes"]["MessageGroupId"] == g]
            self.assertEqual([m["Body"] for m in in_group], ["%s-%d" % (g, i) for i in range(5)], "group %s" % g)
            nums = [int(m["Attributes"]["SequenceNumber"]) for m in in_group]
            self.assertEqual(nums, sorted(nums))
            for m in in_group:
                self.assertSeq(m["Attributes"]["SequenceNumber"])
                self.assertNotEqual(m["MessageId"], sent[m["Body"]])
                # AWS doc: a FIFO redrive deduplicates by the original message id
                self.assertEqual(m["Attributes"]["MessageDeduplicationId"], sent[m["Body"]])
        self.assertEqual(self.counters(dlq), (0, 0, 0))

    def test_fifo_move_task_back_to_fifo_source_keeps_group_order(self):
        self.require_move_tasks()
        dlq, src = self.dlq_with_source(fifo=True, max_receive=1)
        groups = ("ga", "gb", "gc")
        bodies = []
        original = {}
        for i in range(6):
            for g in groups:
                body = "%s-%d" % (g, i)
                bodies.append(body)
                original[body] = self.send_fifo(src, body, group=g, dedup="od-" + body)["MessageId"]
        self.push_to_dlq(src, len(bodies))
        self.assertEqual(self.counters(dlq), (len(bodies), 0, 0))

        dlq_arn = self.arn_of(dlq)
        self.sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=50)
        done = self.wait_task(dlq_arn, timeout=10)
        self.assertEqual(done["ApproximateNumberOfMessagesMoved"], len(bodies))

        got = self.drain(src)
        self.assertEqual(sorted(m["Body"] for m in got), sorted(bodies))
        seqs = {}
        for g in groups:
            in_group = [m for m in got if m["Attributes"]["MessageGroupId"] == g]
            self.assertEqual([m["Body"] for m in in_group], ["%s-%d" % (g, i) for i in range(6)], "group %s" % g)
            for m in in_group:
                self.assertSeq(m["Attributes"]["SequenceNumber"])
                seqs.setdefault(g, []).append(int(m["Attributes"]["SequenceNumber"]))
                self.assertNotEqual(m["MessageId"], original[m["Body"]])
                # AWS doc: a FIFO redrive replaces the deduplication id with the original message id
                self.assertEqual(m["Attributes"]["MessageDeduplicationId"], original[m["Body"]])
            self.assertEqual(seqs[g], sorted(seqs[g]))


if __name__ == "__main__":
    unittest.main()
