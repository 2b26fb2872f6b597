"""Replays the captured SNS requests (tests/fixtures/wire/sns: real query-protocol requests
from boto3 1.43, boto3 1.26, aws-cli v1 and v2, and the JS SDK v3) byte for byte against a real
postbox, in the order a user would send them, and checks each answer's protocol shape: status,
content type, request id, the <Op>Response / <Op>Result elements and the members the clients
read. The fixtures name the topics postbox-topic(.fifo) and the queue postbox-test; the
subscription ARN and confirmation token in them were invented by the capture tool, so those
calls get AWS's NotFound and "Invalid token" answers."""

import glob
import http.client
import json
import os
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

FIXTURES = os.path.join(harness.REPO, "tests", "fixtures", "wire", "sns", "query")
NS = "{http://sns.amazonaws.com/doc/2010-03-31/}"

# A user's order: topics first, then subscriptions, publishing, inspection, clean-up.
ORDER = ["CreateTopic", "CreateTopic-fifo", "Subscribe", "Subscribe-http", "Publish",
         "Publish-json", "Publish-fifo", "PublishBatch", "GetTopicAttributes",
         "SetTopicAttributes", "ListTopics", "ListSubscriptions", "ListSubscriptionsByTopic",
         "GetSubscriptionAttributes", "SetSubscriptionAttributes", "TagResource",
         "ListTagsForResource", "UntagResource", "ConfirmSubscription", "Unsubscribe",
         "DeleteTopic"]
# Members each successful answer must carry, under <Op>Result.
RESULT_MEMBERS = {
    "CreateTopic": ["TopicArn"],
    "Subscribe": ["SubscriptionArn"],
    "Publish": ["MessageId"],
    "PublishBatch": ["Successful", "Failed"],
    "GetTopicAttributes": ["Attributes"],
    "ListTopics": ["Topics"],
    "ListSubscriptions": ["Subscriptions"],
    "ListSubscriptionsByTopic": ["Subscriptions"],
    "ListTagsForResource": ["Tags"],
}
# Operations without an output shape answer with no <Op>Result (botocore accepts both).
NO_RESULT = {"DeleteTopic", "SetTopicAttributes", "SetSubscriptionAttributes", "Unsubscribe"}


class SnsWireFixtures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.PostboxServer()
        cls.server.start()
        cls.host, cls.port = "127.0.0.1", int(cls.server.endpoint.rsplit(":", 1)[1])
        sqs = harness.make_client(cls.server.endpoint)
        sqs.create_queue(QueueName="postbox-test")

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

    def check(self, name, fixture):
        op = fixture["operation"]
        status, headers, data = self.send(fixture["request"])
        where = "%s %s -> %d %s" % (fixture["client"], name, status, data[:300])
        self.assertTrue(headers.get("x-amzn-requestid"), where)
        self.assertTrue(headers["content-type"].startswith("text/xml"), where)
        root = ET.fromstring(data)
        if op in ("GetSubscriptionAttributes", "SetSubscriptionAttributes"):
            self.assertEqual(status, 404, where)  # the captured subscription ARN is not postbox's
            self.assertEqual(root.find(NS + "Error/" + NS + "Code").text, "NotFound", where)
            return
        if op == "ConfirmSubscription":
            self.assertEqual(status, 400, where)  # the captured token is not postbox's
            self.assertEqual(root.find(NS + "Error/" + NS + "Message").text, "Invalid token", where)
            return
        self.assertEqual(status, 200, where)
        self.assertEqual(root.tag, NS + op + "Response", where)
        self.assertIsNotNone(root.find(NS + "ResponseMetadata/" + NS + "RequestId"), where)
        result = root.find(NS + op + "Result")
        if op in NO_RESULT:
            self.assertIsNone(result, where)
            return
        self.assertIsNotNone(result, where)
        for member in RESULT_MEMBERS.get(op, []):
            self.assertIsNotNone(result.find(NS + member), "%s: no %s" % (where, member))
        if name == "Publish-fifo":
            self.assertRegex(result.find(NS + "SequenceNumber").text, r"^[0-9]{20}$", where)
        if op == "PublishBatch":
            self.assertEqual(len(result.findall(NS + "Successful/" + NS + "member")), 2, where)
        if name == "Subscribe-http":
            self.assertEqual(result.find(NS + "SubscriptionArn").text, "pending confirmation", where)

    def test_every_client_in_a_users_order(self):
        clients = sorted(os.listdir(FIXTURES))
        self.assertEqual(len(clients), 5)
        for client in clients:
            with self.subTest(client=client):
                names = {os.path.basename(p)[:-5]: p
                         for p in glob.glob(os.path.join(FIXTURES, client, "*.json"))}
                self.assertEqual(sorted(names), sorted(ORDER))
                for name in ORDER:
                    with open(names[name]) as f:
                        self.check(name, json.load(f))


if __name__ == "__main__":
    unittest.main(verbosity=1)
