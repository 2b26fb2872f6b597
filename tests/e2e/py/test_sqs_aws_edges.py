#!/usr/bin/env python3
"""SQS edge behaviours that real clients meet, asserted as AWS answers them.

Runs unchanged under two interpreters, which exercise the two wire protocols:

  python3 tests/e2e/py/test_sqs_aws_edges.py            # boto3 1.43: JSON 1.0 protocol
  /usr/bin/python3 tests/e2e/py/test_sqs_aws_edges.py   # Debian boto3 1.26: query/XML protocol

Expected codes and texts come from responses recorded against real AWS (LocalStack's
AWS-validated snapshot files, cited as "AWS-recorded") and from the SQS API reference.
docs/sqs-behaviour.md states each rule.
"""

import json
import os
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

TRACE = "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=1"


def add_trace_header(request, **_):
    request.headers["X-Amzn-Trace-Id"] = TRACE


class SqsAwsEdges(harness.SqsTestCase):
    # ------------------------------------------------------------ errors
    def test_generic_parameter_errors_name_aws_shapes_in_json(self):
        # AWS-recorded: Code InvalidParameterValue / MissingParameter (the query code, which
        # the JSON protocol carries in x-amzn-query-error), __type InvalidParameterValueException
        # / MissingRequiredParameterException.
        url = self.create()
        self.assertAwsError("InvalidParameterValue", 400, self.raw.receive_message, QueueUrl=url,
                            MaxNumberOfMessages=20, json_type="InvalidParameterValueException",
                            message="Value 20 for parameter MaxNumberOfMessages is invalid. "
                                    "Reason: Must be between 1 and 10, if provided.")
        self.assertAwsError("MissingParameter", 400, self.raw.send_message, QueueUrl=url,
                            json_type="MissingRequiredParameterException",
                            message="The request must contain the parameter MessageBody.")
        # The other errors keep their own shape names.
        self.assertAwsError("AWS.SimpleQueueService.NonExistentQueue", 400, self.raw.get_queue_attributes,
                            QueueUrl=self.server.queue_url("pbx-missing-" + harness.uid()),
                            json_type="QueueDoesNotExist")
        self.assertAwsError("InvalidAttributeName", 400, self.raw.get_queue_attributes, QueueUrl=url,
                            AttributeNames=["Foobar"], json_type="InvalidAttributeName",
                            message="Unknown Attribute Foobar.")

    def test_missing_queue_wording_differs_by_protocol(self):
        # AWS-recorded: the query protocol still says "... for this wsdl version."
        text = ("The specified queue does not exist." if self.protocol == "json"
                else "The specified queue does not exist for this wsdl version.")
        self.assertAwsError("AWS.SimpleQueueService.NonExistentQueue", 400, self.raw.get_queue_attributes,
                            QueueUrl=self.server.queue_url("pbx-missing-" + harness.uid()),
                            AttributeNames=["All"], message=text)

    # ------------------------------------------------------ queue by name
    def test_bare_queue_name_where_a_url_is_expected(self):
        name = self.new_name("bare")
        url = self.create(name)
        self.sqs.send_message(QueueUrl=name, MessageBody="by name")
        self.sqs.set_queue_attributes(QueueUrl=name, Attributes={"VisibilityTimeout": "45"})
        self.assertEqual(self.sqs.get_queue_attributes(QueueUrl=name, AttributeNames=["VisibilityTimeout"])
                         ["Attributes"]["VisibilityTimeout"], "45")
        m = self.receive_one(name)
        self.assertEqual(m["Body"], "by name")
        self.sqs.delete_message(QueueUrl=name, ReceiptHandle=m["ReceiptHandle"])
        self.assertEqual(self.counters(url), (0, 0, 0))
        self.assertAwsError("AWS.SimpleQueueService.NonExistentQueue", 400, self.raw.send_message,
                            QueueUrl="pbx-missing-" + harness.uid(), MessageBody="x")

    # ---------------------------------------------- receipt handles (standard)
    def test_older_handle_of_a_message_received_again_changes_its_visibility(self):
        url = self.create()
        self.sqs.send_message(QueueUrl=url, MessageBody="twice")
        first = self.receive_one(url, VisibilityTimeout=1)
        time.sleep(1.5)
        second = self.receive_one(url, VisibilityTimeout=60)
        self.assertEqual(self.receive(url), [])
        # The first receive's handle still works: 0 makes the message visible at once.
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"],
                                           VisibilityTimeout=0)
        third = self.receive_one(url, AttributeNames=["ApproximateReceiveCount"])
        self.assertEqual(third["MessageId"], second["MessageId"])
        self.assertEqual(third["Attributes"]["ApproximateReceiveCount"], "3")
        # ...and an older handle deletes it (AWS-recorded: the queue is empty afterwards).
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
        self.assertEqual(self.counters(url), (0, 0, 0))
        # AWS-recorded: once deleted, a visibility change is InvalidParameterValue.
        handle = first["ReceiptHandle"]
        self.assertAwsError("InvalidParameterValue", 400, self.raw.change_message_visibility, QueueUrl=url,
                            ReceiptHandle=handle, VisibilityTimeout=10,
                            message="Value %s for parameter ReceiptHandle is invalid. Reason: Message does "
                                    "not exist or is not available for visibility timeout change." % handle)

    # -------------------------------------------------- receipt handles (FIFO)
    def test_fifo_handle_expires_with_its_visibility(self):
        url = self.create(self.new_name("exp", fifo=True),
                          {"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "1"})
        self.sqs.send_message(QueueUrl=url, MessageBody="g1-m1", MessageGroupId="1")
        m = self.receive_one(url)
        time.sleep(2)
        handle = m["ReceiptHandle"]
        expired = "Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired." % handle
        # AWS-recorded
        self.assertAwsError("InvalidParameterValue", 400, self.raw.delete_message, QueueUrl=url,
                            ReceiptHandle=handle, json_type="InvalidParameterValueException", message=expired)
        self.assertAwsError("InvalidParameterValue", 400, self.raw.change_message_visibility, QueueUrl=url,
                            ReceiptHandle=handle, VisibilityTimeout=30, message=expired)
        # The message is still there, and the current handle deletes it.
        again = self.receive_one(url)
        self.assertEqual(again["MessageId"], m["MessageId"])
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
        self.assertEqual(self.counters(url), (0, 0, 0))

    # ------------------------------------------------------------ purge
    def test_purge_ends_a_fifo_queues_deduplication_interval(self):
        url = self.create(self.new_name("purge", fifo=True), {"FifoQueue": "true"})
        first = self.sqs.send_message(QueueUrl=url, MessageBody="once", MessageGroupId="g",
                                      MessageDeduplicationId="d1")
        duplicate = self.sqs.send_message(QueueUrl=url, MessageBody="once", MessageGroupId="g",
                                          MessageDeduplicationId="d1")
        self.assertEqual(duplicate["MessageId"], first["MessageId"])
        self.sqs.purge_queue(QueueUrl=url)
        after = self.sqs.send_message(QueueUrl=url, MessageBody="once", MessageGroupId="g",
                                      MessageDeduplicationId="d1")
        self.assertNotEqual(after["MessageId"], first["MessageId"])
        self.assertEqual(self.receive_one(url)["MessageId"], after["MessageId"])

    # ------------------------------------------------------ dead letters
    def test_dead_lettered_message_keeps_its_receive_count(self):
        # AWS-recorded: maxReceiveCount 1, received once in the source; the first receive in
        # the dead-letter queue reports ApproximateReceiveCount 2.
        dlq_name = self.new_name("dlq")
        dlq = self.create(dlq_name)
        src = self.create(attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": harness.queue_arn(dlq_name), "maxReceiveCount": 1})})
        sent = self.sqs.send_message(QueueUrl=src, MessageBody="message-1")
        self.receive_one(src, VisibilityTimeout=0)
        self.assertEqual(self.receive(src, VisibilityTimeout=0), [])  # moved
        d = self.receive_one(dlq, AttributeNames=["All"])
        self.assertEqual(d["MessageId"], sent["MessageId"])
        self.assertEqual(d["Attributes"]["ApproximateReceiveCount"], "2")
        self.assertEqual(d["Attributes"]["DeadLetterQueueSourceArn"], self.arn_of(src))
        self.assertIn("ApproximateFirstReceiveTimestamp", d["Attributes"])

    # ------------------------------------------------------- trace header
    def test_x_amzn_trace_id_becomes_aws_trace_header(self):
        url = self.create()
        client = self.server.client()
        client.meta.events.register("before-send.sqs.SendMessage", add_trace_header)
        try:
            sent = client.send_message(QueueUrl=url, MessageBody="test", MessageAttributes={
                "timestamp": {"StringValue": "1493147359900", "DataType": "Number"}})
        finally:
            client.close()
        # The attribute came from the header, not the request's system attributes.
        self.assertNotIn("MD5OfMessageSystemAttributes", sent)
        m = self.receive_one(url, AttributeNames=["SentTimestamp", "AWSTraceHeader"],
                             MessageAttributeNames=["All"])
        self.assertEqual(m["Attributes"]["AWSTraceHeader"], TRACE)  # AWS-recorded
        self.assertEqual(m["MD5OfMessageAttributes"], "235c5c510d26fb653d073faed50ae77c")  # AWS-recorded

    def test_system_attribute_wins_over_the_trace_header(self):
        url = self.create()
        client = self.server.client()
        client.meta.events.register("before-send.sqs.SendMessage", add_trace_header)
        try:
            client.send_message(QueueUrl=url, MessageBody="test", MessageSystemAttributes={
                "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-own"}})
        finally:
            client.close()
        m = self.receive_one(url, AttributeNames=["AWSTraceHeader"])
        self.assertEqual(m["Attributes"]["AWSTraceHeader"], "Root=1-own")

    def test_sns_passes_the_trace_header_on_to_subscribed_queues(self):
        import boto3
        from botocore.config import Config
        session = boto3.session.Session(aws_access_key_id=harness.ACCESS_KEY,
                                        aws_secret_access_key=harness.SECRET_KEY, region_name=harness.REGION)
        sns = session.client("sns", endpoint_url=self.server.endpoint,
                             config=Config(retries={"total_max_attempts": 1}))
        sns.meta.events.register("before-send.sns.Publish", add_trace_header)
        try:
            topic = sns.create_topic(Name="pbx-trace-" + harness.uid())["TopicArn"]
            url = self.create()
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=self.arn_of(url),
                          Attributes={"RawMessageDelivery": "true"})
            sns.publish(TopicArn=topic, Message="traced")
        finally:
            sns.close()
        m = self.receive_one(url, WaitTimeSeconds=5, AttributeNames=["AWSTraceHeader"])
        self.assertEqual(m["Body"], "traced")
        self.assertEqual(m["Attributes"]["AWSTraceHeader"], TRACE)

    # ------------------------------------------------- message attributes
    def test_message_attribute_name_and_value_rules(self):
        url = self.create()
        s = lambda v: {"DataType": "String", "StringValue": v}  # noqa: E731
        # Letters of any script are valid in names (AWS-validated).
        self.sqs.send_message(QueueUrl=url, MessageBody="test", MessageAttributes={"attr.1øßä": s("Valida")})
        m = self.receive_one(url, MessageAttributeNames=["All"])
        self.assertEqual(m["MessageAttributes"], {"attr.1øßä": s("Valida")})
        invalid_names = ["aWs.-x", "AMAZON.-x", ".-x", "Invalid-!-attr", 'Invalid-"-attr', "Invalid-§-attr",
                         "Invalid-(-attr", "Invalid-?-attr", "L" * 257, "Invalid.", "a..b"]
        for name in invalid_names:
            self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url,
                                MessageBody="test", MessageAttributes={name: s("Valid")},
                                message="Message (user) attribute name '%s' is invalid." % name)
        self.sqs.send_message(QueueUrl=url, MessageBody="test", MessageAttributes={"L" * 256: s("v")})
        # AWS-recorded
        self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url,
                            MessageBody="test", MessageAttributes={"ErrorDetails": s("")},
                            json_type="InvalidParameterValueException",
                            message="Message (user) attribute 'ErrorDetails' must contain a non-empty "
                                    "value of type 'String'.")
        for bad in (chr(8), chr(11)):
            self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url,
                                MessageBody="test", MessageAttributes={"attr1": s("Invalid-%s," % bad)},
                                message_contains="invalid characters")
        for data_type in ("Invalid", "Number." + "L" * 256):
            self.assertAwsError("InvalidParameterValue", 400, self.raw.send_message, QueueUrl=url,
                                MessageBody="test",
                                MessageAttributes={"Attribute_name": {"DataType": data_type, "StringValue": "1"}})

    # -------------------------------------------------- queue attributes
    def test_kms_and_sqs_managed_encryption(self):
        url = self.create()
        a = self.attrs(url)
        self.assertEqual(a["SqsManagedSseEnabled"], "true")
        self.assertNotIn("KmsDataKeyReusePeriodSeconds", a)
        # A KMS key turns SQS-managed SSE off and shows the reuse period (300 s by default).
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "testKeyId"})
        a = self.attrs(url)
        self.assertEqual((a["KmsMasterKeyId"], a["KmsDataKeyReusePeriodSeconds"], a["SqsManagedSseEnabled"]),
                         ("testKeyId", "300", "false"))
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsDataKeyReusePeriodSeconds": "6000"})
        self.assertEqual(self.attrs(url, ["KmsDataKeyReusePeriodSeconds"]), {"KmsDataKeyReusePeriodSeconds": "6000"})
        # AWS-recorded: back to no key, neither KMS attribute is shown and SSE stays off.
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "",
                                                                "KmsDataKeyReusePeriodSeconds": "300"})
        a = self.attrs(url)
        self.assertNotIn("KmsMasterKeyId", a)
        self.assertNotIn("KmsDataKeyReusePeriodSeconds", a)
        self.assertEqual(a["SqsManagedSseEnabled"], "false")
        # AWS-recorded: both kinds at once are refused.
        self.assertAwsError("InvalidAttributeName", 400, self.raw.set_queue_attributes, QueueUrl=url,
                            Attributes={"KmsMasterKeyId": "testKeyId", "SqsManagedSseEnabled": "true"},
                            message="You can use one type of server-side encryption (SSE) at one time. "
                                    "You can either enable KMS SSE or SQS SSE.")

    def test_policy_is_returned_as_it_was_set(self):
        url = self.create()
        policy = ('{"Version":"2008-10-17","Id":"x","Statement":[{"Sid":"s1","Effect":"Allow",'
                  '"Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}')
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        self.assertEqual(self.attrs(url, ["Policy"]), {"Policy": policy})

    def test_message_group_id_on_a_standard_queue_is_returned(self):
        # AWS-recorded (fair queues): the group id comes back among the message's attributes.
        url = self.create()
        self.sqs.send_message(QueueUrl=url, MessageBody="message", MessageGroupId="test")
        m = self.receive_one(url, AttributeNames=["All"])
        self.assertEqual(m["Attributes"]["MessageGroupId"], "test")

    # ---------------------------------------------------- query over GET
    def get(self, path, params=None):
        url = self.server.endpoint + path + ("?" + urllib.parse.urlencode(params) if params else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def test_query_protocol_over_get(self):
        self.server.require_local("plain GET requests")
        name = self.new_name("get")
        url = self.create(name)
        path = urllib.parse.urlparse(url).path
        status, body = self.get(path, {"Action": "SendMessage", "MessageBody": "foobar"})
        self.assertEqual(status, 200, body)
        status, body = self.get(path, {"Action": "ReceiveMessage"})
        self.assertEqual(status, 200, body)
        self.assertIn("<Body>foobar</Body>", body)
        status, body = self.get(path, {"Action": "GetQueueAttributes", "AttributeName.1": "QueueArn"})
        self.assertIn("<Attribute><Name>QueueArn</Name><Value>%s</Value></Attribute>" % self.arn_of(url), body)
        self.assertNotIn("VisibilityTimeout", body)
        status, body = self.get(path, {"Action": "GetQueueUrl", "QueueName": name})
        self.assertEqual(status, 200, body)
        self.assertIn("<QueueUrl>%s</QueueUrl>" % url, body)
        # AWS-validated refusals
        for action in ("CreateQueue", "ListQueues"):
            status, body = self.get(path, {"Action": action, "QueueName": "pbx-x-" + harness.uid()})
            self.assertEqual(status, 400, body)
            self.assertIn("<Code>InvalidAction</Code>", body)
            self.assertIn("<Message>The action %s is not valid for this endpoint.</Message>" % action, body)
        status, body = self.get(path, {"Action": "FooBar", "Version": "2012-11-05"})
        self.assertEqual(status, 400, body)
        self.assertIn("<Type>Sender</Type>", body)
        self.assertIn("<Message>The action FooBar is not valid for this endpoint.</Message>", body)
        status, body = self.get(path, {"Action": "SendMessage"})
        self.assertEqual(status, 400, body)
        self.assertIn("<Message>The request must contain the parameter MessageBody.</Message>", body)
        status, body = self.get(path)
        self.assertEqual(status, 404, body)
        self.assertIn("<UnknownOperationException", body)
        status, body = self.get(path, {"Action": "DeleteQueue"})
        self.assertEqual(status, 200, body)
        status, body = self.get(path, {"Action": "GetQueueAttributes", "AttributeName.1": "QueueArn"})
        self.assertEqual(status, 400, body)
        self.assertIn("<Code>AWS.SimpleQueueService.NonExistentQueue</Code>", body)
        self.assertIn("<Message>The specified queue does not exist for this wsdl version.</Message>", body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
