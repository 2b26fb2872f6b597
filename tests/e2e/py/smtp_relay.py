"""SmtpRelay: starts tests/e2e/py/smtp_server.py (a real aiosmtpd SMTP server under Debian's
/usr/bin/python3) on 127.0.0.1 for a test, and reads back the mails it accepted."""

import base64
import email
import email.policy
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class SmtpRelay:
    def __init__(self, auth=None, tls=None):
        self.directory = tempfile.mkdtemp(prefix="postbox-smtp-")
        cmd = ["/usr/bin/python3", os.path.join(HERE, "smtp_server.py"), self.directory]
        if auth:
            cmd += ["--auth", auth]
        if tls:
            cmd += ["--tls", tls[0], tls[1]]
        # stdin stays open: the server stops when the pipe closes (this test ends or dies).
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     start_new_session=True)
        line = self.proc.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "READY":
            self.close()
            raise RuntimeError("the SMTP server did not start: %r" % line)
        self.port = int(line[1])
        self.seen = 0

    def url(self, scheme="smtp"):
        return "%s://127.0.0.1:%d" % (scheme, self.port)

    def set_rules(self, reject=(), defer=()):
        path = os.path.join(self.directory, "rules.json")
        with open(path + ".tmp", "w") as f:
            json.dump({"reject": list(reject), "defer": list(defer)}, f)
        os.rename(path + ".tmp", path)

    def all_mails(self):
        mails = []
        for name in sorted(glob.glob(os.path.join(self.directory, "mail-*.json"))):
            with open(name) as f:
                record = json.load(f)
            raw = base64.b64decode(record["data"])
            record["raw"] = raw
            record["message"] = email.message_from_bytes(raw, policy=email.policy.default)
            # The text as a mail reader shows it (MIME text travels with CRLF line breaks).
            part = record["message"].get_body(("plain", "html"))
            record["text"] = part.get_content().replace("\r\n", "\n") if part else ""
            mails.append(record)
        return mails

    def next_mails(self, count=1, timeout=20):
        """The next `count` mails not returned before, waiting up to `timeout` seconds."""
        deadline = time.time() + timeout
        while True:
            mails = self.all_mails()
            if len(mails) >= self.seen + count:
                out = mails[self.seen:self.seen + count]
                self.seen += count
                return out
            if time.time() > deadline:
                raise AssertionError("expected %d more mail(s), the relay has %d new" %
                                     (count, len(mails) - self.seen))
            time.sleep(0.1)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.directory, True)
