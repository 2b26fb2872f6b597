"""Start-up with stored state: while postbox loads its log it answers /healthz (alive) and
/readyz (not yet), and every other request is refused with 503 and Retry-After, which AWS
SDKs retry; once loaded it serves everything that was stored.

A slow disk (the fault-injection file system's delay_ms rule on log reads) stretches the load
to a few seconds so that the test can probe the server while it loads.
"""

import os
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import harness

MESSAGES = 30
READ_DELAY_MS = 100  # per message read at start-up: about 3 s in all


def post(endpoint, body):
    request = urllib.request.Request(
        endpoint + "/", data=body.encode(), method="POST",
        headers={"Content-Type": "application/x-amz-json-1.0",
                 "X-Amz-Target": "AmazonSQS.ListQueues"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def this_start(server):
    """What the server printed since its latest start."""
    return server.output().rsplit("---- start #", 1)[-1]


class StartupTest(unittest.TestCase):
    def test_health_answers_while_loading(self):
        faults = tempfile.NamedTemporaryFile("w", suffix=".faults", delete=False)
        faults.close()
        server = harness.PostboxServer(env={"POSTBOX_TEST_FAULTS_FILE": faults.name})
        self.addCleanup(os.unlink, faults.name)
        self.addCleanup(server.close)
        server.require_local()
        sqs = harness.make_client(server.start())
        url = sqs.create_queue(QueueName="kept")["QueueUrl"]
        for i in range(MESSAGES):
            sqs.send_message(QueueUrl=url, MessageBody="m%d" % i)
        self.assertEqual(server.stop(), 0)

        with open(faults.name, "w") as f:
            f.write("op=read path=/log/ delay_ms=%d\n" % READ_DELAY_MS)
        endpoint = server.start(until_ready=False)
        status, body = harness.http_get(endpoint, "/healthz")
        self.assertEqual((status, body), (200, "starting: loading the stored state\n"))
        status, _ = harness.http_get(endpoint, "/readyz")
        self.assertEqual(status, 503)
        status, headers, _ = post(endpoint, "{}")
        self.assertEqual(status, 503)
        self.assertEqual(headers.get("Retry-After"), "1")
        self.assertNotIn("listening on http://", this_start(server),
                         "the probes must have run while the state was loading")

        # Ready: the line the harness waits for, /readyz 200, and everything stored is back.
        deadline = time.monotonic() + 60
        while "listening on http://" not in this_start(server) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("event=state_loaded", this_start(server))
        with open(faults.name, "w") as f:
            f.write("")
        self.assertEqual(harness.http_get(endpoint, "/readyz")[0], 200)
        sqs = harness.make_client(endpoint)
        bodies = set()
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                break
            bodies.update(m["Body"] for m in got)
        self.assertEqual(bodies, {"m%d" % i for i in range(MESSAGES)})


if __name__ == "__main__":
    unittest.main()
