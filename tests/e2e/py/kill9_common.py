"""Pieces shared by the kill -9 tests (test_kill9.py, test_kill9_fifo.py).

  seed_and_ctx()      the run's random seed (POSTBOX_KILL9_SEED) and a context
                      string for assertion messages
  SenderThread        base of the sender threads that send as fast as they can
                      while the server is killed under them
  Kill9Case           TestCase mix-in: kill the server while a sender runs
  drain(...)          receive and delete until two empty polls in a row
"""

import os
import threading
import time
import unittest

import harness


def seed_and_ctx():
    """(seed, ctx): POSTBOX_KILL9_SEED or a time-based seed, and the text that
    tells how to rerun with it."""
    seed = int(os.environ.get("POSTBOX_KILL9_SEED", str(int(time.time() * 1000) % 10**9)))
    return seed, "seed=%d (rerun with POSTBOX_KILL9_SEED=%d)" % (seed, seed)


class SenderThread(threading.Thread):
    """Sends until stop is set or it attempted `budget` messages itself,
    alternating send_batch() and send_one() (starting with a batch when
    first_batch).  The budget is per sender, that is per kill cycle: a fast
    machine that used one shared budget up in the first cycle had nothing left
    to send in the next.

    Subclasses keep self.attempted (anything with len()) and set first_ack
    after the first acknowledged send.  A send that raises (the server is
    being killed) is not acknowledged: it is counted in errors, and the first
    one is kept in first_error.
    """

    first_batch = True

    def start(self):
        # Taken before the thread runs, so that used() is right whenever the caller asks.
        self.start_count = len(self.attempted)
        super().start()

    def used(self):
        """Messages this sender has attempted."""
        return len(self.attempted) - self.start_count

    def __init__(self, name, endpoint, budget):
        super().__init__(name=name, daemon=True)
        self.budget = budget
        self.stop = threading.Event()
        self.first_ack = threading.Event()
        self.client = harness.make_client(endpoint, connect_timeout=2, read_timeout=5)
        self.errors = 0
        self.first_error = None

    def send_batch(self):
        raise NotImplementedError

    def send_one(self):
        raise NotImplementedError

    def run(self):
        use_batch = self.first_batch
        while not self.stop.is_set() and self.used() < self.budget:
            try:
                if use_batch:
                    self.send_batch()
                else:
                    self.send_one()
            except Exception as exc:  # the server is being killed: not acknowledged
                self.errors += 1
                if self.first_error is None:
                    self.first_error = repr(exc)
                time.sleep(0.005)
            use_batch = not use_batch


class Kill9Case(unittest.TestCase):
    def kill_while_sending(self, server, sender, rng, max_delay):
        """Starts sender and SIGKILLs the server at a random moment while it
        sends: up to `max_delay` seconds after the first acknowledged send (or
        after 10 s without one), and before the sender has used a random 10 to
        90 % of its budget, so that a fast machine does not finish sending
        first.  Then stops the sender and closes its client."""
        delay = rng.uniform(0.05, max_delay)
        kill_at = int(sender.budget * rng.uniform(0.1, 0.9))
        sender.start()
        sender.first_ack.wait(10)
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and sender.used() < kill_at and sender.is_alive():
            time.sleep(0.002)
        server.kill9()
        sender.stop.set()
        sender.join(15)
        sender.client.close()
        self.assertFalse(sender.is_alive(), "sender thread hung after kill -9")


def drain(client, url, timeout, on_messages, **receive_kw):
    """Receives (10 at a time, 1 s long polls, visibility 120 s) and deletes
    until two empty polls in a row or `timeout` seconds.  on_messages(msgs) sees
    each batch before it is deleted.  Returns (empty_polls, failed): fewer
    than 2 empty polls means the queue was not drained in time; failed lists
    the DeleteMessageBatch entries that failed."""
    failed = []
    deadline = time.monotonic() + timeout
    empty_polls = 0
    while empty_polls < 2 and time.monotonic() < deadline:
        msgs = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                      VisibilityTimeout=120, **receive_kw).get("Messages", [])
        if not msgs:
            empty_polls += 1
            continue
        empty_polls = 0
        on_messages(msgs)
        resp = client.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
        failed += resp.get("Failed", [])
    return empty_polls, failed
