#!/usr/bin/env python3
"""End-to-end TLS listener (tls.listen, tls.cert_file, tls.key_file): a certificate made here
with openssl; boto3 (SQS and SNS) over https verifying it, beside the plain listener; TLS 1.1
refused in the handshake and counted in /metrics; a missing key file stops the start.

Runs under python3 (boto3 1.43) and /usr/bin/python3 (boto3 1.26)."""

import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1 (and its key), as PEM files."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def https_client(service, endpoint, ca_file):
    """A boto3 client that verifies the server's certificate against ca_file."""
    import boto3
    from botocore.config import Config
    session = boto3.session.Session(aws_access_key_id=harness.ACCESS_KEY,
                                    aws_secret_access_key=harness.SECRET_KEY,
                                    region_name=harness.REGION)
    return session.client(service, endpoint_url=endpoint, verify=ca_file, config=Config(
        retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=20))


class TlsListener(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="postbox-e2e-tls-")
        cls.cert, cls.key = make_certificate(cls.directory)
        cls.server = harness.PostboxServer(extra_args=[
            "--tls-listen", "127.0.0.1:0", "--tls-cert-file", cls.cert,
            "--tls-key-file", cls.key])
        cls.server.require_local("the TLS listener")
        cls.server.start()
        found = re.search(r"listening on (https://127\.0\.0\.1:(\d+)) \(TLS",
                          cls.server.output())
        assert found, cls.server.output()
        cls.https, cls.tls_port = found.group(1), int(found.group(2))

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        shutil.rmtree(cls.directory, ignore_errors=True)

    def test_sdk_clients_work_over_https_beside_plain_http(self):
        sqs = https_client("sqs", self.https, self.cert)
        url = sqs.create_queue(QueueName="tls-" + harness.uid())["QueueUrl"]
        # URLs handed back on the TLS listener point at it (SDKs that send to the QueueUrl).
        self.assertTrue(url.startswith(self.https + "/"), url)
        sqs.send_message(QueueUrl=url, MessageBody="over tls")
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        self.assertEqual([m["Body"] for m in messages], ["over tls"])
        # The same queue through the plain listener.
        plain = self.server.client()
        self.assertIn(url.rsplit("/", 1)[1],
                      " ".join(plain.list_queues().get("QueueUrls", [])))
        sns = https_client("sns", self.https, self.cert)
        topic = sns.create_topic(Name="tls-" + harness.uid())["TopicArn"]
        self.assertIn(topic, [t["TopicArn"] for t in sns.list_topics()["Topics"]])

    def test_an_untrusted_client_cannot_skip_verification_by_accident(self):
        # The default CA store does not know this certificate: a verifying client refuses.
        context = ssl.create_default_context()
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10) as raw:
            with self.assertRaises(ssl.SSLCertVerificationError):
                context.wrap_socket(raw, server_hostname="127.0.0.1")

    def test_tls_1_1_is_refused(self):
        before = self.handshake_failures()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            context.set_ciphers("DEFAULT@SECLEVEL=0")  # so that this client may offer 1.1
            context.minimum_version = ssl.TLSVersion.TLSv1_1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        except (ValueError, ssl.SSLError) as e:
            self.skipTest("this OpenSSL cannot offer TLS 1.1: %s" % e)
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10) as raw:
            with self.assertRaises(ssl.SSLError) as refused:
                context.wrap_socket(raw, server_hostname="127.0.0.1")
        if "NO_PROTOCOLS_AVAILABLE" in str(refused.exception):
            self.skipTest("this OpenSSL would not offer TLS 1.1")
        # The server's alert, not a client that never tried.
        self.assertIn("PROTOCOL_VERSION", str(refused.exception))
        deadline = time.time() + 10
        while self.handshake_failures() <= before and time.time() < deadline:
            time.sleep(0.05)
        self.assertGreater(self.handshake_failures(), before)

    def handshake_failures(self):
        status, text = harness.http_get(self.server.endpoint, "/metrics")
        self.assertEqual(status, 200)
        found = re.search(r'^postbox_tls_connections_total\{outcome="handshake_failed"\} (\d+)',
                          text, re.M)
        self.assertIsNotNone(found, "no TLS series in /metrics")
        return int(found.group(1))


class TlsConfiguration(unittest.TestCase):
    def test_a_missing_key_file_stops_the_start(self):
        directory = tempfile.mkdtemp(prefix="postbox-e2e-tls-")
        self.addCleanup(shutil.rmtree, directory, True)
        cert, _ = make_certificate(directory)
        run = subprocess.run([harness.PostboxServer().binary, "serve", "--dev", "--listen",
                              "127.0.0.1:0", "--data-dir", os.path.join(directory, "data"),
                              "--tls-listen", "127.0.0.1:0", "--tls-cert-file", cert,
                              "--tls-key-file", os.path.join(directory, "missing.pem")],
                             capture_output=True, text=True, timeout=20)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("cannot load tls.key_file", run.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
