#!/usr/bin/env python3
"""Durability under kill -9.

A sender thread pushes messages (SendMessageBatch and SendMessage) as fast as
it can and records every body whose send was acknowledged.  The server is
killed with SIGKILL at a random moment, restarted on the same data directory,
and this is repeated.  Finally the server is started normally and the queue is
drained.  Every acknowledged message must come back (at least once), and every
message that comes back must be one that was sent, uncorrupted.

  python3 tests/e2e/py/test_kill9.py
  POSTBOX_KILL9_SEED=1234 python3 tests/e2e/py/test_kill9.py   # reproduce a run

Needs a server started by the harness: skipped when POSTBOX_ENDPOINT is set.
"""

import hashlib
import os
import random
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import kill9_common  # noqa: E402

CYCLES = 3
MAX_ATTEMPTED = 12000        # keeps the final drain bounded
DRAIN_DEADLINE_S = 25.0


def make_body(run, seq, rng):
    payload = "%x" % rng.getrandbits(64 + (seq % 7) * 64)
    head = "%s|%d|%s" % (run, seq, payload)
    return head + "|" + hashlib.sha256(head.encode()).hexdigest()[:16]


def body_ok(body):
    head, sep, digest = body.rpartition("|")
    return bool(sep) and hashlib.sha256(head.encode()).hexdigest()[:16] == digest


class Sender(kill9_common.SenderThread):
    def __init__(self, endpoint, queue_url, run, rng, seq_start, attempted, acked, budget):
        super().__init__("kill9-sender", endpoint, budget)
        self.endpoint = endpoint
        self.queue_url = queue_url
        self.run_id = run
        self.rng = rng
        self.seq = seq_start
        self.attempted = attempted
        self.acked = acked

    def next_body(self):
        body = make_body(self.run_id, self.seq, self.rng)
        self.seq += 1
        self.attempted.add(body)
        return body

    def send_batch(self):
        entries = [{"Id": "e%d" % i, "MessageBody": self.next_body()} for i in range(10)]
        resp = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        by_id = {e["Id"]: e["MessageBody"] for e in entries}
        for ok in resp.get("Successful", []):
            self.acked.add(by_id[ok["Id"]])
            self.first_ack.set()

    def send_one(self):
        body = self.next_body()
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=body)
        self.acked.add(body)
        self.first_ack.set()


class Kill9Durability(kill9_common.Kill9Case):
    def queue_url_after_start(self, server, queue_name, cycle, ctx):
        """The queue (created before the first kill) must have survived every kill."""
        client = harness.make_client(server.endpoint)
        try:
            return client.get_queue_url(QueueName=queue_name)["QueueUrl"]
        except Exception as exc:
            self.fail("start #%d: queue %s is gone after kill -9: %r; %s\n%s"
                      % (cycle + 1, queue_name, exc, ctx, server.output()[-4000:]))
        finally:
            client.close()

    def test_acknowledged_messages_survive_kill_9(self):
        server = harness.PostboxServer()
        server.require_local("kill -9 test")
        seed, ctx = kill9_common.seed_and_ctx()
        rng = random.Random(seed)
        t_start = time.monotonic()
        run = uuid.uuid4().hex[:8]
        queue_name = "pbx-kill9-" + run
        attempted, acked = set(), set()
        seq = 0
        try:
            server.start()
            setup = harness.make_client(server.endpoint)
            setup.create_queue(QueueName=queue_name)
            setup.close()

            for cycle in range(CYCLES):
                if cycle > 0:
                    server.start()
                url = self.queue_url_after_start(server, queue_name, cycle, ctx)
                sender = Sender(server.endpoint, url, run, random.Random(rng.random()), seq,
                                attempted, acked, MAX_ATTEMPTED // CYCLES)
                before = len(acked)
                # the kill comes 0.3-1.5 s into the sending, counted from the first acknowledgement
                self.kill_while_sending(server, sender, rng, 1.5)
                seq = sender.seq
                self.assertGreater(len(acked), before,
                                   "cycle %d: no send was acknowledged before the kill (%s; first error: %s)\n%s"
                                   % (cycle, ctx, sender.first_error, server.output()[-4000:]))

            server.start()
            client = harness.make_client(server.endpoint)
            url = self.queue_url_after_start(server, queue_name, CYCLES, ctx)
            received, corrupt, unknown, md5_bad = set(), [], [], []

            def check(msgs):
                for m in msgs:
                    body = m["Body"]
                    if not body_ok(body):
                        corrupt.append(body[:200])
                    elif body not in attempted:
                        unknown.append(body[:200])
                    if m.get("MD5OfBody") != harness.md5_hex(body):
                        md5_bad.append(body[:200])
                    received.add(body)

            empty_polls, failed = kill9_common.drain(client, url, DRAIN_DEADLINE_S, check)
            self.assertEqual(failed, [], ctx)

            self.assertEqual(corrupt, [], "corrupted bodies received; " + ctx)
            self.assertEqual(unknown, [], "bodies received that were never sent; " + ctx)
            self.assertEqual(md5_bad, [], "MD5OfBody mismatch; " + ctx)
            lost = acked - received
            self.assertFalse(lost, "%d of %d acknowledged messages lost after kill -9, e.g. %r; %s"
                             % (len(lost), len(acked), sorted(lost)[:3], ctx))
            self.assertGreaterEqual(empty_polls, 2, "queue not drained within %.0f s; %s" % (DRAIN_DEADLINE_S, ctx))

            client.close()
            code = server.stop()
            self.assertEqual(code, 0, "postbox exit code on SIGTERM\n" + server.output()[-4000:])
            self.assertLess(time.monotonic() - t_start, 60.0, "durability test took too long")
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()
