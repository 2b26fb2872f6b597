#!/usr/bin/env python3
"""End-to-end SMS through fake SENS, Twilio and webhook providers on 127.0.0.1 (fake_sms.py),
which check signatures and credentials as the real services do:

- Publish to a phone number and `sms` subscriptions reach the provider the number routes to
  (sms.routes by leading digits, else sms.default_provider): SENS with its HMAC signature,
  Korean numbers in domestic form, SMS or LMS by EUC-KR length; Twilio with Basic auth; the
  webhook with its HMAC signature; MessageStructure json's "sms" entry;
- E.164 validation with AWS's errors (Publish, Subscribe, CheckIfPhoneNumberIsOptedOut);
- a transient failure (503) is retried until the SMS goes through; a permanent one (Twilio
  21211) is given up at once to the subscription's dead-letter queue; Twilio 21610 (STOP)
  opts the number out: CheckIfPhoneNumberIsOptedOut and ListPhoneNumbersOptedOut show it,
  later SMS are not sent, OptInPhoneNumber takes it back;
- SetSMSAttributes / GetSMSAttributes (DefaultSenderID reaches the provider, invalid values
  refused), MonthlySpendLimit stops SMS (to sms.failure_queue_arn);
- an SMS waiting for its retry survives a kill -9;
- provider secrets (from the environment) never appear in postbox's output; /metrics counts.

Runs under python3 (boto3 1.43) and /usr/bin/python3 (boto3 1.26)."""

import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_sms  # noqa: E402
import harness  # noqa: E402
from test_sns import make_sns_client  # noqa: E402

FAST_RETRIES = ["--delivery-retry-min-delay-seconds", "1", "--delivery-retry-max-delay-seconds",
                "2", "--delivery-retries", "4"]
SECRETS = {
    "POSTBOX_SMS_SENS_SECRET_KEY": fake_sms.SENS_SECRET_KEY,
    "POSTBOX_SMS_TWILIO_AUTH_TOKEN": fake_sms.TWILIO_TOKEN,
    "POSTBOX_SMS_WEBHOOK_SECRET": fake_sms.WEBHOOK_SECRET,
}
KOREAN = "+821012345678"


def server_args(fake, extra=()):
    return ["--sms-default-provider", "sens", "--sms-routes", "1:twilio, 44:webhook",
            "--sms-sens-endpoint", fake.url(), "--sms-sens-service-id", fake_sms.SENS_SERVICE_ID,
            "--sms-sens-access-key", fake_sms.SENS_ACCESS_KEY, "--sms-sens-from",
            fake_sms.SENS_FROM, "--sms-twilio-endpoint", fake.url(), "--sms-twilio-account-sid",
            fake_sms.TWILIO_SID, "--sms-twilio-from", fake_sms.TWILIO_FROM, "--sms-webhook-url",
            fake.url("/sms-webhook")] + FAST_RETRIES + list(extra)


def metric(endpoint, name, labels):
    status, body = harness.http_get(endpoint, "/metrics")
    text = ",".join('%s="%s"' % kv for kv in labels)
    match = re.search(r"%s\{%s\} (\d+)" % (name, re.escape(text)), body)
    return int(match.group(1)) if match else None


class SmsTestCase(unittest.TestCase):
    extra_args = ()

    @classmethod
    def setUpClass(cls):
        cls.fake = fake_sms.FakeSmsProviders()
        cls.server = harness.PostboxServer(extra_args=server_args(cls.fake, cls.extra_args),
                                           env=SECRETS)
        cls.server.require_local("SMS delivery")
        cls.server.start()
        cls.sns = make_sns_client(cls.server.endpoint)
        cls.sqs = harness.make_client(cls.server.endpoint)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.fake.close()

    def assertSnsError(self, code, fn, **kwargs):
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as caught:
            fn(**kwargs)
        self.assertEqual(caught.exception.response["Error"]["Code"], code)
        return caught.exception.response["Error"]["Message"]

    def queue(self, name):
        url = self.sqs.create_queue(QueueName=name + harness.uid())["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    def receive(self, url, timeout=20):
        # A client of the server as it runs now (a restart gives it a new port).
        sqs = harness.make_client(self.server.endpoint)
        url = sqs.get_queue_url(QueueName=url.rsplit("/", 1)[1])["QueueUrl"]
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
            if got:
                return got[0]["Body"]
        self.fail("nothing arrived in %s" % url)


class SmsDelivery(SmsTestCase):
    def test_publish_to_korean_number_goes_through_sens_signed(self):
        result = self.sns.publish(PhoneNumber=KOREAN, Message="서버 web-1 응답 없음")
        self.assertRegex(result["MessageId"], r"^[0-9a-f-]{36}$")
        sent = self.fake.wait_for_match("sens", lambda m: m["content"] == "서버 web-1 응답 없음")
        self.assertEqual(sent["type"], "SMS")
        self.assertEqual(sent["countryCode"], "82")
        self.assertEqual(sent["messages"], [{"to": "01012345678"}])
        self.assertEqual(sent["from"], fake_sms.SENS_FROM)
        self.assertEqual(sent["content"], "서버 web-1 응답 없음")

    def test_long_text_goes_as_lms(self):
        text = "디스크 사용량 경보 " * 12  # about 130 EUC-KR bytes
        self.sns.publish(PhoneNumber="+821099998888", Message=text)
        sent = self.fake.wait_for_match("sens", lambda m: m["messages"][0]["to"] == "01099998888")
        self.assertEqual(sent["type"], "LMS")
        self.assertEqual(sent["content"], text)
        self.assertGreater(sent["euc_kr_bytes"], 90)

    def test_routes_send_by_country(self):
        self.sns.publish(PhoneNumber="+15551230001", Message="from twilio")
        sent = self.fake.wait_for_match("twilio", lambda m: m["To"] == "+15551230001")
        self.assertEqual(sent["To"], "+15551230001")
        self.assertEqual(sent["From"], fake_sms.TWILIO_FROM)
        self.assertEqual(sent["Body"], "from twilio")
        self.sns.publish(PhoneNumber="+447700900123", Message="from the webhook",
                         MessageAttributes={"AWS.SNS.SMS.SMSType": {
                             "DataType": "String", "StringValue": "Transactional"}})
        sent = self.fake.wait_for_match("webhook", lambda m: m["phoneNumber"] == "+447700900123")
        self.assertEqual(sent["message"], "from the webhook")
        self.assertEqual(sent["smsType"], "Transactional")

    def test_sms_subscription_gets_the_sms_entry(self):
        topic = self.sns.create_topic(Name="alerts" + harness.uid())["TopicArn"]
        sub = self.sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+821055556666",
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
        attributes = self.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        self.assertEqual(attributes["Protocol"], "sms")
        self.assertEqual(attributes["PendingConfirmation"], "false")
        self.sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps(
            {"default": "long default text", "sms": "짧은 문자"}))
        sent = self.fake.wait_for_match("sens", lambda m: m["messages"][0]["to"] == "01055556666")
        self.assertEqual(sent["content"], "짧은 문자")
        self.assertEqual(sent["messages"], [{"to": "01055556666"}])

    def test_invalid_numbers_are_refused_as_aws_does(self):
        message = self.assertSnsError("InvalidParameter", self.sns.publish,
                                      PhoneNumber="01012345678", Message="x")
        self.assertEqual(message,
                         "Invalid parameter: PhoneNumber Reason: 01012345678 is not valid to "
                         "publish to")
        topic = self.sns.create_topic(Name="bad" + harness.uid())["TopicArn"]
        message = self.assertSnsError("InvalidParameter", self.sns.subscribe, TopicArn=topic,
                                      Protocol="sms", Endpoint="555-1234")
        self.assertEqual(message, "Invalid SMS endpoint: 555-1234")
        self.assertSnsError("InvalidParameter", self.sns.check_if_phone_number_is_opted_out,
                            phoneNumber="12")

    def test_transient_failures_are_retried(self):
        number = "+821077770000"
        self.fake.set_rule(number, status=503, times=2)
        self.sns.publish(PhoneNumber=number, Message="retry me")
        sent = self.fake.wait_for_match("sens", lambda m: m["content"] == "retry me", timeout=30)
        self.assertEqual(sent["content"], "retry me")
        self.assertGreaterEqual(metric(self.server.endpoint, "postbox_sms_provider_requests_total",
                                       [("provider", "sens"), ("outcome", "retried")]), 2)

    def test_permanent_failure_goes_to_the_dead_letter_queue(self):
        number = "+15551230002"
        self.fake.set_rule(number, twilio_code=21211)
        dlq_url, dlq_arn = self.queue("sms-dlq")
        topic = self.sns.create_topic(Name="perm" + harness.uid())["TopicArn"]
        self.sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=number, Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})
        started = time.time()
        self.sns.publish(TopicArn=topic, Message="never deliverable")
        self.assertEqual(self.receive(dlq_url), "never deliverable")
        self.assertLess(time.time() - started, 10)  # given up at once, not after 4 retries
        self.assertGreaterEqual(metric(self.server.endpoint, "postbox_sms_provider_requests_total",
                                       [("provider", "twilio"), ("outcome", "permanent")]), 1)

    def test_stop_reply_opts_the_number_out_until_opted_in(self):
        number = "+15551230003"
        self.fake.set_rule(number, twilio_code=21610, times=1)
        self.sns.publish(PhoneNumber=number, Message="first")
        deadline = time.time() + 20
        while not self.sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"]:
            self.assertLess(time.time(), deadline, "the number was not opted out")
            time.sleep(0.1)
        listed = self.sns.list_phone_numbers_opted_out()
        self.assertIn(number, listed["phoneNumbers"])
        before = len(self.fake.received("twilio"))
        self.sns.publish(PhoneNumber=number, Message="while opted out")
        time.sleep(1.5)
        self.assertEqual([m for m in self.fake.received("twilio")[before:] if m["To"] == number],
                         [])
        self.assertGreaterEqual(metric(self.server.endpoint, "postbox_sms_refused_total",
                                       [("reason", "opted_out")]), 1)
        self.sns.opt_in_phone_number(phoneNumber=number)
        self.assertFalse(
            self.sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"])
        self.sns.publish(PhoneNumber=number, Message="welcome back")
        self.fake.wait_for_match("twilio", lambda m: m["Body"] == "welcome back")

    def test_sms_attributes_read_back_and_reach_the_provider(self):
        self.sns.set_sms_attributes(attributes={"DefaultSenderID": "Postbox1",
                                                "DefaultSMSType": "Transactional"})
        got = self.sns.get_sms_attributes()["attributes"]
        self.assertEqual(got["DefaultSenderID"], "Postbox1")
        self.assertEqual(got["DefaultSMSType"], "Transactional")
        only = self.sns.get_sms_attributes(attributes=["DefaultSMSType"])["attributes"]
        self.assertEqual(only, {"DefaultSMSType": "Transactional"})
        self.assertSnsError("InvalidParameter", self.sns.set_sms_attributes,
                            attributes={"DefaultSMSType": "Urgent"})
        self.assertSnsError("InvalidParameter", self.sns.set_sms_attributes,
                            attributes={"NoSuchAttribute": "1"})
        self.sns.publish(PhoneNumber="+447700900124", Message="with sender id")
        sent = self.fake.wait_for_match("webhook", lambda m: m["phoneNumber"] == "+447700900124")
        self.assertEqual(sent["senderId"], "Postbox1")

    def test_secrets_never_reach_the_log(self):
        self.sns.publish(PhoneNumber="+821012340000", Message="log check")
        self.fake.wait_for_match("sens", lambda m: m["content"] == "log check")
        output = self.server.output()
        for secret in SECRETS.values():
            self.assertNotIn(secret, output)


class SmsSpendLimit(SmsTestCase):
    # Each SMS costs 1 USD here, so a MonthlySpendLimit of 2 allows two.
    extra_args = ("--sms-price-per-message", "1")

    def test_monthly_spend_limit_stops_sms(self):
        url, arn = self.queue("sms-failed")
        self.server.stop()
        self.server.extra_args += ["--sms-failure-queue-arn", arn]
        self.server.start()
        sns = make_sns_client(self.server.endpoint)
        sns.set_sms_attributes(attributes={"MonthlySpendLimit": "2"})
        for i in range(2):
            sns.publish(PhoneNumber="+821011110000", Message="paid %d" % i)
        self.fake.wait_for("sens", 2)
        sns.publish(PhoneNumber="+821011110000", Message="over the limit")
        record = json.loads(self.receive(url))
        self.assertEqual(record["notificationType"], "Failure")
        self.assertEqual(record["sms"]["phoneNumber"], "+821011110000")
        self.assertEqual(record["sms"]["message"], "over the limit")
        self.assertIn("MonthlySpendLimit", record["failure"]["reason"])
        self.assertEqual(len(self.fake.received("sens")), 2)
        self.assertEqual(metric(self.server.endpoint, "postbox_sms_refused_total",
                                [("reason", "spend_limit")]), 1)
        # The count is stored: after a restart the limit still holds.
        self.server.restart()
        sns = make_sns_client(self.server.endpoint)
        sns.publish(PhoneNumber="+821011110000", Message="still over")
        self.assertEqual(json.loads(self.receive(url))["sms"]["message"], "still over")
        self.assertEqual(len(self.fake.received("sens")), 2)


class SmsDurability(SmsTestCase):
    def test_waiting_sms_survives_kill9(self):
        number = "+821066660000"
        self.fake.set_rule(number, status=503)
        self.sns.publish(PhoneNumber=number, Message="survive")
        deadline = time.time() + 10
        while not any(r[1] == 503 for r in self.fake.refusals):
            self.assertLess(time.time(), deadline, "no attempt was made")
            time.sleep(0.05)
        self.server.kill9()
        self.fake.clear_rule(number)
        self.server.start()
        sent = self.fake.wait_for("sens", 1, timeout=30)
        self.assertEqual(sent[0]["content"], "survive")


class SmsCli(SmsTestCase):
    """The SMS operations through both AWS CLIs (once, under the default python3)."""

    def run_cli(self, major, *args):
        import subprocess
        import test_sqs_cli
        cli = test_sqs_cli.find_cli(major)
        if cli is None:
            self.skipTest("AWS CLI v%d not found" % major)
        cmd = [cli, "--endpoint-url", self.server.endpoint, "--output", "json", "sns"] + list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              env=harness.aws_env())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    def test_sms_operations_through_both_clis(self):
        if os.path.realpath(sys.executable) == os.path.realpath("/usr/bin/python3"):
            self.skipTest("the CLIs run once, under the default python3")
        for major in (1, 2):
            number = "+8210%08d" % (major * 1111)
            text = "CLI v%d 알림" % major
            published = self.run_cli(major, "publish", "--phone-number", number, "--message", text)
            self.assertIn("MessageId", published)
            self.fake.wait_for_match("sens", lambda m: m["content"] == text)
            self.run_cli(major, "set-sms-attributes", "--attributes",
                         "DefaultSMSType=Transactional,DefaultSenderID=CliV%d" % major)
            got = self.run_cli(major, "get-sms-attributes")["attributes"]
            self.assertEqual(got["DefaultSenderID"], "CliV%d" % major)
            checked = self.run_cli(major, "check-if-phone-number-is-opted-out", "--phone-number",
                                   number)
            self.assertEqual(checked, {"isOptedOut": False})
            self.assertEqual(self.run_cli(major, "list-phone-numbers-opted-out")["phoneNumbers"],
                             [])
            self.run_cli(major, "opt-in-phone-number", "--phone-number", number)


class SmsOff(unittest.TestCase):
    def test_without_a_provider_publish_is_refused_and_ops_work(self):
        server = harness.PostboxServer()
        self.addCleanup(server.close)
        server.require_local("SMS configuration")
        server.start()
        sns = make_sns_client(server.endpoint)
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as caught:
            sns.publish(PhoneNumber=KOREAN, Message="nowhere to go")
        self.assertEqual(caught.exception.response["Error"]["Code"], "UnsupportedOperation")
        self.assertFalse(sns.check_if_phone_number_is_opted_out(phoneNumber=KOREAN)["isOptedOut"])
        self.assertIn("sms_provider_missing", server.output())


if __name__ == "__main__":
    unittest.main()
