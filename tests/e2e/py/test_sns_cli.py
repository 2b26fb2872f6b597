#!/usr/bin/env python3
"""SNS topics, SQS subscriptions and publishing through the AWS CLI, against
postbox.

Both CLI generations speak SNS's query protocol; for SQS, v1 speaks JSON 1.0
and v2 the query protocol:
  - v1: `aws` on PATH (pip awscli 1.x on botocore 1.43)
  - v2: /usr/bin/aws (Debian awscli 2.9)
A variant whose binary is missing (or is not the expected major version) is
skipped.  Override the binaries with POSTBOX_AWS_CLI_V1 / POSTBOX_AWS_CLI_V2
(the CLIs are found as in test_sqs_cli.py).

Expected error codes, texts and envelope fields are AWS's (see
sns_research.md in the project notes).

  python3 tests/e2e/py/test_sns_cli.py
"""

import base64
import json
import os
import subprocess
import sys
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import test_sqs_cli  # noqa: E402  (find_cli, and the parallel() helper)

SERVER = None

UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# What the CLI exits with when the service answered with an error.
SERVICE_ERROR_EXIT = {1: 255, 2: 254}


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


def topic_arn(name):
    return "arn:aws:sns:%s:%s:%s" % (harness.REGION, harness.ACCOUNT_ID, name)


class SnsCliFlow:
    """Mixin; subclasses set MAJOR."""

    MAJOR = None
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.cli = test_sqs_cli.find_cli(cls.MAJOR)
        if cls.cli is None:
            raise unittest.SkipTest("AWS CLI v%d not found" % cls.MAJOR)
        cls.queues = []
        cls.topics = []

    @classmethod
    def tearDownClass(cls):
        if SERVER is not None and SERVER.is_external:
            for arn in cls.topics:
                cls.run_cli("sns", "delete-topic", "--topic-arn", arn, check=False)
            for url in cls.queues:
                cls.run_cli("sqs", "delete-queue", "--queue-url", url, check=False)

    @classmethod
    def run_cli(cls, service, *args, check=True):
        cmd = [cls.cli, "--endpoint-url", SERVER.endpoint, "--output", "json", service] + list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=harness.aws_env())
        if check and proc.returncode != 0:
            raise AssertionError("command failed (exit %d): %s\n--- stdout\n%s\n--- stderr\n%s"
                                 % (proc.returncode, " ".join(cmd), proc.stdout, proc.stderr))
        return proc

    def sns(self, *args):
        out = self.run_cli("sns", *args).stdout.strip()
        return json.loads(out) if out else {}

    def sqs(self, *args):
        out = self.run_cli("sqs", *args).stdout.strip()
        return json.loads(out) if out else {}

    parallel = test_sqs_cli.CliFlow.parallel

    def assert_cli_error(self, proc, code, message=None):
        self.assertEqual(proc.returncode, SERVICE_ERROR_EXIT[self.MAJOR], proc.stderr)
        self.assertIn("An error occurred (%s)" % code, proc.stderr)
        if message is not None:
            self.assertIn(message, proc.stderr)
        self.assertEqual(proc.stdout.strip(), "")

    def new_name(self, prefix, fifo=False):
        return "pbx-sns-cli-v%d-%s-%s%s" % (self.MAJOR, prefix, uuid.uuid4().hex[:10], ".fifo" if fifo else "")

    def new_queue(self, prefix, fifo=False):
        """Create a queue; returns (url, arn), the ARN read with get-queue-attributes.

        The visibility timeout is long enough that received messages never come
        back during the test, so they need not be deleted (each CLI call costs
        about a second).
        """
        name = self.new_name(prefix, fifo)
        attributes = "VisibilityTimeout=900" + (",FifoQueue=true" if fifo else "")
        url = self.sqs("create-queue", "--queue-name", name, "--attributes", attributes)["QueueUrl"]
        type(self).queues.append(url)
        arn = self.sqs("get-queue-attributes", "--queue-url", url,
                       "--attribute-names", "QueueArn")["Attributes"]["QueueArn"]
        self.assertEqual(arn, harness.queue_arn(name))
        return url, arn

    def new_topic(self, prefix, *extra, fifo=False):
        name = self.new_name(prefix, fifo)
        args = ["create-topic", "--name", name] + list(extra)
        if fifo:
            args += ["--attributes", "FifoTopic=true"]
        arn = self.sns(*args)["TopicArn"]
        self.assertEqual(arn, topic_arn(name))
        type(self).topics.append(arn)
        return arn

    def receive(self, url, n):
        """Receive until n messages came (exactly n: more is an error), in order."""
        got = []
        for _ in range(10):
            out = self.sqs("receive-message", "--queue-url", url, "--message-attribute-names", "All",
                           "--attribute-names", "All", "--max-number-of-messages", "10",
                           "--wait-time-seconds", "1" if n == 0 else "5")
            got += out.get("Messages", [])
            if len(got) >= n:
                break
        self.assertEqual(len(got), n, [m["Body"] for m in got])
        return got

    # ------------------------------------------------------------ main flow
    def test_core_flow(self):
        # create-topic (with a tag), two queues
        topic, (raw_url, raw_arn), (env_url, env_arn) = self.parallel(
            lambda: self.new_topic("flow", "--tags", "Key=env,Value=test"),
            lambda: self.new_queue("raw"),
            lambda: self.new_queue("env"),
        )

        # subscribe both
        raw_sub, env_sub = self.parallel(
            lambda: self.sns("subscribe", "--topic-arn", topic, "--protocol", "sqs",
                             "--notification-endpoint", raw_arn)["SubscriptionArn"],
            lambda: self.sns("subscribe", "--topic-arn", topic, "--protocol", "sqs",
                             "--notification-endpoint", env_arn)["SubscriptionArn"],
        )
        for sub in (raw_sub, env_sub):
            self.assertTrue(sub.startswith(topic + ":"), sub)
            self.assertRegex(sub[len(topic) + 1:], UUID_RE)

        # set-subscription-attributes RawMessageDelivery=true (no output)
        proc = self.run_cli("sns", "set-subscription-attributes", "--subscription-arn", raw_sub,
                            "--attribute-name", "RawMessageDelivery", "--attribute-value", "true")
        self.assertEqual(proc.stdout.strip(), "")
        sa = self.sns("get-subscription-attributes", "--subscription-arn", raw_sub)["Attributes"]
        self.assertEqual(sa["RawMessageDelivery"], "true")
        self.assertEqual((sa["TopicArn"], sa["Protocol"], sa["Endpoint"], sa["SubscriptionArn"]),
                         (topic, "sqs", raw_arn, raw_sub))
        self.assertEqual(sa["PendingConfirmation"], "false")

        # publish with a message attribute
        message = "hello from SNS CLI v%d \u00e9\u4e2d" % self.MAJOR
        attrs = {"k": {"DataType": "String", "StringValue": "v"}}
        published = self.sns("publish", "--topic-arn", topic, "--message", message, "--subject", "Hi",
                             "--message-attributes", json.dumps(attrs))
        self.assertRegex(published["MessageId"], UUID_RE)
        self.assertNotIn("SequenceNumber", published)

        # receive-message: the raw message with its attribute, and the JSON envelope
        raw, env = self.parallel(lambda: self.receive(raw_url, 1)[0], lambda: self.receive(env_url, 1)[0])
        self.assertEqual(raw["Body"], message)
        self.assertEqual(raw["MessageAttributes"], attrs)
        self.assertEqual(raw["MD5OfMessageAttributes"], harness.md5_of_message_attributes(attrs))
        self.assertNotIn("MessageAttributes", env)
        body = json.loads(env["Body"])
        self.assertEqual(body["Type"], "Notification")
        self.assertEqual(body["MessageId"], published["MessageId"])
        self.assertEqual(body["TopicArn"], topic)
        self.assertEqual(body["Subject"], "Hi")
        self.assertEqual(body["Message"], message)
        self.assertEqual(body["SignatureVersion"], "1")
        self.assertTrue(body["Signature"])
        self.assertTrue(body["SigningCertURL"].startswith(SERVER.endpoint + "/"), body["SigningCertURL"])
        unsubscribe = urllib.parse.parse_qs(urllib.parse.urlsplit(body["UnsubscribeURL"]).query)
        self.assertEqual((unsubscribe["Action"], unsubscribe["SubscriptionArn"]), (["Unsubscribe"], [env_sub]))
        self.assertEqual(body["MessageAttributes"], {"k": {"Type": "String", "Value": "v"}})

        # list-topics, list-subscriptions-by-topic, get-topic-attributes, list-tags-for-resource
        topics, subs, ta, tags = self.parallel(
            lambda: self.sns("list-topics")["Topics"],
            lambda: self.sns("list-subscriptions-by-topic", "--topic-arn", topic)["Subscriptions"],
            lambda: self.sns("get-topic-attributes", "--topic-arn", topic)["Attributes"],
            lambda: self.sns("list-tags-for-resource", "--resource-arn", topic)["Tags"],
        )
        self.assertIn({"TopicArn": topic}, topics)
        self.assertEqual(sorted(subs, key=lambda s: s["SubscriptionArn"]), sorted([
            {"SubscriptionArn": raw_sub, "Owner": harness.ACCOUNT_ID, "Protocol": "sqs",
             "Endpoint": raw_arn, "TopicArn": topic},
            {"SubscriptionArn": env_sub, "Owner": harness.ACCOUNT_ID, "Protocol": "sqs",
             "Endpoint": env_arn, "TopicArn": topic},
        ], key=lambda s: s["SubscriptionArn"]))
        self.assertEqual(ta["TopicArn"], topic)
        self.assertEqual(ta["Owner"], harness.ACCOUNT_ID)
        self.assertEqual(ta["DisplayName"], "")
        self.assertEqual(ta["SubscriptionsConfirmed"], "2")
        self.assertEqual(ta["SubscriptionsPending"], "0")
        self.assertEqual(json.loads(ta["Policy"])["Statement"][0]["Resource"], topic)
        self.assertEqual(tags, [{"Key": "env", "Value": "test"}])

        # tag-resource (overwrites env, adds team) / list-tags-for-resource
        proc = self.run_cli("sns", "tag-resource", "--resource-arn", topic,
                            "--tags", "Key=env,Value=prod", "Key=team,Value=queues")
        self.assertEqual(json.loads(proc.stdout or "{}"), {})
        tags = self.sns("list-tags-for-resource", "--resource-arn", topic)["Tags"]
        self.assertEqual(sorted(tags, key=lambda t: t["Key"]),
                         [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "queues"}])

        # publish-batch.  A blob given on the command line is base64 for CLI v2,
        # but taken as the text itself by CLI v1.
        bin_bytes = b"AAEC/w==" if self.MAJOR == 1 else b"\x00\x01\x02\xff"
        entries = [
            {"Id": "b1", "Message": "batch one"},
            {"Id": "b2", "Message": "batch two", "Subject": "two"},
            {"Id": "b3", "Message": "batch three",
             "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "3"},
                                   "bin": {"DataType": "Binary", "BinaryValue": "AAEC/w=="}}},
        ]
        batch = self.sns("publish-batch", "--topic-arn", topic, "--publish-batch-request-entries",
                         json.dumps(entries))
        self.assertEqual(batch.get("Failed"), [])
        self.assertEqual(sorted(e["Id"] for e in batch["Successful"]), ["b1", "b2", "b3"])
        ids = {e["Id"]: e["MessageId"] for e in batch["Successful"]}
        raws, envs = self.parallel(lambda: self.receive(raw_url, 3), lambda: self.receive(env_url, 3))
        self.assertEqual(sorted(m["Body"] for m in raws), ["batch one", "batch three", "batch two"])
        three = [m for m in raws if m["Body"] == "batch three"][0]
        self.assertEqual(three["MessageAttributes"]["n"], {"DataType": "Number", "StringValue": "3"})
        self.assertEqual(three["MessageAttributes"]["bin"]["DataType"], "Binary")
        self.assertEqual(base64.b64decode(three["MessageAttributes"]["bin"]["BinaryValue"]), bin_bytes)
        by_id = {b["MessageId"]: b for b in (json.loads(m["Body"]) for m in envs)}
        self.assertEqual(sorted(by_id), sorted(ids.values()))
        self.assertEqual(by_id[ids["b2"]]["Subject"], "two")
        self.assertNotIn("Subject", by_id[ids["b1"]])
        self.assertEqual(by_id[ids["b3"]]["MessageAttributes"],
                         {"n": {"Type": "Number", "Value": "3"},
                          "bin": {"Type": "Binary", "Value": base64.b64encode(bin_bytes).decode()}})

        # unsubscribe: the raw queue gets nothing more
        proc = self.run_cli("sns", "unsubscribe", "--subscription-arn", raw_sub)
        self.assertEqual(proc.stdout.strip(), "")
        subs, _ = self.parallel(
            lambda: self.sns("list-subscriptions-by-topic", "--topic-arn", topic)["Subscriptions"],
            lambda: self.sns("publish", "--topic-arn", topic, "--message", "after unsubscribe"),
        )
        self.assertEqual([s["SubscriptionArn"] for s in subs], [env_sub])
        after_env, _ = self.parallel(lambda: self.receive(env_url, 1), lambda: self.receive(raw_url, 0))
        self.assertEqual(json.loads(after_env[0]["Body"])["Message"], "after unsubscribe")

        # delete-topic: gone from list-topics and get-topic-attributes
        proc = self.run_cli("sns", "delete-topic", "--topic-arn", topic)
        self.assertEqual(proc.stdout.strip(), "")
        topics, gone = self.parallel(
            lambda: self.sns("list-topics")["Topics"],
            lambda: self.run_cli("sns", "get-topic-attributes", "--topic-arn", topic, check=False),
        )
        self.assertNotIn({"TopicArn": topic}, topics)
        self.assert_cli_error(gone, "NotFound", "Topic does not exist")

    # --------------------------------------------------------------- errors
    def test_errors(self):
        missing = topic_arn(self.new_name("missing"))
        topic = self.new_topic("errors")
        not_found, bad_arn, empty, tags_missing = self.parallel(
            lambda: self.run_cli("sns", "get-topic-attributes", "--topic-arn", missing, check=False),
            lambda: self.run_cli("sns", "get-topic-attributes", "--topic-arn", "not-an-arn", check=False),
            lambda: self.run_cli("sns", "publish", "--topic-arn", topic, "--message", "", check=False),
            lambda: self.run_cli("sns", "list-tags-for-resource", "--resource-arn", missing, check=False),
        )
        self.assert_cli_error(not_found, "NotFound", "Topic does not exist")
        self.assert_cli_error(bad_arn, "InvalidParameter",
                              "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1")
        self.assert_cli_error(empty, "InvalidParameter", "Invalid parameter: Empty message")
        self.assert_cli_error(tags_missing, "ResourceNotFound", "Resource does not exist")

    # ----------------------------------------------------------------- FIFO
    def test_fifo_topic_to_fifo_queue(self):
        topic, (url, arn) = self.parallel(
            lambda: self.new_topic("fifo", fifo=True),
            lambda: self.new_queue("fifo-q", fifo=True),
        )
        _, ta = self.parallel(
            lambda: self.sns("subscribe", "--topic-arn", topic, "--protocol", "sqs", "--notification-endpoint", arn,
                             "--attributes", "RawMessageDelivery=true"),
            lambda: self.sns("get-topic-attributes", "--topic-arn", topic)["Attributes"],
        )
        self.assertEqual(ta["FifoTopic"], "true")
        self.assertEqual(ta["ContentBasedDeduplication"], "false")

        first = self.sns("publish", "--topic-arn", topic, "--message", "one",
                         "--message-group-id", "g", "--message-deduplication-id", "d1")
        self.assertRegex(first["SequenceNumber"], r"^\d{20}$")
        batch = self.sns("publish-batch", "--topic-arn", topic, "--publish-batch-request-entries", json.dumps([
            {"Id": "two", "Message": "two", "MessageGroupId": "g", "MessageDeduplicationId": "d2"},
            {"Id": "three", "Message": "three", "MessageGroupId": "g", "MessageDeduplicationId": "d3"},
        ]))
        self.assertEqual(batch.get("Failed"), [])
        seqs = {e["Id"]: int(e["SequenceNumber"]) for e in batch["Successful"]}
        self.assertLess(int(first["SequenceNumber"]), seqs["two"])
        self.assertLess(seqs["two"], seqs["three"])

        # Group order is kept across receives.
        got = self.receive(url, 3)
        self.assertEqual([m["Body"] for m in got], ["one", "two", "three"])
        self.assertEqual([m["Attributes"]["MessageGroupId"] for m in got], ["g"] * 3)
        self.assertEqual([m["Attributes"]["MessageDeduplicationId"] for m in got], ["d1", "d2", "d3"])

        no_group = self.run_cli("sns", "publish", "--topic-arn", topic, "--message", "x",
                                "--message-deduplication-id", "dx", check=False)
        self.assert_cli_error(no_group, "InvalidParameter",
                              "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")


class SnsCliV1(SnsCliFlow, unittest.TestCase):
    MAJOR = 1


class SnsCliV2(SnsCliFlow, unittest.TestCase):
    MAJOR = 2


if __name__ == "__main__":
    unittest.main()
