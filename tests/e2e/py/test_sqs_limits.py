#!/usr/bin/env python3
"""AWS's in-flight quotas through boto3 (1.43: JSON protocol; Debian's 1.26: query protocol).

A queue may have sqs.max_in_flight_messages (AWS: 120,000) messages in flight, a FIFO queue
sqs.max_in_flight_messages_fifo (AWS: 20,000). At the limit a standard queue's ReceiveMessage
fails with OverLimit and a FIFO queue's returns no messages; deleting a message makes room.
The server here runs with limits of 3 and 2 so that the test needs a handful of messages.
The counters the limit reads (ApproximateNumberOfMessagesNotVisible) are checked alongside.

  python3 tests/e2e/py/test_sqs_limits.py
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402


class InFlightLimits(harness.SqsTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.PostboxServer(extra_args=[
            "--sqs-max-in-flight-messages", "3", "--sqs-max-in-flight-messages-fifo", "2"])
        cls.server.require_local("the in-flight limit test (it sets the server's limits)")
        cls.server.start()
        cls.sqs = cls.server.client()
        cls.raw = cls.server.client(validate=False)
        cls.poller = cls.server.client()  # its own connection, for a long poll in a thread
        cls.protocol = harness.client_protocol(cls.sqs)
        cls._created = []

    @classmethod
    def tearDownClass(cls):
        cls.poller.close()
        super().tearDownClass()

    def send(self, url, count, fifo=False):
        for i in range(count):
            kw = {"MessageGroupId": "g%d" % i, "MessageDeduplicationId": "d%d" % i} if fifo else {}
            self.sqs.send_message(QueueUrl=url, MessageBody="m%d" % i, **kw)

    def test_a_standard_queue_at_its_limit_answers_over_limit(self):
        url = self.create()
        self.send(url, 5)
        first = self.receive(url, MaxNumberOfMessages=10)
        self.assertEqual(len(first), 3)  # as many as the limit leaves room for
        self.assertEqual(self.counters(url), (2, 3, 0))
        self.assertAwsError("OverLimit", 403, self.sqs.receive_message, QueueUrl=url,
                            MaxNumberOfMessages=10)
        # A receive that puts nothing in flight is not limited.
        self.assertEqual(len(self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=0)), 2)
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
        self.assertEqual(len(self.receive(url, MaxNumberOfMessages=10)), 1)
        self.assertEqual(self.counters(url), (1, 3, 0))
        status, text = harness.http_get(self.server.endpoint, "/metrics")
        labels = (("region", harness.REGION), ("account", harness.ACCOUNT_ID),
                  ("queue", self.name_of(url)))
        self.assertEqual(
            harness.metric_value(text, "postbox_queue_receives_over_limit_total", labels), 1)

    def test_a_fifo_queue_at_its_limit_answers_with_no_messages(self):
        url = self.create(self.new_name(fifo=True), {"FifoQueue": "true"})
        self.send(url, 4, fifo=True)  # four groups of one message
        first = self.receive(url, MaxNumberOfMessages=10)
        self.assertEqual(len(first), 2)
        self.assertEqual(self.receive(url, MaxNumberOfMessages=10), [])
        self.assertEqual(self.counters(url), (2, 2, 0))
        # A long poll waiting at the limit is woken by the delete that makes room.
        import threading
        polled = []
        poll = threading.Thread(target=lambda: polled.extend(
            self.receive(url, client=self.poller, MaxNumberOfMessages=10, WaitTimeSeconds=10)))
        poll.start()
        time.sleep(0.5)
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
        started = time.monotonic()
        poll.join(15)
        self.assertEqual(len(polled), 1)
        self.assertLess(time.monotonic() - started, 8)


if __name__ == "__main__":
    unittest.main()
