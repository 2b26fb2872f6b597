"""/metrics scraped by a real Prometheus (Debian's prometheus package, started here on
127.0.0.1 with its own temporary configuration and data): the target is up (so the text
format parses), and queue depth and request counts have the values the test caused."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read().decode())


class PrometheusScrapeTest(unittest.TestCase):
    def setUp(self):
        self.prometheus = shutil.which("prometheus")
        if self.prometheus is None:
            self.fail("prometheus is not installed (tools/setup.sh --test installs it)")
        self.server = harness.PostboxServer()
        self.server.start()
        self.addCleanup(self.server.close)
        self.work = tempfile.mkdtemp(prefix="postbox-prometheus-")
        self.addCleanup(shutil.rmtree, self.work, True)

    def start_prometheus(self):
        config = os.path.join(self.work, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: postbox\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % self.server.port)
        port = free_port()
        log = open(os.path.join(self.work, "prometheus.log"), "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            [self.prometheus, "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(self.work, "data"),
             "--web.listen-address=127.0.0.1:%d" % port],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def stop():
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.addCleanup(stop)
        return "http://127.0.0.1:%d" % port

    def wait_for(self, what, fetch, predicate, seconds=40):
        deadline = time.monotonic() + seconds
        last = None
        while time.monotonic() < deadline:
            try:
                last = fetch()
                if predicate(last):
                    return last
            except OSError as e:  # not listening yet
                last = e
            time.sleep(0.25)
        log = open(os.path.join(self.work, "prometheus.log")).read()[-3000:]
        self.fail("timed out waiting for %s; last answer: %r\nprometheus log:\n%s"
                  % (what, last, log))

    def query(self, prometheus, expression):
        url = prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expression})
        return get_json(url)["data"]["result"]

    def test_prometheus_scrapes_queue_depth_and_request_counts(self):
        sqs = self.server.client()
        url = sqs.create_queue(QueueName="orders")["QueueUrl"]
        for i in range(3):
            sqs.send_message(QueueUrl=url, MessageBody="m%d" % i)
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=600)
        self.assertEqual(len(got["Messages"]), 1)

        prometheus = self.start_prometheus()
        targets = self.wait_for(
            "the postbox target to be up",
            lambda: get_json(prometheus + "/api/v1/targets")["data"]["activeTargets"],
            lambda t: len(t) == 1 and t[0]["health"] == "up")
        self.assertEqual(targets[0]["lastError"], "")

        def value(expression):
            return lambda: [r["value"][1] for r in self.query(prometheus, expression)]
        self.wait_for("the visible depth",
                      value('postbox_queue_messages{queue="orders",state="visible"}'),
                      lambda v: v == ["2"])
        self.wait_for("the in-flight depth",
                      value('postbox_queue_messages{queue="orders",state="in_flight"}'),
                      lambda v: v == ["1"])
        self.wait_for("the sends counted",
                      value('postbox_requests_total{service="sqs",action="SendMessage",'
                            'outcome="ok"}'), lambda v: v == ["3"])
        self.wait_for("the storage state", value('postbox_storage_state{state="healthy"}'),
                      lambda v: v == ["1"])
        self.wait_for("fsync latencies", value("postbox_storage_sync_seconds_count"),
                      lambda v: len(v) == 1 and int(v[0]) >= 4)


if __name__ == "__main__":
    unittest.main(verbosity=2)
