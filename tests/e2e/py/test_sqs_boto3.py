#!/usr/bin/env python3
"""End-to-end scenarios for postbox's standard queues, driven through boto3.

Runs unchanged under two interpreters, which exercise the two wire protocols:

  python3 tests/e2e/py/test_sqs_boto3.py            # boto3 1.43: JSON 1.0 protocol
  /usr/bin/python3 tests/e2e/py/test_sqs_boto3.py   # Debian boto3 1.26: query/XML protocol

Error codes asserted here are the codes botocore reports.  For the query
protocol that is the <Code> element; for the JSON protocol botocore replaces
the __type with the first field of the x-amzn-query-error header (the SQS
model is awsQueryCompatible), so both generations see the same codes, e.g.
AWS.SimpleQueueService.NonExistentQueue.  Expected codes and HTTP statuses come from AWS's
Smithy model of SQS (aws.protocols#awsQueryError traits; botocore 1.26's
model carries the same query codes) and from responses recorded against real
AWS (LocalStack's AWS-validated snapshot files), cited as "AWS-recorded".

Known places where moto_server (used to check these tests) differs from AWS
are marked "moto:" in comments.  The assertions follow AWS, not moto.
"""

import base64
import json
import os
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import uid  # noqa: E402

NONEXISTENT = "AWS.SimpleQueueService.NonExistentQueue"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class SqsE2E(harness.SqsTestCase):
    # ----------------------------------------------------------- helpers
    def missing_url(self):
        return self.server.queue_url("pbx-missing-" + uid())

    def assertTimestampSeconds(self, value, slack=120):
        self.assertRegex(value, r"^\d+$", "timestamp must be integer epoch seconds")
        self.assertLess(abs(int(value) - time.time()), slack)

    def assertTimestampMillis(self, value, slack=120):
        self.assertRegex(value, r"^\d+$", "timestamp must be integer epoch milliseconds")
        self.assertLess(abs(int(value) / 1000.0 - time.time()), slack)

    # ===================================================== self-checks
    def test_md5_helper_matches_values_recorded_from_aws(self):
        # MD5OfMessageAttributes values returned by real AWS (LocalStack's
        # AWS-validated snapshots): proves the helper implements AWS's algorithm.
        s = lambda v: {"DataType": "String", "StringValue": v}  # noqa: E731
        md5 = harness.md5_of_message_attributes
        self.assertEqual(md5({"Help.Me": s("Me"), "Hello": s("There"), "General": s("Kenobi")}),
                         "4c360f3fdafd970e05fae2f149d997f5")
        self.assertEqual(md5({"Hello": s("There"), "General": s("Kenobi")}),
                         "fca026605781cb4126a1e9044df24232")
        self.assertEqual(md5({"Foo": s("Bar")}), "ae7155c6026991b6d54b11589678bf9c")
        self.assertEqual(md5({"attr1": {"DataType": "Binary", "BinaryValue":
                                        b"traceparent\x1e00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01"}}),
                         "8cbe4db156db8a94db8b801b7addb984")
        self.assertEqual(harness.md5_hex("msg"), "6e2baaf3b97dbeef01c0043275f9a0e7")

    # ===================================================== CreateQueue
    def test_create_queue_url_arn_and_get_queue_url(self):
        name = self.new_name()
        url = self.create(name)
        self.assertEqual(url, self.server.queue_url(name))
        resp = self.sqs.get_queue_url(QueueName=name)
        self.assertEqual(resp["QueueUrl"], url)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertTrue(resp["ResponseMetadata"].get("RequestId"))
        self.assertEqual(self.attrs(url, ["QueueArn"]), {"QueueArn": harness.queue_arn(name)})

    def test_create_queue_with_attributes_and_tags(self):
        attributes = {
            "VisibilityTimeout": "45",
            "DelaySeconds": "2",
            "MaximumMessageSize": "2048",
            "MessageRetentionPeriod": "3600",
            "ReceiveMessageWaitTimeSeconds": "1",
        }
        tags = {"team": "core", "env": "e2e", "empty": ""}
        url = self.create(attributes=attributes, tags=tags)
        got = self.attrs(url)
        for k, v in attributes.items():
            self.assertEqual(got.get(k), v, k)
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url).get("Tags"), tags)

    def test_create_queue_is_idempotent_for_same_attributes(self):
        name = self.new_name()
        attributes = {"VisibilityTimeout": "40", "DelaySeconds": "1"}
        url = self.create(name, attributes)
        self.assertEqual(self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"], url)
        # AWS: a request without attributes, or with a subset of equal values, also returns the URL
        self.assertEqual(self.sqs.create_queue(QueueName=name)["QueueUrl"], url)
        self.assertEqual(self.sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "1"})["QueueUrl"], url)
        # explicitly passing default values matches a queue created without attributes
        name2 = self.new_name()
        url2 = self.create(name2)
        self.assertEqual(self.sqs.create_queue(QueueName=name2, Attributes={
            "VisibilityTimeout": "30", "DelaySeconds": "0"})["QueueUrl"], url2)

    def test_create_queue_with_different_attributes_fails(self):
        name = self.new_name()
        self.create(name, {"VisibilityTimeout": "40", "DelaySeconds": "1"})
        self.assertAwsError("QueueAlreadyExists", 400, self.raw.create_queue, QueueName=name,
                            Attributes={"VisibilityTimeout": "40", "DelaySeconds": "2"})
        self.assertAwsError("QueueAlreadyExists", 400, self.raw.create_queue, QueueName=name,
                            Attributes={"VisibilityTimeout": "41"})
        # the existing queue is untouched
        url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        self.assertEqual(self.attrs(url, ["DelaySeconds", "VisibilityTimeout"]),
                         {"DelaySeconds": "1", "VisibilityTimeout": "40"})

    def test_create_queue_invalid_names(self):
        bad = [
            "has space-" + uid(),
            "bang!" + uid(),
            "slash/" + uid(),
            "dot." + uid(),
            "x" * 81,
            # a standard queue must not use the .fifo suffix (AWS-validated in LocalStack's suite)
            # moto: accepts it
            "std-" + uid() + ".fifo",
        ]
        for name in bad:
            with self.subTest(name=name):
                self.assertAwsError("InvalidParameterValue", 400, self.raw.create_queue, QueueName=name)
        # limits that are valid: 80 characters, hyphens and underscores
        ok = ("a-_" + uid() + "x" * 80)[:80]
        url = self.create(ok)
        self.assertTrue(url.endswith("/" + ok))

    def test_create_queue_invalid_attributes(self):
        # moto: does not validate attributes on CreateQueue
        self.assertAwsError("InvalidAttributeValue", 400, self.raw.create_queue, QueueName=self.new_name(),
                            Attributes={"VisibilityTimeout": "43201"})
        self.assertAwsError("InvalidAttributeValue", 400, self.raw.create_queue, QueueName=self.new_name(),
                            Attributes={"MaximumMessageSize": "1023"})
        self.assertAwsError("InvalidAttributeName", 400, self.raw.create_queue, QueueName=self.new_name(),
                            Attributes={"NoSuchAttribute": "1"})

    # ===================================================== GetQueueUrl / ListQueues / DeleteQueue
    def test_get_queue_url_of_missing_queue(self):
        resp = self.assertAwsError(NONEXISTENT, 400, self.raw.get_queue_url, QueueName="pbx-nope-" + uid())
        self.assertTrue(resp["Error"].get("Message"))

    def test_list_queues_prefix_and_pagination(self):
        prefix = "pbx-list-%s-" % uid()
        urls = {self.create(prefix + str(i)) for i in range(5)}
        other = self.create("pbx-other-" + uid())

        resp = self.sqs.list_queues(QueueNamePrefix=prefix)
        self.assertEqual(set(resp["QueueUrls"]), urls)
        self.assertNotIn("NextToken", resp)

        everything = self.sqs.list_queues()["QueueUrls"]
        self.assertTrue(urls <= set(everything))
        self.assertIn(other, everything)

        self.assertEqual(self.sqs.list_queues(QueueNamePrefix="pbx-no-such-" + uid()).get("QueueUrls", []), [])

        # moto: ignores MaxResults (returns all 5 at once)
        seen, pages, token = [], [], None
        while True:
            kw = {"QueueNamePrefix": prefix, "MaxResults": 2}
            if token:
                kw["NextToken"] = token
            resp = self.sqs.list_queues(**kw)
            pages.append(len(resp.get("QueueUrls", [])))
            seen += resp.get("QueueUrls", [])
            token = resp.get("NextToken")
            if not token:
                break
            self.assertLess(len(pages), 10, "pagination does not terminate")
        self.assertEqual(pages, [2, 2, 1])
        self.assertEqual(len(seen), len(set(seen)), "a queue was listed twice")
        self.assertEqual(set(seen), urls)

    def test_delete_queue(self):
        name = self.new_name()
        url = self.create(name)
        self.sqs.send_message(QueueUrl=url, MessageBody="bye")
        resp = self.sqs.delete_queue(QueueUrl=url)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        # AWS documents that a deleted queue may linger for up to 60 s; a single
        # node server has no reason to, so the queue must be gone at once.
        self.assertAwsError(NONEXISTENT, 400, self.raw.get_queue_url, QueueName=name)
        self.assertNotIn(url, self.sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", []))
        self.assertAwsError(NONEXISTENT, 400, self.raw.send_message, QueueUrl=url, MessageBody="x")
        self.assertAwsError(NONEXISTENT, 400, self.raw.delete_queue, QueueUrl=url)

    def test_create_queue_within_60s_of_delete_fails(self):
        # AWS: "You must wait 60 seconds after deleting a queue before you can
        # create another with the same name" -> QueueDeletedRecently (query code
        # AWS.SimpleQueueService.QueueDeletedRecently, HTTP 400 per botocore's model).
        # moto: does not implement this.
        name = self.new_name()
        url = self.create(name)
        self.sqs.delete_queue(QueueUrl=url)
        self.assertAwsError("AWS.SimpleQueueService.QueueDeletedRecently", 400,
                            self.raw.create_queue, QueueName=name)

    # ===================================================== queue attributes
    def test_get_queue_attributes_all_defaults(self):
        name = self.new_name()
        url = self.create(name)
        got = self.attrs(url)
        created, modified = got.pop("CreatedTimestamp", None), got.pop("LastModifiedTimestamp", None)
        # exactly what AWS returns for a new standard queue (MaximumMessageSize
        # default is 1 MiB since AWS raised it in 2025)
        self.assertEqual(got, {
            "QueueArn": harness.queue_arn(name),
            "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0",
            "ApproximateNumberOfMessagesDelayed": "0",
            "DelaySeconds": "0",
            "MaximumMessageSize": "1048576",
            "MessageRetentionPeriod": "345600",
            "ReceiveMessageWaitTimeSeconds": "0",
            "VisibilityTimeout": "30",
            "SqsManagedSseEnabled": "true",
        })
        # moto: returns fractional seconds ("1796020911.017294"); AWS returns integer seconds
        self.assertTimestampSeconds(created)
        self.assertTimestampSeconds(modified)
        self.assertGreaterEqual(int(modified), int(created))

    def test_get_queue_attributes_individual_names(self):
        name = self.new_name()
        url = self.create(name, {"VisibilityTimeout": "31"})
        self.assertEqual(self.attrs(url, ["VisibilityTimeout", "QueueArn"]),
                         {"VisibilityTimeout": "31", "QueueArn": harness.queue_arn(name)})
        got = self.attrs(url, ["CreatedTimestamp"])
        self.assertEqual(list(got), ["CreatedTimestamp"])
        self.assertTimestampSeconds(got["CreatedTimestamp"])
        # no AttributeNames: no attributes
        self.assertEqual(self.sqs.get_queue_attributes(QueueUrl=url).get("Attributes", {}), {})
        self.assertAwsError("InvalidAttributeName", 400, self.raw.get_queue_attributes, QueueUrl=url,
                            AttributeNames=["NoSuchAttribute"])

    def test_approximate_counters_follow_messages(self):
        url = self.create()
        self.assertEqual(self.counters(url), (0, 0, 0))
        self.sqs.send_message(QueueUrl=url, MessageBody="one")
        self.sqs.send_message(QueueUrl=url, MessageBody="two")
        self.sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=900)
        # Real AWS counters are eventually consistent; a single node is exact.
        self.assertEqual(self.counters(url), (2, 0, 1))
        m = self.receive_one(url, VisibilityTimeout=60)
        self.assertEqual(self.counters(url), (1, 1, 1))
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.assertEqual(self.counters(url), (1, 0, 1))
        m = self.receive_one(url, VisibilityTimeout=60)
        self.assertEqual(self.counters(url), (0, 1, 1))
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        self.assertEqual(self.counters(url), (1, 0, 1))

    def test_set_queue_attributes(self):
        name = self.new_name()
        url = self.create(name)
        new = {
            "VisibilityTimeout": "43200",
            "DelaySeconds": "900",
            "MaximumMessageSize": "1024",
            "MessageRetentionPeriod": "60",
            "ReceiveMessageWaitTimeSeconds": "20",
        }
        resp = self.sqs.set_queue_attributes(QueueUrl=url, Attributes=new)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(self.attrs(url, list(new)), new)

        policy = {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "e2e",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "sqs:SendMessage",
                "Resource": harness.queue_arn(name),
            }],
        }
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        self.assertEqual(json.loads(self.attrs(url, ["Policy"])["Policy"]), policy)
        # an empty Policy removes it (AWS-validated behaviour)
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
        self.assertNotIn("Policy", self.attrs(url))

    def test_set_queue_attributes_invalid(self):
        url = self.create()
        bad_values = [
            ("VisibilityTimeout", "43201"),
            ("VisibilityTimeout", "-1"),
            ("VisibilityTimeout", "abc"),
            ("DelaySeconds", "901"),
            ("MaximumMessageSize", "1023"),
            ("MaximumMessageSize", "1048577"),
            ("MessageRetentionPeriod", "59"),
            ("MessageRetentionPeriod", "1209601"),
            ("ReceiveMessageWaitTimeSeconds", "21"),
        ]
        for attr, value in bad_values:
            with self.subTest(attr=attr, value=value):
                # moto: accepts all of these without validation
                self.assertAwsError("InvalidAttributeValue", 400, self.raw.set_queue_attributes,
                                    QueueUrl=url, Attributes={attr: value})
        with self.subTest(attr="unknown"):
            # moto: silently accepts unknown attribute names
            self.assertAwsError("InvalidAttributeName", 400, self.raw.set_queue_attributes,
                                QueueUrl=url, Attributes={"NoSuchAttribute": "1"})
        # nothing was changed by the failed calls
        self.assertEqual(self.attrs(url, ["VisibilityTimeout", "DelaySeconds", "MaximumMessageSize"]),
                         {"VisibilityTimeout": "30", "DelaySeconds": "0", "MaximumMessageSize": "1048576"})

    # ===================================================== PurgeQueue
    def test_purge_queue(self):
        url = self.create()
        for i in range(3):
            self.sqs.send_message(QueueUrl=url, MessageBody="m%d" % i)
        self.sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=900)  # purged too
        self.receive_one(url, VisibilityTimeout=60)  # one in flight, purged too
        self.assertEqual(self.counters(url), (2, 1, 1))
        resp = self.sqs.purge_queue(QueueUrl=url)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(self.counters(url), (0, 0, 0))
        self.assertEqual(self.receive(url), [])
        # moto: allows a second purge right away
        resp = self.assertAwsError("AWS.SimpleQueueService.PurgeQueueInProgress", 403, self.raw.purge_queue,
                                   QueueUrl=url)
        self.assertTrue(resp["Error"].get("Message"))
        # messages sent after the purge are kept
        self.sqs.send_message(QueueUrl=url, MessageBody="after")
        self.assertEqual(self.receive_one(url)["Body"], "after")

    # ===================================================== tags
    def test_tag_untag_list_queue_tags(self):
        url = self.create(tags={"a": "1"})
        self.sqs.tag_queue(QueueUrl=url, Tags={"b": "2", "c": "3"})
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"a": "1", "b": "2", "c": "3"})
        self.sqs.tag_queue(QueueUrl=url, Tags={"a": "one"})  # overwrite
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["b", "not-there"])
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"a": "one", "c": "3"})
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["a", "c"])
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url).get("Tags", {}), {})
        # keys are case sensitive
        self.sqs.tag_queue(QueueUrl=url, Tags={"K": "upper", "k": "lower"})
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"K": "upper", "k": "lower"})

    # ===================================================== permissions
    def test_add_remove_permission(self):
        name = self.new_name()
        url = self.create(name)
        self.sqs.add_permission(QueueUrl=url, Label="perm1", AWSAccountIds=["111122223333"],
                                Actions=["SendMessage"])
        policy = json.loads(self.attrs(url, ["Policy"])["Policy"])
        sids = {s["Sid"]: s for s in policy["Statement"]}
        self.assertEqual(set(sids), {"perm1"})
        st = sids["perm1"]
        self.assertEqual(st["Effect"], "Allow")
        self.assertEqual(st["Action"], "SQS:SendMessage")
        self.assertEqual(st["Resource"], harness.queue_arn(name))
        self.assertEqual(st["Principal"], {"AWS": "arn:aws:iam::111122223333:root"})
        self.assertAwsError("InvalidParameterValue", 400, self.raw.add_permission, QueueUrl=url, Label="perm1",
                            AWSAccountIds=["111122223333"], Actions=["ReceiveMessage"])
        self.sqs.remove_permission(QueueUrl=url, Label="perm1")
        self.assertNotIn("Policy", self.attrs(url))
        self.assertAwsError("InvalidParameterValue", 400, self.raw.remove_permission, QueueUrl=url, Label="perm1")

    # ===================================================== SendMessage / ReceiveMessage
    def test_send_receive_delete_roundtrip(self):
        url = self.create()
        # tab, LF, CR, BMP and astral characters; CR must survive XML (query protocol)
        body = "hello\tworld\r\nline2\r\u00e9\u4e2d\U0001F600 <&>\"' ]]> end"
        resp = self.sqs.send_message(QueueUrl=url, MessageBody=body)
        self.assertEqual(resp["MD5OfMessageBody"], harness.md5_hex(body))
        self.assertRegex(resp["MessageId"], UUID_RE)
        self.assertNotIn("MD5OfMessageAttributes", resp)

        m = self.receive_one(url)
        self.assertEqual(m["Body"], body)
        self.assertEqual(m["MessageId"], resp["MessageId"])
        self.assertEqual(m["MD5OfBody"], harness.md5_hex(body))
        self.assertTrue(m["ReceiptHandle"])
        self.assertNotIn("MessageAttributes", m)
        self.assertNotIn("Attributes", m)

        # in flight for the default 30 s
        self.assertEqual(self.receive(url), [])
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.assertEqual(self.counters(url), (0, 0, 0))
        # deleting again with the same (now stale) handle succeeds on AWS
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def test_message_attributes_and_md5(self):
        url = self.create()
        attrs = {
            "app.name": {"DataType": "String", "StringValue": "postbox \u00e9\u4e2d"},
            "app.count": {"DataType": "Number", "StringValue": "42"},
            "app.ratio": {"DataType": "Number.float", "StringValue": "-3.25"},
            "blob": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
            "custom": {"DataType": "Number.int", "StringValue": "7"},
            "label": {"DataType": "String.custom", "StringValue": "x"},
        }
        body = "with attributes"
        resp = self.sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attrs)
        self.assertEqual(resp["MD5OfMessageBody"], harness.md5_hex(body))
        self.assertEqual(resp["MD5OfMessageAttributes"], harness.md5_of_message_attributes(attrs))

        def get(names):
            return self.receive_one(url, MessageAttributeNames=names, VisibilityTimeout=0)

        for names in (["All"], [".*"]):
            with self.subTest(names=names):
                m = get(names)
                self.assertEqual(m["MessageAttributes"], attrs)
                self.assertEqual(m["MD5OfMessageAttributes"], harness.md5_of_message_attributes(attrs))
                self.assertEqual(m["MD5OfBody"], harness.md5_hex(body))

        for names in (["app.*"], ["custom", "app.*"], ["label", "does-not-exist"]):
            with self.subTest(names=names):
                m = get(names)
                expect = {k: v for k, v in attrs.items()
                          if any(k == n or (n.endswith(".*") and k.startswith(n[:-1])) for n in names)}
                self.assertEqual(m["MessageAttributes"], expect)
                # MD5 covers the attributes actually returned (AWS-recorded behaviour)
                self.assertEqual(m["MD5OfMessageAttributes"], harness.md5_of_message_attributes(expect))

        for names in ([], ["does-not-exist"]):
            with self.subTest(names=names):
                m = self.receive_one(url, MessageAttributeNames=names, VisibilityTimeout=0) if names else \
                    self.receive_one(url, VisibilityTimeout=0)
                self.assertNotIn("MessageAttributes", m)
                self.assertNotIn("MD5OfMessageAttributes", m)

    def test_message_system_attributes(self):
        url = self.create()
        before_ms = int(time.time() * 1000)
        self.sqs.send_message(QueueUrl=url, MessageBody="sys")
        m = self.receive_one(url, AttributeNames=["All"], VisibilityTimeout=0)
        a = m["Attributes"]
        self.assertTrue({"SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
                         "SenderId"} <= set(a), a)
        self.assertEqual(a["ApproximateReceiveCount"], "1")
        self.assertTimestampMillis(a["SentTimestamp"])
        self.assertTimestampMillis(a["ApproximateFirstReceiveTimestamp"])
        self.assertGreaterEqual(int(a["SentTimestamp"]), before_ms - 2000)
        self.assertGreaterEqual(int(a["ApproximateFirstReceiveTimestamp"]), int(a["SentTimestamp"]))
        self.assertTrue(a["SenderId"])
        first = a["ApproximateFirstReceiveTimestamp"]

        m = self.receive_one(url, AttributeNames=["ApproximateReceiveCount", "SentTimestamp"], VisibilityTimeout=0)
        self.assertEqual(set(m["Attributes"]), {"ApproximateReceiveCount", "SentTimestamp"})
        self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "2")

        if self.supports_system_attribute_names():
            m = self.receive_one(url, MessageSystemAttributeNames=["All"], VisibilityTimeout=0)
            self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "3")
            self.assertEqual(m["Attributes"]["ApproximateFirstReceiveTimestamp"], first)
            m = self.receive_one(url, MessageSystemAttributeNames=["SenderId"], VisibilityTimeout=0)
            self.assertEqual(set(m["Attributes"]), {"SenderId"})

    def test_aws_trace_header_round_trip(self):
        # The one message system attribute a sender may set; it comes back on receive and
        # has its own MD5 (MD5OfMessageSystemAttributes, same encoding as message attributes).
        url = self.create()
        trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="traced", MessageSystemAttributes={
            "AWSTraceHeader": {"DataType": "String", "StringValue": trace}})
        self.assertEqual(sent.get("MD5OfMessageSystemAttributes"), harness.md5_of_message_attributes(
            {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}))
        m = self.receive_one(url, AttributeNames=["All"], VisibilityTimeout=0)
        self.assertEqual(m["Attributes"].get("AWSTraceHeader"), trace)
        self.assertNotIn("MessageAttributes", m)  # a system attribute, not a message attribute
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url,
                            MessageBody="x", MessageSystemAttributes={
                                "AWSTraceHeader": {"DataType": "Number", "StringValue": "1"}})

    def test_delay_seconds(self):
        url = self.create()
        resp = self.sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=1)
        t0 = time.monotonic()
        self.assertEqual(self.receive(url), [])
        self.assertEqual(self.counters(url), (0, 0, 1))
        m = self.receive_one(url, WaitTimeSeconds=3)
        self.assertGreaterEqual(time.monotonic() - t0, 0.8)
        self.assertEqual(m["MessageId"], resp["MessageId"])
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url,
                            MessageBody="x", DelaySeconds=901)

    def test_queue_delay_seconds_applies_to_messages(self):
        url = self.create(attributes={"DelaySeconds": "1"})
        self.sqs.send_message(QueueUrl=url, MessageBody="queue-delayed")
        self.assertEqual(self.receive(url), [])
        self.assertEqual(self.counters(url), (0, 0, 1))
        m = self.receive_one(url, WaitTimeSeconds=3)
        self.assertEqual(m["Body"], "queue-delayed")

    def test_invalid_message_contents(self):
        url = self.create()
        for body in ("nul\u0000", "bell\u0007", "bs\u0008", "nonchar\ufffe", "nonchar\uffff"):
            with self.subTest(body=repr(body)):
                # moto: accepts these characters
                self.assertAwsError("InvalidMessageContents", 400, self.raw.send_message, QueueUrl=url,
                                    MessageBody=body)
        self.assertEqual(self.counters(url), (0, 0, 0))
        # AWS-recorded: an empty body is MissingParameter
        self.assertAwsError("MissingParameter", 400, self.raw.send_message, QueueUrl=url, MessageBody="")

    def test_message_size_limit(self):
        url = self.create(attributes={"MaximumMessageSize": "1024"})
        self.sqs.send_message(QueueUrl=url, MessageBody="a" * 1024)
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url,
                            MessageBody="a" * 1025)

        big = self.create()
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=big,
                            MessageBody="b" * (1048576 + 1))
        body = "c" * 1048576
        resp = self.sqs.send_message(QueueUrl=big, MessageBody=body)
        self.assertEqual(resp["MD5OfMessageBody"], harness.md5_hex(body))
        self.assertEqual(self.receive_one(big)["Body"], body)

        # the limit is in UTF-8 bytes, not characters: 341 x 3 bytes = 1023 fits,
        # 342 x 3 = 1026 does not.  moto: counts characters.
        self.sqs.send_message(QueueUrl=url, MessageBody="\u20ac" * 341)
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url,
                            MessageBody="\u20ac" * 342)
        # message attributes count towards the size.  moto: ignores them
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url,
                            MessageBody="a" * 1000,
                            MessageAttributes={"k": {"DataType": "String", "StringValue": "v" * 100}})

    # ===================================================== SendMessageBatch
    def test_send_message_batch(self):
        url = self.create(attributes={"MaximumMessageSize": "1024"})
        attrs = {"kind": {"DataType": "String", "StringValue": "batch"},
                 "n": {"DataType": "Number", "StringValue": "1"}}
        entries = [
            {"Id": "plain", "MessageBody": "p"},
            {"Id": "with-attrs_1", "MessageBody": "a", "MessageAttributes": attrs},
            {"Id": "delayed", "MessageBody": "d", "DelaySeconds": 900},
            {"Id": "bad-chars", "MessageBody": "x\u0000y"},
            {"Id": "too-big", "MessageBody": "z" * 1025},
        ]
        resp = self.sqs.send_message_batch(QueueUrl=url, Entries=entries)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        ok = {e["Id"]: e for e in resp.get("Successful", [])}
        failed = {e["Id"]: e for e in resp.get("Failed", [])}
        self.assertEqual(set(ok), {"plain", "with-attrs_1", "delayed"})
        self.assertEqual(set(failed), {"bad-chars", "too-big"})
        self.assertEqual(ok["plain"]["MD5OfMessageBody"], harness.md5_hex("p"))
        self.assertNotIn("MD5OfMessageAttributes", ok["plain"])
        self.assertEqual(ok["with-attrs_1"]["MD5OfMessageAttributes"], harness.md5_of_message_attributes(attrs))
        for e in ok.values():
            self.assertRegex(e["MessageId"], UUID_RE)
        self.assertEqual(len({e["MessageId"] for e in ok.values()}), 3)
        # AWS-recorded per-entry codes.  moto: fails the whole batch when one entry is too big
        self.assertEqual((failed["bad-chars"]["Code"], failed["bad-chars"]["SenderFault"]),
                         ("InvalidMessageContents", True))
        self.assertEqual((failed["too-big"]["Code"], failed["too-big"]["SenderFault"]),
                         ("InvalidParameterValue", True))
        for e in failed.values():
            self.assertTrue(e.get("Message"))

        self.assertEqual(self.counters(url), (2, 0, 1))
        got = {}
        for _ in range(3):
            for m in self.receive(url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]):
                got[m["MessageId"]] = m
        self.assertEqual({m["Body"] for m in got.values()}, {"p", "a"})
        m = got[ok["with-attrs_1"]["MessageId"]]
        self.assertEqual(m["MessageAttributes"], attrs)

    def test_send_message_batch_errors(self):
        url = self.create()
        e = lambda i, body="x": {"Id": str(i), "MessageBody": body}  # noqa: E731
        self.assertAwsError("AWS.SimpleQueueService.EmptyBatchRequest", 400, self.raw.send_message_batch,
                            QueueUrl=url, Entries=[])
        self.assertAwsError("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400,
                            self.raw.send_message_batch, QueueUrl=url, Entries=[e(i) for i in range(11)])
        self.assertAwsError("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400, self.raw.send_message_batch,
                            QueueUrl=url, Entries=[e("same"), e("same")])
        for bad_id in ("bad id", "bad!", "x" * 81, ""):
            with self.subTest(bad_id=bad_id):
                self.assertAwsError("AWS.SimpleQueueService.InvalidBatchEntryId", 400, self.raw.send_message_batch,
                                    QueueUrl=url, Entries=[e("ok"), e(bad_id)])
        # total payload over 1 MiB, each message alone within the limit
        size = 1048576 + 1
        parts = [size // 10] * 9
        parts.append(size - sum(parts))
        self.assertAwsError("AWS.SimpleQueueService.BatchRequestTooLong", 400, self.raw.send_message_batch,
                            QueueUrl=url, Entries=[e(i, "y" * n) for i, n in enumerate(parts)])
        self.assertEqual(self.counters(url), (0, 0, 0), "a rejected batch must not enqueue anything")
        # exactly 1 MiB in total is accepted
        parts[-1] -= 1
        resp = self.sqs.send_message_batch(QueueUrl=url, Entries=[e(i, "y" * n) for i, n in enumerate(parts)])
        self.assertEqual(len(resp.get("Successful", [])), 10)
        self.assertEqual(resp.get("Failed", []), [])

    # ===================================================== ReceiveMessage
    def test_receive_max_number_of_messages(self):
        url = self.create()
        for start in (0, 10):
            self.sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": "m%d" % i, "MessageBody": "body-%d" % i} for i in range(start, start + 6)])
        # 12 visible messages.  AWS may return fewer on a short poll (it samples
        # servers); a single node holding 12 visible messages returns the maximum.
        first = self.receive(url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        self.assertEqual(len(first), 10)
        self.assertEqual(len({m["MessageId"] for m in first}), 10)
        one = self.receive(url, MaxNumberOfMessages=1)
        self.assertEqual(len(one), 1)
        rest = self.receive(url, MaxNumberOfMessages=10)
        self.assertEqual(len(rest), 1)
        bodies = {m["Body"] for m in first + one + rest}
        self.assertEqual(bodies, {"body-%d" % i for i in list(range(6)) + list(range(10, 16))})
        for n in (0, 11, -1):
            with self.subTest(MaxNumberOfMessages=n):
                self.assertAwsError("InvalidParameterValue", 400, self.raw.receive_message, QueueUrl=url,
                                    MaxNumberOfMessages=n)
        for w in (21, -1):
            with self.subTest(WaitTimeSeconds=w):
                self.assertAwsError("InvalidParameterValue", 400, self.raw.receive_message, QueueUrl=url,
                                    WaitTimeSeconds=w)

    def test_receive_returns_each_message_once_per_call(self):
        # Even with VisibilityTimeout=0 (message visible again at once) one
        # ReceiveMessage response must not carry the same message twice.
        url = self.create()
        self.sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
        for vt in (0, 30):
            with self.subTest(VisibilityTimeout=vt):
                msgs = self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=vt, WaitTimeSeconds=1)
                ids = [m["MessageId"] for m in msgs]
                self.assertEqual(len(ids), len(set(ids)), "duplicate message in one response: %r" % ids)
                self.assertEqual(sorted(m["Body"] for m in msgs), ["0", "1", "2"])

    def test_receive_visibility_timeout(self):
        url = self.create()
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="vt")["MessageId"]
        m = self.receive_one(url, VisibilityTimeout=1, AttributeNames=["ApproximateReceiveCount"])
        self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "1")
        self.assertEqual(self.receive(url), [])
        self.assertEqual(self.counters(url), (0, 1, 0))
        m = self.receive_one(url, WaitTimeSeconds=3, AttributeNames=["ApproximateReceiveCount"])
        self.assertEqual(m["MessageId"], sent)
        self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "2")

    def test_long_poll_returns_as_soon_as_a_message_arrives(self):
        url = self.create()
        sender = self.server.client()

        def send_later():
            time.sleep(0.5)
            sender.send_message(QueueUrl=url, MessageBody="wake up")

        t = threading.Thread(target=send_later)
        t0 = time.monotonic()
        t.start()
        try:
            msgs = self.receive(url, WaitTimeSeconds=10)
            elapsed = time.monotonic() - t0
        finally:
            t.join()
            sender.close()
        self.assertEqual([m["Body"] for m in msgs], ["wake up"])
        self.assertLess(elapsed, 3.0, "long poll did not return early (%.2f s)" % elapsed)
        self.assertGreaterEqual(elapsed, 0.4)

    def test_long_poll_waits_when_empty(self):
        url = self.create()
        t0 = time.monotonic()
        self.assertEqual(self.receive(url, WaitTimeSeconds=1), [])
        elapsed = time.monotonic() - t0
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 3.0)
        # the queue's ReceiveMessageWaitTimeSeconds applies when the request has no WaitTimeSeconds
        url2 = self.create(attributes={"ReceiveMessageWaitTimeSeconds": "1"})
        t0 = time.monotonic()
        self.assertEqual(self.sqs.receive_message(QueueUrl=url2).get("Messages", []), [])
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)

    # ===================================================== visibility
    def test_change_message_visibility(self):
        url = self.create()
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="cmv")["MessageId"]
        m = self.receive_one(url, VisibilityTimeout=60)
        self.assertEqual(self.receive(url), [])
        resp = self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                                                  VisibilityTimeout=0)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        m2 = self.receive_one(url, VisibilityTimeout=60, AttributeNames=["ApproximateReceiveCount"])
        self.assertEqual(m2["MessageId"], sent)
        self.assertEqual(m2["Attributes"]["ApproximateReceiveCount"], "2")
        # extend the new handle, then make it visible again
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m2["ReceiptHandle"], VisibilityTimeout=120)
        self.assertEqual(self.receive(url), [])
        self.assertAwsError("InvalidParameterValue", 400, self.raw.change_message_visibility, QueueUrl=url,
                            ReceiptHandle=m2["ReceiptHandle"], VisibilityTimeout=43201)
        self.assertAwsError("ReceiptHandleIsInvalid", 404, self.raw.change_message_visibility, QueueUrl=url,
                            ReceiptHandle="garbage", VisibilityTimeout=0)
        # AWS-recorded: after a delete, changing visibility is InvalidParameterValue
        # moto: answers ReceiptHandleIsInvalid
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m2["ReceiptHandle"])
        self.assertAwsError("InvalidParameterValue", 400, self.raw.change_message_visibility, QueueUrl=url,
                            ReceiptHandle=m2["ReceiptHandle"], VisibilityTimeout=10)

    def test_change_visibility_after_the_timeout_ran_out_succeeds_and_changes_nothing(self):
        # AWS-recorded: 200 for a handle whose visibility already ran out; the message
        # stays visible.
        url = self.create()
        self.sqs.send_message(QueueUrl=url, MessageBody="expires")
        m = self.receive_one(url, VisibilityTimeout=1)
        time.sleep(1.5)
        resp = self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                                                  VisibilityTimeout=30)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(self.receive_one(url)["Body"], "expires")

    def test_change_message_visibility_batch(self):
        url = self.create()
        self.sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
        msgs = self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=60, WaitTimeSeconds=1)
        self.assertEqual(len(msgs), 3)
        entries = [{"Id": "e%d" % i, "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                   for i, m in enumerate(msgs[:2])]
        entries.append({"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 0})
        resp = self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        self.assertEqual(sorted(e["Id"] for e in resp.get("Successful", [])), ["e0", "e1"])
        failed = resp.get("Failed", [])
        self.assertEqual([(f["Id"], f["Code"], f["SenderFault"]) for f in failed],
                         [("bad", "ReceiptHandleIsInvalid", True)])
        again = self.receive(url, MaxNumberOfMessages=10)
        self.assertEqual({m["MessageId"] for m in again}, {m["MessageId"] for m in msgs[:2]})
        # moto: no batch-shape validation for ChangeMessageVisibilityBatch
        ent = lambda i: {"Id": str(i), "ReceiptHandle": "h%s" % i, "VisibilityTimeout": 0}  # noqa: E731
        self.assertAwsError("AWS.SimpleQueueService.EmptyBatchRequest", 400, self.raw.change_message_visibility_batch,
                            QueueUrl=url, Entries=[])
        self.assertAwsError("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400,
                            self.raw.change_message_visibility_batch, QueueUrl=url, Entries=[ent(i) for i in range(11)])
        self.assertAwsError("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400,
                            self.raw.change_message_visibility_batch, QueueUrl=url, Entries=[ent(1), ent(1)])
        self.assertAwsError("AWS.SimpleQueueService.InvalidBatchEntryId", 400,
                            self.raw.change_message_visibility_batch, QueueUrl=url, Entries=[ent("a:b")])

    # ===================================================== delete
    def test_delete_message_errors(self):
        url = self.create()
        # HTTP 404 per AWS's Smithy model (awsQueryError httpResponseCode 404), also what
        # AWS returns in practice.  moto: answers 400
        self.assertAwsError("ReceiptHandleIsInvalid", 404, self.raw.delete_message, QueueUrl=url,
                            ReceiptHandle="garbage")
        self.assertAwsError("ReceiptHandleIsInvalid", 404, self.raw.delete_message, QueueUrl=url,
                            ReceiptHandle=base64.b64encode(b"\x00" * 40).decode())

    def test_delete_message_batch(self):
        url = self.create()
        self.sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
        msgs = self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=60, WaitTimeSeconds=1)
        self.assertEqual(len(msgs), 3)
        entries = [{"Id": "d%d" % i, "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]
        entries.append({"Id": "bad", "ReceiptHandle": "garbage"})
        resp = self.sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(sorted(e["Id"] for e in resp.get("Successful", [])), ["d0", "d1", "d2"])
        self.assertEqual([(f["Id"], f["Code"], f["SenderFault"]) for f in resp.get("Failed", [])],
                         [("bad", "ReceiptHandleIsInvalid", True)])
        self.assertEqual(self.counters(url), (0, 0, 0))
        self.assertEqual(self.receive(url), [])
        # moto: no TooManyEntriesInBatchRequest check for DeleteMessageBatch
        ent = lambda i: {"Id": str(i), "ReceiptHandle": "h%s" % i}  # noqa: E731
        self.assertAwsError("AWS.SimpleQueueService.EmptyBatchRequest", 400, self.raw.delete_message_batch,
                            QueueUrl=url, Entries=[])
        self.assertAwsError("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400,
                            self.raw.delete_message_batch, QueueUrl=url, Entries=[ent(i) for i in range(11)])
        self.assertAwsError("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400,
                            self.raw.delete_message_batch, QueueUrl=url, Entries=[ent(1), ent(1)])
        self.assertAwsError("AWS.SimpleQueueService.InvalidBatchEntryId", 400,
                            self.raw.delete_message_batch, QueueUrl=url, Entries=[ent("x" * 81)])

    # ===================================================== dead-letter queues
    def test_redrive_policy_moves_message_to_dlq(self):
        dlq_name, src_name = self.new_name("dlq"), self.new_name("src")
        dlq = self.create(dlq_name)
        policy = {"deadLetterTargetArn": harness.queue_arn(dlq_name), "maxReceiveCount": 2}
        src = self.create(src_name, {"RedrivePolicy": json.dumps(policy)})
        got = json.loads(self.attrs(src, ["RedrivePolicy"])["RedrivePolicy"])
        self.assertEqual(got["deadLetterTargetArn"], policy["deadLetterTargetArn"])
        self.assertEqual(int(got["maxReceiveCount"]), 2)

        attrs = {"trace": {"DataType": "String", "StringValue": "abc"},
                 "bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"}}
        sent = self.sqs.send_message(QueueUrl=src, MessageBody="poison", MessageAttributes=attrs)

        for n in (1, 2):
            m = self.receive_one(src, VisibilityTimeout=0, AttributeNames=["ApproximateReceiveCount"])
            self.assertEqual(m["MessageId"], sent["MessageId"])
            self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], str(n))
        # the third receive exceeds maxReceiveCount: the message moves to the DLQ
        # instead of being delivered (AWS behaviour)
        self.assertEqual(self.receive(src, VisibilityTimeout=0), [])

        d = self.receive_one(dlq, WaitTimeSeconds=2, AttributeNames=["All"], MessageAttributeNames=["All"])
        self.assertEqual(d["MessageId"], sent["MessageId"])
        self.assertEqual(d["Body"], "poison")
        self.assertEqual(d["MD5OfBody"], sent["MD5OfMessageBody"])
        self.assertEqual(d["MessageAttributes"], attrs)
        self.assertEqual(d["MD5OfMessageAttributes"], sent["MD5OfMessageAttributes"])
        # AWS-recorded: moved messages carry the source queue ARN
        # moto: omits DeadLetterQueueSourceArn
        self.assertEqual(d["Attributes"].get("DeadLetterQueueSourceArn"), harness.queue_arn(src_name))
        self.assertEqual(self.counters(src), (0, 0, 0))

    def test_list_dead_letter_source_queues(self):
        dlq_name = self.new_name("dlq")
        dlq = self.create(dlq_name)
        policy = json.dumps({"deadLetterTargetArn": harness.queue_arn(dlq_name), "maxReceiveCount": 5})
        src1 = self.create(attributes={"RedrivePolicy": policy})
        src2 = self.create()
        self.sqs.set_queue_attributes(QueueUrl=src2, Attributes={"RedrivePolicy": policy})
        resp = self.sqs.list_dead_letter_source_queues(QueueUrl=dlq)
        self.assertEqual(sorted(resp["queueUrls"]), sorted([src1, src2]))
        self.assertEqual(self.sqs.list_dead_letter_source_queues(QueueUrl=src2).get("queueUrls", []), [])
        # paging.  moto: ignores MaxResults
        page = self.sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=1)
        self.assertEqual(len(page["queueUrls"]), 1)
        self.assertIn("NextToken", page)
        page2 = self.sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=1, NextToken=page["NextToken"])
        self.assertEqual(sorted(page["queueUrls"] + page2["queueUrls"]), sorted([src1, src2]))
        # removing the policy removes the source
        self.sqs.set_queue_attributes(QueueUrl=src2, Attributes={"RedrivePolicy": ""})
        self.assertNotIn("RedrivePolicy", self.attrs(src2))
        self.assertEqual(self.sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"], [src1])

    def test_message_move_task_redrives_dlq(self):
        # moto: StartMessageMoveTask is not implemented (HTTP 500)
        if not hasattr(self.sqs, "start_message_move_task"):
            self.skipTest("this botocore has no StartMessageMoveTask")
        dlq_name, src_name = self.new_name("dlq"), self.new_name("src")
        dlq = self.create(dlq_name)
        src = self.create(src_name, {"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": harness.queue_arn(dlq_name), "maxReceiveCount": 1})})
        sent = self.sqs.send_message(QueueUrl=src, MessageBody="redrive me")["MessageId"]
        self.receive_one(src, VisibilityTimeout=0)
        self.assertEqual(self.receive(src, VisibilityTimeout=0), [])  # moved to the DLQ
        self.assertEqual(self.counters(dlq)[0], 1)

        resp = self.sqs.start_message_move_task(SourceArn=harness.queue_arn(dlq_name))
        self.assertTrue(resp["TaskHandle"])
        deadline = time.monotonic() + 5
        while True:
            results = self.sqs.list_message_move_tasks(SourceArn=harness.queue_arn(dlq_name))["Results"]
            self.assertTrue(results)
            self.assertEqual(results[0]["SourceArn"], harness.queue_arn(dlq_name))
            self.assertIn(results[0]["Status"], ("RUNNING", "COMPLETED"))
            if results[0]["Status"] == "COMPLETED" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(results[0]["Status"], "COMPLETED")
        self.assertEqual(results[0]["ApproximateNumberOfMessagesMoved"], 1)
        m = self.receive_one(src, WaitTimeSeconds=2)
        # AWS: "redriven messages are considered new messages with a new messageID"
        self.assertEqual(m["Body"], "redrive me")
        self.assertNotEqual(m["MessageId"], sent)
        # AWS-recorded: a queue that is no DLQ cannot be a move source
        self.assertAwsError("InvalidParameterValue", 400, self.raw.start_message_move_task,
                            SourceArn=harness.queue_arn(src_name))

    # ===================================================== missing queue
    def test_operations_on_missing_queue(self):
        url = self.missing_url()
        calls = {
            "send_message": dict(MessageBody="x"),
            "send_message_batch": dict(Entries=[{"Id": "a", "MessageBody": "x"}]),
            "receive_message": dict(),
            "get_queue_attributes": dict(AttributeNames=["All"]),
            "set_queue_attributes": dict(Attributes={"VisibilityTimeout": "10"}),
            "purge_queue": dict(),
            "delete_queue": dict(),
            "tag_queue": dict(Tags={"a": "b"}),
            "untag_queue": dict(TagKeys=["a"]),
            "list_queue_tags": dict(),
            "list_dead_letter_source_queues": dict(),
            "add_permission": dict(Label="l", AWSAccountIds=["111122223333"], Actions=["SendMessage"]),
            "remove_permission": dict(Label="l"),
        }
        for op, kw in calls.items():
            with self.subTest(op=op):
                self.assertAwsError(NONEXISTENT, 400, getattr(self.raw, op), QueueUrl=url, **kw)


if __name__ == "__main__":
    unittest.main()
