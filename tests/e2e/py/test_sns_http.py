#!/usr/bin/env python3
"""End-to-end SNS delivery to HTTP endpoints: a real HTTP server in this test plays the
subscriber. It receives the SubscriptionConfirmation, confirms by visiting SubscribeURL (as
AWS's subscribers do), checks the x-amz-sns-* headers and verifies every signature with the
certificate served at SigningCertURL (openssl), gets notifications (envelope and raw), sees
retries of a failing endpoint end in the subscription's dead-letter queue (and a backlog over
the outbox limit go there at once), gets the
UnsubscribeConfirmation, and still gets a notification published just before a kill -9. An
https endpoint whose certificate is not trusted is refused; one whose CA is configured
(sns.tls_ca_file) gets its confirmation and notifications.

Runs under python3 (boto3 1.43) and /usr/bin/python3 (boto3 1.26)."""

import base64
import http.server
import json
import os
import queue
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_sns import make_sns_client  # noqa: E402

SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                 "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                "TopicArn", "Type"),
}


class Subscriber:
    """A local HTTP endpoint recording every request; answers with `status` (settable)."""

    def __init__(self):
        self.requests = queue.Queue()
        self.status = 200
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                owner.requests.put((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def next(self, timeout=15.0):
        return self.requests.get(timeout=timeout)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verify_signature(testcase, doc):
    """Checks doc's Signature with the certificate at its SigningCertURL, using openssl."""
    with tempfile.TemporaryDirectory() as work:
        with urllib.request.urlopen(doc["SigningCertURL"], timeout=10) as resp:
            cert = os.path.join(work, "cert.pem")
            with open(cert, "wb") as f:
                f.write(resp.read())
        pub = os.path.join(work, "pub.pem")
        with open(pub, "wb") as f:
            f.write(subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"],
                                   check=True, stdout=subprocess.PIPE).stdout)
        text = "".join("%s\n%s\n" % (k, doc[k]) for k in SIGNED_FIELDS[doc["Type"]] if k in doc)
        data, sig = os.path.join(work, "data"), os.path.join(work, "sig")
        with open(data, "wb") as f:
            f.write(text.encode("utf-8"))
        with open(sig, "wb") as f:
            f.write(base64.b64decode(doc["Signature"]))
        digest = "-sha256" if doc["SignatureVersion"] == "2" else "-sha1"
        proc = subprocess.run(["openssl", "dgst", digest, "-verify", pub, "-signature", sig, data],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        testcase.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)


class SnsHttpDelivery(unittest.TestCase):
    def setUp(self):
        # A small outbox limit, so that test_a_full_backlog_goes_to_the_dead_letter_queue can
        # reach it; the other tests stay far below it.
        self.server = harness.PostboxServer(extra_args=["--sns-outbox-max-mib-per-endpoint", "1"])
        self.addCleanup(self.server.close)
        self.server.start()
        self.sns = make_sns_client(self.server.endpoint)
        self.sqs = self.server.client()
        self.subscriber = Subscriber()
        self.addCleanup(self.subscriber.close)

    def subscribe_and_confirm(self, topic, attributes=None):
        sub = self.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=self.subscriber.url,
                                 Attributes=attributes or {})
        self.assertEqual(sub["SubscriptionArn"], "pending confirmation")
        path, headers, body = self.subscriber.next()
        self.assertEqual(path, "/hook")
        self.assertEqual(headers["x-amz-sns-message-type"], "SubscriptionConfirmation")
        self.assertEqual(headers["x-amz-sns-topic-arn"], topic)
        self.assertNotIn("x-amz-sns-subscription-arn", headers)
        self.assertEqual(headers["content-type"], "text/plain; charset=UTF-8")
        doc = json.loads(body)
        self.assertEqual(doc["Type"], "SubscriptionConfirmation")
        self.assertEqual(doc["TopicArn"], topic)
        self.assertEqual(headers["x-amz-sns-message-id"], doc["MessageId"])
        self.assertIn("You have chosen to subscribe to the topic " + topic, doc["Message"])
        verify_signature(self, doc)
        # Visiting SubscribeURL confirms, without credentials, as on AWS.
        with urllib.request.urlopen(doc["SubscribeURL"], timeout=10) as resp:
            self.assertEqual(resp.status, 200)
            answer = resp.read().decode()
        self.assertIn("<ConfirmSubscriptionResponse", answer)
        subs = self.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        self.assertEqual(len(subs), 1)
        arn = subs[0]["SubscriptionArn"]
        self.assertTrue(arn.startswith(topic + ":"), arn)
        self.assertIn(arn, answer)
        return arn

    def test_confirm_then_notifications_envelope_and_raw(self):
        topic = self.sns.create_topic(Name="hook-" + harness.uid())["TopicArn"]
        arn = self.subscribe_and_confirm(topic)
        published = self.sns.publish(TopicArn=topic, Message="kitchen on fire", Subject="alarm",
                                     MessageAttributes={"level": {"DataType": "String",
                                                                  "StringValue": "high"}})
        path, headers, body = self.subscriber.next()
        self.assertEqual(headers["x-amz-sns-message-type"], "Notification")
        self.assertEqual(headers["x-amz-sns-message-id"], published["MessageId"])
        self.assertEqual(headers["x-amz-sns-subscription-arn"], arn)
        self.assertEqual(headers["user-agent"], "Amazon Simple Notification Service Agent")
        self.assertNotIn("x-amz-sns-rawdelivery", headers)
        doc = json.loads(body)
        self.assertEqual(doc["Message"], "kitchen on fire")
        self.assertEqual(doc["Subject"], "alarm")
        self.assertEqual(doc["MessageAttributes"], {"level": {"Type": "String", "Value": "high"}})
        verify_signature(self, doc)

        # SignatureVersion 2 (SHA256withRSA), then raw delivery.
        self.sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion",
                                      AttributeValue="2")
        self.sns.publish(TopicArn=topic, Message="v2")
        doc = json.loads(self.subscriber.next()[2])
        self.assertEqual(doc["SignatureVersion"], "2")
        verify_signature(self, doc)
        self.sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RawMessageDelivery",
                                             AttributeValue="true")
        self.sns.publish(TopicArn=topic, Message="just the text")
        path, headers, body = self.subscriber.next()
        self.assertEqual(body, "just the text")
        self.assertEqual(headers["x-amz-sns-rawdelivery"], "true")

        # A filter policy applies to HTTP subscriptions as to queues.
        self.sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                             AttributeValue=json.dumps({"level": ["high"]}))
        self.sns.publish(TopicArn=topic, Message="ignored",
                         MessageAttributes={"level": {"DataType": "String", "StringValue": "low"}})
        self.sns.publish(TopicArn=topic, Message="wanted",
                         MessageAttributes={"level": {"DataType": "String", "StringValue": "high"}})
        self.assertEqual(self.subscriber.next()[2], "wanted")

        # Unsubscribing tells the endpoint.
        self.sns.unsubscribe(SubscriptionArn=arn)
        path, headers, body = self.subscriber.next()
        self.assertEqual(headers["x-amz-sns-message-type"], "UnsubscribeConfirmation")
        doc = json.loads(body)
        self.assertIn("You have chosen to deactivate subscription " + arn, doc["Message"])
        verify_signature(self, doc)
        self.sns.publish(TopicArn=topic, Message="after unsubscribe")
        with self.assertRaises(queue.Empty):
            self.subscriber.next(timeout=1.0)

    def test_failing_endpoint_is_retried_then_dead_lettered(self):
        topic = self.sns.create_topic(Name="flaky-" + harness.uid())["TopicArn"]
        dlq = self.sqs.create_queue(QueueName="hook-dlq-" + harness.uid())["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        policy = {"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 2,
                                         "numNoDelayRetries": 0, "numMinDelayRetries": 0,
                                         "numMaxDelayRetries": 0, "backoffFunction": "linear"}}
        arn = self.subscribe_and_confirm(topic)
        self.sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="DeliveryPolicy",
                                             AttributeValue=json.dumps(policy))
        self.sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RedrivePolicy",
                                             AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn}))
        self.subscriber.status = 500
        published = self.sns.publish(TopicArn=topic, Message="nobody listens")
        started = time.monotonic()
        attempts = [self.subscriber.next() for _ in range(3)]  # the first try and 2 retries
        self.assertGreaterEqual(time.monotonic() - started, 1.5)  # 1 s apart, as the policy says
        for _, headers, _ in attempts:
            self.assertEqual(headers["x-amz-sns-message-id"], published["MessageId"])
        deadline = time.time() + 10
        messages = []
        while not messages and time.time() < deadline:
            messages = self.sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])
        self.assertEqual(len(messages), 1)
        self.assertEqual(json.loads(messages[0]["Body"])["MessageId"], published["MessageId"])
        with self.assertRaises(queue.Empty):
            self.subscriber.next(timeout=1.5)  # no fourth attempt

    def test_a_full_backlog_goes_to_the_dead_letter_queue(self):
        # The endpoint fails and retries are 20 s apart, so every notification stays waiting.
        # Four envelopes of about 251 KB fit in the 1 MiB limit; the next two go straight to
        # the dead-letter queue, without waiting for their retries.
        topic = self.sns.create_topic(Name="full-" + harness.uid())["TopicArn"]
        dlq = self.sqs.create_queue(QueueName="full-dlq-" + harness.uid())["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        arn = self.subscribe_and_confirm(topic)
        self.sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RedrivePolicy",
                                             AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn}))
        self.subscriber.status = 500
        published = [self.sns.publish(TopicArn=topic, Message=str(i) * 250000)["MessageId"]
                     for i in range(6)]
        dead = []
        deadline = time.time() + 10
        while len(dead) < 2 and time.time() < deadline:
            for m in self.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10,
                                              WaitTimeSeconds=1).get("Messages", []):
                dead.append(json.loads(m["Body"])["MessageId"])
                self.sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])
        self.assertEqual(sorted(dead), sorted(published[4:]))
        self.assertIn("reason=\"the endpoint's backlog would exceed 1048576 bytes\"",
                      self.server.output_with("backlog would exceed"))
        # The four that fit are tried (and will be retried), none of the two given up.
        tried = set()
        while len(tried) < 4:
            tried.add(self.subscriber.next()[1]["x-amz-sns-message-id"])
        self.assertEqual(tried, set(published[:4]))

    def test_delivery_policy_validation(self):
        topic = self.sns.create_topic(Name="dp-" + harness.uid())["TopicArn"]
        arn = self.subscribe_and_confirm(topic)
        bad = {"healthyRetryPolicy": {"minDelayTarget": 0, "maxDelayTarget": 1, "numRetries": 1}}
        with self.assertRaises(self.sns.exceptions.InvalidParameterException) as ctx:
            self.sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="DeliveryPolicy",
                                                 AttributeValue=json.dumps(bad))
        self.assertIn("minDelayTarget must be greater than or equal to 1", str(ctx.exception))
        bad = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 101}}}
        with self.assertRaises(self.sns.exceptions.InvalidParameterException) as ctx:
            self.sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy",
                                          AttributeValue=json.dumps(bad))
        self.assertIn("Invalid parameter: DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries "
                      "must be less than or equal to 100", str(ctx.exception))

    def test_delivery_policies_as_aws_shows_them_and_the_request_content_type(self):
        topic = self.sns.create_topic(Name="ct-" + harness.uid())["TopicArn"]
        arn = self.subscribe_and_confirm(topic)
        defaults = {"minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3, "numMaxDelayRetries": 0,
                    "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "linear"}
        fast = {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 0, "numNoDelayRetries": 0,
                "numMinDelayRetries": 0, "numMaxDelayRetries": 0, "backoffFunction": "linear"}
        # AWS-recorded: a subscription's policy is shown with every member, the effective one
        # takes the rest from its topic, and a topic's adds disableSubscriptionOverrides.
        self.sns.set_subscription_attributes(
            SubscriptionArn=arn, AttributeName="DeliveryPolicy",
            AttributeValue=json.dumps({"healthyRetryPolicy": fast, "sicklyRetryPolicy": None,
                                       "throttlePolicy": {"maxReceivesPerSecond": 1000}, "guaranteed": False}))
        self.sns.set_topic_attributes(
            TopicArn=topic, AttributeName="DeliveryPolicy",
            AttributeValue=json.dumps({"http": {"defaultRequestPolicy": {"headerContentType": "application/json"}}}))
        topic_attrs = self.sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        self.assertEqual(json.loads(topic_attrs["DeliveryPolicy"]), {"http": {
            "disableSubscriptionOverrides": False,
            "defaultRequestPolicy": {"headerContentType": "application/json"}}})
        self.assertEqual(json.loads(topic_attrs["EffectiveDeliveryPolicy"]), {"http": {
            "defaultHealthyRetryPolicy": defaults, "disableSubscriptionOverrides": False,
            "defaultRequestPolicy": {"headerContentType": "application/json"}}})
        attrs = self.sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        self.assertEqual(json.loads(attrs["DeliveryPolicy"]), {
            "healthyRetryPolicy": fast, "sicklyRetryPolicy": None,
            "throttlePolicy": {"maxReceivesPerSecond": 1000}, "requestPolicy": None, "guaranteed": False})
        self.assertEqual(json.loads(attrs["EffectiveDeliveryPolicy"]), {
            "healthyRetryPolicy": fast, "sicklyRetryPolicy": None,
            "throttlePolicy": {"maxReceivesPerSecond": 1000},
            "requestPolicy": {"headerContentType": "application/json"}, "guaranteed": False})
        self.sns.publish(TopicArn=topic, Message="as json")
        self.assertEqual(self.subscriber.next()[1]["content-type"], "application/json")

        self.sns.set_subscription_attributes(
            SubscriptionArn=arn, AttributeName="DeliveryPolicy",
            AttributeValue=json.dumps({"requestPolicy": {"headerContentType": "text/csv"}}))
        attrs = self.sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        self.assertEqual(json.loads(attrs["DeliveryPolicy"]), {
            "healthyRetryPolicy": None, "sicklyRetryPolicy": None, "throttlePolicy": None,
            "requestPolicy": {"headerContentType": "text/csv"}, "guaranteed": False})
        self.assertEqual(json.loads(attrs["EffectiveDeliveryPolicy"]), {
            "healthyRetryPolicy": defaults, "sicklyRetryPolicy": None, "throttlePolicy": None,
            "requestPolicy": {"headerContentType": "text/csv"}, "guaranteed": False})
        self.sns.publish(TopicArn=topic, Message="a,b")
        self.assertEqual(self.subscriber.next()[1]["content-type"], "text/csv")
        # A content type becomes a header: no line breaks.
        with self.assertRaises(self.sns.exceptions.InvalidParameterException):
            self.sns.set_subscription_attributes(
                SubscriptionArn=arn, AttributeName="DeliveryPolicy",
                AttributeValue=json.dumps({"requestPolicy": {"headerContentType": "text/csv\r\nX-Evil: 1"}}))


class SnsHttpsVerifiesCertificates(unittest.TestCase):
    def tls_subscriber(self, work):
        """A subscriber serving https with a new self-signed certificate for 127.0.0.1;
        returns (subscriber, https url, certificate file)."""
        subscriber = Subscriber()
        self.addCleanup(subscriber.close)
        key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        subscriber.server.socket = context.wrap_socket(subscriber.server.socket, server_side=True)
        return subscriber, subscriber.url.replace("http://", "https://"), cert

    def test_a_certificate_of_the_configured_ca_is_trusted(self):
        # sns.tls_ca_file names the CA (here the certificate itself) that https subscribers
        # are verified against: confirmation and notifications then go through.
        work = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, work, True)
        subscriber, url, cert = self.tls_subscriber(work)
        server = harness.PostboxServer(extra_args=["--sns-tls-ca-file", cert])
        self.addCleanup(server.close)
        server.start()
        sns = make_sns_client(server.endpoint)
        topic = sns.create_topic(Name="tls-ok-" + harness.uid())["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=url)
        path, headers, body = subscriber.next()
        self.assertEqual(headers["x-amz-sns-message-type"], "SubscriptionConfirmation")
        doc = json.loads(body)
        sns.confirm_subscription(TopicArn=topic, Token=doc["Token"])
        published = sns.publish(TopicArn=topic, Message="over tls")
        path, headers, body = subscriber.next()
        self.assertEqual(headers["x-amz-sns-message-type"], "Notification")
        self.assertEqual(headers["x-amz-sns-message-id"], published["MessageId"])
        self.assertEqual(json.loads(body)["Message"], "over tls")

    def test_a_ca_file_that_cannot_be_read_stops_the_start(self):
        server = harness.PostboxServer(extra_args=["--sns-tls-ca-file", "/nonexistent/ca.pem"])
        self.addCleanup(server.close)
        with self.assertRaises(harness.ServerError) as ctx:
            server.start()
        self.assertIn("sns.tls_ca_file", str(ctx.exception))

    def test_an_untrusted_certificate_is_refused(self):
        # An https endpoint with a self-signed certificate: postbox verifies TLS like AWS, so the
        # confirmation request never reaches the endpoint's handler.
        server = harness.PostboxServer()
        self.addCleanup(server.close)
        server.start()
        sns = make_sns_client(server.endpoint)
        work = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, work, True)
        subscriber, url, _ = self.tls_subscriber(work)
        topic = sns.create_topic(Name="tls-" + harness.uid())["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=url)
        with self.assertRaises(queue.Empty):
            subscriber.next(timeout=3.0)
        deadline = time.time() + 10
        while "event=sns_delivery_attempt_failed" not in server.output() and time.time() < deadline:
            time.sleep(0.1)
        self.assertIn("event=sns_delivery_attempt_failed",
                      server.output_with("event=sns_delivery_attempt_failed"))
        self.assertIn("certificate", server.output().lower())


class SnsHttpDurability(unittest.TestCase):
    def test_publish_survives_kill9_before_the_endpoint_answers(self):
        server = harness.PostboxServer()
        self.addCleanup(server.close)
        server.require_local("kill -9")
        server.start()
        sns = make_sns_client(server.endpoint)
        subscriber = Subscriber()
        self.addCleanup(subscriber.close)
        topic = sns.create_topic(Name="durable-hook-" + harness.uid())["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url)
        doc = json.loads(subscriber.next()[2])
        urllib.request.urlopen(doc["SubscribeURL"], timeout=10).read()
        # The endpoint refuses everything until the restart; then it answers.
        subscriber.status = 503
        published = sns.publish(TopicArn=topic, Message="must arrive")
        subscriber.next()  # the first attempt failed...
        server.kill9()     # ...and postbox dies before any retry
        subscriber.status = 200
        server.restart()
        deadline = time.time() + 40  # the default policy retries after 20 s
        while time.time() < deadline:
            try:
                _, headers, body = subscriber.next(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                break
            if headers["x-amz-sns-message-type"] == "Notification":
                self.assertEqual(json.loads(body)["MessageId"], published["MessageId"])
                return
        self.fail("the notification published before kill -9 never arrived")


if __name__ == "__main__":
    unittest.main(verbosity=2)
