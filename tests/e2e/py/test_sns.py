#!/usr/bin/env python3
"""End-to-end scenarios for postbox's SNS: topics, subscriptions, fan-out to SQS
queues (signed JSON envelope or raw delivery), filter policies, FIFO topics,
PublishBatch, tags, and durability across kill -9, driven through boto3.

Runs unchanged under two interpreters; SNS speaks the query/XML protocol in both:

  python3 tests/e2e/py/test_sns.py            # boto3 1.43
  /usr/bin/python3 tests/e2e/py/test_sns.py   # Debian boto3 1.26

Signature checks use the `openssl` command-line tool (the `cryptography`
module is not guaranteed under /usr/bin/python3).

Where a message text is quoted it is AWS's text as recorded against real AWS
(LocalStack's AWS-validated snapshots, integration tests run against AWS, real
responses quoted in public issues; see the SNS research notes).  Texts known
only from emulators are asserted by code and status, or by a prefix.

"""

import base64
import calendar
import collections
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import uid  # noqa: E402

SEQ_RE = re.compile(r"^[1-9]\d{19}$")  # like AWS's: 20 digits, no leading zero
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SUB_ARN_RE = re.compile(r"^arn:aws:sns:%s:%s:[A-Za-z0-9_.-]+:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                        r"[0-9a-f]{12}$" % (re.escape(harness.REGION), re.escape(harness.ACCOUNT_ID)))
CERT_NAME_RE = re.compile(r"^/SimpleNotificationService-[0-9A-Za-z]+\.pem$")

TOPIC_NOT_FOUND = "Topic does not exist"
SUB_NOT_FOUND = "Subscription does not exist"
DIFFERENT_ATTRS = "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
NO_GROUP = "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
NO_DEDUP = ("Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
            "MessageDeduplicationId provided explicitly")
DEDUP_ON_STANDARD = ("Invalid parameter: MessageDeduplicationId Reason: The request includes "
                     "MessageDeduplicationId parameter that is not valid for this topic type")
FIFO_QUEUE_ON_STANDARD = ("Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
                          "subscribed to standard SNS topics")
NO_DEFAULT = "Invalid parameter: Message Structure - No default entry in JSON message body"
JSON_PARSE = "Invalid parameter: Message Structure - JSON message body failed to parse"

# keys of a notification envelope, in AWS's order
STD_KEYS = ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
            "Signature", "SigningCertURL", "UnsubscribeURL", "MessageAttributes"]
FIFO_KEYS = ["Type", "MessageId", "SequenceNumber", "TopicArn", "Subject", "Message", "Timestamp",
             "UnsubscribeURL", "MessageAttributes"]

DEFAULT_EFFECTIVE_DELIVERY_POLICY = {"http": {
    "defaultHealthyRetryPolicy": {"minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
                                  "numMaxDelayRetries": 0, "numNoDelayRetries": 0, "numMinDelayRetries": 0,
                                  "backoffFunction": "linear"},
    "disableSubscriptionOverrides": False,
    "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}}


def default_policy_text(topic_arn):
    """AWS's default topic Policy, compact and with AWS's key order."""
    return ('{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID",'
            '"Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes",'
            '"SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic",'
            '"SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"%s",'
            '"Condition":{"StringEquals":{"AWS:SourceOwner":"%s"}}}]}' % (topic_arn, harness.ACCOUNT_ID))


def make_sns_client(endpoint, validate=True, read_timeout=40, connect_timeout=5):
    """A boto3 SNS client for endpoint (same settings as harness.make_client)."""
    import boto3
    from botocore.config import Config

    cfg = Config(region_name=harness.REGION, connect_timeout=connect_timeout, read_timeout=read_timeout,
                 retries={"total_max_attempts": 1}, parameter_validation=validate)
    session = boto3.session.Session(aws_access_key_id=harness.ACCESS_KEY,
                                    aws_secret_access_key=harness.SECRET_KEY, region_name=harness.REGION)
    return session.client("sns", endpoint_url=endpoint, config=cfg)


def topic_arn_of(name):
    return "arn:aws:sns:%s:%s:%s" % (harness.REGION, harness.ACCOUNT_ID, name)


def load_ordered(body):
    return json.loads(body, object_pairs_hook=collections.OrderedDict)


def canonical_text(envelope):
    """The text SNS signs for a Notification: "Key\\nValue\\n" for each field present."""
    out = ""
    for key in ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"):
        if key in envelope:
            out += "%s\n%s\n" % (key, envelope[key])
    return out.encode("utf-8")


def sqs_attrs(msg):
    """A received message's MessageAttributes reduced to DataType and the value field."""
    out = {}
    for name, a in msg.get("MessageAttributes", {}).items():
        v = {"DataType": a["DataType"]}
        for field in ("StringValue", "BinaryValue"):
            if a.get(field) is not None:
                v[field] = a[field]
        out[name] = v
    return out


class SnsTestCase(harness.SqsTestCase):
    """One server per class; cls.sns / cls.sns_raw (no client-side validation) next to
    the SQS clients of SqsTestCase."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sns = make_sns_client(cls.server.endpoint)
        cls.sns_raw = make_sns_client(cls.server.endpoint, validate=False)
        cls._topics = []

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.server.is_external:
                for arn in cls._topics:
                    try:
                        cls.sns.delete_topic(TopicArn=arn)
                    except Exception:
                        pass
            cls.sns.close()
            cls.sns_raw.close()
        finally:
            super().tearDownClass()

    # ----------------------------------------------------------- helpers
    def topic_name(self, prefix="t", fifo=False):
        return "pbx-%s-%s%s" % (prefix, uid(), ".fifo" if fifo else "")

    def new_topic(self, prefix="t", fifo=False, attributes=None, tags=None, name=None):
        name = name or self.topic_name(prefix, fifo)
        attrs = dict(attributes or {})
        if fifo:
            attrs.setdefault("FifoTopic", "true")
        kw = {"Name": name}
        if attrs:
            kw["Attributes"] = attrs
        if tags:
            kw["Tags"] = tags
        arn = self.sns.create_topic(**kw)["TopicArn"]
        self.assertEqual(arn, topic_arn_of(name))
        type(self)._topics.append(arn)
        return arn

    def new_queue(self, prefix="q", fifo=False, attributes=None):
        attrs = dict(attributes or {})
        if fifo:
            attrs["FifoQueue"] = "true"
        return self.create(self.new_name(prefix, fifo=fifo), attrs or None)

    def subscribe_queue(self, topic, queue_url, raw=False, attributes=None):
        attrs = dict(attributes or {})
        if raw:
            attrs["RawMessageDelivery"] = "true"
        kw = {"TopicArn": topic, "Protocol": "sqs", "Endpoint": self.arn_of(queue_url),
              "ReturnSubscriptionArn": True}
        if attrs:
            kw["Attributes"] = attrs
        arn = self.sns.subscribe(**kw)["SubscriptionArn"]
        self.assertRegex(arn, SUB_ARN_RE)
        self.assertTrue(arn.startswith(topic + ":"), arn)
        return arn

    def topic_attrs(self, arn):
        return self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]

    def sub_attrs(self, arn):
        return self.sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]

    def drain(self, url, timeout=10.0):
        """Receive and delete until two empty polls; the messages in receive order."""
        out, empty = [], 0
        deadline = time.monotonic() + timeout
        while empty < 2 and time.monotonic() < deadline:
            msgs = self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                AttributeNames=["All"], MessageAttributeNames=["All"])
            if not msgs:
                empty += 1
                continue
            empty = 0
            out += msgs
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
        self.assertGreaterEqual(empty, 2, "queue %s not drained within %.0f s" % (url, timeout))
        return out

    def drain_one(self, url):
        msgs = self.drain(url)
        self.assertEqual(len(msgs), 1, "expected exactly one message in %s, got %r" % (url, msgs))
        return msgs[0]

    def check_envelope(self, msg, topic, message_id, message, subject=None, attributes=None,
                       sub_arn=None, fifo=False, sequence=None, signature_version="1"):
        """msg is an SQS message holding a Notification envelope; checks every field and
        returns the parsed envelope."""
        body = msg["Body"]
        self.assertEqual(msg["MD5OfBody"], harness.md5_hex(body))
        # AWS-recorded: the envelope carries the attributes, SQS gets none of its own
        self.assertNotIn("MessageAttributes", msg)
        # AWS's layout: two-space indent and " : " between key and value
        self.assertTrue(body.startswith('{\n  "Type" : "Notification",\n  "MessageId" : '), body[:80])
        env = load_ordered(body)
        order = FIFO_KEYS if fifo else STD_KEYS
        expected_keys = [k for k in order
                         if (k != "Subject" or subject is not None) and (k != "MessageAttributes" or attributes)]
        self.assertEqual(list(env), expected_keys)
        self.assertEqual(env["Type"], "Notification")
        self.assertEqual(env["MessageId"], message_id)
        self.assertEqual(env["TopicArn"], topic)
        self.assertEqual(env["Message"], message)
        if subject is not None:
            self.assertEqual(env["Subject"], subject)
        self.assertRegex(env["Timestamp"], TIMESTAMP_RE)
        ts = calendar.timegm(time.strptime(env["Timestamp"][:19], "%Y-%m-%dT%H:%M:%S"))
        self.assertLess(abs(ts - time.time()), 120, env["Timestamp"])
        if fifo:
            self.assertEqual(env["SequenceNumber"], sequence)
        else:
            self.assertEqual(env["SignatureVersion"], signature_version)
            base64.b64decode(env["Signature"], validate=True)
            cert = urllib.parse.urlsplit(env["SigningCertURL"])
            self.assertEqual("%s://%s" % (cert.scheme, cert.netloc), self.server.endpoint)
            self.assertRegex(cert.path, CERT_NAME_RE)
        unsub = urllib.parse.urlsplit(env["UnsubscribeURL"])
        self.assertEqual("%s://%s%s" % (unsub.scheme, unsub.netloc, unsub.path), self.server.endpoint + "/")
        query = urllib.parse.parse_qs(unsub.query)
        self.assertEqual(query["Action"], ["Unsubscribe"])
        if sub_arn is not None:
            self.assertEqual(query["SubscriptionArn"], [sub_arn])
        if attributes:
            self.assertEqual(dict(env["MessageAttributes"]), attributes)
        return env

    def publish_attrs(self):
        """String, Number and Binary attributes, and how the envelope shows them."""
        binary = b"\x00\x01\x02\xfe\xffbin"
        published = {
            "s": {"DataType": "String", "StringValue": "h\u00e9llo \"w\"/x"},
            "n": {"DataType": "Number", "StringValue": "42.5"},
            "b": {"DataType": "Binary", "BinaryValue": binary},
        }
        in_envelope = {
            "s": {"Type": "String", "Value": "h\u00e9llo \"w\"/x"},
            "n": {"Type": "Number", "Value": "42.5"},
            "b": {"Type": "Binary", "Value": base64.b64encode(binary).decode()},
        }
        return published, in_envelope

    # ================================================================ topics
    def test_topic_create_attributes_and_idempotency(self):
        name = self.topic_name("life")
        arn = self.new_topic(name=name, attributes={"DisplayName": "Life"},
                             tags=[{"Key": "env", "Value": "test"}])
        got = self.topic_attrs(arn)
        policy = json.loads(got.pop("Policy"))
        effective = json.loads(got.pop("EffectiveDeliveryPolicy"))
        # AWS-recorded attribute set of a new standard topic
        self.assertEqual(got, {
            "DisplayName": "Life", "Owner": harness.ACCOUNT_ID, "TopicArn": arn,
            "SubscriptionsConfirmed": "0", "SubscriptionsPending": "0", "SubscriptionsDeleted": "0"})
        self.assertEqual(policy, json.loads(default_policy_text(arn)))
        self.assertEqual(effective, DEFAULT_EFFECTIVE_DELIVERY_POLICY)

        # idempotent: no attributes, the same attributes, FifoTopic=false (not stored)
        self.assertEqual(self.sns.create_topic(Name=name)["TopicArn"], arn)
        self.assertEqual(self.sns.create_topic(Name=name, Attributes={"DisplayName": "Life"})["TopicArn"], arn)
        self.assertEqual(self.sns.create_topic(Name=name, Attributes={"FifoTopic": "false"})["TopicArn"], arn)
        self.assertEqual(self.sns.create_topic(Name=name, Tags=[{"Key": "env", "Value": "test"}])["TopicArn"], arn)
        self.assertAwsError("InvalidParameter", 400, self.sns.create_topic, Name=name,
                            Attributes={"DisplayName": "Other"}, message=DIFFERENT_ATTRS)
        # an attribute the topic does not have set also differs
        self.assertAwsError("InvalidParameter", 400, self.sns.create_topic, Name=name,
                            Attributes={"SignatureVersion": "2"}, message=DIFFERENT_ATTRS)
        self.assertAwsError("InvalidParameter", 400, self.sns.create_topic, Name=name,
                            Tags=[{"Key": "env", "Value": "prod"}],
                            message="Invalid parameter: Tags Reason: Topic already exists with different tags")
        self.assertEqual(self.topic_attrs(arn)["DisplayName"], "Life")

        # SetTopicAttributes
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Renamed")
        self.assertEqual(self.topic_attrs(arn)["DisplayName"], "Renamed")
        for bad in ("FifoTopic", "NoSuchAttribute"):
            self.assertAwsError("InvalidParameter", 400, self.sns.set_topic_attributes, TopicArn=arn,
                                AttributeName=bad, AttributeValue="false", message="Invalid parameter: AttributeName")
        # text UNCONFIRMED on AWS: code only
        self.assertAwsError("InvalidParameter", 400, self.sns.set_topic_attributes, TopicArn=arn,
                            AttributeName="SignatureVersion", AttributeValue="3")
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
        self.assertEqual(self.topic_attrs(arn)["SignatureVersion"], "2")
        # Policy is stored and returned as given; DeliveryPolicy gains disableSubscriptionOverrides
        # (AWS-recorded)
        policy = {"Version": "2012-10-17", "Statement": [{
            "Sid": "publish", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "SNS:Publish",
            "Resource": arn}]}
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
        self.assertEqual(json.loads(self.topic_attrs(arn)["Policy"]), policy)
        delivery = {"http": {"defaultHealthyRetryPolicy": {
            "numRetries": 5, "minDelayTarget": 1, "maxDelayTarget": 10, "numMinDelayRetries": 0,
            "numMaxDelayRetries": 0, "numNoDelayRetries": 0, "backoffFunction": "exponential"}}}
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy",
                                      AttributeValue=json.dumps(delivery))
        got = self.topic_attrs(arn)
        self.assertEqual(json.loads(got["DeliveryPolicy"]),
                         {"http": dict(delivery["http"], disableSubscriptionOverrides=False)})
        self.assertEqual(json.loads(got["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]
                         ["backoffFunction"], "exponential")

    def test_default_policy_text_has_aws_key_order(self):
        arn = self.new_topic("pol")
        self.assertEqual(self.topic_attrs(arn)["Policy"], default_policy_text(arn))

    def test_fifo_topic_attributes_and_names(self):
        arn = self.new_topic("ff", fifo=True, attributes={"ContentBasedDeduplication": "true"})
        got = self.topic_attrs(arn)
        self.assertEqual((got["FifoTopic"], got["ContentBasedDeduplication"]), ("true", "true"))
        arn2 = self.new_topic("ff", fifo=True)
        self.assertEqual(self.topic_attrs(arn2)["ContentBasedDeduplication"], "false")
        self.sns.set_topic_attributes(TopicArn=arn2, AttributeName="ContentBasedDeduplication",
                                      AttributeValue="true")
        self.assertEqual(self.topic_attrs(arn2)["ContentBasedDeduplication"], "true")
        std = self.topic_attrs(self.new_topic("std"))
        self.assertNotIn("FifoTopic", std)
        self.assertNotIn("ContentBasedDeduplication", std)
        # a .fifo name without FifoTopic=true
        self.assertAwsError("InvalidParameter", 400, self.sns.create_topic, Name=self.topic_name("n", fifo=True),
                            message="Invalid parameter: Topic Name")

    def test_fifo_attribute_without_fifo_suffix(self):
        self.assertAwsError("InvalidParameter", 400, self.sns.create_topic, Name=self.topic_name("n"),
                            Attributes={"FifoTopic": "true"}, message="Invalid parameter: Topic Name")

    def test_topic_name_constraints(self):
        ok = "a" * 256
        arn = self.new_topic(name=ok)
        self.assertEqual(arn, topic_arn_of(ok))
        for bad in ("", "a" * 257, "bad:name", "bad;name", "bad!name", "bad@name", "bad name", "bad.name"):
            self.assertAwsError("InvalidParameter", 400, self.sns_raw.create_topic, Name=bad,
                                message="Invalid parameter: Topic Name")

    def test_delete_topic_is_idempotent_and_missing_topics_are_not_found(self):
        arn = self.new_topic("del", tags=[{"Key": "k", "Value": "v"}])
        q = self.new_queue()
        sub = self.subscribe_queue(arn, q)
        self.sns.delete_topic(TopicArn=arn)
        self.sns.delete_topic(TopicArn=arn)
        self.sns.delete_topic(TopicArn=topic_arn_of("pbx-never-" + uid()))
        self.assertNotIn(arn, self.all_topics())
        calls = [
            (self.sns.get_topic_attributes, {"TopicArn": arn}),
            (self.sns.set_topic_attributes, {"TopicArn": arn, "AttributeName": "DisplayName",
                                             "AttributeValue": "x"}),
            (self.sns.subscribe, {"TopicArn": arn, "Protocol": "sqs", "Endpoint": self.arn_of(q)}),
            (self.sns.publish, {"TopicArn": arn, "Message": "m"}),
            (self.sns.publish_batch, {"TopicArn": arn, "PublishBatchRequestEntries": [{"Id": "a", "Message": "m"}]}),
            (self.sns.list_subscriptions_by_topic, {"TopicArn": arn}),
        ]
        for fn, kw in calls:
            self.assertAwsError("NotFound", 404, fn, message=TOPIC_NOT_FOUND, **kw)
        self.assertEqual(self.drain(q), [])
        # recreated: no tags, no subscriptions
        self.assertEqual(self.sns.create_topic(Name=arn.rsplit(":", 1)[1])["TopicArn"], arn)
        self.assertEqual(self.sns.list_tags_for_resource(ResourceArn=arn)["Tags"], [])
        self.assertEqual(self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"], [])
        self.assertNotIn(sub, [s["SubscriptionArn"] for s in self.all_subscriptions()])
        # malformed ARNs
        self.assertAwsError("InvalidParameter", 400, self.sns.get_topic_attributes, TopicArn="test-topic",
                            message="Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1")
        self.assertAwsError("InvalidParameter", 400, self.sns.publish, TopicArn="arn:aws:sns:us-east-1:random",
                            Message="m",
                            message="Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 5")

    def all_topics(self):
        out, token = [], None
        while True:
            resp = self.sns.list_topics(**({"NextToken": token} if token else {}))
            out += [t["TopicArn"] for t in resp["Topics"]]
            token = resp.get("NextToken")
            if not token:
                return out

    def all_subscriptions(self):
        out, token = [], None
        while True:
            resp = self.sns.list_subscriptions(**({"NextToken": token} if token else {}))
            out += resp["Subscriptions"]
            token = resp.get("NextToken")
            if not token:
                return out

    def test_list_topics_pages_of_100(self):
        prefix = "pbx-page-%s-" % uid()
        names = [prefix + "%03d" % i for i in range(101)]
        with ThreadPoolExecutor(8) as pool:
            arns = list(pool.map(lambda n: self.sns.create_topic(Name=n)["TopicArn"], names))
        type(self)._topics.extend(arns)
        pages, token = [], None
        while True:
            resp = self.sns.list_topics(**({"NextToken": token} if token else {}))
            pages.append([t["TopicArn"] for t in resp["Topics"]])
            token = resp.get("NextToken")
            if not token:
                break
            self.assertEqual(len(pages[-1]), 100, "a page with a NextToken must be full")
        self.assertGreaterEqual(len(pages), 2)
        self.assertLessEqual(len(pages[-1]), 100)
        listed = [a for p in pages for a in p]
        self.assertEqual(len(listed), len(set(listed)), "a topic listed twice across pages")
        self.assertEqual(sorted(a for a in listed if a.rsplit(":", 1)[1].startswith(prefix)), sorted(arns))
        # botocore's paginator follows the same tokens
        paged = [t["TopicArn"] for page in self.sns.get_paginator("list_topics").paginate() for t in page["Topics"]]
        self.assertEqual(sorted(paged), sorted(listed))
        self.assertAwsError("InvalidParameter", 400, self.sns.list_topics, NextToken="not-a-token!")

    # ================================================================== tags
    def test_tags(self):
        arn = self.new_topic("tag", tags=[{"Key": "a", "Value": "1"}])

        def tags():
            return {t["Key"]: t["Value"] for t in self.sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}

        self.assertEqual(tags(), {"a": "1"})
        self.sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "one"},
                                                     {"Key": "empty", "Value": ""}])
        self.assertEqual(tags(), {"a": "one", "b": "2", "empty": ""})
        self.sns.untag_resource(ResourceArn=arn, TagKeys=["a", "not-there"])
        self.assertEqual(tags(), {"b": "2", "empty": ""})
        self.assertAwsError("InvalidParameter", 400, self.sns.tag_resource, ResourceArn=arn,
                            Tags=[{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}],
                            message="Invalid parameter: Duplicated keys are not allowed.")
        self.assertEqual(tags(), {"b": "2", "empty": ""})
        missing = topic_arn_of("pbx-missing-" + uid())
        for fn, kw in ((self.sns.list_tags_for_resource, {}),
                       (self.sns.tag_resource, {"Tags": [{"Key": "k", "Value": "v"}]}),
                       (self.sns.untag_resource, {"TagKeys": ["k"]})):
            self.assertAwsError("ResourceNotFound", 404, fn, ResourceArn=missing,
                                message="Resource does not exist", **kw)

    def test_tag_quota(self):
        arn = self.new_topic("quota")
        self.sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k%02d" % i, "Value": "v"} for i in range(50)])
        self.assertAwsError("TagLimitExceeded", 400, self.sns.tag_resource, ResourceArn=arn,
                            Tags=[{"Key": "one-more", "Value": "v"}],
                            message="Could not complete request: tag quota of per resource exceeded")

    # =============================================================== fan-out
    def test_publish_by_target_arn(self):
        # TargetArn names the topic as TopicArn does (it is also how a phone or an endpoint
        # would be named, which postbox does not deliver to yet).
        topic = self.new_topic("target")
        q = self.new_queue("target")
        self.subscribe_queue(topic, q, raw=True)
        mid = self.sns.publish(TargetArn=topic, Message="by target")["MessageId"]
        got = self.drain(q)
        self.assertEqual([m["Body"] for m in got], ["by target"])
        self.assertTrue(mid)

    def test_fan_out_to_three_queues(self):
        topic = self.new_topic("fan")
        env1, env2, raw = self.new_queue("env1"), self.new_queue("env2"), self.new_queue("raw")
        sub1 = self.subscribe_queue(topic, env1)
        sub2 = self.subscribe_queue(topic, env2)
        sub3 = self.subscribe_queue(topic, raw, raw=True)
        self.assertEqual(len({sub1, sub2, sub3}), 3)
        got = self.topic_attrs(topic)
        self.assertEqual((got["SubscriptionsConfirmed"], got["SubscriptionsPending"]), ("3", "0"))
        self.assertEqual(self.sub_attrs(sub3)["RawMessageDelivery"], "true")
        self.assertEqual(self.sub_attrs(sub1)["RawMessageDelivery"], "false")

        published, in_envelope = self.publish_attrs()
        message = 'Gr\u00fc\u00dfe "quoted" back\\slash a/b \u4f60\u597d\nline2'
        resp = self.sns.publish(TopicArn=topic, Message=message, Subject="Hello subject",
                                MessageAttributes=published)
        message_id = resp["MessageId"]
        self.assertNotIn("SequenceNumber", resp)

        for url, sub in ((env1, sub1), (env2, sub2)):
            msg = self.drain_one(url)
            self.check_envelope(msg, topic, message_id, message, subject="Hello subject",
                                attributes=in_envelope, sub_arn=sub)
            # JSON text: non-ASCII stays raw UTF-8, "/" is not escaped
            self.assertIn("Gr\u00fc\u00dfe", msg["Body"])
            self.assertIn("a/b", msg["Body"])
        msg = self.drain_one(raw)
        self.assertEqual(msg["Body"], message)
        self.assertEqual(msg["MD5OfBody"], harness.md5_hex(message))
        self.assertEqual(sqs_attrs(msg), published)
        self.assertEqual(msg["MD5OfMessageAttributes"], harness.md5_of_message_attributes(published))

        # without Subject and attributes the envelope has neither key
        message_id = self.sns.publish(TopicArn=topic, Message="plain")["MessageId"]
        self.check_envelope(self.drain_one(env1), topic, message_id, "plain", sub_arn=sub1)
        self.check_envelope(self.drain_one(env2), topic, message_id, "plain", sub_arn=sub2)
        msg = self.drain_one(raw)
        self.assertEqual((msg["Body"], msg.get("MessageAttributes")), ("plain", None))

    def test_string_array_attribute_in_envelope(self):
        topic = self.new_topic("arr")
        q = self.new_queue()
        sub = self.subscribe_queue(topic, q)
        value = '["a", "b", 3]'
        message_id = self.sns.publish(TopicArn=topic, Message="m", MessageAttributes={
            "list": {"DataType": "String.Array", "StringValue": value},
            "custom": {"DataType": "String.custom", "StringValue": "c"}})["MessageId"]
        self.check_envelope(self.drain_one(q), topic, message_id, "m", sub_arn=sub, attributes={
            "list": {"Type": "String.Array", "Value": value},
            "custom": {"Type": "String.custom", "Value": "c"}})

    def test_unsubscribe_url_works(self):
        topic = self.new_topic("unsub")
        q = self.new_queue()
        sub = self.subscribe_queue(topic, q)
        self.sns.publish(TopicArn=topic, Message="m")
        env = load_ordered(self.drain_one(q)["Body"])
        with urllib.request.urlopen(env["UnsubscribeURL"], timeout=10) as resp:
            self.assertEqual(resp.status, 200)
            self.assertIn(b"UnsubscribeResponse", resp.read())
        self.assertAwsError("NotFound", 404, self.sns.get_subscription_attributes, SubscriptionArn=sub,
                            message=SUB_NOT_FOUND)
        self.sns.publish(TopicArn=topic, Message="after")
        self.assertEqual(self.drain(q), [])

    def test_unsubscribe_url_has_aws_form(self):
        topic = self.new_topic("unsubform")
        q = self.new_queue()
        sub = self.subscribe_queue(topic, q)
        self.sns.publish(TopicArn=topic, Message="m")
        env = load_ordered(self.drain_one(q)["Body"])
        self.assertEqual(env["UnsubscribeURL"],
                         self.server.endpoint + "/?Action=Unsubscribe&SubscriptionArn=" + sub)

    # ============================================================ signatures
    def openssl(self, *args, expect_ok=True):
        proc = subprocess.run(["openssl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if expect_ok:
            self.assertEqual(proc.returncode, 0, "openssl %s failed: %s%s" % (
                " ".join(args), proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")))
        return proc

    def verify(self, workdir, envelope, pubkey, digest):
        """True if envelope's Signature verifies with pubkey under digest (sha1/sha256)."""
        data = os.path.join(workdir, "data.txt")
        sig = os.path.join(workdir, "sig.bin")
        with open(data, "wb") as f:
            f.write(canonical_text(envelope))
        with open(sig, "wb") as f:
            f.write(base64.b64decode(envelope["Signature"]))
        proc = self.openssl("dgst", "-" + digest, "-verify", pubkey, "-signature", sig, data, expect_ok=False)
        out = proc.stdout.decode(errors="replace")
        self.assertIn("Verif", out + proc.stderr.decode(errors="replace"))
        return proc.returncode == 0 and "Verified OK" in out

    def fetch_pubkey(self, workdir, cert_url):
        with urllib.request.urlopen(cert_url, timeout=10) as resp:
            self.assertEqual(resp.status, 200)
            pem = resp.read()
        self.assertTrue(pem.startswith(b"-----BEGIN CERTIFICATE-----"), pem[:60])
        cert = os.path.join(workdir, "cert.pem")
        with open(cert, "wb") as f:
            f.write(pem)
        pub = os.path.join(workdir, "pub.pem")
        with open(pub, "wb") as f:
            f.write(self.openssl("x509", "-in", cert, "-pubkey", "-noout").stdout)
        return pub

    def test_signatures_verify_with_the_served_certificate(self):
        if shutil.which("openssl") is None:
            self.skipTest("no openssl command")
        topic = self.new_topic("sig")
        q = self.new_queue()
        sub = self.subscribe_queue(topic, q)
        workdir = tempfile.mkdtemp(prefix="pbx-sns-sig-")
        self.addCleanup(shutil.rmtree, workdir, True)

        def publish_and_get(version, **kw):
            message_id = self.sns.publish(TopicArn=topic, **kw)["MessageId"]
            return self.check_envelope(self.drain_one(q), topic, message_id, kw["Message"],
                                       subject=kw.get("Subject"), sub_arn=sub, signature_version=version)

        v1 = publish_and_get("1", Message="signed \u00e9 message\nwith two lines", Subject="Subj")
        v1b = publish_and_get("1", Message="no subject")
        self.assertEqual(v1["SigningCertURL"], v1b["SigningCertURL"])
        pub = self.fetch_pubkey(workdir, v1["SigningCertURL"])
        for env in (v1, v1b):
            self.assertTrue(self.verify(workdir, env, pub, "sha1"), "SignatureVersion 1 does not verify")
            self.assertFalse(self.verify(workdir, env, pub, "sha256"))
            tampered = dict(env, Message=env["Message"] + "!")
            self.assertFalse(self.verify(workdir, tampered, pub, "sha1"), "tampered message verified")
        # the Subject is signed too
        self.assertFalse(self.verify(workdir, dict(v1, Subject="Other"), pub, "sha1"))

        self.sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion", AttributeValue="2")
        v2 = publish_and_get("2", Message="version two", Subject="S2")
        self.assertEqual(v2["SigningCertURL"], v1["SigningCertURL"])
        self.assertTrue(self.verify(workdir, v2, pub, "sha256"), "SignatureVersion 2 does not verify")
        self.assertFalse(self.verify(workdir, v2, pub, "sha1"))
        self.assertFalse(self.verify(workdir, dict(v2, Message="version 2"), pub, "sha256"))
        self.assertFalse(self.verify(workdir, dict(v2, Timestamp="2000-01-01T00:00:00.000Z"), pub, "sha256"))

    # ======================================================= filter policies
    def test_filter_policies(self):
        topic = self.new_topic("filt")
        policies = {
            "exact": {"color": ["red"]},
            "prefix": {"region": [{"prefix": "eu-"}]},
            "numeric": {"price": [{"numeric": [">=", 10, "<", 20]}]},
            "anything_but": {"color": [{"anything-but": ["red", "blue"]}]},
            "exists": {"urgent": [{"exists": True}]},
            "not_exists": {"color": [{"exists": False}]},
            "and": {"color": ["red"], "price": [{"numeric": ["<", 18]}]},
        }
        queues, subs = {}, {}
        for key, policy in policies.items():
            queues[key] = self.new_queue(key.replace("_", "-"))
            subs[key] = self.subscribe_queue(topic, queues[key], raw=True,
                                             attributes={"FilterPolicy": json.dumps(policy)})
        # body scope, set through SetSubscriptionAttributes (scope first: nested keys need it)
        queues["body"] = self.new_queue("body")
        subs["body"] = self.subscribe_queue(topic, queues["body"], raw=True)
        body_policy = json.dumps({"order": {"kind": ["book"]}})
        self.sns.set_subscription_attributes(SubscriptionArn=subs["body"], AttributeName="FilterPolicyScope",
                                             AttributeValue="MessageBody")
        self.sns.set_subscription_attributes(SubscriptionArn=subs["body"], AttributeName="FilterPolicy",
                                             AttributeValue=body_policy)
        got = self.sub_attrs(subs["body"])
        self.assertEqual((got["FilterPolicy"], got["FilterPolicyScope"]), (body_policy, "MessageBody"))
        got = self.sub_attrs(subs["exact"])
        self.assertEqual((json.loads(got["FilterPolicy"]), got["FilterPolicyScope"]),
                         (policies["exact"], "MessageAttributes"))
        # no filter: gets everything
        queues["all"] = self.new_queue("all")
        subs["all"] = self.subscribe_queue(topic, queues["all"], raw=True)
        self.assertNotIn("FilterPolicy", self.sub_attrs(subs["all"]))

        def s(v):
            return {"DataType": "String", "StringValue": v}

        def n(v):
            return {"DataType": "Number", "StringValue": v}

        messages = [
            ("m1", {"color": s("red"), "region": s("eu-west-1"), "price": n("15"), "urgent": s("yes")},
             {"order": {"kind": "book"}}),
            ("m2", {"color": s("blue"), "region": s("us-east-1"), "price": n("25")}, {"order": {"kind": "pen"}}),
            ("m3", {"color": s("green"), "region": s("eu-central-1"), "price": n("10")},
             {"order": {"kind": "book", "n": 2}}),
            ("m4", {}, {"kind": "book"}),
            ("m5", {"price": n("9.99"), "urgent": s("no")}, {"order": {"kind": ["pen", "book"]}}),
            ("m6", {"color": s("red"), "region": s("ap-south-1"), "price": n("20")}, {"order": {"kind": "Book"}}),
            ("m7", {"color": s("Red"), "region": s("EU-west-1"), "price": n("1.5e1")}, {"order": {}}),
            ("m8", {"other": s("x")}, {"order": {"kind": "book"}}),
        ]
        for mid, attrs, body in messages:
            body = dict(body, id=mid)
            kw = {"TopicArn": topic, "Message": json.dumps(body)}
            if attrs:
                kw["MessageAttributes"] = attrs
            self.sns.publish(**kw)
        expected = {
            "exact": ["m1", "m6"],
            "prefix": ["m1", "m3"],
            "numeric": ["m1", "m3", "m7"],
            "anything_but": ["m3", "m7"],
            "exists": ["m1", "m5"],
            # AWS docs (attribute-key-matching): exists:false needs at least one attribute, so m4
            # (no attributes at all) matches nothing
            "not_exists": ["m5", "m8"],
            "and": ["m1"],
            "body": ["m1", "m3", "m5", "m8"],
            "all": ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"],
        }
        for key, want in expected.items():
            got = sorted(json.loads(m["Body"])["id"] for m in self.drain(queues[key]))
            self.assertEqual(got, want, "subscription %s with policy %s" % (key, policies.get(key, body_policy)))

        # a new policy takes effect at once
        self.sns.set_subscription_attributes(SubscriptionArn=subs["exact"], AttributeName="FilterPolicy",
                                             AttributeValue=json.dumps({"color": ["blue"]}))
        self.sns.publish(TopicArn=topic, Message='{"id":"b1"}', MessageAttributes={"color": s("blue")})
        self.sns.publish(TopicArn=topic, Message='{"id":"r1"}', MessageAttributes={"color": s("red")})
        self.assertEqual([m["Body"] for m in self.drain(queues["exact"])], ['{"id":"b1"}'])
        # an empty policy removes the filter
        self.sns.set_subscription_attributes(SubscriptionArn=subs["exact"], AttributeName="FilterPolicy",
                                             AttributeValue="")
        self.assertNotIn("FilterPolicy", self.sub_attrs(subs["exact"]))
        self.sns.publish(TopicArn=topic, Message='{"id":"any"}')
        self.assertEqual([m["Body"] for m in self.drain(queues["exact"])], ['{"id":"any"}'])

    def test_filter_policy_operators(self):
        # The operators test_filter_policies does not use; the policy engine's own table
        # (tests/core/filter/filter_cases.json) checks each against AWS's documented answers.
        topic = self.new_topic("ops")
        policies = {
            "suffix": {"file": [{"suffix": ".png"}]},
            "but_prefix": {"region": [{"anything-but": {"prefix": "us-"}}]},
            "number": {"price": [15]},
            "ignore_case": {"color": [{"equals-ignore-case": "red"}]},
            "cidr": {"source_ip": [{"cidr": "10.0.0.0/24"}]},
            "or": {"$or": [{"color": ["green"]}, {"price": [{"numeric": [">", 100]}]}]},
        }
        queues = {}
        for key, policy in policies.items():
            queues[key] = self.new_queue(key.replace("_", "-"))
            self.subscribe_queue(topic, queues[key], raw=True,
                                 attributes={"FilterPolicy": json.dumps(policy)})

        def s(v):
            return {"DataType": "String", "StringValue": v}

        def n(v):
            return {"DataType": "Number", "StringValue": v}

        messages = {
            "m1": {"file": s("cat.png"), "region": s("eu-west-1"), "price": n("15"), "color": s("RED"),
                   "source_ip": s("10.0.0.255")},
            "m2": {"file": s("cat.png.txt"), "region": s("us-east-1"), "price": n("16"), "color": s("green"),
                   "source_ip": s("10.0.1.1")},
            "m3": {"price": n("101"), "color": s("Red"), "source_ip": s("10.0.0.7")},
            "m4": {"file": s("x.PNG"), "region": s("ap-south-1")},
        }
        for mid, attrs in messages.items():
            self.sns.publish(TopicArn=topic, Message=mid, MessageAttributes=attrs)
        expected = {
            "suffix": ["m1"],  # suffixes are case-sensitive
            "but_prefix": ["m1", "m4"],  # a message without the key does not match
            "number": ["m1"],
            "ignore_case": ["m1", "m3"],
            "cidr": ["m1", "m3"],
            "or": ["m2", "m3"],
        }
        for key, want in expected.items():
            got = sorted(m["Body"] for m in self.drain(queues[key]))
            self.assertEqual(got, want, "subscription %s with policy %s" % (key, policies[key]))

    def test_filter_policy_limits(self):
        topic = self.new_topic("limits")
        q = self.new_queue()
        six_keys = {"k%d" % i: ["v"] for i in range(6)}
        # 5 keys x 31 values = 155 combinations: over AWS's complexity limit of 150
        too_complex = {"k%d" % i: ["v%d" % j for j in range(31 if i == 0 else 1)] for i in range(5)}
        too_complex["k1"] = ["a", "b", "c", "d", "e"]
        for policy in (six_keys, too_complex):
            resp = self.assertAwsError("InvalidParameter", 400, self.sns.subscribe, TopicArn=topic,
                                       Protocol="sqs", Endpoint=self.arn_of(q),
                                       Attributes={"FilterPolicy": json.dumps(policy)})
            self.assertTrue(resp["Error"]["Message"].startswith(
                "Invalid parameter: Attributes Reason: FilterPolicy: "), resp["Error"])
        five_keys = {"k%d" % i: ["v"] for i in range(5)}
        self.subscribe_queue(topic, q, attributes={"FilterPolicy": json.dumps(five_keys)})

    def test_invalid_filter_policies(self):
        topic = self.new_topic("badfilt")
        q = self.new_queue()
        sub = self.subscribe_queue(topic, q, attributes={"FilterPolicy": '{"a": ["b"]}'})

        def set_error(value, name="FilterPolicy"):
            resp = self.assertAwsError("InvalidParameter", 400, self.sns.set_subscription_attributes,
                                       SubscriptionArn=sub, AttributeName=name, AttributeValue=value)
            return resp["Error"]["Message"]

        def subscribe_error(attributes):
            resp = self.assertAwsError("InvalidParameter", 400, self.sns.subscribe, TopicArn=topic,
                                       Protocol="sqs", Endpoint=self.arn_of(self.new_queue()),
                                       Attributes=attributes)
            return resp["Error"]["Message"]

        # AWS-recorded prefix (a Jackson parser detail follows on AWS)
        self.assertTrue(set_error("{invalid").startswith("Invalid parameter: FilterPolicy: failed to parse JSON."))
        self.assertTrue(subscribe_error({"FilterPolicy": "{invalid"}).startswith(
            "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON."))
        for bad in ({"price": [{"numeric": [">", "ten"]}]}, {"a": "not-an-array"}, {"a": [{"unknown-op": 1}]},
                    {"a": []}):
            self.assertTrue(set_error(json.dumps(bad)).startswith("Invalid parameter: FilterPolicy: "), bad)
            self.assertTrue(subscribe_error({"FilterPolicy": json.dumps(bad)}).startswith(
                "Invalid parameter: Attributes Reason: FilterPolicy: "), bad)
        self.assertEqual(set_error("RandomValue", name="FilterPolicyScope"),
                         "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. Please use either "
                         "MessageBody or MessageAttributes")
        # the failed updates left the policy alone
        got = self.sub_attrs(sub)
        self.assertEqual((got["FilterPolicy"], got["FilterPolicyScope"]), ('{"a": ["b"]}', "MessageAttributes"))

    # ====================================================== MessageStructure
    def test_message_structure_json(self):
        topic = self.new_topic("struct")
        env_q, raw_q = self.new_queue("env"), self.new_queue("raw")
        sub = self.subscribe_queue(topic, env_q)
        self.subscribe_queue(topic, raw_q, raw=True)
        structured = json.dumps({"default": "for everyone", "sqs": "for queues", "http": "for http",
                                 "email": "for email"})
        message_id = self.sns.publish(TopicArn=topic, Message=structured, MessageStructure="json")["MessageId"]
        self.check_envelope(self.drain_one(env_q), topic, message_id, "for queues", sub_arn=sub)
        self.assertEqual(self.drain_one(raw_q)["Body"], "for queues")
        # an "sqs" entry that is not a string is ignored: default is delivered
        message_id = self.sns.publish(TopicArn=topic, MessageStructure="json",
                                      Message=json.dumps({"default": "the default", "sqs": {"field": "value"}}),
                                      Subject="S")["MessageId"]
        self.check_envelope(self.drain_one(env_q), topic, message_id, "the default", subject="S", sub_arn=sub)
        self.assertEqual(self.drain_one(raw_q)["Body"], "the default")

        for bad, text in ((json.dumps({"sqs": "only sqs"}), NO_DEFAULT),
                          (json.dumps({"default": {"nested": "object"}}), NO_DEFAULT),
                          ("not json at all", JSON_PARSE)):
            self.assertAwsError("InvalidParameter", 400, self.sns.publish, TopicArn=topic, Message=bad,
                                MessageStructure="json", message=text)
        self.assertEqual(self.drain(env_q), [])

    # ================================================================ publish
    def test_publish_errors(self):
        topic = self.new_topic("puberr")
        q = self.new_queue()
        self.subscribe_queue(topic, q)
        self.assertAwsError("InvalidParameter", 400, self.sns_raw.publish, TopicArn=topic, Message="",
                            message="Invalid parameter: Empty message")
        self.assertAwsError("InvalidParameter", 400, self.sns_raw.publish, TopicArn=topic, Message="m",
                            Subject="", message="Invalid parameter: Subject")
        self.assertAwsError("InvalidParameter", 400, self.sns.publish, TopicArn=topic, Message="m",
                            Subject="s" * 101, message="Invalid parameter: Subject")
        self.sns.publish(TopicArn=topic, Message="m", Subject="s" * 100)
        self.assertAwsError("InvalidParameter", 400, self.sns.publish, TopicArn=topic, Message="m",
                            MessageDeduplicationId="d", message=DEDUP_ON_STANDARD)
        self.assertAwsError("InvalidParameter", 400, self.sns.publish, TopicArn=topic,
                            Message="x" * (262144 + 1), message="Invalid parameter: Message too long")
        self.assertAwsError("InvalidParameter", 400, self.sns.publish, TopicArn=topic,
                            Message="x" * (262144 - 8), MessageAttributes={"a": {"DataType": "String",
                                                                                 "StringValue": "vv"}},
                            message="Invalid parameter: Message too long")
        self.sns.publish(TopicArn=topic, Message="x" * 262144)
        self.assertAwsError("InvalidParameter", 400, self.sns_raw.publish, Message="m",
                            message="Invalid parameter: TopicArn or TargetArn Reason: no value for required "
                                    "parameter")
        cases = [
            ({"attr1": {"DataType": "String", "StringValue": ""}},
             "The message attribute 'attr1' must contain non-empty message attribute value for message "
             "attribute type 'String'."),
            ({"attr1": {"DataType": "InvalidType", "StringValue": "v"}},
             "The message attribute 'attr1' has an invalid message attribute type, the set of supported type "
             "prefixes is Binary, Number, and String."),
            ({"a^*?": {"DataType": "String", "StringValue": "v"}},
             "Invalid non-alphanumeric character '#x5E' was found in the message attribute name. Can only "
             "include alphanumeric characters, hyphens, underscores, or dots."),
            ({".abc": {"DataType": "String", "StringValue": "v"}},
             "Invalid message attribute name starting with character '.' was found."),
            ({"a..bc": {"DataType": "String", "StringValue": "v"}},
             "Message attribute name can not have successive '.' character."),
        ]
        for attrs, text in cases:
            self.assertAwsError("ParameterValueInvalid", 400, self.sns_raw.publish, TopicArn=topic,
                                Message="m", MessageAttributes=attrs, message=text)
        # only the two valid publishes (Subject of 100, message of exactly 262144) were delivered
        self.assertEqual(len(self.drain(q)), 2)

    def test_publish_attribute_in_the_wrong_value_field(self):
        topic = self.new_topic("wrongfield")
        for attrs, text in (({"attr1": {"DataType": "Binary", "StringValue": "v"}},
                             "The message attribute 'attr1' with type 'Binary' must use field 'Binary'."),
                            ({"attr1": {"DataType": "String", "BinaryValue": b"v"}},
                             "The message attribute 'attr1' with type 'String' must use field 'String'.")):
            self.assertAwsError("ParameterValueInvalid", 400, self.sns_raw.publish, TopicArn=topic,
                                Message="m", MessageAttributes=attrs, message=text)

    # =================================================================== FIFO
    def test_fifo_topic_to_fifo_queue(self):
        topic = self.new_topic("fifo", fifo=True, attributes={"ContentBasedDeduplication": "true"})
        q = self.new_queue("fq", fifo=True)
        sub = self.subscribe_queue(topic, q)
        sent = {"g1": [], "g2": []}
        seqs = []
        results = {}
        for i in range(20):
            group = "g%d" % (i % 2 + 1)
            body = "%s-%02d" % (group, i)
            resp = self.sns.publish(TopicArn=topic, Message=body, MessageGroupId=group)
            self.assertRegex(resp["SequenceNumber"], SEQ_RE)
            seqs.append(int(resp["SequenceNumber"]))
            sent[group].append(body)
            results[body] = resp
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), 20, "SequenceNumbers must be distinct")
        # duplicates: same content (content-based) and the same explicit dedup id
        self.sns.publish(TopicArn=topic, Message="g1-00", MessageGroupId="g1")
        first = self.sns.publish(TopicArn=topic, Message="explicit-1", MessageGroupId="g2",
                                 MessageDeduplicationId="dedup-x")
        self.sns.publish(TopicArn=topic, Message="explicit-2", MessageGroupId="g2",
                         MessageDeduplicationId="dedup-x")
        results["explicit-1"] = first
        sent["g2"].append("explicit-1")

        got = self.drain(q)
        self.assertEqual(len(got), 21,
                         [load_ordered(m["Body"])["Message"] for m in got])
        by_group = {"g1": [], "g2": []}
        for m in got:
            env = load_ordered(m["Body"])
            body = env["Message"]
            group = m["Attributes"]["MessageGroupId"]
            self.assertEqual(group, body.split("-")[0] if body.startswith("g") else "g2")
            by_group[group].append(body)
            resp = results[body]
            self.check_envelope(m, topic, resp["MessageId"], body, sub_arn=sub, fifo=True,
                                sequence=resp["SequenceNumber"])
            if body.startswith("explicit"):
                self.assertEqual(m["Attributes"]["MessageDeduplicationId"], "dedup-x")
            else:
                # content-based: SHA-256 of the message
                self.assertEqual(m["Attributes"]["MessageDeduplicationId"],
                                 hashlib.sha256(body.encode()).hexdigest())
        self.assertEqual(by_group, sent)

        # errors
        self.assertAwsError("InvalidParameter", 400, self.sns.publish, TopicArn=topic, Message="m",
                            message=NO_GROUP)
        no_cbd = self.new_topic("fifo-nocbd", fifo=True)
        self.assertAwsError("InvalidParameter", 400, self.sns.publish, TopicArn=no_cbd, Message="m",
                            MessageGroupId="g", message=NO_DEDUP)
        self.assertRegex(self.sns.publish(TopicArn=no_cbd, Message="m", MessageGroupId="g",
                                          MessageDeduplicationId="d")["SequenceNumber"], SEQ_RE)
        std = self.new_topic("std-for-fifo-q")
        self.assertAwsError("InvalidParameter", 400, self.sns.subscribe, TopicArn=std, Protocol="sqs",
                            Endpoint=self.arn_of(q), message=FIFO_QUEUE_ON_STANDARD)
        # a FIFO topic may deliver to a standard queue
        sq = self.new_queue("std")
        self.subscribe_queue(topic, sq)
        resp = self.sns.publish(TopicArn=topic, Message="to-standard", MessageGroupId="g9")
        self.check_envelope(self.drain_one(sq), topic, resp["MessageId"], "to-standard", fifo=True,
                            sequence=resp["SequenceNumber"])

    def test_fifo_duplicate_publish_returns_original_ids(self):
        topic = self.new_topic("fdup", fifo=True)
        first = self.sns.publish(TopicArn=topic, Message="a", MessageGroupId="g", MessageDeduplicationId="d1")
        again = self.sns.publish(TopicArn=topic, Message="b", MessageGroupId="g", MessageDeduplicationId="d1")
        self.assertEqual((again["MessageId"], again["SequenceNumber"]),
                         (first["MessageId"], first["SequenceNumber"]))

    def test_fifo_publish_batch(self):
        topic = self.new_topic("fbatch", fifo=True, attributes={"ContentBasedDeduplication": "true"})
        q = self.new_queue("fbq", fifo=True)
        self.subscribe_queue(topic, q, raw=True)
        entries = [{"Id": "e%d" % i, "Message": "b-%d" % i, "MessageGroupId": "g"} for i in range(10)]
        resp = self.sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
        self.assertEqual(resp["Failed"], [])
        self.assertEqual([e["Id"] for e in resp["Successful"]], [e["Id"] for e in entries])
        seqs = [int(e["SequenceNumber"]) for e in resp["Successful"]]
        for e in resp["Successful"]:
            self.assertRegex(e["SequenceNumber"], SEQ_RE)
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual([m["Body"] for m in self.drain(q)], [e["Message"] for e in entries])
        # a missing MessageGroupId fails the whole request
        bad = [{"Id": "a", "Message": "x", "MessageGroupId": "g"}, {"Id": "b", "Message": "y"}]
        self.assertAwsError("InvalidParameter", 400, self.sns.publish_batch, TopicArn=topic,
                            PublishBatchRequestEntries=bad, message=NO_GROUP)
        self.assertEqual(self.drain(q), [])

    # =========================================================== PublishBatch
    def test_publish_batch(self):
        topic = self.new_topic("batch")
        q = self.new_queue("bq")
        sub = self.subscribe_queue(topic, q)
        published, in_envelope = self.publish_attrs()
        entries = [{"Id": "id-%d" % i, "Message": "batch message %d" % i} for i in range(10)]
        entries[3]["Subject"] = "third"
        entries[4]["MessageAttributes"] = published
        resp = self.sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
        self.assertEqual(resp["Failed"], [])
        self.assertEqual(sorted(e["Id"] for e in resp["Successful"]), sorted(e["Id"] for e in entries))
        ids = {e["Id"]: e["MessageId"] for e in resp["Successful"]}
        self.assertEqual(len(set(ids.values())), 10)
        for e in resp["Successful"]:
            self.assertNotIn("SequenceNumber", e)
        got = self.drain(q)
        self.assertEqual(len(got), 10)
        by_message = {load_ordered(m["Body"])["Message"]: m for m in got}
        for e in entries:
            self.check_envelope(by_message[e["Message"]], topic, ids[e["Id"]], e["Message"],
                                subject=e.get("Subject"), sub_arn=sub,
                                attributes=in_envelope if "MessageAttributes" in e else None)

        def batch_error(code, entries, text):
            self.assertAwsError(code, 400, self.sns_raw.publish_batch, TopicArn=topic,
                                PublishBatchRequestEntries=entries, message=text)

        eleven = [{"Id": "e%d" % i, "Message": "m"} for i in range(11)]
        batch_error("TooManyEntriesInBatchRequest", eleven,
                    "The batch request contains more entries than permissible.")
        batch_error("BatchEntryIdsNotDistinct", [{"Id": "same", "Message": "a"}, {"Id": "same", "Message": "b"}],
                    "Two or more batch entries in the request have the same Id.")
        batch_error("InvalidBatchEntryId", [{"Id": "ok", "Message": "a"}, {"Id": "bad.id!", "Message": "b"}],
                    "The Id of a batch entry in the batch request contains an impermissible character: bad.id!")
        batch_error("InvalidBatchEntryId", [{"Id": "x" * 81, "Message": "a"}],
                    "The Id of a batch entry in the batch request is too long: " + "x" * 81)
        batch_error("BatchRequestTooLong", [{"Id": "a", "Message": "x" * 200000}, {"Id": "b", "Message": "y" * 70000}],
                    "The length of all the messages put together is more than the limit.")
        # one invalid entry fails the whole request: nothing is published
        batch_error("ParameterValueInvalid",
                    [{"Id": "good", "Message": "fine"},
                     {"Id": "bad", "Message": "m", "MessageAttributes": {"attr1": {"DataType": "String",
                                                                                  "StringValue": ""}}}],
                    "The message attribute 'attr1' must contain non-empty message attribute value for message "
                    "attribute type 'String'.")
        batch_error("InvalidParameter",
                    [{"Id": "good", "Message": "fine"}, {"Id": "bad", "Message": "{}", "MessageStructure": "json"}],
                    NO_DEFAULT)
        # the model's text for an empty batch (the AWS text is unconfirmed): code only
        self.assertAwsError("EmptyBatchRequest", 400, self.sns_raw.publish_batch, TopicArn=topic,
                            PublishBatchRequestEntries=[])
        self.assertEqual(self.drain(q), [])
        # 80 characters is a valid Id
        resp = self.sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
            {"Id": "A-z_0" + "9" * 75, "Message": "long id"}])
        self.assertEqual(resp["Failed"], [])
        self.assertEqual(len(self.drain(q)), 1)

    # ========================================================= subscriptions
    def test_pending_http_and_email_subscriptions(self):
        topic = self.new_topic("subs")
        q = self.new_queue()
        sqs_sub = self.subscribe_queue(topic, q)
        endpoint = "http://127.0.0.1:9/sns-hook"
        resp = self.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
        self.assertEqual(resp["SubscriptionArn"], "pending confirmation")
        http_sub = self.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint,
                                      ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.assertRegex(http_sub, SUB_ARN_RE)
        self.assertEqual(self.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint,
                                            ReturnSubscriptionArn=True)["SubscriptionArn"], http_sub)
        self.assertEqual(self.sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="someone@example.com")
                         ["SubscriptionArn"], "pending confirmation")
        # a queue subscription is confirmed at once, ReturnSubscriptionArn or not; Subscribe is idempotent
        self.assertEqual(self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=self.arn_of(q))
                         ["SubscriptionArn"], sqs_sub)

        listed = self.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        self.assertEqual(sorted((s["Protocol"], s["Endpoint"], s["SubscriptionArn"], s["TopicArn"], s["Owner"])
                                for s in listed), sorted([
            ("sqs", self.arn_of(q), sqs_sub, topic, harness.ACCOUNT_ID),
            ("http", endpoint, "PendingConfirmation", topic, harness.ACCOUNT_ID),
            ("email", "someone@example.com", "PendingConfirmation", topic, harness.ACCOUNT_ID)]))
        mine = [s for s in self.all_subscriptions() if s["TopicArn"] == topic]
        self.assertEqual(sorted(s["SubscriptionArn"] for s in mine),
                         sorted([sqs_sub, "PendingConfirmation", "PendingConfirmation"]))
        got = self.topic_attrs(topic)
        self.assertEqual((got["SubscriptionsConfirmed"], got["SubscriptionsPending"]), ("1", "2"))

        attrs = self.sub_attrs(http_sub)
        effective = json.loads(attrs.pop("EffectiveDeliveryPolicy"))
        attrs.pop("SubscriptionPrincipal", None)
        self.assertEqual(attrs, {
            "SubscriptionArn": http_sub, "TopicArn": topic, "Owner": harness.ACCOUNT_ID, "Protocol": "http",
            "Endpoint": endpoint, "PendingConfirmation": "true", "ConfirmationWasAuthenticated": "false",
            "RawMessageDelivery": "false"})
        self.assertEqual(effective["healthyRetryPolicy"]["numRetries"], 3)
        attrs = self.sub_attrs(sqs_sub)
        attrs.pop("SubscriptionPrincipal", None)
        self.assertEqual(attrs, {
            "SubscriptionArn": sqs_sub, "TopicArn": topic, "Owner": harness.ACCOUNT_ID, "Protocol": "sqs",
            "Endpoint": self.arn_of(q), "PendingConfirmation": "false", "ConfirmationWasAuthenticated": "true",
            "RawMessageDelivery": "false"})

        # pending subscriptions get nothing (yet); the queue does
        message_id = self.sns.publish(TopicArn=topic, Message="only the queue")["MessageId"]
        self.check_envelope(self.drain_one(q), topic, message_id, "only the queue", sub_arn=sqs_sub)

        # a token that does not exist
        self.assertAwsError("InvalidParameter", 400, self.sns.confirm_subscription, TopicArn=topic,
                            Token="0123456789abcdef" * 4, message="Invalid parameter: Token")

        # Unsubscribe: twice is fine; afterwards the subscription is gone
        self.sns.unsubscribe(SubscriptionArn=http_sub)
        self.sns.unsubscribe(SubscriptionArn=http_sub)
        self.assertAwsError("NotFound", 404, self.sns.get_subscription_attributes, SubscriptionArn=http_sub,
                            message=SUB_NOT_FOUND)
        self.assertAwsError("NotFound", 404, self.sns.set_subscription_attributes, SubscriptionArn=http_sub,
                            AttributeName="RawMessageDelivery", AttributeValue="true", message=SUB_NOT_FOUND)
        got = self.topic_attrs(topic)
        self.assertEqual((got["SubscriptionsConfirmed"], got["SubscriptionsPending"]), ("1", "1"))
        self.assertEqual(len(self.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]), 2)
        self.assertAwsError("InvalidParameter", 400, self.sns.unsubscribe, SubscriptionArn="randomstring",
                            message="Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 "
                                    "elements, not 1")
        self.assertAwsError("InvalidParameter", 400, self.sns.unsubscribe,
                            SubscriptionArn="arn:aws:sns:us-east-1:111111111111:random",
                            message="Invalid parameter: SubscriptionId")

    def test_subscription_attribute_errors(self):
        topic = self.new_topic("suberr")
        q = self.new_queue()
        sub = self.subscribe_queue(topic, q)
        self.sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery",
                                             AttributeValue="true")
        self.assertEqual(self.sub_attrs(sub)["RawMessageDelivery"], "true")
        self.assertAwsError("InvalidParameter", 400, self.sns.set_subscription_attributes, SubscriptionArn=sub,
                            AttributeName="RawMessageDelivery", AttributeValue="test-ValUe",
                            message="Invalid parameter: RawMessageDelivery: Invalid value [test-ValUe]. Must be "
                                    "true or false.")
        self.assertAwsError("InvalidParameter", 400, self.sns.set_subscription_attributes, SubscriptionArn=sub,
                            AttributeName="NoSuchAttribute", AttributeValue="x",
                            message="Invalid parameter: AttributeName")
        self.assertAwsError("InvalidParameter", 400, self.sns.subscribe, TopicArn=topic, Protocol="sqs",
                            Endpoint=self.arn_of(self.new_queue()), Attributes={"RawMessageDelivery": "wrongvalue"},
                            message="Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value "
                                    "[wrongvalue]. Must be true or false.")
        # the same endpoint with different attributes
        self.assertAwsError("InvalidParameter", 400, self.sns.subscribe, TopicArn=topic, Protocol="sqs",
                            Endpoint=self.arn_of(q), Attributes={"FilterPolicy": '{"a": ["b"]}'},
                            message="Invalid parameter: Attributes Reason: Subscription already exists with "
                                    "different attributes")
        self.assertAwsError("InvalidParameter", 400, self.sns.set_subscription_attributes, SubscriptionArn=sub,
                            AttributeName="RedrivePolicy", AttributeValue='{"deadLetterTargetArn": "not-an-arn"}',
                            message="Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn")
        dlq = self.new_queue("dlq")
        policy = json.dumps({"deadLetterTargetArn": self.arn_of(dlq)})
        self.sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RedrivePolicy",
                                             AttributeValue=policy)
        self.assertEqual(self.sub_attrs(sub)["RedrivePolicy"], policy)
        # protocols and endpoints
        self.assertAwsError("InvalidParameter", 400, self.sns.subscribe, TopicArn=topic, Protocol="test-protocol",
                            Endpoint="x",
                            message="Invalid parameter: Amazon SNS does not support this protocol string: "
                                    "test-protocol")
        self.assertAwsError("InvalidParameter", 400, self.sns.subscribe, TopicArn=topic, Protocol="sqs",
                            Endpoint=q, message="Invalid parameter: SQS endpoint ARN")
        self.assertAwsError("InvalidParameter", 400, self.sns.subscribe, TopicArn=topic, Protocol="http",
                            Endpoint="ftp://example.com/x",
                            message="Invalid parameter: Endpoint must match the specified protocol")
        self.assertAwsError("InvalidParameter", 400, self.sns.subscribe, TopicArn=topic, Protocol="email",
                            Endpoint="not-an-address", message="Invalid parameter: Email address")
        self.assertAwsError("InvalidParameter", 400, self.sns.subscribe, TopicArn=topic, Protocol="email",
                            Endpoint="a@example.com", Attributes={"RawMessageDelivery": "true"},
                            message="Invalid parameter: Attributes Reason: Delivery protocol [email] does not "
                                    "support raw message delivery.")

    def test_raw_message_delivery_value_is_case_insensitive(self):
        topic = self.new_topic("rawcase")
        sub = self.subscribe_queue(topic, self.new_queue(), attributes={"RawMessageDelivery": "TrUe"})
        self.assertEqual(self.sub_attrs(sub)["RawMessageDelivery"], "true")

    def test_subscribe_idempotent_with_default_attributes(self):
        topic = self.new_topic("idem")
        q = self.new_queue()
        sub = self.subscribe_queue(topic, q)
        for attrs in ({"RawMessageDelivery": "false"}, {"FilterPolicyScope": "MessageAttributes"}):
            self.assertEqual(self.subscribe_queue(topic, q, attributes=attrs), sub)

    def test_confirm_subscription_garbage_token(self):
        topic = self.new_topic("tok")
        self.assertAwsError("InvalidParameter", 400, self.sns.confirm_subscription, TopicArn=topic,
                            Token="randomtoken", message="Invalid token")


class SnsDurabilityE2E(unittest.TestCase):
    """kill -9 right after Publish returns: the delivered messages, the topics and their
    subscriptions all survive, and so does the signing key."""

    def setUp(self):
        self.server = harness.PostboxServer()
        self.addCleanup(self.server.close)
        self.server.require_local("kill -9")
        self.server.start()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()

    def connect(self):
        sqs = self.server.client()
        sns = make_sns_client(self.server.endpoint)
        self.clients += [sqs, sns]
        return sqs, sns

    def one(self, sqs, url):
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                   MessageAttributeNames=["All"], AttributeNames=["All"]).get("Messages", [])
        self.assertEqual(len(msgs), 1, msgs)
        sqs.delete_message(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"])
        return msgs[0]

    def setup_topics(self, sqs, sns):
        """A standard topic with an envelope queue, a raw queue with a filter policy and a
        pending http subscription, and a FIFO topic with a FIFO queue."""
        name = "pbx-dur-" + uid()
        st = {"name": name}
        st["topic"] = sns.create_topic(Name=name, Attributes={"DisplayName": "Durable"},
                                       Tags=[{"Key": "k", "Value": "v"}])["TopicArn"]
        st["fifo_topic"] = sns.create_topic(Name=name + ".fifo", Attributes={
            "FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
        st["env_url"] = sqs.create_queue(QueueName="pbx-dur-env-" + uid())["QueueUrl"]
        st["raw_url"] = sqs.create_queue(QueueName="pbx-dur-raw-" + uid())["QueueUrl"]
        st["fifo_url"] = sqs.create_queue(QueueName="pbx-dur-f-" + uid() + ".fifo",
                                          Attributes={"FifoQueue": "true"})["QueueUrl"]
        st["env_sub"] = sns.subscribe(TopicArn=st["topic"], Protocol="sqs", Endpoint=self.arn(st["env_url"]),
                                      ReturnSubscriptionArn=True)["SubscriptionArn"]
        st["raw_sub"] = sns.subscribe(TopicArn=st["topic"], Protocol="sqs", Endpoint=self.arn(st["raw_url"]),
                                      ReturnSubscriptionArn=True,
                                      Attributes={"RawMessageDelivery": "true",
                                                  "FilterPolicy": json.dumps({"kind": ["keep"]})})["SubscriptionArn"]
        st["fifo_sub"] = sns.subscribe(TopicArn=st["fifo_topic"], Protocol="sqs", Endpoint=self.arn(st["fifo_url"]),
                                       ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.assertEqual(sns.subscribe(TopicArn=st["topic"], Protocol="http", Endpoint="http://127.0.0.1:9/x")
                         ["SubscriptionArn"], "pending confirmation")
        return st

    @staticmethod
    def arn(url):
        return harness.queue_arn(url.rsplit("/", 1)[1])

    def test_publish_survives_kill9(self):
        sqs, sns = self.connect()
        st = self.setup_topics(sqs, sns)
        keep = {"kind": {"DataType": "String", "StringValue": "keep"}}
        first = sns.publish(TopicArn=st["topic"], Message="before kill", Subject="K", MessageAttributes=keep)
        fifo_first = sns.publish(TopicArn=st["fifo_topic"], Message="fifo before kill", MessageGroupId="g")
        self.server.kill9()

        self.server.start()
        sqs, sns = self.connect()
        topic = st["topic"]
        self.assertIn(topic, [t["TopicArn"] for t in sns.list_topics()["Topics"]])
        attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        self.assertEqual((attrs["DisplayName"], attrs["SubscriptionsConfirmed"], attrs["SubscriptionsPending"]),
                         ("Durable", "2", "1"))
        self.assertEqual(sns.get_topic_attributes(TopicArn=st["fifo_topic"])["Attributes"]
                         ["ContentBasedDeduplication"], "true")
        self.assertEqual(sns.list_tags_for_resource(ResourceArn=topic)["Tags"], [{"Key": "k", "Value": "v"}])
        subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        self.assertEqual(sorted(s["SubscriptionArn"] for s in subs),
                         sorted([st["env_sub"], st["raw_sub"], "PendingConfirmation"]))
        raw_attrs = sns.get_subscription_attributes(SubscriptionArn=st["raw_sub"])["Attributes"]
        self.assertEqual((raw_attrs["RawMessageDelivery"], json.loads(raw_attrs["FilterPolicy"])),
                         ("true", {"kind": ["keep"]}))
        self.assertEqual(sns.get_subscription_attributes(SubscriptionArn=st["fifo_sub"])["Attributes"]["Endpoint"],
                         self.arn(st["fifo_url"]))

        env = json.loads(self.one(sqs, st["env_url"])["Body"])
        self.assertEqual((env["MessageId"], env["Message"], env["Subject"]),
                         (first["MessageId"], "before kill", "K"))
        raw = self.one(sqs, st["raw_url"])
        self.assertEqual((raw["Body"], raw["MessageAttributes"]["kind"]["StringValue"]), ("before kill", "keep"))
        fenv = json.loads(self.one(sqs, st["fifo_url"])["Body"])
        self.assertEqual((fenv["MessageId"], fenv["SequenceNumber"], fenv["Message"]),
                         (fifo_first["MessageId"], fifo_first["SequenceNumber"], "fifo before kill"))
        # the signing key survived: the certificate named in the old envelope is still served
        # (its file name is derived from the certificate)
        with urllib.request.urlopen(env["SigningCertURL"].replace(
                urllib.parse.urlsplit(env["SigningCertURL"]).netloc,
                urllib.parse.urlsplit(self.server.endpoint).netloc), timeout=10) as resp:
            self.assertEqual(resp.status, 200)

    def test_publish_after_restart_delivers(self):
        sqs, sns = self.connect()
        st = self.setup_topics(sqs, sns)
        self.server.kill9()
        self.server.start()
        sqs, sns = self.connect()
        second = sns.publish(TopicArn=st["topic"], Message="after restart", MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "drop"}})
        env = json.loads(self.one(sqs, st["env_url"])["Body"])
        self.assertEqual((env["MessageId"], env["Message"]), (second["MessageId"], "after restart"))
        # the reloaded filter policy still filters
        self.assertEqual(sqs.receive_message(QueueUrl=st["raw_url"], WaitTimeSeconds=0).get("Messages", []), [])
        sns.publish(TopicArn=st["topic"], Message="kept", MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "keep"}})
        self.assertEqual(self.one(sqs, st["raw_url"])["Body"], "kept")
        self.one(sqs, st["env_url"])
        fifo = sns.publish(TopicArn=st["fifo_topic"], Message="fifo after restart", MessageGroupId="g")
        self.assertEqual(json.loads(self.one(sqs, st["fifo_url"])["Body"])["SequenceNumber"],
                         fifo["SequenceNumber"])


if __name__ == "__main__":
    unittest.main()
