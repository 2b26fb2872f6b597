#!/usr/bin/env python3
"""End-to-end SES (v1 query API and v2 rest-json) through boto3, with mail going out through a
real SMTP server (Debian's aiosmtpd on 127.0.0.1):

- SendEmail with To, Cc and Bcc (Bcc only in the envelope), Korean subject and text, HTML;
  SendRawEmail with its recipients taken from the headers and its Bcc header removed;
- identities: VerifyEmailIdentity, ListIdentities (paging), GetIdentityVerificationAttributes,
  DeleteIdentity; GetSendQuota counting what was sent, Throttling beyond MaxSendRate;
- email.require_verified_identities: MessageRejected for an unverified sender, a verification
  mail whose link verifies it, then sending works;
- SES v2: SendEmail (Simple and Raw), the email identity operations, GetAccount, AWS's
  NotFoundException;
- durability: a mail the relay defers survives a kill -9 and is delivered after the restart;
  a mail the relay refuses for good ends as a JSON failure record in the configured queue.

Runs under python3 (boto3 1.43) and /usr/bin/python3 (boto3 1.26)."""

import base64
import email
import email.policy
import json
import os
import re
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from smtp_relay import SmtpRelay  # noqa: E402

FAST_RETRIES = ["--delivery-retry-min-delay-seconds", "1", "--delivery-retry-max-delay-seconds",
                "2", "--delivery-retries", "3"]


def make_client(service, endpoint):
    import boto3
    from botocore.config import Config

    cfg = Config(region_name=harness.REGION, connect_timeout=5, read_timeout=30,
                 retries={"total_max_attempts": 1})
    session = boto3.session.Session(aws_access_key_id=harness.ACCESS_KEY,
                                    aws_secret_access_key=harness.SECRET_KEY,
                                    region_name=harness.REGION)
    return session.client(service, endpoint_url=endpoint, config=cfg)


def start_server(test, relay, extra=()):
    server = harness.PostboxServer(extra_args=["--email-smtp-url", relay.url(), "--email-from",
                                               "postbox <verify@postbox.test>"] + FAST_RETRIES +
                                   list(extra))
    test.addCleanup(server.close)
    server.start()
    return server


def error_code(error):
    return error.response["Error"]["Code"]


class SesV1(unittest.TestCase):
    def setUp(self):
        self.relay = SmtpRelay()
        self.addCleanup(self.relay.close)
        self.server = start_server(self, self.relay, extra=["--email-max-per-second", "5"])
        self.ses = make_client("ses", self.server.endpoint)

    def test_send_email_with_cc_bcc_korean_and_html(self):
        answer = self.ses.send_email(
            Source="도넛 가게 <shop@postbox.test>",
            Destination={"ToAddresses": ["manager@shop.test"], "CcAddresses": ["boss@shop.test"],
                         "BccAddresses": ["audit@shop.test"]},
            Message={"Subject": {"Data": "재고 없음: 글레이즈드", "Charset": "UTF-8"},
                     "Body": {"Text": {"Data": "광고를 멈춰 주세요.\n감사합니다."},
                              "Html": {"Data": "<p>광고를 <b>멈춰</b> 주세요.</p>"}}},
            ReplyToAddresses=["orders@shop.test"])
        self.assertTrue(answer["MessageId"])
        (mail,) = self.relay.next_mails()
        message = mail["message"]
        self.assertEqual(mail["mail_from"], "shop@postbox.test")
        self.assertEqual(sorted(mail["rcpt_tos"]),
                         ["audit@shop.test", "boss@shop.test", "manager@shop.test"])
        self.assertEqual(message["Subject"], "재고 없음: 글레이즈드")
        self.assertEqual(message["From"].addresses[0].display_name, "도넛 가게")
        self.assertEqual(message["To"], "manager@shop.test")
        self.assertEqual(message["Cc"], "boss@shop.test")
        self.assertEqual(message["Reply-To"], "orders@shop.test")
        self.assertIsNone(message["Bcc"])
        self.assertEqual(message.get_content_type(), "multipart/alternative")
        self.assertEqual(mail["text"], "광고를 멈춰 주세요.\n감사합니다.")
        html = message.get_body(("html",)).get_content()
        self.assertIn("<b>멈춰</b>", html)
        quota = self.ses.get_send_quota()
        self.assertEqual(quota["SentLast24Hours"], 3.0)
        self.assertEqual(quota["MaxSendRate"], 5.0)
        self.assertEqual(quota["Max24HourSend"], 50000.0)

    def test_send_raw_email_takes_recipients_from_headers_and_drops_bcc(self):
        raw = ("From: Shop <shop@postbox.test>\nTo: a@shop.test, \"B, Person\" <b@shop.test>\n"
               "Bcc: hidden@shop.test\nSubject: raw\nMIME-Version: 1.0\n"
               "Content-Type: text/plain; charset=UTF-8\n\n.leading dot line\nraw body\n")
        answer = self.ses.send_raw_email(RawMessage={"Data": raw.encode()})
        self.assertTrue(answer["MessageId"])
        (mail,) = self.relay.next_mails()
        self.assertEqual(mail["mail_from"], "shop@postbox.test")
        self.assertEqual(sorted(mail["rcpt_tos"]), ["a@shop.test", "b@shop.test",
                                                    "hidden@shop.test"])
        self.assertNotIn(b"Bcc:", mail["raw"])
        self.assertIn(b"\r\n.leading dot line\r\nraw body\r\n", mail["raw"])
        # Explicit Destinations and Source win over the headers.
        self.ses.send_raw_email(Source="other@postbox.test", Destinations=["only@shop.test"],
                                RawMessage={"Data": raw.encode()})
        (mail,) = self.relay.next_mails()
        self.assertEqual(mail["mail_from"], "other@postbox.test")
        self.assertEqual(mail["rcpt_tos"], ["only@shop.test"])

    def test_identities(self):
        for address in ["c@shop.test", "a@shop.test", "b@shop.test"]:
            self.ses.verify_email_identity(EmailAddress=address)
        listed = self.ses.list_identities(IdentityType="EmailAddress", MaxItems=2)
        self.assertEqual(listed["Identities"], ["a@shop.test", "b@shop.test"])
        rest = self.ses.list_identities(IdentityType="EmailAddress", MaxItems=2,
                                        NextToken=listed["NextToken"])
        self.assertEqual(rest["Identities"], ["c@shop.test"])
        self.assertNotIn("NextToken", rest)
        self.assertEqual(self.ses.list_identities(IdentityType="Domain")["Identities"], [])
        attributes = self.ses.get_identity_verification_attributes(
            Identities=["a@shop.test", "unknown@shop.test"])["VerificationAttributes"]
        self.assertEqual(attributes, {"a@shop.test": {"VerificationStatus": "Success"}})
        self.ses.delete_identity(Identity="a@shop.test")
        self.ses.delete_identity(Identity="a@shop.test")  # again: still fine, as on SES
        self.assertEqual(self.ses.list_identities()["Identities"], ["b@shop.test", "c@shop.test"])
        self.assertEqual(self.relay.all_mails(), [])  # not a sandbox: no verification mail

    def test_errors(self):
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as ctx:
            self.ses.send_email(Source="no-at-sign", Destination={"ToAddresses": ["a@shop.test"]},
                                Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})
        self.assertEqual(error_code(ctx.exception), "InvalidParameterValue")
        self.assertEqual(ctx.exception.response["Error"]["Message"], "Missing final '@domain'")
        with self.assertRaises(ClientError) as ctx:
            self.ses.send_email(Source="a@shop.test",
                                Destination={"ToAddresses": ["x%d@shop.test" % i for i in range(6)]},
                                Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})
        self.assertEqual(error_code(ctx.exception), "Throttling")
        self.assertEqual(ctx.exception.response["Error"]["Message"],
                         "Maximum sending rate exceeded.")
        with self.assertRaises(ClientError) as ctx:
            self.ses.send_templated_email(Source="a@shop.test",
                                          Destination={"ToAddresses": ["b@shop.test"]},
                                          Template="t", TemplateData="{}")
        self.assertEqual(error_code(ctx.exception), "UnsupportedOperation")


class SesVerifiedIdentities(unittest.TestCase):
    def test_unverified_sender_rejected_until_the_link_is_visited(self):
        from botocore.exceptions import ClientError
        relay = SmtpRelay()
        self.addCleanup(relay.close)
        server = start_server(self, relay, extra=["--email-require-verified-identities", "true"])
        ses = make_client("ses", server.endpoint)
        send = dict(Source="Ads <ads@shop.test>", Destination={"ToAddresses": ["m@shop.test"]},
                    Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})
        with self.assertRaises(ClientError) as ctx:
            ses.send_email(**send)
        self.assertEqual(error_code(ctx.exception), "MessageRejected")
        self.assertEqual(ctx.exception.response["Error"]["Message"],
                         "Email address is not verified. The following identities failed the "
                         "check in region US-EAST-1: ads@shop.test")
        ses.verify_email_identity(EmailAddress="ads@shop.test")
        attributes = ses.get_identity_verification_attributes(Identities=["ads@shop.test"])
        self.assertEqual(attributes["VerificationAttributes"]["ads@shop.test"]
                         ["VerificationStatus"], "Pending")
        (mail,) = relay.next_mails()
        self.assertEqual(mail["rcpt_tos"], ["ads@shop.test"])
        self.assertEqual(mail["mail_from"], "verify@postbox.test")
        link = re.search(r"(http://\S+/ses/verify\?token=\w+)", mail["text"]).group(1)
        with self.assertRaises(ClientError):
            ses.send_email(**send)  # still pending
        with urllib.request.urlopen(link, timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertIn(b"verified", r.read())
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(link, timeout=10)  # used up
        self.assertEqual(ctx.exception.code, 404)
        attributes = ses.get_identity_verification_attributes(Identities=["ads@shop.test"])
        self.assertEqual(attributes["VerificationAttributes"]["ads@shop.test"]
                         ["VerificationStatus"], "Success")
        ses.send_email(**send)
        (mail,) = relay.next_mails()
        self.assertEqual(mail["rcpt_tos"], ["m@shop.test"])


class SesV2(unittest.TestCase):
    def test_send_email_identities_and_account(self):
        from botocore.exceptions import ClientError
        relay = SmtpRelay()
        self.addCleanup(relay.close)
        server = start_server(self, relay)
        sesv2 = make_client("sesv2", server.endpoint)
        answer = sesv2.send_email(
            FromEmailAddress="shop@postbox.test",
            Destination={"ToAddresses": ["m@shop.test"], "BccAddresses": ["audit@shop.test"]},
            Content={"Simple": {"Subject": {"Data": "품절"},
                                "Body": {"Text": {"Data": "글레이즈드 도넛"}}}})
        self.assertTrue(answer["MessageId"])
        (mail,) = relay.next_mails()
        self.assertEqual(sorted(mail["rcpt_tos"]), ["audit@shop.test", "m@shop.test"])
        self.assertEqual(mail["message"]["Subject"], "품절")
        self.assertEqual(mail["text"], "글레이즈드 도넛")
        raw = b"From: shop@postbox.test\r\nTo: r@shop.test\r\nSubject: raw v2\r\n\r\nhello\r\n"
        sesv2.send_email(Content={"Raw": {"Data": raw}})
        (mail,) = relay.next_mails()
        self.assertEqual(mail["rcpt_tos"], ["r@shop.test"])
        self.assertEqual(mail["message"]["Subject"], "raw v2")

        created = sesv2.create_email_identity(EmailIdentity="sales+ads@shop.test")
        self.assertEqual(created["IdentityType"], "EMAIL_ADDRESS")
        self.assertTrue(created["VerifiedForSendingStatus"])
        got = sesv2.get_email_identity(EmailIdentity="sales+ads@shop.test")
        self.assertEqual(got["VerificationStatus"], "SUCCESS")
        self.assertTrue(got["VerifiedForSendingStatus"])
        listed = sesv2.list_email_identities()["EmailIdentities"]
        self.assertEqual([i["IdentityName"] for i in listed], ["sales+ads@shop.test"])
        with self.assertRaises(ClientError) as ctx:
            sesv2.create_email_identity(EmailIdentity="sales+ads@shop.test")
        self.assertEqual(error_code(ctx.exception), "AlreadyExistsException")
        sesv2.delete_email_identity(EmailIdentity="sales+ads@shop.test")
        with self.assertRaises(ClientError) as ctx:
            sesv2.get_email_identity(EmailIdentity="sales+ads@shop.test")
        self.assertEqual(error_code(ctx.exception), "NotFoundException")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        account = sesv2.get_account()
        self.assertEqual(account["SendQuota"]["SentLast24Hours"], 3.0)
        self.assertTrue(account["SendingEnabled"])


class SesDurability(unittest.TestCase):
    def test_deferred_mail_survives_kill9_and_refused_mail_ends_in_the_failure_queue(self):
        relay = SmtpRelay()
        self.addCleanup(relay.close)
        failures = "ses-failures-" + harness.uid()
        failure_arn = "arn:aws:sqs:%s:%s:%s" % (harness.REGION, harness.ACCOUNT_ID, failures)
        server = start_server(self, relay, extra=["--email-ses-failure-queue-arn", failure_arn])
        sqs = harness.make_client(server.endpoint)
        failure_queue = sqs.create_queue(QueueName=failures)["QueueUrl"]
        ses = make_client("ses", server.endpoint)
        relay.set_rules(defer=["slow@shop.test"], reject=["gone@shop.test"])
        message = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "kept"}}}
        ses.send_email(Source="shop@postbox.test", Destination={"ToAddresses": ["slow@shop.test"]},
                       Message=message)
        refused = ses.send_email(Source="shop@postbox.test",
                                 Destination={"ToAddresses": ["gone@shop.test"]},
                                 Message=message)["MessageId"]
        got = sqs.receive_message(QueueUrl=failure_queue, WaitTimeSeconds=10).get("Messages", [])
        self.assertEqual(len(got), 1)
        record = json.loads(got[0]["Body"])
        self.assertEqual(record["notificationType"], "Failure")
        self.assertEqual(record["mail"]["messageId"], refused)
        self.assertEqual(record["mail"]["destination"], ["gone@shop.test"])
        self.assertIn("550", record["failure"]["reason"])
        # The whole message travels with the record, nothing is lost.
        content = email.message_from_bytes(base64.b64decode(record["content"]),
                                           policy=email.policy.default)
        self.assertEqual(content.get_content(), "kept")
        deadline = time.time() + 15
        while "status=451" not in server.output():
            self.assertLess(time.time(), deadline, "the deferral was not seen")
            time.sleep(0.1)
        server.kill9()
        relay.set_rules()
        server.start()
        # The refused mail's record is deleted lazily once it is in the failure queue: a kill
        # -9 right after may send it once more (at least once), now that the relay takes it.
        mails = relay.next_mails()
        while mails[-1]["rcpt_tos"] != ["slow@shop.test"]:
            self.assertEqual(mails[-1]["rcpt_tos"], ["gone@shop.test"])
            mails = relay.next_mails()
        self.assertEqual(mails[-1]["text"], "kept")


class SesCli(unittest.TestCase):
    """`aws ses send-email` and `aws sesv2 send-email` of both CLI generations."""

    def test_both_cli_generations_send(self):
        import subprocess
        import test_sqs_cli
        relay = SmtpRelay()
        self.addCleanup(relay.close)
        server = start_server(self, relay)
        clis = [c for c in (test_sqs_cli.find_cli(1), test_sqs_cli.find_cli(2)) if c]
        self.assertTrue(clis, "no AWS CLI found")
        for n, cli in enumerate(clis):
            for service in ("ses", "sesv2"):
                to = "cli%d-%s@shop.test" % (n, service)
                if service == "ses":
                    args = ["ses", "send-email", "--from", "shop@postbox.test", "--destination",
                            "ToAddresses=" + to, "--message",
                            "Subject={Data=품절},Body={Text={Data=도넛}}"]
                else:
                    args = ["sesv2", "send-email", "--from-email-address", "shop@postbox.test",
                            "--destination", "ToAddresses=" + to, "--content",
                            "Simple={Subject={Data=품절},Body={Text={Data=도넛}}}"]
                proc = subprocess.run([cli, "--endpoint-url", server.endpoint, "--output", "json"]
                                      + args, capture_output=True, text=True, timeout=120,
                                      env=harness.aws_env())
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertTrue(json.loads(proc.stdout)["MessageId"])
                (mail,) = relay.next_mails()
                self.assertEqual(mail["rcpt_tos"], [to])
                self.assertEqual(mail["message"]["Subject"], "품절")
                self.assertEqual(mail["text"], "도넛")


if __name__ == "__main__":
    unittest.main()
