#!/usr/bin/env python3
"""storage.engine: which engine a data directory gets, and that each keeps messages across a
restart.

A new data directory gets the log engine; one written by an earlier version (only rocksdb/)
keeps RocksDB when storage.engine is left at auto; an unknown engine is refused at start.

  python3 tests/e2e/py/test_storage_engines.py

Needs servers started by the harness: skipped when POSTBOX_ENDPOINT is set.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402


def banner_storage(server):
    for line in server.output().splitlines():
        if "data directory:" in line:
            return line
    return ""


class StorageEngineTest(unittest.TestCase):
    def setUp(self):
        harness.PostboxServer().require_local("storage engine selection")
        self.data_dir = tempfile.mkdtemp(prefix="postbox-e2e-engines-")

    def tearDown(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def send_then_restart(self, first_args, second_args):
        """Sends a message on a server with first_args, restarts with second_args, receives it."""
        server = harness.PostboxServer(data_dir=self.data_dir, extra_args=first_args)
        try:
            server.start()
            client = harness.make_client(server.endpoint)
            url = client.create_queue(QueueName="engines")["QueueUrl"]
            client.send_message(QueueUrl=url, MessageBody="kept across the restart")
            self.assertEqual(server.stop(), 0, server.output()[-2000:])
            server.extra_args = list(second_args)
            server.start()
            client = harness.make_client(server.endpoint)
            got = client.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
            self.assertEqual([m["Body"] for m in got], ["kept across the restart"])
            return banner_storage(server)
        finally:
            server.close()

    def test_a_new_data_directory_gets_the_log(self):
        banner = self.send_then_restart([], [])
        self.assertIn("storage: log in ", banner)
        self.assertTrue(os.path.isdir(os.path.join(self.data_dir, "log")))
        self.assertFalse(os.path.exists(os.path.join(self.data_dir, "rocksdb")))

    def test_an_existing_rocksdb_directory_keeps_rocksdb(self):
        # Written as by an earlier version, then started with the default (auto).
        banner = self.send_then_restart(["--storage-engine", "rocksdb"], [])
        self.assertIn("storage: rocksdb in ", banner)
        self.assertFalse(os.path.exists(os.path.join(self.data_dir, "log")))

    def test_an_unknown_engine_is_refused(self):
        binary = harness.PostboxServer().binary
        proc = subprocess.run(
            [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
             "--storage-engine", "leveldb"],
            capture_output=True, text=True, timeout=20)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("storage.engine", proc.stdout + proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
