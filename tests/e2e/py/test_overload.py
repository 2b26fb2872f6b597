"""Overload: a flood of sends faster than the disk takes them (run under boto3 1.43, JSON
protocol, and Debian's 1.26, query protocol).

A slow disk (the fault-injection file system makes every fsync of the log take 100 ms) and a
small bound on writes waiting for storage (--storage-max-pending-mib 1) stand for a disk that
cannot keep up. Many producers flood SendMessage and SendMessageBatch with no retries; a
normal client (boto3's default retries) keeps working meanwhile. Checked:

- sends beyond the bound are refused with RequestThrottled (HTTP 403, which boto3's default
  retry mode retries; a SendMessageBatch as a whole), SNS Publish with Throttled (429), and the
  refusals are counted;
- the bytes waiting for storage stay within the bound (/metrics), whatever the flood;
- the normal client's calls all succeed;
- every acknowledged message is there after a kill -9 and restart, and nothing refused is.
"""

import os
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

BOUND_BYTES = 1 << 20
PRODUCERS = 12
FLOOD_SECONDS = 3.0
BODY = "x" * (50 << 10)  # 10 of them make a 500 KiB batch: two fill the bound


def default_client(endpoint):
    """An SQS client as applications make one: boto3's default (legacy) retries, which retry
    SQS's RequestThrottled only when it comes with HTTP 403, as AWS sends it."""
    import boto3
    session = boto3.session.Session(aws_access_key_id=harness.ACCESS_KEY,
                                    aws_secret_access_key=harness.SECRET_KEY,
                                    region_name=harness.REGION)
    return session.client("sqs", endpoint_url=endpoint)


class OverloadTest(unittest.TestCase):
    def setUp(self):
        faults = tempfile.NamedTemporaryFile("w", suffix=".faults", delete=False)
        faults.close()
        self.faults = faults.name
        self.addCleanup(os.unlink, self.faults)
        self.server = harness.PostboxServer(
            env={"POSTBOX_TEST_FAULTS_FILE": self.faults},
            extra_args=["--storage-max-pending-mib", "1"])
        self.addCleanup(self.server.close)
        self.server.require_local()
        self.endpoint = self.server.start()

    def set_faults(self, text):
        with open(self.faults, "w") as f:
            f.write(text)

    def metric(self, name):
        status, body = harness.http_get(self.endpoint, "/metrics")
        self.assertEqual(status, 200)
        return harness.metric_value(body, name)

    def test_flood_is_throttled_and_nothing_acknowledged_is_lost(self):
        sqs = harness.make_client(self.endpoint)
        url = sqs.create_queue(QueueName="flooded")["QueueUrl"]
        import boto3
        from botocore.config import Config
        sns = boto3.session.Session(
            aws_access_key_id=harness.ACCESS_KEY, aws_secret_access_key=harness.SECRET_KEY,
            region_name=harness.REGION).client(
                "sns", endpoint_url=self.endpoint,
                config=Config(retries={"total_max_attempts": 1}))
        topic = sns.create_topic(Name="flooded-topic")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=harness.queue_arn("flooded"),
                      Attributes={"RawMessageDelivery": "true"})

        self.set_faults("op=sync path=/log/ delay_ms=100\n")
        lock = threading.Lock()
        acknowledged = set()  # bodies' tags
        outcomes = {"ok": 0, "throttled": 0, "other": []}
        # Clients are made before the clock starts: making one takes boto3 a while.
        producer_clients = [harness.make_client(self.endpoint) for _ in range(PRODUCERS)]
        normal = default_client(self.endpoint)
        stop = time.monotonic() + FLOOD_SECONDS

        def note(ok, error=None):
            with lock:
                if ok:
                    outcomes["ok"] += 1
                elif error == "RequestThrottled" or error == "Throttled":
                    outcomes["throttled"] += 1
                else:
                    outcomes["other"].append(error)

        def producer(n):
            client = producer_clients[n]
            i = 0
            while time.monotonic() < stop:
                i += 1
                tags = ["p%d-%d-%d" % (n, i, k) for k in range(10)]
                try:
                    if i % 2:
                        client.send_message(QueueUrl=url, MessageBody=tags[0] + BODY)
                        note(True)
                        with lock:
                            acknowledged.add(tags[0])
                        continue
                    answer = client.send_message_batch(QueueUrl=url, Entries=[
                        {"Id": str(k), "MessageBody": tag + BODY} for k, tag in enumerate(tags)])
                except ClientError as e:
                    code = e.response["Error"]["Code"]
                    status = e.response["ResponseMetadata"]["HTTPStatusCode"]
                    note(False, code if status == 403 else "%s (HTTP %d)" % (code, status))
                    continue
                for entry in answer.get("Successful", []):
                    with lock:
                        acknowledged.add(tags[int(entry["Id"])])
                # A throttled batch is refused as a whole (the SDK's retry covers it), never
                # entry by entry.
                self.assertEqual(answer.get("Failed", []), [])
                note(True)

        published = []

        def publisher():
            while time.monotonic() < stop:
                tag = "sns-%d" % len(published)
                try:
                    sns.publish(TopicArn=topic, Message=tag + BODY)
                    published.append(tag)
                    with lock:
                        acknowledged.add(tag)
                except ClientError as e:
                    code = e.response["Error"]["Code"]
                    status = e.response["ResponseMetadata"]["HTTPStatusCode"]
                    note(False, code if status == 429 else "%s (HTTP %d)" % (code, status))

        normal_calls = []

        def normal_client():
            client = normal
            while time.monotonic() < stop:
                client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
                tag = "normal-%d" % len(normal_calls)
                client.send_message(QueueUrl=url, MessageBody=tag)
                with lock:
                    acknowledged.add(tag)
                normal_calls.append(tag)
                time.sleep(0.1)

        peak_pending = [0]

        def watch_pending():
            while time.monotonic() < stop:
                peak_pending[0] = max(peak_pending[0], self.metric("postbox_storage_pending_bytes"))
                time.sleep(0.05)

        errors = []

        def guarded(fn, *args):
            def run():
                try:
                    fn(*args)
                except Exception as e:  # noqa: BLE001 - surfaced by the assertion on `errors`
                    errors.append(repr(e))
            return threading.Thread(target=run)

        threads = [guarded(producer, n) for n in range(PRODUCERS)]
        threads += [guarded(f) for f in (publisher, normal_client, watch_pending)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(outcomes["other"], [])
        print("flood: %d requests answered, %d throttled (%.0f%%), %d normal calls, peak pending "
              "%d bytes" % (outcomes["ok"], outcomes["throttled"],
                            100.0 * outcomes["throttled"] / max(1, outcomes["ok"] +
                                                                outcomes["throttled"]),
                            len(normal_calls), peak_pending[0]))
        self.assertGreater(outcomes["throttled"], 0)
        self.assertGreater(outcomes["ok"], 0)
        self.assertGreater(len(normal_calls), 0)
        # The bound, passed by at most a request per I/O thread that was admitted at once.
        self.assertLessEqual(peak_pending[0], BOUND_BYTES + 2 * 560_000)
        self.assertGreaterEqual(self.metric("postbox_storage_throttled_total"),
                                outcomes["throttled"])

        # Everything acknowledged survives a kill -9; nothing refused was stored.
        self.set_faults("")
        self.server.kill9()
        self.endpoint = self.server.start()
        sqs = harness.make_client(self.endpoint)
        seen = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                      VisibilityTimeout=300).get("Messages", [])
            if not got:
                break
            seen.extend(m["Body"][:m["Body"].index("x")] if "x" in m["Body"] else m["Body"]
                        for m in got)
        self.assertEqual(len(seen), len(set(seen)), "no message twice")
        self.assertEqual(set(seen), acknowledged)


if __name__ == "__main__":
    unittest.main()
