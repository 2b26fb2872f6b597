#!/usr/bin/env python3
"""End-to-end authorization (auth.mode = "sigv4"): keys with IAM-style policies may do what
their policy allows and nothing else (AccessDenied / AuthorizationError in the caller's
protocol), an explicit Deny wins, a key with admin = false and no policy may do nothing;
queue and topic Policy attributes (set directly or through AddPermission) let another
account in; a topic of another account delivers to a queue only when the queue's Policy lets
it (aws:SourceArn); policies postbox cannot evaluate are refused when set; /metrics counts
the refusals. Runs under python3 (boto3 1.43, SQS JSON) and /usr/bin/python3 (boto3 1.26,
SQS query)."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

OWNER = ("AKIAOWNERADMIN000001", "owner-admin-secret/0123456789abcdefghij", "111111111111")
LIMITED = ("AKIAOWNERLIMITED0001", "owner-limited-secret/0123456789abcdefgh", "111111111111")
NOTHING = ("AKIAOWNERNOTHING0001", "owner-nothing-secret/0123456789abcdefgh", "111111111111")
PARTNER = ("AKIAPARTNERADMIN0001", "partner-admin-secret/0123456789abcdefgh", "222222222222")

# What the limited key may do: send and receive on the orders-* queues (but never on the
# orders-secret* ones), publish to alerts-* topics, send email.
LIMITED_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow",
         "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:GetQueue*"],
         "Resource": "arn:aws:sqs:*:111111111111:orders-*"},
        {"Effect": "Deny", "Action": "sqs:*", "Resource": "arn:aws:sqs:*:*:orders-secret*"},
        {"Effect": "Allow", "Action": ["sns:Publish", "sns:Subscribe"],
         "Resource": "arn:aws:sns:*:111111111111:alerts-*"},
        {"Effect": "Allow", "Action": "ses:SendEmail", "Resource": "*"},
    ],
}


def key_table(key, extra):
    return ('[[auth.keys]]\naccess_key = "%s"\nsecret_key = "%s"\naccount = "%s"\n%s\n'
            % (key[0], key[1], key[2], extra))


def client(service, endpoint, key):
    import boto3
    from botocore.config import Config
    session = boto3.session.Session(aws_access_key_id=key[0], aws_secret_access_key=key[1],
                                    region_name=harness.REGION)
    return session.client(service, endpoint_url=endpoint, config=Config(
        retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=20))


class Authorization(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        cls.config.write(key_table(OWNER, "admin = true"))
        cls.config.write(key_table(LIMITED, "policy = '%s'" % json.dumps(LIMITED_POLICY)))
        cls.config.write(key_table(NOTHING, "admin = false"))
        cls.config.write(key_table(PARTNER, ""))
        cls.config.close()
        cls.server = harness.PostboxServer(
            extra_args=["--config", cls.config.name, "--auth-mode", "sigv4"], dev=False)
        cls.server.require_local("authorization")
        cls.server.start()
        cls.owner_sqs = client("sqs", cls.server.endpoint, OWNER)
        cls.partner_sqs = client("sqs", cls.server.endpoint, PARTNER)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        os.unlink(cls.config.name)

    def error_of(self, fn, **kwargs):
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as caught:
            fn(**kwargs)
        e = caught.exception.response
        return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]

    def queue(self, prefix):
        url = self.owner_sqs.create_queue(QueueName=prefix + harness.uid())["QueueUrl"]
        arn = self.owner_sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def bodies(self, sqs, url, wait=1):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=wait).get("Messages", [])
        return [m["Body"] for m in messages]

    def test_a_key_policy_allows_what_it_lists_and_nothing_else(self):
        limited = client("sqs", self.server.endpoint, LIMITED)
        url, _ = self.queue("orders-")
        limited.send_message(QueueUrl=url, MessageBody="allowed")
        self.assertEqual(self.bodies(limited, url), ["allowed"])
        name = url.rsplit("/", 1)[1]
        self.assertEqual(limited.get_queue_url(QueueName=name)["QueueUrl"], url)
        # Not listed: another queue, another action, creating queues, listing them.
        other_url, _ = self.queue("billing-")
        self.assertEqual(self.error_of(limited.send_message, QueueUrl=other_url,
                                       MessageBody="x"), ("AccessDenied", 403))
        self.assertEqual(self.error_of(limited.purge_queue, QueueUrl=url), ("AccessDenied", 403))
        self.assertEqual(self.error_of(limited.delete_queue, QueueUrl=url), ("AccessDenied", 403))
        self.assertEqual(self.error_of(limited.create_queue, QueueName="orders-new"),
                         ("AccessDenied", 403))
        self.assertEqual(self.error_of(limited.list_queues), ("AccessDenied", 403))
        self.assertEqual(self.error_of(limited.send_message_batch, QueueUrl=other_url, Entries=[
            {"Id": "a", "MessageBody": "x"}]), ("AccessDenied", 403))
        # The queue was not touched by the refused calls.
        self.assertEqual(self.bodies(self.owner_sqs, other_url, wait=0), [])

    def test_an_explicit_deny_wins(self):
        limited = client("sqs", self.server.endpoint, LIMITED)
        url, _ = self.queue("orders-secret-")  # also matches the Allow of orders-*
        self.assertEqual(self.error_of(limited.send_message, QueueUrl=url, MessageBody="x"),
                         ("AccessDenied", 403))
        # A queue's own Deny holds even against its account's admin.
        url, arn = self.queue("guarded-")
        self.owner_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sqs:PurgeQueue",
                           "Resource": arn}]})})
        self.assertEqual(self.error_of(self.owner_sqs.purge_queue, QueueUrl=url),
                         ("AccessDenied", 403))
        self.owner_sqs.send_message(QueueUrl=url, MessageBody="still allowed")

    def test_a_key_without_admin_or_policy_may_do_nothing(self):
        nothing = client("sqs", self.server.endpoint, NOTHING)
        self.assertEqual(self.error_of(nothing.list_queues), ("AccessDenied", 403))
        # A queue policy naming its own account (as AddPermission writes it) leaves the
        # decision to each key's own policy, as IAM reads it.
        url, _ = self.queue("own-account-")
        self.owner_sqs.add_permission(QueueUrl=url, Label="own", AWSAccountIds=[OWNER[2]],
                                      Actions=["SendMessage"])
        self.assertEqual(self.error_of(nothing.send_message, QueueUrl=url, MessageBody="x"),
                         ("AccessDenied", 403))
        sns = client("sns", self.server.endpoint, NOTHING)
        self.assertEqual(self.error_of(sns.list_topics), ("AuthorizationError", 403))
        ses = client("ses", self.server.endpoint, NOTHING)
        self.assertEqual(self.error_of(ses.list_identities), ("AccessDenied", 403))
        sesv2 = client("sesv2", self.server.endpoint, NOTHING)
        self.assertEqual(self.error_of(sesv2.get_account), ("AccessDeniedException", 403))

    def test_sns_actions_follow_the_key_policy(self):
        owner = client("sns", self.server.endpoint, OWNER)
        limited = client("sns", self.server.endpoint, LIMITED)
        alerts = owner.create_topic(Name="alerts-" + harness.uid())["TopicArn"]
        other = owner.create_topic(Name="other-" + harness.uid())["TopicArn"]
        limited.publish(TopicArn=alerts, Message="allowed")
        self.assertEqual(self.error_of(limited.publish, TopicArn=other, Message="x"),
                         ("AuthorizationError", 403))
        self.assertEqual(self.error_of(limited.delete_topic, TopicArn=alerts),
                         ("AuthorizationError", 403))
        # Subscribing a queue sends to it: only to a queue the key may send to.
        orders_url, orders_arn = self.queue("orders-")
        _, billing_arn = self.queue("billing-")
        self.assertEqual(self.error_of(limited.subscribe, TopicArn=alerts, Protocol="sqs",
                                       Endpoint=billing_arn), ("AuthorizationError", 403))
        limited.subscribe(TopicArn=alerts, Protocol="sqs", Endpoint=orders_arn)
        limited.publish(TopicArn=alerts, Message="to orders")
        self.assertEqual([json.loads(b)["Message"] for b in self.bodies(self.owner_sqs,
                                                                        orders_url)],
                         ["to orders"])
        # Naming an allowed topic beside an action that acts on none does not lend it.
        self.assertEqual(self.error_of(limited.list_subscriptions), ("AuthorizationError", 403))
        # Tagging is not listed, not even for the allowed topic.
        self.assertEqual(self.error_of(limited.tag_resource, ResourceArn=alerts,
                                       Tags=[{"Key": "k", "Value": "v"}]),
                         ("AuthorizationError", 403))

    def test_a_queue_policy_lets_another_account_in(self):
        url, arn = self.queue("shared-")
        name = url.rsplit("/", 1)[1]
        self.assertEqual(self.error_of(self.partner_sqs.send_message, QueueUrl=url,
                                       MessageBody="x"), ("AccessDenied", 403))
        self.assertEqual(self.error_of(self.partner_sqs.get_queue_url, QueueName=name,
                                       QueueOwnerAWSAccountId=OWNER[2]), ("AccessDenied", 403))
        # A queue that does not exist answers the same to another account.
        self.assertEqual(self.error_of(self.partner_sqs.send_message,
                                       QueueUrl=url + "-missing", MessageBody="x"),
                         ("AccessDenied", 403))
        self.owner_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "partner", "Effect": "Allow",
                           "Principal": {"AWS": "arn:aws:iam::%s:root" % PARTNER[2]},
                           "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
                           "Resource": arn}]})})
        self.assertEqual(self.partner_sqs.get_queue_url(
            QueueName=name, QueueOwnerAWSAccountId=OWNER[2])["QueueUrl"], url)
        self.partner_sqs.send_message(QueueUrl=url, MessageBody="from the partner")
        # Only what was granted: receiving is still the owner's.
        self.assertEqual(self.error_of(self.partner_sqs.receive_message, QueueUrl=url),
                         ("AccessDenied", 403))
        self.assertEqual(self.bodies(self.owner_sqs, url), ["from the partner"])
        # AddPermission writes such a statement too.
        self.owner_sqs.add_permission(QueueUrl=url, Label="partner-receive",
                                      AWSAccountIds=[PARTNER[2]], Actions=["ReceiveMessage"])
        self.partner_sqs.send_message(QueueUrl=url, MessageBody="second")
        self.assertEqual(self.bodies(self.partner_sqs, url), ["second"])
        self.owner_sqs.remove_permission(QueueUrl=url, Label="partner-receive")
        self.assertEqual(self.error_of(self.partner_sqs.receive_message, QueueUrl=url),
                         ("AccessDenied", 403))

    def test_a_topic_policy_lets_another_account_publish(self):
        owner = client("sns", self.server.endpoint, OWNER)
        partner = client("sns", self.server.endpoint, PARTNER)
        topic = owner.create_topic(Name="shared-" + harness.uid())["TopicArn"]
        self.assertEqual(self.error_of(partner.publish, TopicArn=topic, Message="x"),
                         ("AuthorizationError", 403))
        owner.add_permission(TopicArn=topic, Label="partner", AWSAccountId=[PARTNER[2]],
                             ActionName=["Publish"])
        partner.publish(TopicArn=topic, Message="granted")
        self.assertEqual(self.error_of(partner.delete_topic, TopicArn=topic),
                         ("AuthorizationError", 403))
        # Subscribe granted to the partner does not let it point the topic at the owner's
        # queues: those must let the topic in themselves.
        owner.add_permission(TopicArn=topic, Label="partner-subscribes",
                             AWSAccountId=[PARTNER[2]], ActionName=["Subscribe"])
        url, arn = self.queue("owners-")
        partner.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                          Attributes={"RawMessageDelivery": "true",
                                      "FilterPolicy": '{"x": ["never"]}'})
        partner.publish(TopicArn=topic, Message="into the owner's queue?")
        self.assertEqual(self.bodies(self.owner_sqs, url), [])
        # The owner subscribing its queue itself takes the subscription over, with its own
        # attributes (no filter, no raw delivery: the message arrives in its envelope).
        owner.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        partner.publish(TopicArn=topic, Message="owner subscribed")
        self.assertEqual([json.loads(b)["Message"] for b in self.bodies(self.owner_sqs, url)],
                         ["owner subscribed"])
        owner.remove_permission(TopicArn=topic, Label="partner")
        self.assertEqual(self.error_of(partner.publish, TopicArn=topic, Message="x"),
                         ("AuthorizationError", 403))

    def test_a_topic_of_another_account_delivers_when_the_queue_policy_allows_it(self):
        url, arn = self.queue("inbox-")
        partner = client("sns", self.server.endpoint, PARTNER)
        topic = partner.create_topic(Name="events-" + harness.uid())["TopicArn"]
        partner.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        partner.publish(TopicArn=topic, Message="before the policy")
        self.assertEqual(self.bodies(self.owner_sqs, url), [])
        self.assertIn("sns_delivery_denied", self.server.output_with("sns_delivery_denied"))
        # The policy AWS's documentation gives for this, for another topic: still nothing.
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic + "-other"}}}]}
        self.owner_sqs.set_queue_attributes(QueueUrl=url,
                                            Attributes={"Policy": json.dumps(policy)})
        partner.publish(TopicArn=topic, Message="another topic's grant")
        self.assertEqual(self.bodies(self.owner_sqs, url), [])
        policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] = topic
        self.owner_sqs.set_queue_attributes(QueueUrl=url,
                                            Attributes={"Policy": json.dumps(policy)})
        partner.publish(TopicArn=topic, Message="granted")
        bodies = self.bodies(self.owner_sqs, url)
        self.assertEqual([json.loads(b)["Message"] for b in bodies], ["granted"])

    def test_policies_that_cannot_be_evaluated_are_refused(self):
        url, arn = self.queue("odd-")
        for policy, reason in (
                ("not json", "not a JSON object"),
                (json.dumps({"Statement": [{"Effect": "Allow", "Action": "sqs:*",
                                            "Resource": "*"}]}), "needs a Principal"),
                (json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*",
                                            "Action": "sqs:*", "Resource": "*",
                                            "Condition": {"IpAddress": {
                                                "aws:SourceIp": "10.0.0.0/8"}}}]}),
                 "IpAddress")):
            from botocore.exceptions import ClientError
            with self.assertRaises(ClientError) as caught:
                self.owner_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
            error = caught.exception.response["Error"]
            self.assertEqual(error["Code"], "InvalidAttributeValue")
            self.assertIn(reason, error["Message"])
        sns = client("sns", self.server.endpoint, OWNER)
        topic = sns.create_topic(Name="odd-" + harness.uid())["TopicArn"]
        self.assertEqual(self.error_of(sns.set_topic_attributes, TopicArn=topic,
                                       AttributeName="Policy", AttributeValue="{}"),
                         ("InvalidParameter", 400))

    def test_zz_refusals_are_counted(self):
        status, text = harness.http_get(self.server.endpoint, "/metrics")
        self.assertEqual(status, 200)
        counts = {}
        for line in text.splitlines():
            if line.startswith("postbox_authorization_denied_total{"):
                counts[line.split('reason="')[1].split('"')[0]] = float(line.rsplit(" ", 1)[1])
        self.assertGreaterEqual(counts["explicit_deny"], 2)
        self.assertGreaterEqual(counts["no_allow"], 10)
        self.assertNotIn(LIMITED[0], text)


class Limits(unittest.TestCase):
    """auth.requests_per_second (and a key's own requests_per_second) throttles a key with
    AWS's throttling error in each protocol; server.max_connections_per_address closes a
    client's connections beyond its share."""

    @classmethod
    def setUpClass(cls):
        cls.config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        cls.config.write("[auth]\nrequests_per_second = 1000\n")
        cls.config.write(key_table(OWNER, "requests_per_second = 2"))
        cls.config.write(key_table(PARTNER, ""))
        cls.config.close()
        cls.server = harness.PostboxServer(
            extra_args=["--config", cls.config.name, "--server-max-connections-per-address",
                        "6"], dev=False)
        cls.server.require_local("limits")
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        os.unlink(cls.config.name)

    def refusals(self, fn):
        from botocore.exceptions import ClientError
        codes = []
        for _ in range(8):
            try:
                fn()
            except ClientError as e:
                codes.append((e.response["Error"]["Code"],
                              e.response["ResponseMetadata"]["HTTPStatusCode"]))
        return codes

    def test_a_key_over_its_rate_is_throttled_in_each_protocol(self):
        sqs = client("sqs", self.server.endpoint, OWNER)
        codes = self.refusals(sqs.list_queues)
        self.assertGreaterEqual(len(codes), 4, codes)
        self.assertEqual(set(codes), {("RequestThrottled", 403)})
        time.sleep(1.2)
        sns = client("sns", self.server.endpoint, OWNER)
        codes = self.refusals(sns.list_topics)
        self.assertGreaterEqual(len(codes), 4, codes)
        self.assertEqual(set(codes), {("Throttled", 429)})
        time.sleep(1.2)
        codes = self.refusals(client("sesv2", self.server.endpoint, OWNER).get_account)
        self.assertEqual(set(codes), {("TooManyRequestsException", 429)})
        time.sleep(1.2)
        sqs.list_queues()  # the rate comes back
        # Another key has its own budget (auth.requests_per_second = 1000).
        partner = client("sqs", self.server.endpoint, PARTNER)
        self.assertEqual(self.refusals(partner.list_queues), [])
        text, _ = self.metrics_once_settled()
        throttled = harness.metric_value(text, "postbox_auth_failures_total",
                                         (("reason", "throttled"),))
        self.assertIsNotNone(throttled)
        self.assertGreaterEqual(throttled, 8)  # at least the SQS and SNS refusals above

    def metrics_once_settled(self):
        """/metrics fetched on a fresh connection, and how many tries were refused first (a
        refused try counts in refused_per_address while closed connections drain)."""
        deadline = time.monotonic() + 10
        refused = 0
        while True:
            try:
                status, text = harness.http_get(self.server.endpoint, "/metrics")
                self.assertEqual(status, 200)
                return text, refused
            except OSError:
                if time.monotonic() > deadline:
                    raise
                refused += 1
                time.sleep(0.1)

    def test_one_address_holds_at_most_its_share_of_connections(self):
        import gc
        import http.client
        import socket
        host, port = self.server.endpoint.split("//")[1].split(":")
        # Connections pooled by clients of earlier tests count against this address until
        # they are collected. Wait, on one kept-alive connection (itself one of the six),
        # until it is the only one open.
        gc.collect()
        deadline = time.monotonic() + 10
        probe = None
        while True:
            try:
                if probe is None:
                    probe = http.client.HTTPConnection(host, int(port), timeout=5)
                probe.request("GET", "/metrics")
                text = probe.getresponse().read().decode()
                if harness.metric_value(text, "postbox_connections_open") == 1:
                    break
            except OSError:
                probe.close()
                probe = None  # refused while earlier connections drain: try a new one
            self.assertLess(time.monotonic(), deadline, "earlier connections stay open")
            time.sleep(0.1)
        counter = ("postbox_connections_total", (("outcome", "refused_per_address"),))
        before = harness.metric_value(text, *counter)
        self.assertIsNotNone(before)
        held = [socket.create_connection((host, int(port)), timeout=5) for _ in range(5)]
        try:
            for s in held:  # each of the five others is served
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertIn(b"200", s.recv(200))
            extra = socket.create_connection((host, int(port)), timeout=5)
            extra.settimeout(5)
            try:
                self.assertEqual(extra.recv(1), b"")  # closed by the server at once
            except ConnectionResetError:
                pass
            extra.close()
            probe.request("GET", "/healthz")
            self.assertEqual(probe.getresponse().status, 200)
        finally:
            probe.close()
            for s in held:
                s.close()
        text, refused_scrapes = self.metrics_once_settled()
        after = harness.metric_value(text, *counter)
        self.assertGreaterEqual(after - before, 1)
        self.assertLessEqual(after - before, 1 + refused_scrapes)


class KeyPolicyConfiguration(unittest.TestCase):
    """A key's policy that cannot be read, or admin = true beside a policy, stops the start
    with a message naming the key (never its secret)."""

    def test_unreadable_or_contradictory_key_policies_stop_the_start(self):
        cases = (("policy = '{\"Version\": \"2012-10-17\"}'", "has no Statement"),
                 ("policy = '{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", "
                  "\"Resource\": \"*\", \"Principal\": \"*\"}]}'", "cannot name a Principal"),
                 ("admin = true\npolicy = '{\"Statement\": []}'", "choose one"),
                 ("policy = 3", "must be a string"))
        with tempfile.TemporaryDirectory() as directory:
            for extra, message in cases:
                config = os.path.join(directory, "postbox.toml")
                with open(config, "w") as f:
                    f.write(key_table(LIMITED, extra))
                run = subprocess.run([harness.PostboxServer().binary, "serve", "--config",
                                      config, "--data-dir", os.path.join(directory, "data"),
                                      "--listen", "127.0.0.1:0"],
                                     capture_output=True, text=True, timeout=20)
                self.assertNotEqual(run.returncode, 0, extra)
                self.assertIn(message, run.stderr)
                self.assertIn(LIMITED[0], run.stderr)
                self.assertNotIn(LIMITED[1], run.stderr)


if __name__ == "__main__":
    unittest.main()
