#!/usr/bin/env python3
"""End-to-end SNS email delivery through a real SMTP server (Debian's aiosmtpd on 127.0.0.1):

- an `email` subscription gets a confirmation mail whose link, visited, confirms it; then
  notifications as UTF-8 MIME (Korean subject, body and sender name arrive intact), with the
  unsubscribe link that works;
- an `email-json` subscription gets the JSON documents HTTP subscribers get;
- STARTTLS with the relay's CA configured and AUTH with credentials from the environment,
  which never appear in postbox's output;
- a mailbox the relay refuses (550) is given up at once, to the subscription's dead-letter
  queue; a deferral (451) is retried until the mail goes through; a mail waiting for its retry
  survives a kill -9;
- /metrics counts the outcomes per protocol.

Runs under python3 (boto3 1.43) and /usr/bin/python3 (boto3 1.26)."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from smtp_relay import SmtpRelay  # noqa: E402
from test_sns import make_sns_client  # noqa: E402

FAST_RETRIES = ["--delivery-retry-min-delay-seconds", "1", "--delivery-retry-max-delay-seconds",
                "2", "--delivery-retries", "4"]


def start_server(test, relay, extra=(), env=None, scheme="smtp"):
    server = harness.PostboxServer(
        extra_args=["--email-smtp-url", relay.url(scheme), "--email-from",
                    "alerts@postbox.test"] + FAST_RETRIES + list(extra), env=env)
    test.addCleanup(server.close)
    server.start()
    return server


def self_signed_certificate(work):
    """(key file, certificate file): a new self-signed certificate for 127.0.0.1."""
    key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return key, cert


def link_in(text, action):
    match = re.search(r"(http://\S+/\?Action=%s\S+)" % action, text)
    assert match, "no %s link in %r" % (action, text)
    return match.group(1)


def metric(endpoint, protocol, outcome):
    status, body = harness.http_get(endpoint, "/metrics")
    pattern = r'postbox_sns_deliveries_total\{protocol="%s",outcome="%s"\} (\d+)' % (protocol,
                                                                                    outcome)
    match = re.search(pattern, body)
    return int(match.group(1)) if match else None


def confirm_email_subscription(test, sns, relay, topic, address):
    arn = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    (mail,) = relay.next_mails()
    with urllib.request.urlopen(link_in(mail["text"], "ConfirmSubscription"),
                                timeout=10) as r:
        test.assertEqual(r.status, 200)
    return arn


class SnsEmail(unittest.TestCase):
    def setUp(self):
        self.relay = SmtpRelay()
        self.addCleanup(self.relay.close)

    def test_confirmation_link_then_korean_notifications(self):
        server = start_server(self, self.relay)
        sns = make_sns_client(server.endpoint)
        topic = sns.create_topic(Name="stock-" + harness.uid(),
                                 Attributes={"DisplayName": "재고 알림"})["TopicArn"]
        arn = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="manager@shop.test",
                            ReturnSubscriptionArn=True)["SubscriptionArn"]
        attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        self.assertEqual(attributes["PendingConfirmation"], "true")

        (mail,) = self.relay.next_mails()
        message = mail["message"]
        self.assertEqual(mail["mail_from"], "alerts@postbox.test")
        self.assertEqual(mail["rcpt_tos"], ["manager@shop.test"])
        self.assertEqual(message["Subject"], "AWS Notification - Subscription Confirmation")
        self.assertEqual(message["To"], "manager@shop.test")
        self.assertEqual(message["From"].addresses[0].display_name, "재고 알림")
        self.assertEqual(message["From"].addresses[0].addr_spec, "alerts@postbox.test")
        body = mail["text"]
        self.assertIn(topic, body)
        with urllib.request.urlopen(link_in(body, "ConfirmSubscription"), timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertIn(b"ConfirmSubscriptionResponse", r.read())
        attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        self.assertEqual(attributes["PendingConfirmation"], "false")

        text = "도넛 재고가 떨어졌습니다: 글레이즈드 0개 남음.\nRestock soon."
        sns.publish(TopicArn=topic, Subject="품절 알림: 글레이즈드 도넛", Message=text)
        (mail,) = self.relay.next_mails()
        message = mail["message"]
        raw = mail["raw"].decode("ascii")  # everything non-ASCII travels encoded
        self.assertIn("Subject: =?UTF-8?B?", raw)
        self.assertIn("MIME-Version: 1.0", raw)
        self.assertRegex(raw, r"Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000")
        self.assertRegex(raw, r"Message-ID: <[^>]+@postbox>")
        self.assertEqual(message["Subject"], "품절 알림: 글레이즈드 도넛")
        self.assertEqual(message.get_content_type(), "text/plain")
        self.assertEqual(message.get_content_charset(), "utf-8")
        self.assertEqual(message["Content-Transfer-Encoding"], "base64")
        body = mail["text"]
        self.assertTrue(body.startswith(text + "\n"))
        self.assertTrue(all(len(line) <= 998 for line in raw.split("\r\n")))

        # Without a subject, AWS's; the footer's link unsubscribes.
        sns.publish(TopicArn=topic, Message="second")
        (mail,) = self.relay.next_mails()
        self.assertEqual(mail["message"]["Subject"], "AWS Notification Message")
        with urllib.request.urlopen(link_in(mail["text"], "Unsubscribe"),
                                    timeout=10) as r:
            self.assertEqual(r.status, 200)
        listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        self.assertEqual(listed, [])
        self.assertEqual(metric(server.endpoint, "email", "delivered"), 3)

    def test_email_json_gets_the_json_documents(self):
        # server.public_url is the base of the links (the Host header otherwise).
        server = start_server(self, self.relay,
                              extra=["--server-public-url", "https://postbox.example.test/"])
        sns = make_sns_client(server.endpoint)
        topic = sns.create_topic(Name="json-" + harness.uid())["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="robot@shop.test")
        (mail,) = self.relay.next_mails()
        document = json.loads(mail["text"])
        self.assertEqual(document["Type"], "SubscriptionConfirmation")
        self.assertEqual(document["TopicArn"], topic)
        self.assertTrue(document["SubscribeURL"].startswith(
            "https://postbox.example.test/?Action=ConfirmSubscription"), document["SubscribeURL"])
        sns.confirm_subscription(TopicArn=topic, Token=document["Token"])
        sns.publish(TopicArn=topic, Subject="주문", Message='{"order": "도넛 12개"}')
        (mail,) = self.relay.next_mails()
        self.assertEqual(mail["message"]["Subject"], "주문")
        document = json.loads(mail["text"])
        self.assertEqual(document["Type"], "Notification")
        self.assertEqual(document["Message"], '{"order": "도넛 12개"}')
        self.assertEqual(document["Subject"], "주문")
        self.assertIn("Signature", document)
        self.assertEqual(metric(server.endpoint, "email-json", "delivered"), 2)

    def test_refused_mailbox_goes_to_the_dead_letter_queue_at_once(self):
        server = start_server(self, self.relay)
        sns = make_sns_client(server.endpoint)
        sqs = harness.make_client(server.endpoint)
        dlq = sqs.create_queue(QueueName="mail-dlq-" + harness.uid())["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        topic = sns.create_topic(Name="refused-" + harness.uid())["TopicArn"]
        arn = confirm_email_subscription(self, sns, self.relay, topic, "gone@shop.test")
        sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RedrivePolicy",
                                        AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn}))
        self.relay.set_rules(reject=["gone@shop.test"])
        sns.publish(TopicArn=topic, Message="nobody reads this")
        got = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=10).get("Messages", [])
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0]["Body"].startswith("nobody reads this"))
        self.assertEqual(metric(server.endpoint, "email", "permanent_failure"), 1)
        self.assertEqual(metric(server.endpoint, "email", "failed_attempt"), 1)  # not retried
        self.assertEqual(metric(server.endpoint, "email", "dead_lettered"), 1)
        self.assertIn("status=550", server.output_with("status=550"))

    def test_deferred_mail_is_retried_and_survives_kill9(self):
        server = start_server(self, self.relay)
        sns = make_sns_client(server.endpoint)
        topic = sns.create_topic(Name="deferred-" + harness.uid())["TopicArn"]
        confirm_email_subscription(self, sns, self.relay, topic, "busy@shop.test")
        self.relay.set_rules(defer=["busy@shop.test"])
        sns.publish(TopicArn=topic, Message="wait for me")
        deadline = time.time() + 15
        while (metric(server.endpoint, "email", "failed_attempt") or 0) < 1:
            self.assertLess(time.time(), deadline, "no failed attempt was counted")
            time.sleep(0.1)
        self.assertIn("status=451", server.output_with("status=451"))
        server.kill9()
        self.relay.set_rules()
        server.start()
        (mail,) = self.relay.next_mails()
        self.assertTrue(mail["text"].startswith("wait for me"))


class SnsEmailTlsAndAuth(unittest.TestCase):
    def test_starttls_with_configured_ca_and_auth_from_the_environment(self):
        work = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, work, True)
        key, cert = self_signed_certificate(work)
        secret = "s3cret-" + harness.uid()
        relay = SmtpRelay(auth="mailer:" + secret, tls=(cert, key))
        self.addCleanup(relay.close)
        server = start_server(self, relay, extra=["--email-tls-ca-file", cert,
                                                  "--email-require-tls", "true"],
                              env={"POSTBOX_EMAIL_USERNAME": "mailer",
                                   "POSTBOX_EMAIL_PASSWORD": secret})
        sns = make_sns_client(server.endpoint)
        topic = sns.create_topic(Name="tls-" + harness.uid())["TopicArn"]
        confirm_email_subscription(self, sns, relay, topic, "oncall@shop.test")
        sns.publish(TopicArn=topic, Subject="Server sick", Message="web-3 is down")
        (mail,) = relay.next_mails()
        self.assertTrue(mail["tls"])
        self.assertEqual(mail["login"], "mailer")
        self.assertEqual(mail["message"]["Subject"], "Server sick")
        self.assertNotIn(secret, server.output())

    def test_an_untrusted_relay_certificate_is_refused(self):
        work = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, work, True)
        key, cert = self_signed_certificate(work)
        relay = SmtpRelay(tls=(cert, key))
        self.addCleanup(relay.close)
        server = start_server(self, relay, extra=["--email-require-tls", "true"])
        sns = make_sns_client(server.endpoint)
        topic = sns.create_topic(Name="untrusted-" + harness.uid())["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="someone@shop.test")
        deadline = time.time() + 15
        while (metric(server.endpoint, "email", "failed_attempt") or 0) < 1:
            self.assertLess(time.time(), deadline, "no failed attempt was counted:\n" +
                            server.output())
            time.sleep(0.1)
        self.assertEqual(relay.all_mails(), [])


if __name__ == "__main__":
    unittest.main()
