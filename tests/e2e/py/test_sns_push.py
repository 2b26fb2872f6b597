#!/usr/bin/env python3
"""End-to-end mobile push through a fake Firebase (fake_fcm.py: Google's OAuth token endpoint
and FCM HTTP v1 on 127.0.0.1, verifying the RS256 JWT with the account's public key):

- platform applications (GCM with a service-account key as PlatformCredential, never shown
  back) and endpoints read back as written, with AWS's errors and idempotency;
- Publish to an endpoint ARN and to a topic with an `application` subscription reach FCM as v1
  messages (plain text, the legacy GCM entry translated, fcmV1Message as given), with one
  cached OAuth token;
- FCM's 503 is retried; UNREGISTERED disables the endpoint (Enabled=false), after which Publish
  answers EndpointDisabled until the endpoint gets a new token and is enabled again;
- endpoints survive a restart.

Runs under python3 (boto3 1.43) and /usr/bin/python3 (boto3 1.26)."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_fcm  # noqa: E402
import harness  # noqa: E402
from test_sns import make_sns_client  # noqa: E402

FAST_RETRIES = ["--delivery-retry-min-delay-seconds", "1", "--delivery-retry-max-delay-seconds",
                "2", "--delivery-retries", "4"]


class Push(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fcm = fake_fcm.FakeFcm()
        cls.server = harness.PostboxServer(
            extra_args=["--push-fcm-endpoint", cls.fcm.url()] + FAST_RETRIES)
        cls.server.require_local("push delivery")
        cls.server.start()
        cls.sns = make_sns_client(cls.server.endpoint)
        cls.app = cls.sns.create_platform_application(
            Name="timer-app" + harness.uid(), Platform="GCM",
            Attributes={"PlatformCredential": cls.fcm.service_account_json()}
        )["PlatformApplicationArn"]

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.fcm.close()

    def error_of(self, fn, **kwargs):
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as caught:
            fn(**kwargs)
        e = caught.exception.response
        return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Message"]

    def endpoint(self, token, **kwargs):
        return self.sns.create_platform_endpoint(PlatformApplicationArn=self.app, Token=token,
                                                 **kwargs)["EndpointArn"]

    def test_applications_and_endpoints_read_back(self):
        self.assertRegex(self.app, r"^arn:aws:sns:us-east-1:\d{12}:app/GCM/timer-app")
        attributes = self.sns.get_platform_application_attributes(
            PlatformApplicationArn=self.app)["Attributes"]
        self.assertNotIn("PlatformCredential", attributes)
        self.assertEqual(attributes["Enabled"], "true")
        listed = self.sns.list_platform_applications()["PlatformApplications"]
        self.assertIn(self.app, [a["PlatformApplicationArn"] for a in listed])
        arn = self.endpoint("token-readback", CustomUserData="user-42")
        self.assertIn(":endpoint/GCM/timer-app", arn)
        got = self.sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]
        self.assertEqual(got, {"Token": "token-readback", "Enabled": "true",
                               "CustomUserData": "user-42"})
        # The same token and attributes: the same endpoint; different attributes: refused.
        self.assertEqual(self.endpoint("token-readback", CustomUserData="user-42"), arn)
        code, status, message = self.error_of(
            self.sns.create_platform_endpoint, PlatformApplicationArn=self.app,
            Token="token-readback", CustomUserData="someone-else")
        self.assertEqual((code, status), ("InvalidParameter", 400))
        self.assertIn("already exists with the same Token, but different attributes", message)
        endpoints = self.sns.list_endpoints_by_platform_application(
            PlatformApplicationArn=self.app)["Endpoints"]
        self.assertIn(arn, [e["EndpointArn"] for e in endpoints])
        self.sns.delete_endpoint(EndpointArn=arn)
        self.sns.delete_endpoint(EndpointArn=arn)  # idempotent, as on AWS
        self.assertEqual(self.error_of(self.sns.get_endpoint_attributes, EndpointArn=arn)[:2],
                         ("NotFound", 404))

    def test_errors_as_aws_gives_them(self):
        missing = self.app + "-missing"
        self.assertEqual(self.error_of(self.sns.create_platform_endpoint,
                                       PlatformApplicationArn=missing, Token="t")[:2],
                         ("NotFound", 404))
        self.assertEqual(self.error_of(self.sns.get_platform_application_attributes,
                                       PlatformApplicationArn=missing)[:2], ("NotFound", 404))
        code, status, _ = self.error_of(self.sns.create_platform_application, Name="bad name!",
                                        Platform="GCM", Attributes={})
        self.assertEqual((code, status), ("InvalidParameter", 400))
        code, _, message = self.error_of(self.sns.create_platform_application, Name="nocred",
                                         Platform="GCM", Attributes={})
        self.assertEqual(code, "InvalidParameter")
        self.assertIn("PlatformCredential", message)
        code, _, message = self.error_of(self.sns.create_platform_application, Name="badcred",
                                         Platform="GCM",
                                         Attributes={"PlatformCredential": "AIzaLegacyKey"})
        self.assertEqual((code, message),
                         ("InvalidParameter",
                          "Invalid parameter: Attributes Reason: Platform credentials are invalid"))
        self.assertEqual(self.error_of(self.sns.create_platform_application, Name="x",
                                       Platform="PIGEON", Attributes={})[0], "InvalidParameter")
        for call, name in ((self.sns.get_platform_application_attributes,
                            "PlatformApplicationArn"),
                           (self.sns.get_endpoint_attributes, "EndpointArn")):
            self.assertEqual(self.error_of(call, **{name: "not-an-arn"}),
                             ("InvalidParameter", 400, "Invalid parameter: " + name +
                              " Reason: An ARN must have at least 6 elements, not 1"))
        endpoint = self.endpoint("token-limits")
        code, _, message = self.error_of(self.sns.publish, TargetArn=endpoint,
                                         Message="x" * 262145)
        self.assertEqual((code, message), ("InvalidParameter", "Invalid parameter: Message too long"))
        code, _, message = self.error_of(
            self.sns.publish, TargetArn=endpoint, Message="x",
            MessageAttributes={"n": {"DataType": "Pigeon", "StringValue": "abc"}})
        self.assertEqual(code, "ParameterValueInvalid")  # SNS's code for attribute errors
        code, _, message = self.error_of(self.sns.publish, TargetArn=endpoint,
                                         MessageStructure="json", Message='{"default": ""}')
        self.assertEqual((code, message), ("InvalidParameter", "Invalid parameter: Empty message"))
        code, _, message = self.error_of(self.sns.publish, TargetArn=self.app.replace(
            ":app/", ":endpoint/") + "/00000000-0000-0000-0000-000000000000", Message="x")
        self.assertEqual(code, "InvalidParameter")

    def test_publish_to_an_endpoint_and_through_a_topic(self):
        arn = self.endpoint("token-direct")
        self.sns.publish(TargetArn=arn, Message="타이머 종료")
        sent = self.fcm.wait_for_match(lambda m: m["token"] == "token-direct")
        self.assertEqual(sent["notification"], {"body": "타이머 종료"})
        self.assertEqual(sent["data"], {"default": "타이머 종료"})

        legacy = json.dumps({"notification": {"title": "Timer", "body": "done", "sound": "ping"},
                             "data": {"timer": 7, "kind": "pomodoro"}})
        self.sns.publish(TargetArn=arn, MessageStructure="json",
                         Message=json.dumps({"default": "fallback", "GCM": legacy}))
        sent = self.fcm.wait_for_match(lambda m: m.get("data", {}).get("kind") == "pomodoro")
        self.assertEqual(sent["notification"], {"title": "Timer", "body": "done"})
        self.assertEqual(sent["data"], {"timer": "7", "kind": "pomodoro"})
        self.assertEqual(sent["android"]["notification"], {"sound": "ping"})

        topic = self.sns.create_topic(Name="timers" + harness.uid())["TopicArn"]
        self.sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=arn)
        v1 = json.dumps({"fcmV1Message": {"message": {
            "notification": {"title": "Topic"}, "data": {"via": "topic"},
            "android": {"priority": "high"}}}})
        self.sns.publish(TopicArn=topic, MessageStructure="json",
                         Message=json.dumps({"default": "x", "GCM": v1}))
        sent = self.fcm.wait_for_match(lambda m: m.get("data", {}).get("via") == "topic")
        self.assertEqual(sent["android"], {"priority": "high"})
        self.assertEqual(sent["token"], "token-direct")
        # One OAuth token served every message.
        self.assertEqual(self.fcm.token_requests, 1)

    def test_unavailable_is_retried(self):
        arn = self.endpoint("token-retry")
        self.fcm.set_failures(2)
        self.sns.publish(TargetArn=arn, Message="retry me")
        self.fcm.wait_for_match(lambda m: m["token"] == "token-retry", timeout=30)

    def test_unregistered_disables_the_endpoint_until_reenabled(self):
        arn = self.endpoint("dead-token-1")
        self.sns.publish(TargetArn=arn, Message="are you there")
        deadline = time.time() + 20
        while self.sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]["Enabled"] != \
                "false":
            self.assertLess(time.time(), deadline, "the endpoint was not disabled")
            time.sleep(0.1)
        self.assertEqual(self.error_of(self.sns.publish, TargetArn=arn, Message="again"),
                         ("EndpointDisabled", 400, "Endpoint is disabled"))
        self.sns.set_endpoint_attributes(EndpointArn=arn, Attributes={
            "Token": "token-renewed", "Enabled": "true"})
        self.sns.publish(TargetArn=arn, Message="back")
        self.fcm.wait_for_match(lambda m: m["token"] == "token-renewed")

    def test_zz_endpoints_survive_a_restart(self):
        arn = self.endpoint("token-restart", CustomUserData="kept")
        self.server.restart()
        sns = make_sns_client(self.server.endpoint)
        self.assertEqual(sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]
                         ["CustomUserData"], "kept")
        sns.publish(TargetArn=arn, Message="after restart")
        self.fcm.wait_for_match(lambda m: m["token"] == "token-restart")
        type(self).sns = sns


if __name__ == "__main__":
    unittest.main()
