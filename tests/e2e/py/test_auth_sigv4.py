#!/usr/bin/env python3
"""End-to-end SigV4 authentication (auth.mode = "sigv4"): real clients signing with a
configured key get answers, in the account of their key; a wrong secret, an unknown key, an
unsigned request, a stale date and an expired presigned URL get AWS's errors in the caller's
protocol (SQS JSON with boto3 1.43, SQS query with boto3 1.26, SNS query, SES v1 and v2);
/metrics counts the refusals by reason. Without --dev, sigv4 is the default: the first start
with no key makes an admin key and shows it once; a credentials file must be private.
Runs under python3 and /usr/bin/python3."""

import json
import os
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

OTHER_KEY = "AKIAOTHERACCOUNT0001"
OTHER_SECRET = "other-account-secret-key/0123456789abcd"
OTHER_ACCOUNT = "111111111111"


def client(service, endpoint, key=harness.ACCESS_KEY, secret=harness.SECRET_KEY):
    import boto3
    from botocore.config import Config
    session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                    region_name=harness.REGION)
    return session.client(service, endpoint_url=endpoint, config=Config(
        retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=20))


class SigV4(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        cls.config.write('[[auth.keys]]\naccess_key = "%s"\nsecret_key = "%s"\naccount = "%s"\n'
                         % (OTHER_KEY, OTHER_SECRET, OTHER_ACCOUNT))
        cls.config.close()
        # The secret through the environment, as docs/authentication.md advises (a flag
        # would show in the process list).
        cls.server = harness.PostboxServer(
            extra_args=["--config", cls.config.name, "--auth-mode", "sigv4",
                        "--auth-access-key-id", harness.ACCESS_KEY,
                        "--outbound-allow-hosts", "127.0.0.1"],  # the test's subscriber
            env={"POSTBOX_AUTH_SECRET_ACCESS_KEY": harness.SECRET_KEY}, dev=False)
        cls.server.require_local("SigV4 mode")
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        os.unlink(cls.config.name)

    def error_of(self, fn, **kwargs):
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as caught:
            fn(**kwargs)
        e = caught.exception.response
        return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Message"]

    def test_signed_requests_act_in_their_keys_account(self):
        mine = client("sqs", self.server.endpoint)
        url = mine.create_queue(QueueName="signed" + harness.uid())["QueueUrl"]
        self.assertIn("/%s/" % harness.ACCOUNT_ID, url)
        mine.send_message(QueueUrl=url, MessageBody="hello")
        other = client("sqs", self.server.endpoint, OTHER_KEY, OTHER_SECRET)
        theirs = other.create_queue(QueueName="theirs" + harness.uid())["QueueUrl"]
        self.assertIn("/%s/" % OTHER_ACCOUNT, theirs)
        self.assertNotIn(url, other.list_queues().get("QueueUrls", []))
        self.assertNotIn(theirs, mine.list_queues().get("QueueUrls", []))
        sns = client("sns", self.server.endpoint, OTHER_KEY, OTHER_SECRET)
        topic = sns.create_topic(Name="signed" + harness.uid())["TopicArn"]
        self.assertIn(":%s:" % OTHER_ACCOUNT, topic)
        client("ses", self.server.endpoint).verify_email_identity(EmailAddress="a@example.com")
        client("sesv2", self.server.endpoint).get_account()

    def test_a_wrong_secret_or_key_is_refused_in_each_protocol(self):
        wrong = {"key": harness.ACCESS_KEY, "secret": "not-the-secret"}
        unknown = {"key": "AKIANOBODY0000000000", "secret": "whatever"}
        calls = [("sqs", "list_queues", {}), ("sns", "list_topics", {}),
                 ("ses", "list_identities", {}), ("sesv2", "get_account", {})]
        for service, operation, kwargs in calls:
            with self.subTest(service=service):
                c = client(service, self.server.endpoint, **wrong)
                code, status, message = self.error_of(getattr(c, operation), **kwargs)
                expected = "InvalidSignatureException" if service == "sesv2" else \
                    "SignatureDoesNotMatch"
                self.assertEqual((code, status), (expected, 403))
                self.assertIn("signature we calculated does not match", message)
                c = client(service, self.server.endpoint, **unknown)
                code, status, message = self.error_of(getattr(c, operation), **kwargs)
                expected = "UnrecognizedClientException" if service == "sesv2" else \
                    "InvalidClientTokenId"
                self.assertEqual((code, status), (expected, 403))
                self.assertEqual(message, "The security token included in the request is invalid.")

    def post(self, body, headers):
        data = body if isinstance(body, bytes) else body.encode()
        request = urllib.request.Request(self.server.endpoint + "/", data=data,
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def test_unsigned_and_stale_requests_are_refused(self):
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        status, body = self.post("Action=ListQueues&Version=2012-11-05", form)
        self.assertEqual(status, 403)
        self.assertIn("<Code>MissingAuthenticationToken</Code>", body)
        # A request signed 20 minutes ago (a replay, or a skewed clock).
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        import datetime
        import unittest.mock
        import botocore.auth
        stale = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
        request = AWSRequest(method="POST", url=self.server.endpoint + "/",
                             data="Action=ListQueues&Version=2012-11-05", headers=form)
        signer = SigV4Auth(Credentials(harness.ACCESS_KEY, harness.SECRET_KEY), "sqs",
                           harness.REGION)
        if hasattr(botocore.auth, "get_current_datetime"):  # botocore >= 1.34
            with unittest.mock.patch("botocore.auth.get_current_datetime", return_value=stale):
                signer.add_auth(request)
        else:
            with unittest.mock.patch("botocore.auth.datetime") as clock:
                clock.datetime.utcnow.return_value = stale
                signer.add_auth(request)
        status, body = self.post(request.body, dict(request.headers))
        self.assertEqual(status, 403)
        self.assertIn("<Code>SignatureDoesNotMatch</Code>", body)
        self.assertIn("Signature expired", body)

    def test_presigned_urls_work_until_they_expire(self):
        sqs = client("sqs", self.server.endpoint)
        url = sqs.create_queue(QueueName="presigned" + harness.uid())["QueueUrl"]
        from botocore.auth import SigV4QueryAuth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        get = AWSRequest(method="GET", url=url + "?Action=GetQueueAttributes"
                         "&AttributeName.1=QueueArn&Version=2012-11-05")
        SigV4QueryAuth(Credentials(harness.ACCESS_KEY, harness.SECRET_KEY), "sqs",
                       harness.REGION, expires=1).add_auth(get)
        with urllib.request.urlopen(get.url, timeout=10) as r:
            self.assertIn("QueueArn", r.read().decode())
        time.sleep(2.2)
        try:
            urllib.request.urlopen(get.url, timeout=10)
            self.fail("an expired presigned URL was accepted")
        except urllib.error.HTTPError as e:
            self.assertIn("<Code>RequestExpired</Code>", e.read().decode())

    def test_other_accounts_are_out_of_reach(self):
        mine = client("sqs", self.server.endpoint)
        url = mine.create_queue(QueueName="private" + harness.uid())["QueueUrl"]
        other = client("sqs", self.server.endpoint, OTHER_KEY, OTHER_SECRET)
        code, status, _ = self.error_of(other.send_message, QueueUrl=url, MessageBody="x")
        self.assertEqual((code, status), ("AccessDenied", 403))
        topic = client("sns", self.server.endpoint).create_topic(
            Name="private" + harness.uid())["TopicArn"]
        other_sns = client("sns", self.server.endpoint, OTHER_KEY, OTHER_SECRET)
        code, status, _ = self.error_of(other_sns.publish, TopicArn=topic, Message="x")
        self.assertEqual((code, status), ("AuthorizationError", 403))
        # ARNs of the first account named inside the other's own requests: its topic may
        # subscribe my queue but delivers nothing without my queue's Policy; my queue as its
        # dead-letter queue and moving my messages are refused.
        arn = mine.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        own_topic = other_sns.create_topic(Name="theirs" + harness.uid())["TopicArn"]
        other_sns.subscribe(TopicArn=own_topic, Protocol="sqs", Endpoint=arn)
        other_sns.publish(TopicArn=own_topic, Message="not let in")
        code, status, _ = self.error_of(
            other.create_queue, QueueName="theirs" + harness.uid(),
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn,
                                                     "maxReceiveCount": "3"})})
        self.assertEqual((code, status), ("AccessDenied", 403))
        if hasattr(other, "start_message_move_task"):  # boto3 1.26 predates move tasks
            code, status, _ = self.error_of(other.start_message_move_task, SourceArn=arn)
            self.assertEqual((code, status), ("AccessDenied", 403))
        self.assertEqual(mine.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"], "0")

    def test_a_presigned_url_cannot_change_its_operation(self):
        sqs = client("sqs", self.server.endpoint)
        url = sqs.create_queue(QueueName="replayed" + harness.uid())["QueueUrl"]
        from botocore.auth import SigV4QueryAuth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        get = AWSRequest(method="GET", url=url + "?Action=GetQueueAttributes&Version=2012-11-05")
        SigV4QueryAuth(Credentials(harness.ACCESS_KEY, harness.SECRET_KEY), "sqs",
                       harness.REGION, expires=60).add_auth(get)
        # The same method, host and query as signed, plus an unsigned header naming another
        # operation: the signature matches, the header must not be believed.
        replay = urllib.request.Request(get.url, method="GET", headers={
            "X-Amz-Target": "AmazonSQS.DeleteQueue"})
        try:
            urllib.request.urlopen(replay, timeout=10)
            self.fail("a presigned URL was replayed as DeleteQueue")
        except urllib.error.HTTPError as e:
            self.assertEqual(e.code, 400)
            self.assertIn(b"must be a 'SignedHeader'", e.read())
        self.assertIn(url, sqs.list_queues().get("QueueUrls", []))

    def test_unsubscribe_links_work_unsigned_for_subscriptions_sent_one(self):
        sqs = client("sqs", self.server.endpoint)
        url = sqs.create_queue(QueueName="links" + harness.uid())["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        sns = client("sns", self.server.endpoint)
        topic = sns.create_topic(Name="links" + harness.uid())["TopicArn"]

        def visit(subscription):
            link = self.server.endpoint + "/?Action=Unsubscribe&SubscriptionArn=" + \
                urllib.parse.quote(subscription, safe="")
            try:
                with urllib.request.urlopen(link, timeout=10) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        # An http subscriber is sent an UnsubscribeURL: visiting it unsigned works.
        hook = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/h",
                             ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.assertEqual(visit(hook), 200)
        # A queue's subscription is never sent one: it needs its owner's signature.
        queue = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                              ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.assertEqual(visit(queue), 403)
        self.assertEqual([s["SubscriptionArn"] for s in
                          sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]],
                         [queue])

    def test_authenticate_on_unsubscribe_needs_a_signed_unsubscribe(self):
        from test_sns_http import Subscriber
        subscriber = Subscriber()
        self.addCleanup(subscriber.close)
        sns = client("sns", self.server.endpoint)
        topic = sns.create_topic(Name="signed-unsub" + harness.uid())["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url)
        _, headers, body = subscriber.next()
        self.assertEqual(headers["x-amz-sns-message-type"], "SubscriptionConfirmation")
        token = json.loads(body)["Token"]
        arn = sns.confirm_subscription(TopicArn=topic, Token=token,
                                       AuthenticateOnUnsubscribe="true")["SubscriptionArn"]
        link = self.server.endpoint + "/?Action=Unsubscribe&SubscriptionArn=" + \
            urllib.parse.quote(arn, safe="")
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(link, timeout=10)
        self.assertEqual(refused.exception.code, 403)
        # Visiting the confirmation link again, unsigned, does not lift it.
        confirm = self.server.endpoint + "/?Action=ConfirmSubscription&TopicArn=" + \
            urllib.parse.quote(topic, safe="") + "&Token=" + token
        with urllib.request.urlopen(confirm, timeout=10) as r:
            self.assertEqual(r.status, 200)
        with self.assertRaises(urllib.error.HTTPError):
            urllib.request.urlopen(link, timeout=10)
        self.assertEqual([s["SubscriptionArn"] for s in
                          sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]],
                         [arn])
        sns.unsubscribe(SubscriptionArn=arn)  # signed: allowed
        self.assertEqual(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"], [])

    def test_both_aws_cli_generations_sign_and_are_checked(self):
        import shutil
        import subprocess
        clis = {}
        for path in (os.environ.get("POSTBOX_AWS_CLI_V1") or shutil.which("aws"),
                     os.environ.get("POSTBOX_AWS_CLI_V2") or "/usr/bin/aws"):
            if not path or not os.access(path, os.X_OK):
                continue
            version = subprocess.run([path, "--version"], capture_output=True, text=True,
                                     timeout=60, env=harness.aws_env())
            clis[(version.stdout + version.stderr).strip()[:9]] = path
        if not clis:
            self.skipTest("no AWS CLI installed")
        name = "cli" + harness.uid()
        for version, path in clis.items():
            env = harness.aws_env()
            run = subprocess.run([path, "--endpoint-url", self.server.endpoint, "sqs",
                                  "create-queue", "--queue-name", name],
                                 capture_output=True, text=True, timeout=60, env=env)
            self.assertEqual(run.returncode, 0, version + ": " + run.stderr)
            env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
            run = subprocess.run([path, "--endpoint-url", self.server.endpoint, "sns",
                                  "list-topics"],
                                 capture_output=True, text=True, timeout=60, env=env)
            self.assertNotEqual(run.returncode, 0, version)
            self.assertIn("SignatureDoesNotMatch", run.stderr, version)

    def test_a_malformed_key_entry_stops_the_start(self):
        import subprocess
        with tempfile.TemporaryDirectory() as directory:
            bad = os.path.join(directory, "bad.toml")
            with open(bad, "w") as f:
                f.write('[[auth.keys]]\naccess_key = "AKIAX"\nsecret_key = "s"\naccount = "12"\n')
            run = subprocess.run([self.server.binary, "serve", "--config", bad, "--data-dir",
                                  os.path.join(directory, "data"), "--listen", "127.0.0.1:0"],
                                 capture_output=True, text=True, timeout=20)
            self.assertNotEqual(run.returncode, 0)
            self.assertIn("[[auth.keys]]", run.stderr)
            self.assertNotIn('"s"', run.stderr)

    def test_a_signature_scoped_to_another_api_is_refused(self):
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        def list_queues_signed_for(service):
            request = AWSRequest(method="POST", url=self.server.endpoint + "/", data="{}",
                                 headers={"Content-Type": "application/x-amz-json-1.0",
                                          "X-Amz-Target": "AmazonSQS.ListQueues"})
            SigV4Auth(Credentials(harness.ACCESS_KEY, harness.SECRET_KEY), service,
                      harness.REGION).add_auth(request)
            return self.post(request.body, dict(request.headers))

        self.assertEqual(list_queues_signed_for("sqs")[0], 200)
        status, body = list_queues_signed_for("sns")
        self.assertEqual(status, 403, body)
        self.assertIn("SignatureDoesNotMatch", body)
        self.assertIn("Credential should be scoped to correct service: 'sqs'.", body)

    def test_zz_refusals_are_counted(self):
        status, text = harness.http_get(self.server.endpoint, "/metrics")
        self.assertEqual(status, 200)
        counts = {}
        for line in text.splitlines():
            if line.startswith("postbox_auth_failures_total{"):
                reason = line.split('reason="')[1].split('"')[0]
                counts[reason] = float(line.rsplit(" ", 1)[1])
        self.assertGreaterEqual(counts["signature_mismatch"], 4)
        self.assertGreaterEqual(counts["unknown_key"], 4)
        self.assertGreaterEqual(counts["missing_signature"], 1)
        self.assertGreaterEqual(counts["expired"], 1)
        self.assertNotIn(harness.ACCESS_KEY, text)
        self.assertNotIn(harness.SECRET_KEY, self.server.output())  # not even in the banner
        self.assertNotIn(OTHER_SECRET, self.server.output())


class FirstStartAndKeyFiles(unittest.TestCase):
    """`postbox serve` without --dev: sigv4 is the default; with no key anywhere the first
    start makes an admin key (0600 in the data directory), shows its secret once, and the
    development pair is not a key. A credentials file is refused unless only its owner may
    read it."""

    def directory(self):
        import shutil
        path = tempfile.mkdtemp(prefix="postbox-e2e-keys-")
        self.addCleanup(shutil.rmtree, path, True)  # after the server stops (cleanups: LIFO)
        return path

    def start(self, data_dir, extra_args=()):
        server = harness.PostboxServer(data_dir=data_dir, extra_args=list(extra_args), dev=False)
        server.require_local("first start")
        server.start()
        self.addCleanup(server.close)
        return server

    def test_the_first_start_makes_an_admin_key_shown_once(self):
        import re
        import stat
        data_dir = os.path.join(self.directory(), "data")
        server = self.start(data_dir)
        found = re.search(r"AWS_ACCESS_KEY_ID=(AKIA[A-Z2-7]{16}) "
                          r"AWS_SECRET_ACCESS_KEY=(\S{40}) ", server.output())
        self.assertIsNotNone(found, server.output())
        key, secret = found.group(1), found.group(2)
        key_file = os.path.join(data_dir, "credentials.toml")
        self.assertEqual(stat.S_IMODE(os.stat(key_file).st_mode), 0o600)
        sqs = client("sqs", server.endpoint, key, secret)
        url = sqs.create_queue(QueueName="first" + harness.uid())["QueueUrl"]
        self.assertIn("/000000000000/", url)
        # The published development pair is no key in sigv4 mode.
        with self.assertRaises(Exception) as refused:
            client("sqs", server.endpoint, "postbox", "postbox-dev-secret").list_queues()
        self.assertIn("InvalidClientTokenId", str(refused.exception))
        # A restart keeps the key and does not show its secret again.
        server.restart()
        after = server.output().split("---- start #2")[1]
        self.assertNotIn(secret, after)
        self.assertIn("1 access key(s) configured", after)
        urls = client("sqs", server.endpoint, key, secret).list_queues().get("QueueUrls", [])
        self.assertEqual([u.rsplit("/", 1)[1] for u in urls], [url.rsplit("/", 1)[1]])

    def test_a_credentials_file_must_be_private(self):
        import subprocess
        directory = self.directory()
        creds = os.path.join(directory, "keys.toml")
        with open(creds, "w") as f:
            f.write('[[keys]]\naccess_key = "%s"\nsecret_key = "%s"\naccount = "%s"\n'
                    'admin = true\n' % (OTHER_KEY, OTHER_SECRET, OTHER_ACCOUNT))
        os.chmod(creds, 0o644)
        args = ["--auth-credentials-file", creds]
        run = subprocess.run([harness.PostboxServer().binary, "serve", "--data-dir",
                              os.path.join(directory, "data"), "--listen", "127.0.0.1:0"]
                             + args, capture_output=True, text=True, timeout=20)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("may be read by other users", run.stderr)
        os.chmod(creds, 0o600)
        server = self.start(os.path.join(directory, "data"), args)
        # A configured key means no key is made.
        self.assertNotIn("AWS_SECRET_ACCESS_KEY=", server.output())
        self.assertFalse(os.path.exists(os.path.join(directory, "data", "credentials.toml")))
        sns = client("sns", server.endpoint, OTHER_KEY, OTHER_SECRET)
        topic = sns.create_topic(Name="from-file" + harness.uid())["TopicArn"]
        self.assertIn(":" + OTHER_ACCOUNT + ":", topic)

    def test_a_key_table_that_could_mean_less_than_admin_stops_the_start(self):
        import subprocess
        directory = self.directory()
        for extra, message in (('admin = "false"\n', "must be true or false"),
                               ('polcy = "x"\n', "unknown field 'polcy'")):
            config = os.path.join(directory, "odd.toml")
            with open(config, "w") as f:
                f.write('[[auth.keys]]\naccess_key = "AKIAODD0000000000001"\nsecret_key = "s"\n'
                        'account = "123456789012"\n' + extra)
            run = subprocess.run([harness.PostboxServer().binary, "serve", "--config", config,
                                  "--data-dir", os.path.join(directory, "data"),
                                  "--listen", "127.0.0.1:0"],
                                 capture_output=True, text=True, timeout=20)
            self.assertNotEqual(run.returncode, 0)
            self.assertIn(message, run.stderr)


if __name__ == "__main__":
    unittest.main()
