#!/usr/bin/python3
"""A real SMTP server for the e2e tests: Debian's aiosmtpd (python3-aiosmtpd), listening on
127.0.0.1. Every accepted mail is written to DIR as mail-<n>.json: the envelope (mail_from,
rcpt_tos), the raw message (base64), whether the session used TLS and who logged in.

    /usr/bin/python3 smtp_server.py DIR [--auth USER:PASSWORD] [--tls CERT KEY]

--auth requires AUTH (PLAIN/LOGIN) with these credentials; --tls offers STARTTLS with this
certificate. DIR/rules.json, read at every RCPT TO, may say {"reject": [addresses]} (answered
550: a mailbox that does not exist) and {"defer": [addresses]} (451: try again later), so a
test can change the relay's mind while it runs. Prints "READY <port>" once it listens; runs until
stdin closes (so it never outlives the test that started it)."""

import argparse
import base64
import json
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    def rules(self):
        try:
            with open(os.path.join(self.directory, "rules.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        rules = self.rules()
        if address in rules.get("reject", []):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if address in rules.get("defer", []):
            return "451 4.3.0 <%s>: Temporary failure, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            name = os.path.join(self.directory, "mail-%06d.json" % self.count)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": base64.b64encode(envelope.original_content or envelope.content).decode(),
            "tls": session.ssl is not None,
            "login": session.auth_data.login.decode()
            if isinstance(session.auth_data, LoginPassword) else None,
        }
        with open(name + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(name + ".tmp", name)
        return "250 2.0.0 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--auth")
    parser.add_argument("--tls", nargs=2)
    args = parser.parse_args()

    kwargs = {}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=bool(args.tls))
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls[0], args.tls[1])
        kwargs.update(tls_context=context, require_starttls=True)

    # aiosmtpd's start() connects to the port it was given, so it needs a real one: a free
    # port picked by the kernel (nothing else on this loopback-only machine takes it between).
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Recorder(args.directory),
                            hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print("READY %d" % port, flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
