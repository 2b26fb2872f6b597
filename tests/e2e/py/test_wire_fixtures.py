"""Replays the captured SQS requests (tests/fixtures/wire/sqs: real requests from boto3 1.43,
boto3 1.26, aws-cli v1 and v2, and the JS SDK v3) byte for byte against a real postbox, and
checks each answer's protocol shape: status, content type, request id, and the members the
client will read. The fixtures name queues postbox-test and postbox-dlq; the example receipt
handles in them are not postbox's, so those calls must fail with ReceiptHandleIsInvalid."""

import glob
import hashlib
import http.client
import json
import os
import sys
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

FIXTURES = os.path.join(harness.REPO, "tests", "fixtures", "wire", "sqs")
NS = "{http://queue.amazonaws.com/doc/2012-11-05/}"

# Operations whose fixture carries a receipt handle invented by the capture tool.
FAKE_HANDLE_OPS = {"ChangeMessageVisibility", "DeleteMessage"}
MOVE_TASK_OPS = {"StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask"}


def load_fixtures():
    out = []
    for path in sorted(glob.glob(os.path.join(FIXTURES, "*", "*", "*.json"))):
        with open(path) as f:
            out.append((path, json.load(f)))
    return out


class WireFixtures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.PostboxServer()
        cls.server.start()
        cls.host, cls.port = "127.0.0.1", int(cls.server.endpoint.rsplit(":", 1)[1])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def send(self, request):
        body = request["body"].encode("utf-8")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {k: v for k, v in request["headers"] if k.lower() not in ("host", "content-length")}
        headers["Host"] = "%s:%d" % (self.host, self.port)
        conn.request(request["method"], request["target"], body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), data

    def reset_queues(self):
        sqs = harness.make_client(self.server.endpoint)
        # postbox-test comes from the CreateQueue fixtures; postbox-dlq is made a dead-letter
        # queue (of postbox-source) so that the move-task fixtures name a valid source.
        sqs.create_queue(QueueName="postbox-dlq")
        policy = {"deadLetterTargetArn": harness.queue_arn("postbox-dlq"), "maxReceiveCount": 3}
        sqs.create_queue(QueueName="postbox-source", Attributes={"RedrivePolicy": json.dumps(policy)})

    def check(self, path, fixture):
        op = fixture["operation"]
        protocol = fixture["protocol"]
        status, headers, data = self.send(fixture["request"])
        where = "%s -> %d %s" % (os.path.relpath(path, FIXTURES), status, data[:300])
        self.assertTrue(headers.get("x-amzn-requestid"), where)
        fifo = fixture.get("variant") == "fifo" or "fifo" in fixture["request"]["body"]
        if protocol == "json":
            self.assertTrue(headers["content-type"].startswith("application/x-amz-json-1.0"), where)
            doc = json.loads(data)
            # The query-compatible code, as clients read it (x-amzn-query-error); the __type
            # names AWS's JSON shape, which differs for the generic parameter errors.
            code = headers.get("x-amzn-query-error", "").split(";")[0] if status >= 400 else None
        else:
            self.assertTrue(headers["content-type"].startswith("text/xml"), where)
            root = ET.fromstring(data)
            if status >= 400:
                self.assertEqual(root.tag, NS + "ErrorResponse", where)
                code = root.find(NS + "Error/" + NS + "Code").text
            else:
                self.assertEqual(root.tag, NS + op + "Response", where)
                self.assertIsNotNone(root.find(NS + "ResponseMetadata/" + NS + "RequestId"), where)
                code = None

        if op == "StartMessageMoveTask" and status != 200:
            # One running task per source: a client replayed while the previous client's task
            # still runs is refused, as AWS refuses it.
            self.assertEqual(code, "InvalidParameterValue", where)
            self.assertIn(b"already a task running", data, where)
        elif op == "CancelMessageMoveTask":
            # The captured handle names no source queue: AWS's invalid-handle error.
            self.assertEqual(status, 400, where)
            self.assertEqual(code, "InvalidParameterValue", where)
        elif op in MOVE_TASK_OPS:
            self.assertEqual(status, 200, where)
            if op == "StartMessageMoveTask" and protocol == "json":
                self.assertTrue(json.loads(data)["TaskHandle"], where)
            if op == "ListMessageMoveTasks" and protocol == "json":
                self.assertIsInstance(json.loads(data)["Results"], list, where)
        elif fifo and op == "SendMessage":
            self.assertEqual(status, 200, where)
            if protocol == "json":
                self.assertRegex(json.loads(data)["SequenceNumber"], r"^[0-9]{20}$", where)
            else:
                self.assertRegex(root.find(NS + "SendMessageResult/" + NS + "SequenceNumber").text,
                                 r"^[0-9]{20}$", where)
        elif fifo and op == "SendMessageBatch":
            self.assertEqual(status, 200, where)
            if protocol == "json":
                self.assertEqual(len(json.loads(data)["Successful"]), 2, where)
        elif op == "PurgeQueue" and status != 200:
            # One purge per 60 s, as on AWS: every client after the first is refused.
            self.assertEqual(status, 403, where)
            self.assertIn(code, ("PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress"), where)
        elif op in FAKE_HANDLE_OPS:
            self.assertEqual(status, 404, where)
            self.assertEqual(code, "ReceiptHandleIsInvalid", where)
        elif op == "ChangeMessageVisibilityBatch" or op == "DeleteMessageBatch":
            self.assertEqual(status, 200, where)
            if protocol == "json":
                doc = json.loads(data)
                self.assertEqual([f["Code"] for f in doc["Failed"]], ["ReceiptHandleIsInvalid"] * 2, where)
        else:
            self.assertEqual(status, 200, where)
            if protocol == "json":
                doc = json.loads(data)
                if op in ("CreateQueue", "GetQueueUrl"):
                    self.assertTrue(doc["QueueUrl"].endswith(
                        "/000000000000/postbox-test" + (".fifo" if fifo else "")), where)
                if op == "SendMessage":
                    body = json.loads(fixture["request"]["body"])["MessageBody"]
                    self.assertEqual(doc["MD5OfMessageBody"], hashlib.md5(body.encode()).hexdigest(), where)
                    self.assertIn("MD5OfMessageAttributes", doc, where)
                if op == "SendMessageBatch":
                    self.assertEqual(len(doc["Successful"]), 3, where)
                if op == "GetQueueAttributes":
                    self.assertIn("Attributes", doc, where)
            else:
                result = root.find(NS + op + "Result")
                self.assertIsNotNone(result, where)
                if op in ("CreateQueue", "GetQueueUrl"):
                    self.assertTrue(result.find(NS + "QueueUrl").text.endswith(
                        "/postbox-test" + (".fifo" if fifo else "")), where)
                if op == "SendMessageBatch":
                    self.assertEqual(len(result.findall(NS + "SendMessageBatchResultEntry")), 3, where)

    def query(self, **fields):
        """POSTs a query-protocol form and returns (status, parsed XML root)."""
        body = urllib.parse.urlencode(dict(fields, Version="2012-11-05"))
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        conn.request("POST", "/", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, ET.fromstring(data)

    def test_move_task_query_protocol_shapes(self):
        # No captured client speaks the move-task operations in the query protocol (boto3 1.26
        # and AWS CLI v2 2.9 predate them), so check AWS's shapes directly: the list result is a
        # flattened ListMessageMoveTasksResultEntry without a Results wrapper.
        sqs = harness.make_client(self.server.endpoint)
        sqs.create_queue(QueueName="shape-dlq")
        policy = {"deadLetterTargetArn": harness.queue_arn("shape-dlq"), "maxReceiveCount": 2}
        sqs.create_queue(QueueName="shape-src", Attributes={"RedrivePolicy": json.dumps(policy)})
        arn = harness.queue_arn("shape-dlq")
        status, root = self.query(Action="StartMessageMoveTask", SourceArn=arn, MaxNumberOfMessagesPerSecond="3")
        self.assertEqual(status, 200)
        self.assertTrue(root.find(NS + "StartMessageMoveTaskResult/" + NS + "TaskHandle").text)
        status, root = self.query(Action="ListMessageMoveTasks", SourceArn=arn, MaxResults="10")
        self.assertEqual(status, 200)
        entries = root.findall(NS + "ListMessageMoveTasksResult/" + NS + "ListMessageMoveTasksResultEntry")
        self.assertEqual(len(entries), 1)
        self.assertEqual(entries[0].find(NS + "SourceArn").text, arn)
        self.assertEqual(entries[0].find(NS + "MaxNumberOfMessagesPerSecond").text, "3")
        self.assertIn(entries[0].find(NS + "Status").text, ("RUNNING", "COMPLETED"))
        status, root = self.query(Action="CancelMessageMoveTask", TaskHandle="bm90IGEgaGFuZGxl")
        self.assertEqual(status, 400)
        self.assertEqual(root.find(NS + "Error/" + NS + "Code").text, "InvalidParameterValue")
        status, root = self.query(Action="ListMessageMoveTasks", SourceArn=harness.queue_arn("shape-missing"))
        self.assertEqual(status, 404)
        self.assertEqual(root.find(NS + "Error/" + NS + "Code").text, "ResourceNotFoundException")

    def test_every_fixture(self):
        fixtures = load_fixtures()
        self.assertGreaterEqual(len(fixtures), 100)
        # Queue-creating calls first, queue-deleting calls last, so each call finds its queue.
        order = {"CreateQueue": 0, "DeleteQueue": 2}
        fixtures.sort(key=lambda pf: order.get(pf[1]["operation"], 1))
        self.reset_queues()
        for path, fixture in fixtures:
            if fixture["operation"] == "DeleteQueue":
                continue  # replayed below, once per client, on a fresh queue
            with self.subTest(fixture=os.path.relpath(path, FIXTURES)):
                self.check(path, fixture)
        for path, fixture in fixtures:
            if fixture["operation"] == "DeleteQueue":
                with self.subTest(fixture=os.path.relpath(path, FIXTURES)):
                    self.check(path, fixture)
                # Recreating the same name is refused for 60 s after a delete (as on AWS):
                # the remaining DeleteQueue replays must then find no queue.
                break


if __name__ == "__main__":
    unittest.main()
