#!/usr/bin/env python3
"""The core SQS flow through the AWS CLI, against postbox.

Two CLI generations speak the two wire protocols:
  - v1: `aws` on PATH (pip awscli 1.x on botocore 1.43): JSON 1.0 protocol
  - v2: /usr/bin/aws (Debian awscli 2.9): query/XML protocol
A variant whose binary is missing (or is not the expected major version) is
skipped.  Override the binaries with POSTBOX_AWS_CLI_V1 / POSTBOX_AWS_CLI_V2.

  python3 tests/e2e/py/test_sqs_cli.py
"""

import json
import os
import shutil
import subprocess
import sys
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


class CliV1JsonProtocol(CliFlow, unittest.TestCase):
    MAJOR = 1


class CliV2QueryProtocol(CliFlow, unittest.TestCase):
    MAJOR = 2


if __name__ == "__main__":
    unittest.main()
