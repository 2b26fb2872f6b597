#!/usr/bin/env python3
"""MessageRetentionPeriod end to end, through boto3: a message older than its queue's
retention period is gone (visible or in flight), a younger one stays, and a restart does
not bring expired messages back.

AWS's smallest retention period is 60 s, so this test waits about 65 s of real time; the
core's unit tests cover the rest of the rules with a fake clock.

  python3 tests/e2e/py/test_sqs_retention.py
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import uid  # noqa: E402

RETENTION_S = 60


class RetentionE2E(unittest.TestCase):
    def setUp(self):
        self.server = harness.PostboxServer()
        self.server.require_local("the retention test (it restarts the server)")
        self.server.start()
        self.addCleanup(self.server.close)

    def counts(self, sqs, url):
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return (int(attrs["ApproximateNumberOfMessages"]),
                int(attrs["ApproximateNumberOfMessagesNotVisible"]))

    def bodies(self, sqs, url):
        """Bodies of every receivable message (visibility 0: they stay receivable)."""
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                   VisibilityTimeout=0).get("Messages", [])
        return sorted(m["Body"] for m in msgs)

    def test_messages_older_than_the_retention_period_are_removed(self):
        sqs = self.server.client()
        url = sqs.create_queue(QueueName="retention-" + uid(),
                               Attributes={"MessageRetentionPeriod": str(RETENTION_S)})["QueueUrl"]
        started = time.monotonic()
        # One old message is in flight when it expires: retention applies to it as well.
        sqs.send_message(QueueUrl=url, MessageBody="old-in-flight")
        received = sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)["Messages"]
        self.assertEqual([m["Body"] for m in received], ["old-in-flight"])
        for body in ("old-1", "old-2"):
            sqs.send_message(QueueUrl=url, MessageBody=body)
        self.assertEqual(self.counts(sqs, url), (2, 1))

        # Halfway through, a younger message that must outlive the old ones.
        time.sleep(max(0.0, started + RETENTION_S / 2 - time.monotonic()))
        sqs.send_message(QueueUrl=url, MessageBody="young")
        self.assertEqual(self.counts(sqs, url), (3, 1))

        # Past the old messages' retention period (the server sweeps every second).
        time.sleep(max(0.0, started + RETENTION_S + 3 - time.monotonic()))
        self.assertEqual(self.counts(sqs, url), (1, 0))
        self.assertEqual(self.bodies(sqs, url), ["young"])

        # Expired messages stay gone after a restart.
        self.server.stop()
        self.server.start()
        sqs = self.server.client()
        self.assertEqual(self.counts(sqs, url), (1, 0))
        self.assertEqual(self.bodies(sqs, url), ["young"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
