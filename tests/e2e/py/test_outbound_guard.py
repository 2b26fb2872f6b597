#!/usr/bin/env python3
"""End-to-end outbound guard: without `--dev` or outbound settings, postbox refuses to deliver
to loopback, private and metadata addresses that a subscriber names (by address or by a host
name that resolves to one), logs why, counts the refusal in /metrics and does not retry. With
outbound.allow_hosts naming the address, the same subscription gets its confirmation.

Runs under python3 (boto3 1.43) and /usr/bin/python3 (boto3 1.26)."""

import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_sns import make_sns_client  # noqa: E402
from test_sns_http import Subscriber  # noqa: E402


def refused_counts(server):
    status, text = harness.http_get(server.endpoint, "/metrics")
    assert status == 200, text
    return {m.group(1): int(float(m.group(2))) for m in re.finditer(
        r'^postbox_outbound_refused_total\{reason="(\w+)"\} (\S+)$', text, re.M)}


def wait_for_count(server, reason, at_least, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        counts = refused_counts(server)
        if counts.get(reason, 0) >= at_least:
            return counts
        time.sleep(0.1)
    return refused_counts(server)


class OutboundGuardByDefault(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # No --dev: the guard as a production server has it (credentials still not checked).
        cls.server = harness.PostboxServer(dev=False, extra_args=["--auth-mode", "dev"])
        cls.server.require_local("the outbound guard's defaults")
        cls.server.start()
        cls.sns = make_sns_client(cls.server.endpoint)
        cls.subscriber = Subscriber()

    @classmethod
    def tearDownClass(cls):
        cls.subscriber.close()
        cls.server.close()

    def subscribe(self, endpoint):
        topic = self.sns.create_topic(Name="guard-" + harness.uid())["TopicArn"]
        self.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
        return topic

    def test_loopback_by_address_and_by_name_is_refused(self):
        before = refused_counts(self.server).get("loopback", 0)
        port = self.subscriber.server.server_address[1]
        self.subscribe(self.subscriber.url)
        self.subscribe("http://localhost:%d/hook" % port)
        counts = wait_for_count(self.server, "loopback", before + 2)
        self.assertGreaterEqual(counts.get("loopback", 0), before + 2)
        log = self.server.output_with("refused by the outbound guard")
        self.assertIn("a loopback address (allow it with outbound.allow_hosts", log)
        self.assertIn("permanent=true", log)
        # Nothing reached the subscriber, and no retry comes.
        time.sleep(1)
        self.assertTrue(self.subscriber.requests.empty())

    def test_private_and_metadata_addresses_are_refused(self):
        before = refused_counts(self.server)
        self.subscribe("http://10.0.0.1/hook")
        self.subscribe("http://169.254.169.254/latest/meta-data/")
        counts = wait_for_count(self.server, "metadata", before.get("metadata", 0) + 1)
        counts = wait_for_count(self.server, "private", before.get("private", 0) + 1)
        self.assertEqual(counts.get("private", 0), before.get("private", 0) + 1)
        self.assertEqual(counts.get("metadata", 0), before.get("metadata", 0) + 1)


class OutboundGuardAllowList(unittest.TestCase):
    def test_an_allowed_host_gets_its_confirmation(self):
        server = harness.PostboxServer(
            dev=False, extra_args=["--auth-mode", "dev", "--outbound-allow-hosts", "127.0.0.1"])
        self.addCleanup(server.close)
        server.require_local("outbound.allow_hosts")
        server.start()
        subscriber = Subscriber()
        self.addCleanup(subscriber.close)
        sns = make_sns_client(server.endpoint)
        topic = sns.create_topic(Name="allowed-" + harness.uid())["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url)
        _, headers, body = subscriber.next()
        self.assertEqual(headers["x-amz-sns-message-type"], "SubscriptionConfirmation")
        self.assertEqual(json.loads(body)["TopicArn"], topic)
        self.assertEqual(sum(refused_counts(server).values()), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
