#!/usr/bin/python3
"""End-to-end test: a real Celery worker with postbox as its SQS broker.

Uses Debian's Celery 5.2.6 / kombu 5.2.4 (kombu's SQS transport: boto3 for
most calls, its own pycurl client for the worker's long polls), so run it with
the system interpreter:

    /usr/bin/python3 tests/e2e/celery/test_celery.py

It starts ``$POSTBOX_BIN serve --listen 127.0.0.1:0 --data-dir <tmp> --dev``
(POSTBOX_BIN defaults to <repo>/build/postbox), or uses the running server at
POSTBOX_ENDPOINT. Then it sends tasks with .delay() before and after starting
``python3 -m celery -A postbox_celery_app worker --pool=solo``, checks that
each task ran exactly once (each writes a file) and that the queue ends up
empty, and stops the worker and the server. Everything is bounded in time:
the whole test takes well under 60 s or fails.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
ACCOUNT_ID = "000000000000"

N_TASKS = 10
N_BEFORE_WORKER = 4  # sent before the worker starts; the rest once it is ready

TEST_DEADLINE_S = 55  # hard bound for the whole test (SIGALRM)
SERVER_START_TIMEOUT_S = 20
WORKER_READY_TIMEOUT_S = 20
TASKS_TIMEOUT_S = 20
STOP_TIMEOUT_S = 10


class Deadline(Exception):
    pass


def _on_alarm(signum, frame):
    raise Deadline(f"test exceeded its {TEST_DEADLINE_S} s deadline")


def wait_for(predicate, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def stop_process(proc, timeout=STOP_TIMEOUT_S):
    """SIGTERM this process (by PID), SIGKILL it if it is still there after
    `timeout` s. Returns (returncode, killed)."""
    if proc.poll() is not None:
        return proc.returncode, False
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout), False
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=timeout), True


class PostboxServer:
    """Starts postbox (or attaches to POSTBOX_ENDPOINT)."""

    def __init__(self):
        self.proc = None
        self.data_dir = None
        self.output = []
        self.endpoint = None

    def start(self):
        external = os.environ.get("POSTBOX_ENDPOINT")
        if external:
            self.endpoint = external.rstrip("/")
            return
        binary = os.environ.get("POSTBOX_BIN") or os.path.join(REPO_ROOT, "build", "postbox")
        if not os.path.exists(binary):
            raise AssertionError(
                f"postbox binary not found at {binary}: build it first, or set "
                "POSTBOX_BIN, or set POSTBOX_ENDPOINT to a running server"
            )
        self.data_dir = tempfile.mkdtemp(prefix="postbox-e2e-celery-data-")
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir, "--dev"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        ready = threading.Event()
        pattern = re.compile(rb"listening on (http://127\.0\.0\.1:\d+)")

        def drain():
            # Reads until EOF so the server never blocks on a full pipe.
            for line in iter(self.proc.stdout.readline, b""):
                self.output.append(line.decode("utf-8", "replace"))
                m = pattern.search(line)
                if m and not ready.is_set():
                    self.endpoint = m.group(1).decode()
                    ready.set()

        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not ready.wait(0.1):
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"postbox exited with {self.proc.returncode} before listening:\n" + self.log()
                )
            if time.monotonic() > deadline:
                raise AssertionError("postbox did not print 'listening on' in time:\n" + self.log())

    def log(self):
        return "".join(self.output)

    def stop(self):
        """Returns (returncode, killed), or None for an external server."""
        if self.proc is None:
            return None
        try:
            return stop_process(self.proc)
        finally:
            if self.proc.stdout:
                self.proc.stdout.close()
            if self.data_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)


class CeleryOverPostboxTest(unittest.TestCase):
    def setUp(self):
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(TEST_DEADLINE_S)
        self.addCleanup(signal.alarm, 0)

        self.server = PostboxServer()
        self.addCleanup(self._stop_server)
        self.server.start()
        self.endpoint = self.server.endpoint

        self.out_dir = tempfile.mkdtemp(prefix="postbox-e2e-celery-out-")
        self.addCleanup(shutil.rmtree, self.out_dir, True)
        self.queue = f"postbox-celery-e2e-{uuid.uuid4().hex[:12]}"

        # postbox_celery_app reads its configuration at import time.
        os.environ["POSTBOX_CELERY_ENDPOINT"] = self.endpoint
        os.environ["POSTBOX_CELERY_QUEUE"] = self.queue
        os.environ["POSTBOX_CELERY_OUT"] = self.out_dir
        sys.path.insert(0, HERE)
        sys.modules.pop("postbox_celery_app", None)
        import postbox_celery_app  # noqa: E402

        self.mod = postbox_celery_app
        self.addCleanup(self._close_app)
        self.worker = None
        self.worker_log_path = os.path.join(self.out_dir, "worker.log")

    # -- helpers -----------------------------------------------------------

    def _stop_server(self):
        status = self.server.stop()
        if status is not None:
            code, killed = status
            if killed or code != 0:
                raise AssertionError(
                    f"postbox did not exit cleanly on SIGTERM (code {code}, killed {killed}):\n"
                    + self.server.log()
                )

    def _close_app(self):
        try:
            self.mod.app.pool.force_close_all()
        except Exception:  # best effort: the connection is about to go anyway
            pass
        self.mod.app.close()

    def _worker_log(self):
        try:
            with open(self.worker_log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _start_worker(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = HERE + os.pathsep + env.get("PYTHONPATH", "")
        log = open(self.worker_log_path, "wb")
        self.addCleanup(log.close)
        self.worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "postbox_celery_app", "worker",
                "--pool=solo", "--concurrency=1", "-l", "warning",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-n", f"postbox-e2e-{os.getpid()}@%h",
            ],
            cwd=HERE,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.addCleanup(self._kill_worker_if_running)

    def _kill_worker_if_running(self):
        if self.worker is not None and self.worker.poll() is None:
            stop_process(self.worker, timeout=5)

    def _sqs_client(self):
        import boto3

        client = boto3.client(
            "sqs",
            endpoint_url=self.endpoint,
            region_name=self.mod.REGION,
            aws_access_key_id=self.mod.ACCESS_KEY,
            aws_secret_access_key=self.mod.SECRET_KEY,
        )
        self.addCleanup(client.close)
        return client

    def _results(self):
        results = []
        for name in os.listdir(self.out_dir):
            if name.startswith("task-") and name.endswith(".json"):
                with open(os.path.join(self.out_dir, name), encoding="utf-8") as f:
                    results.append(json.load(f))
        return results

    # -- the test ----------------------------------------------------------

    def test_worker_runs_tasks_sent_with_delay(self):
        record = self.mod.record
        payload = lambda i: {"n": i, "text": f"task {i} ✓", "list": [i, i * i]}  # noqa: E731

        # Some tasks before the worker exists: the producer creates the queue.
        for i in range(N_BEFORE_WORKER):
            record.delay(i, payload(i))

        self._start_worker()
        try:
            wait_for(
                lambda: os.path.exists(os.path.join(self.out_dir, "worker-ready"))
                or self.worker.poll() is not None,
                WORKER_READY_TIMEOUT_S,
                "the celery worker to be ready",
            )
            self.assertIsNone(
                self.worker.poll(), "celery worker exited early:\n" + self._worker_log()
            )

            # The rest while the worker is long-polling.
            for i in range(N_BEFORE_WORKER, N_TASKS):
                record.delay(i, payload(i))

            wait_for(
                lambda: len(self._results()) >= N_TASKS or self.worker.poll() is not None,
                TASKS_TIMEOUT_S,
                f"{N_TASKS} tasks to run",
            )
            time.sleep(1.0)  # a task run twice would show up as an extra file
        except BaseException:
            sys.stderr.write("---- celery worker log ----\n" + self._worker_log())
            sys.stderr.write("\n---- postbox log ----\n" + self.server.log())
            raise

        results = self._results()
        by_index = {}
        for r in results:
            by_index.setdefault(r["index"], []).append(r)
        self.assertEqual(sorted(by_index), list(range(N_TASKS)), self._worker_log())
        for i, runs in by_index.items():
            self.assertEqual(len(runs), 1, f"task {i} ran {len(runs)} times")
            self.assertEqual(runs[0]["payload"], payload(i))
            self.assertEqual(runs[0]["pid"], self.worker.pid, "tasks run in the worker (solo pool)")
        self.assertEqual(len({r["task_id"] for r in results}), N_TASKS)

        # Every message was deleted (acknowledged) by the worker.
        sqs = self._sqs_client()
        url = sqs.get_queue_url(QueueName=self.queue)["QueueUrl"]
        self.assertEqual(url, f"{self.endpoint}/{ACCOUNT_ID}/{self.queue}")

        def drained():
            attrs = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            return (
                attrs["ApproximateNumberOfMessages"] == "0"
                and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
            )

        wait_for(drained, 10, "the celery queue to be empty")

        # Warm shutdown on SIGTERM (the pending long poll must not hold it up).
        code, killed = stop_process(self.worker)
        log = self._worker_log()
        self.assertFalse(killed, "celery worker ignored SIGTERM:\n" + log)
        self.assertEqual(code, 0, "celery worker exit status:\n" + log)
        self.assertNotIn("Traceback", log)
        self.assertNotRegex(log, r"(ERROR|CRITICAL)/")

        sqs.delete_queue(QueueUrl=url)


def main():
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    line = f"celery: {passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line, flush=True)
    sys.stderr.flush()
    # Every process and temp dir is gone by now (unittest cleanups). Skip the
    # interpreter's finalization: the boto3 client cached inside kombu's
    # producer channel would print a ResourceWarning after the summary line.
    os._exit(0 if failed == 0 and result.testsRun > 0 else 1)


if __name__ == "__main__":
    main()
