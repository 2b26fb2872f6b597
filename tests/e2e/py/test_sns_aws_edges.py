#!/usr/bin/env python3
"""SNS edge behaviours that real clients meet, asserted as AWS answers them.

  python3 tests/e2e/py/test_sns_aws_edges.py            # boto3 1.43
  /usr/bin/python3 tests/e2e/py/test_sns_aws_edges.py   # Debian boto3 1.26

Expected codes and texts come from responses recorded against real AWS (LocalStack's
AWS-validated snapshot files, cited as "AWS-recorded").
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import test_sns  # noqa: E402
from test_sns import make_sns_client, topic_arn_of  # noqa: E402

ACCOUNT = harness.ACCOUNT_ID


class SnsAwsEdges(harness.SqsTestCase):
    # test_sns.SnsTestCase's helpers, without inheriting its tests.
    topic_name = test_sns.SnsTestCase.topic_name
    new_topic = test_sns.SnsTestCase.new_topic
    new_queue = test_sns.SnsTestCase.new_queue
    subscribe_queue = test_sns.SnsTestCase.subscribe_queue

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sns = make_sns_client(cls.server.endpoint)
        cls.sns_raw = make_sns_client(cls.server.endpoint, validate=False)
        cls._topics = []

    @classmethod
    def tearDownClass(cls):
        cls.sns.close()
        cls.sns_raw.close()
        super().tearDownClass()

    def policy(self, arn):
        return json.loads(self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])

    # ------------------------------------------------------------ CreateTopic
    def test_create_topic_is_idempotent_with_known_tags(self):
        # AWS-recorded: the same tags, some of them or none give the same topic; a tag the
        # topic does not have is a difference.
        name = "pbx-tags-" + harness.uid()
        tags = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
        arn = self.new_topic(name=name, tags=tags)
        for again in (tags, [tags[0]], []):
            self.assertEqual(self.sns.create_topic(Name=name, Tags=again)["TopicArn"], arn)
        self.assertAwsError("InvalidParameter", 400, self.sns.create_topic, Name=name,
                            Tags=[{"Key": "key1", "Value": "value1"}],
                            message="Invalid parameter: Tags Reason: Topic already exists with different tags")

    # ------------------------------------------------------ AddPermission
    def test_add_and_remove_permission_edit_the_topic_policy(self):
        arn = self.new_topic("perm")
        default = self.policy(arn)
        self.sns.add_permission(TopicArn=arn, Label="test", AWSAccountId=[ACCOUNT], ActionName=["Publish"])
        self.sns.add_permission(TopicArn=arn, Label="two", AWSAccountId=[ACCOUNT, "111122223333"],
                                ActionName=["Publish", "Subscribe"])
        policy = self.policy(arn)
        self.assertEqual(policy["Statement"][0], default["Statement"][0])
        # AWS-recorded statements
        self.assertEqual(policy["Statement"][1], {
            "Sid": "test", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
            "Action": "SNS:Publish", "Resource": arn})
        self.assertEqual(policy["Statement"][2]["Action"], ["SNS:Publish", "SNS:Subscribe"])
        self.assertEqual(policy["Statement"][2]["Principal"],
                         {"AWS": ["arn:aws:iam::%s:root" % ACCOUNT, "arn:aws:iam::111122223333:root"]})
        # AWS-recorded errors
        self.assertAwsError("InvalidParameter", 400, self.sns.add_permission, TopicArn=arn, Label="test",
                            AWSAccountId=[ACCOUNT], ActionName=["AddPermission"],
                            message="Invalid parameter: Statement already exists")
        self.assertAwsError("InvalidParameter", 400, self.sns.add_permission, TopicArn=arn, Label="test-2",
                            AWSAccountId=[ACCOUNT], ActionName=["InvalidAction"],
                            message="Invalid parameter: Policy statement action out of service scope!")
        self.assertAwsError("NotFound", 404, self.sns.add_permission, TopicArn=arn + "-not-existing",
                            Label="test-2", AWSAccountId=[ACCOUNT], ActionName=["AddPermission"],
                            message="Topic does not exist")
        self.sns.remove_permission(TopicArn=arn, Label="two")
        self.sns.remove_permission(TopicArn=arn, Label="test")
        self.assertEqual(self.policy(arn), default)  # AWS-recorded
        self.assertAwsError("NotFound", 404, self.sns.remove_permission, TopicArn=arn + "-not-existing",
                            Label="test", message="Topic does not exist")

    def test_add_permission_checks_its_parameters_first(self):
        arn = self.new_topic("permcheck")
        for label in ("bad label!", "\u00e9t\u00e9", ""):
            self.assertAwsError("InvalidParameter", 400, self.sns_raw.add_permission, TopicArn=arn + "-missing",
                                Label=label, AWSAccountId=[ACCOUNT], ActionName=["Publish"],
                                message="Invalid parameter: Label")
        self.assertAwsError("InvalidParameter", 400, self.sns_raw.add_permission, TopicArn=arn, Label="ok",
                            AWSAccountId=["12"], ActionName=["Publish"], message="Invalid parameter: AWSAccountId")
        # A policy whose Statement is a single object keeps it when a permission is added.
        own = {"Sid": "own", "Effect": "Allow", "Principal": "*", "Action": "SNS:Publish", "Resource": arn}
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                                      AttributeValue=json.dumps({"Version": "2012-10-17", "Statement": own}))
        self.sns.add_permission(TopicArn=arn, Label="added", AWSAccountId=[ACCOUNT], ActionName=["Publish"])
        self.assertEqual([st["Sid"] for st in self.policy(arn)["Statement"]], ["own", "added"])
        self.assertAwsError("InvalidParameter", 400, self.sns.set_topic_attributes, TopicArn=arn,
                            AttributeName="Policy", AttributeValue=json.dumps({"Statement": [], "x": "y" * 31000}))

    def test_permissions_survive_a_restart(self):
        self.server.require_local("a restart")
        arn = self.new_topic("permkeep")
        self.sns.add_permission(TopicArn=arn, Label="keep", AWSAccountId=[ACCOUNT], ActionName=["Publish"])
        self.sns.put_data_protection_policy(ResourceArn=arn, DataProtectionPolicy='{"Name":"p"}')
        self.server.restart()
        sns = make_sns_client(self.server.endpoint)
        try:
            policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
            self.assertEqual(policy["Statement"][-1]["Sid"], "keep")
            self.assertEqual(sns.get_data_protection_policy(ResourceArn=arn)["DataProtectionPolicy"],
                             '{"Name":"p"}')
        finally:
            sns.close()
        type(self).sns = make_sns_client(self.server.endpoint)
        type(self).sns_raw = make_sns_client(self.server.endpoint, validate=False)
        type(self).sqs = self.server.client()
        type(self).raw = self.server.client(validate=False)

    # ------------------------------------------------- data protection policy
    def test_data_protection_policy_is_stored_and_returned(self):
        arn = self.new_topic("dpp")
        doc = json.dumps({"Name": "data_protection_policy", "Description": "Test Policy", "Version": "2021-06-01",
                          "Statement": [{"Sid": "test-statement", "DataDirection": "Inbound", "Principal": ["*"],
                                         "DataIdentifier": ["arn:aws:dataprotection:%s::data-identifier/EmailAddress"
                                                            % harness.REGION],
                                         "Operation": {"Deny": {}}}]})
        self.sns.put_data_protection_policy(ResourceArn=arn, DataProtectionPolicy=doc)
        got = self.sns.get_data_protection_policy(ResourceArn=arn)["DataProtectionPolicy"]
        self.assertEqual(json.loads(got), json.loads(doc))
        # AWS-recorded: not among the topic's attributes
        self.assertNotIn("DataProtectionPolicy", self.sns.get_topic_attributes(TopicArn=arn)["Attributes"])

    # ------------------------------------------------------- subscriptions
    def test_subscription_attributes_name_the_principal(self):
        topic = self.new_topic("principal")
        q = self.new_queue("principal")
        sub = self.subscribe_queue(topic, q)
        attrs = self.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        # AWS-recorded set of attributes of an SQS subscription
        self.assertEqual(set(attrs), {"ConfirmationWasAuthenticated", "Endpoint", "Owner", "PendingConfirmation",
                                      "Protocol", "RawMessageDelivery", "SubscriptionArn", "SubscriptionPrincipal",
                                      "TopicArn"})
        self.assertEqual(attrs["SubscriptionPrincipal"], "arn:aws:iam::%s:root" % ACCOUNT)

    # ------------------------------------------------------------- errors
    def test_confirm_subscription_on_a_missing_topic_names_the_token(self):
        topic = self.new_topic("confirm")
        token = "51b2ff3edb475b7d91550e0ab6edf0c1de2a34e6ebaf6c2262a001bcb7e051c4" * 2
        # AWS-recorded
        self.assertAwsError("InvalidParameter", 400, self.sns.confirm_subscription, TopicArn=topic[:-1] + "i",
                            Token=token, message="Invalid parameter: Token")
        self.assertAwsError("InvalidParameter", 400, self.sns.confirm_subscription, TopicArn=topic,
                            Token=token, message="Invalid parameter: Token")
        self.assertAwsError("InvalidParameter", 400, self.sns.confirm_subscription, TopicArn=topic,
                            Token="randomtoken", message="Invalid token")

    def test_publish_errors(self):
        topic = self.new_topic("puberr")
        # AWS-recorded
        self.assertAwsError("InvalidParameter", 400, self.sns_raw.publish, TopicArn="not-an-arn", Message="m",
                            message="Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1")
        self.assertAwsError("NotFound", 404, self.sns.publish, TopicArn=topic + "-missing", Message="m",
                            message="Topic does not exist")

    def test_a_topic_belongs_to_its_region(self):
        # AWS-recorded: a client in another region gets InvalidParameter for every call.
        topic = self.new_topic("region")
        import boto3
        from botocore.config import Config
        session = boto3.session.Session(aws_access_key_id=harness.ACCESS_KEY,
                                        aws_secret_access_key=harness.SECRET_KEY, region_name="eu-north-1")
        other = session.client("sns", endpoint_url=self.server.endpoint,
                               config=Config(retries={"total_max_attempts": 1}))
        try:
            calls = [(other.get_topic_attributes, {"TopicArn": topic}),
                     (other.set_topic_attributes, {"TopicArn": topic, "AttributeName": "DisplayName",
                                                   "AttributeValue": "x"}),
                     (other.publish, {"TopicArn": topic, "Message": "m"}),
                     (other.subscribe, {"TopicArn": topic, "Protocol": "sqs",
                                        "Endpoint": harness.queue_arn("pbx-any")}),
                     (other.list_subscriptions_by_topic, {"TopicArn": topic}),
                     (other.delete_topic, {"TopicArn": topic})]
            for fn, kw in calls:
                self.assertAwsError("InvalidParameter", 400, fn, message="Invalid parameter: TopicArn", **kw)
            # Its own region's topics are listed, the other region's are not.
            listed = [t["TopicArn"] for t in other.list_topics()["Topics"]]
            self.assertNotIn(topic, listed)
        finally:
            other.close()
        self.assertEqual(self.sns.get_topic_attributes(TopicArn=topic)["Attributes"]["TopicArn"], topic)
        self.assertEqual(topic, topic_arn_of(topic.rsplit(":", 1)[1]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
