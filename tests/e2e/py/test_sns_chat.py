#!/usr/bin/env python3
"""End-to-end chat webhooks: https-style subscriptions with PostboxChatFormat (slack, discord,
teams, telegram) to a fake chat server on 127.0.0.1 that accepts only each service's payload
shape. They are confirmed at once (a webhook cannot visit a SubscribeURL), get the message as
the service's JSON, a 404 (a deleted webhook) is given up at once to the dead-letter queue,
and a 429 with Retry-After is retried. Runs under python3 (boto3 1.43) and /usr/bin/python3
(boto3 1.26)."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from fake_http import FakeHttpServer  # noqa: E402
from test_sns import make_sns_client  # noqa: E402


def shape_ok(path, body):
    """Whether `body` is what the service at `path` takes."""
    if path.startswith("/slack"):
        return isinstance(body.get("text"), str)
    if path.startswith("/discord"):
        return isinstance(body.get("content"), str) and len(body["content"]) <= 2000
    if path.startswith("/teams"):
        card = body.get("attachments", [{}])[0]
        return body.get("type") == "message" and \
            card.get("contentType") == "application/vnd.microsoft.card.adaptive" and \
            card.get("content", {}).get("type") == "AdaptiveCard"
    if path.startswith("/bot"):
        return path.endswith("/sendMessage") and body.get("chat_id") and \
            isinstance(body.get("text"), str)
    return False


class FakeChat(FakeHttpServer):
    def __init__(self):
        super().__init__()
        self.received = []
        self.limited = {"/slack/limited": 1}

    def handle(self, path, headers, body):
        body = json.loads(body)
        status, extra = 200, {}
        with self.lock:
            if path.startswith("/gone"):
                status = 404
            elif self.limited.get(path, 0) > 0:
                self.limited[path] -= 1
                status, extra = 429, {"Retry-After": "1"}
            elif not shape_ok(path, body) or \
                    headers.get("Content-Type", "").split(";")[0] != "application/json":
                status = 400
            else:
                self.received.append((path, body))
        reply = b'{"ok":true}' if path.startswith("/bot") else b"ok"
        if path.startswith("/discord"):
            status, reply = (204, b"") if status == 200 else (status, reply)
        return status, reply, extra

    def wait_for(self, path, timeout=20):
        def found():
            with self.lock:
                return next((body for p, body in self.received if p == path), None)
        return self.wait_until(found, "nothing reached %s" % path, timeout)


class ChatWebhooks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chat = FakeChat()
        cls.server = harness.PostboxServer(extra_args=[
            "--delivery-retry-min-delay-seconds", "1", "--delivery-retry-max-delay-seconds", "2",
            "--delivery-retries", "3"])
        cls.server.require_local("chat delivery")
        cls.server.start()
        cls.sns = make_sns_client(cls.server.endpoint)
        cls.sqs = harness.make_client(cls.server.endpoint)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.chat.close()

    def subscribe(self, topic, path, fmt, **attributes):
        attributes["PostboxChatFormat"] = fmt
        return self.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=self.chat.url(path),
                                  Attributes=attributes, ReturnSubscriptionArn=True)

    def test_each_service_gets_its_payload(self):
        topic = self.sns.create_topic(Name="chat" + harness.uid())["TopicArn"]
        paths = {"slack": "/slack/T1", "discord": "/discord/1/tok", "teams": "/teams/hook",
                 "telegram": "/bot1:AA/sendMessage?chat_id=-1001"}
        for fmt, path in paths.items():
            result = self.subscribe(topic, path, fmt)
            attributes = self.sns.get_subscription_attributes(
                SubscriptionArn=result["SubscriptionArn"])["Attributes"]
            self.assertEqual(attributes["PendingConfirmation"], "false")
            self.assertEqual(attributes["PostboxChatFormat"], fmt)
        self.sns.publish(TopicArn=topic, Subject="배포", Message="web-1 배포 완료")
        self.assertEqual(self.chat.wait_for("/slack/T1"), {"text": "*배포*\nweb-1 배포 완료"})
        self.assertEqual(self.chat.wait_for("/discord/1/tok"),
                         {"content": "**배포**\nweb-1 배포 완료",
                          "allowed_mentions": {"parse": []}})
        card = self.chat.wait_for("/teams/hook")["attachments"][0]["content"]
        self.assertEqual([b["text"] for b in card["body"]], ["배포", "web-1 배포 완료"])
        self.assertEqual(self.chat.wait_for("/bot1:AA/sendMessage"),
                         {"chat_id": "-1001", "text": "배포\n\nweb-1 배포 완료"})

    def test_bad_format_is_refused(self):
        from botocore.exceptions import ClientError
        topic = self.sns.create_topic(Name="chatbad" + harness.uid())["TopicArn"]
        with self.assertRaises(ClientError) as caught:
            self.subscribe(topic, "/slack/x", "irc")
        self.assertEqual(caught.exception.response["Error"]["Code"], "InvalidParameter")
        # Confirmed without a handshake: it may change format, never become plain http.
        arn = self.subscribe(topic, "/slack/y", "slack")["SubscriptionArn"]
        self.sns.set_subscription_attributes(SubscriptionArn=arn,
                                             AttributeName="PostboxChatFormat",
                                             AttributeValue="discord")
        with self.assertRaises(ClientError) as caught:
            self.sns.set_subscription_attributes(SubscriptionArn=arn,
                                                 AttributeName="PostboxChatFormat",
                                                 AttributeValue="")
        self.assertEqual(caught.exception.response["Error"]["Code"], "InvalidParameter")

    def test_gone_webhook_goes_to_the_dead_letter_queue_and_429_waits(self):
        url = self.sqs.create_queue(QueueName="chat-dlq" + harness.uid())["QueueUrl"]
        dlq = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        topic = self.sns.create_topic(Name="chatgone" + harness.uid())["TopicArn"]
        self.subscribe(topic, "/gone/hook", "slack",
                       RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq}))
        # A 429 waits as asked without using up a retry: with none left it is still delivered.
        self.subscribe(topic, "/slack/limited", "slack", DeliveryPolicy=json.dumps({
            "healthyRetryPolicy": {"numRetries": 0, "minDelayTarget": 1, "maxDelayTarget": 1}}))
        started = time.time()
        self.sns.publish(TopicArn=topic, Message="anyone?")
        deadline = time.time() + 15
        got = []
        while not got and time.time() < deadline:
            got = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        self.assertEqual(got[0]["Body"], "anyone?")
        self.assertLess(time.time() - started, 8)  # at once, not after the retries
        self.assertEqual(self.chat.wait_for("/slack/limited"), {"text": "anyone?"})


if __name__ == "__main__":
    unittest.main()
