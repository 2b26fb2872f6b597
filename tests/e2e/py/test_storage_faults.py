"""Storage faults against the real binary, through boto3 (run under both boto3 1.43, JSON
protocol, and Debian's 1.26, query protocol):

- the data directory lock: a second server on the same directory exits at once, naming the
  directory and the first one's PID, and changes nothing;
- a failed write (injected through POSTBOX_TEST_FAULTS_FILE): sends, receives, deletes,
  visibility changes and SNS calls are answered 503 ServiceUnavailable, /readyz 503, the
  cause logged once; once writing works again postbox resumes by itself;
- a failed fsync: nothing more is taken (/healthz 503 too) until a restart, which recovers
  every acknowledged message;
- a full disk (a small tmpfs): sends are refused, deletes and queue deletion still work and
  free space, and postbox resumes by itself; nothing acknowledged is lost across a kill -9;
- a read-only remount (ext4 on a loop device, made to remount itself read-only by an error):
  503s until a restart on the repaired file system, which finds every acknowledged message.

The tmpfs and loop-device tests need root and mount(8); where those are missing they are
skipped with the reason.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

RETRY_MS = 100



def wait_until(predicate, seconds=10.0, what="condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def files_digest(directory):
    """Name, size and content hash of every file under directory."""
    out = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, directory)] = hashlib.sha256(f.read()).hexdigest()
    return out


def sns_client(endpoint):
    import boto3
    from botocore.config import Config
    return boto3.session.Session(
        aws_access_key_id=harness.ACCESS_KEY, aws_secret_access_key=harness.SECRET_KEY,
        region_name=harness.REGION).client(
            "sns", endpoint_url=endpoint,
            config=Config(retries={"total_max_attempts": 1}, region_name=harness.REGION))


class StorageCase(unittest.TestCase):
    """A fresh server per test (the faults change its state for good)."""

    server_args = ["--storage-retry-interval-ms", str(RETRY_MS)]

    def start_server(self, data_dir=None, extra_args=(), env=None):
        server = harness.PostboxServer(data_dir=data_dir, env=env,
                                       extra_args=self.server_args + list(extra_args))
        server.start()
        self.addCleanup(server.close)
        return server

    def assertUnavailable(self, fn, *args, **kwargs):
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kwargs)
        resp = cm.exception.response
        self.assertEqual((resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]),
                         ("ServiceUnavailable", 503), resp["Error"])
        self.assertEqual(resp["Error"].get("Type"), "Receiver", resp["Error"])
        return resp["Error"]["Message"]

    def bodies_after_restart(self, server, url):
        """Every message of the queue, received once each after a kill -9 and a restart."""
        server.kill9()
        server.start()
        sqs = server.client()
        found = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                      VisibilityTimeout=600).get("Messages", [])
            if not got:
                return sorted(found)
            found += [m["Body"] for m in got]


class DataDirLockTest(StorageCase):
    def test_a_second_server_on_the_same_directory_exits_and_touches_nothing(self):
        first = self.start_server()
        sqs = first.client()
        url = sqs.create_queue(QueueName="locked")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="before")
        before = files_digest(first.data_dir)
        started = time.monotonic()
        second = subprocess.run(
            [first.binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", first.data_dir],
            capture_output=True, text=True, timeout=30)
        self.assertLess(time.monotonic() - started, 5.0)
        self.assertNotEqual(second.returncode, 0)
        self.assertIn(first.data_dir, second.stderr)
        self.assertIn("pid %d" % first.proc.pid, second.stderr)
        self.assertEqual(files_digest(first.data_dir), before)
        # The first server goes on as if nothing happened.
        sqs.send_message(QueueUrl=url, MessageBody="after")
        self.assertEqual(self.bodies_after_restart(first, url), ["after", "before"])


class InjectedFaultTest(StorageCase):
    def setUp(self):
        self.faults_dir = tempfile.mkdtemp(prefix="postbox-faults-")
        self.addCleanup(shutil.rmtree, self.faults_dir, True)
        self.rules = os.path.join(self.faults_dir, "rules")
        self.server = self.start_server(env={"POSTBOX_TEST_FAULTS_FILE": self.rules})
        self.sqs = self.server.client()

    def arm(self, rule):
        with open(self.rules, "w") as f:
            f.write(rule + "\n")

    def disarm(self):
        with open(self.rules, "w") as f:
            f.write("")

    def test_a_failed_write_is_answered_503_everywhere_until_writing_works_again(self):
        sqs = self.sqs
        url = sqs.create_queue(QueueName="faulty")["QueueUrl"]
        for i in range(3):
            sqs.send_message(QueueUrl=url, MessageBody="acked-%d" % i)
        held = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1,
                                   VisibilityTimeout=600)["Messages"][0]
        self.arm("op=write path=/log/ errno=EIO")
        message = self.assertUnavailable(sqs.send_message, QueueUrl=url, MessageBody="refused")
        self.assertIn("Input/output error", message)
        # Once storage cannot write, nothing that would change it is answered 200.
        self.assertUnavailable(sqs.receive_message, QueueUrl=url)
        self.assertUnavailable(sqs.delete_message, QueueUrl=url, ReceiptHandle=held["ReceiptHandle"])
        self.assertUnavailable(sqs.change_message_visibility, QueueUrl=url,
                               ReceiptHandle=held["ReceiptHandle"], VisibilityTimeout=0)
        self.assertUnavailable(sqs.send_message_batch, QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": "y"}])
        self.assertUnavailable(sqs.set_queue_attributes, QueueUrl=url,
                               Attributes={"DelaySeconds": "3"})
        self.assertUnavailable(sqs.create_queue, QueueName="never")
        sns = sns_client(self.server.endpoint)
        with self.assertRaises(ClientError) as cm:
            sns.create_topic(Name="never")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ServiceUnavailable")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 503)
        self.assertEqual(harness.http_get(self.server.endpoint, "/readyz")[0], 503)
        self.assertEqual(harness.http_get(self.server.endpoint, "/healthz")[0], 200)
        metrics = harness.http_get(self.server.endpoint, "/metrics")[1]
        self.assertIn('postbox_storage_state{state="stalled"} 1', metrics)
        self.assertIn('outcome="ServiceUnavailable"', metrics)
        self.assertNotIn("postbox_storage_write_failures_total 0\n", metrics)
        # Reads need no storage.
        self.assertEqual(sqs.get_queue_url(QueueName="faulty")["QueueUrl"], url)
        self.assertEqual(self.server.output().count("event=storage_stalled"), 1)

        self.disarm()
        wait_until(lambda: harness.http_get(self.server.endpoint, "/readyz")[0] == 200,
                   what="/readyz to recover")
        sqs.send_message(QueueUrl=url, MessageBody="after")
        sqs.delete_message(QueueUrl=url, ReceiptHandle=held["ReceiptHandle"])
        self.assertIn("event=storage_recovered",
                      self.server.output_with("event=storage_recovered"))
        expected = {"acked-0", "acked-1", "acked-2", "after"} - {held["Body"]}
        self.assertEqual(self.bodies_after_restart(self.server, url), sorted(expected))

    def test_a_failed_fsync_stops_writing_until_a_restart_recovers(self):
        sqs = self.sqs
        url = sqs.create_queue(QueueName="synced")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="acked")
        self.arm("op=sync path=/log/0 count=1 errno=EIO")
        self.assertUnavailable(sqs.send_message, QueueUrl=url, MessageBody="refused")
        self.disarm()
        time.sleep(5 * RETRY_MS / 1000.0)
        # Never retried: a second fsync could report success for data the kernel dropped.
        message = self.assertUnavailable(sqs.send_message, QueueUrl=url, MessageBody="again")
        self.assertIn("restart", message)
        status, body = harness.http_get(self.server.endpoint, "/healthz")
        self.assertEqual(status, 503)
        self.assertIn("restart", body)
        self.assertEqual(harness.http_get(self.server.endpoint, "/readyz")[0], 503)
        self.assertIn("event=storage_failed",
                      self.server.output_with("event=storage_failed"))
        found = self.bodies_after_restart(self.server, url)
        self.assertIn("acked", found)
        self.assertNotIn("again", found)
        self.assertEqual(harness.http_get(self.server.endpoint, "/healthz")[0], 200)


def run_root(*cmd):
    return subprocess.run(list(cmd), capture_output=True, text=True)


class MountedCase(StorageCase):
    def mount_point(self):
        if os.geteuid() != 0 or shutil.which("mount") is None:
            self.skipTest("needs root and mount(8) to make a small file system")
        point = tempfile.mkdtemp(prefix="postbox-mnt-")
        self.addCleanup(shutil.rmtree, point, True)
        return point

    def unmount_later(self, point):
        self.addCleanup(run_root, "umount", "-l", point)


class FullDiskTest(MountedCase):
    def test_a_full_disk_takes_deletes_frees_space_and_resumes_by_itself(self):
        point = self.mount_point()
        if run_root("mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", point).returncode != 0:
            self.skipTest("cannot mount a tmpfs here")
        self.unmount_later(point)
        server = self.start_server(
            data_dir=os.path.join(point, "data"),
            extra_args=["--storage-segment-mib", "1", "--storage-reserve-mib", "3"])
        sqs = server.client()
        keep = sqs.create_queue(QueueName="keep")["QueueUrl"]
        fill = sqs.create_queue(QueueName="fill")["QueueUrl"]
        kept = ["keep-%d" % i for i in range(5)]
        for body in kept:
            sqs.send_message(QueueUrl=keep, MessageBody=body)
        big = "x" * (200 * 1024)
        acked = 0
        message = None
        for _ in range(200):
            try:
                sqs.send_message(QueueUrl=fill, MessageBody=big)
                acked += 1
            except ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "ServiceUnavailable")
                self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 503)
                message = e.response["Error"]["Message"]
                break
        self.assertIsNotNone(message, "the 20 MiB file system never filled up")
        self.assertGreater(acked, 30)
        self.assertIn("only deletes", self.assertUnavailable(
            sqs.send_message, QueueUrl=keep, MessageBody="refused"))
        self.assertEqual(harness.http_get(server.endpoint, "/readyz")[0], 503)
        self.assertEqual(harness.http_get(server.endpoint, "/healthz")[0], 200)
        self.assertIn("event=storage_full",
                      server.output_with("event=storage_full"))
        self.assertIn('postbox_storage_state{state="full"} 1',
                      harness.http_get(server.endpoint, "/metrics")[1])
        # Deletes and receives still go through (the reserve), and deleting the queue frees
        # the space its messages took.
        got = sqs.receive_message(QueueUrl=fill, MaxNumberOfMessages=5)["Messages"]
        for m in got:
            sqs.delete_message(QueueUrl=fill, ReceiptHandle=m["ReceiptHandle"])
        sqs.delete_queue(QueueUrl=fill)
        try:
            wait_until(lambda: harness.http_get(server.endpoint, "/readyz")[0] == 200, seconds=15,
                       what="postbox to resume once space was freed")
        except AssertionError:
            print(server.output(), run_root("ls", "-la", os.path.join(point, "data", "log")).stdout,
                  run_root("df", point).stdout)
            raise
        sqs.send_message(QueueUrl=keep, MessageBody="after")
        self.assertEqual(self.bodies_after_restart(server, keep), sorted(kept + ["after"]))
        self.assertNotIn("fill", " ".join(server.client().list_queues().get("QueueUrls", [])))


class ReadOnlyRemountTest(MountedCase):
    def test_a_file_system_that_turns_read_only_is_answered_503_and_recovered_after(self):
        point = self.mount_point()
        image = os.path.join(tempfile.mkdtemp(prefix="postbox-img-"), "disk.img")
        self.addCleanup(shutil.rmtree, os.path.dirname(image), True)
        with open(image, "wb") as f:
            f.truncate(64 << 20)
        if shutil.which("mkfs.ext4") is None or shutil.which("losetup") is None:
            self.skipTest("needs mkfs.ext4 and losetup")
        attached = run_root("losetup", "-f", "--show", image)
        if attached.returncode != 0:
            self.skipTest("cannot attach a loop device: " + attached.stderr.strip())
        device = attached.stdout.strip()
        self.addCleanup(run_root, "losetup", "-d", device)
        trigger = "/sys/fs/ext4/%s/trigger_fs_error" % os.path.basename(device)
        self.assertEqual(run_root("mkfs.ext4", "-q", "-F", device).returncode, 0)
        mount = ["mount", "-o", "errors=remount-ro", device, point]
        if run_root(*mount).returncode != 0:
            self.skipTest("cannot mount ext4 on a loop device here")
        self.unmount_later(point)
        if not os.path.exists(trigger):
            self.skipTest("this kernel has no ext4 trigger_fs_error")
        server = self.start_server(
            data_dir=os.path.join(point, "data"),
            extra_args=["--storage-segment-mib", "1", "--storage-reserve-mib", "4"])
        sqs = server.client()
        url = sqs.create_queue(QueueName="ro")["QueueUrl"]
        for i in range(3):
            sqs.send_message(QueueUrl=url, MessageBody="acked-%d" % i)
        with open(trigger, "w") as f:
            f.write("1")  # ext4 records an error and, with errors=remount-ro, goes read-only

        def read_only():
            with open("/proc/mounts") as mounts:
                for line in mounts:
                    fields = line.split()
                    if fields[1] == point:
                        options = fields[3].split(",")
                        return "ro" in options or "emergency_ro" in options
            return False
        wait_until(read_only, what="the file system to turn read-only")
        message = self.assertUnavailable(sqs.send_message, QueueUrl=url, MessageBody="refused")
        self.assertIn("Read-only file system", message)
        self.assertEqual(harness.http_get(server.endpoint, "/readyz")[0], 503)
        # The operator repairs the file system and restarts postbox on it.
        server.kill9()
        self.assertEqual(run_root("umount", point).returncode, 0)
        run_root("e2fsck", "-f", "-y", device)
        self.assertEqual(run_root(*mount).returncode, 0)
        server.start()
        found = []
        while True:
            got = server.client().receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                  VisibilityTimeout=600).get("Messages", [])
            if not got:
                break
            found += [m["Body"] for m in got]
        self.assertEqual(sorted(found), ["acked-0", "acked-1", "acked-2"])
        server.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
