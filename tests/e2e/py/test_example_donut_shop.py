#!/usr/bin/env python3
"""Runs examples/donut-shop/demo.py (MISSION system 001, the donut shop's restocking) against
a real postbox whose mail goes to a real SMTP server (aiosmtpd on 127.0.0.1): the sales API
runs out, the out-of-stock event fans out through the topic to the factory and ad queues, the
factory's batch restocks, the ad manager gets a Korean mail through SES, and a broken order
reaches the dead-letter worker after three tries."""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from smtp_relay import SmtpRelay  # noqa: E402

DEMO = os.path.join(harness.REPO, "examples", "donut-shop", "demo.py")


class DonutShopExample(unittest.TestCase):
    def test_the_restocking_story(self):
        relay = SmtpRelay()
        self.addCleanup(relay.close)
        server = harness.PostboxServer(extra_args=["--email-smtp-url", relay.url()])
        self.addCleanup(server.close)
        server.start()
        proc = subprocess.run([sys.executable, DEMO, "--endpoint", server.endpoint,
                               "--ad-manager", "manager@donut.test", "--timeout", "60"],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        for line in ("sold 5 glazed donuts", "restocked the glazed donuts (12)",
                     "the ad manager was mailed through SES", "reached the dead-letter worker",
                     "demo: done"):
            self.assertIn(line, proc.stdout)
        (mail,) = relay.next_mails()
        self.assertEqual(mail["rcpt_tos"], ["manager@donut.test"])
        self.assertEqual(mail["message"]["Subject"], "광고 중지 요청: glazed")
        self.assertIn("재고가 없습니다", mail["text"])


if __name__ == "__main__":
    unittest.main()
