"""The part every fake provider in these tests shares: a threaded HTTP server on 127.0.0.1
(a free port) that hands each POST to a handler and answers with what it returns, a record of
refused requests (why the fake said no), and a wait for what the fake has accepted.

A subclass implements handle(path, headers, body) -> (status, answer[, extra headers]); the
answer is sent as JSON, or as given when it is bytes."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeHttpServer:
    def __init__(self):
        self.lock = threading.Lock()
        self.refusals = []  # (provider, status, reason) of each request the fake refused
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, answer, *extra = fake.handle(self.path, self.headers, body)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                headers = extra[0] if extra else {}
                if not isinstance(answer, bytes):
                    headers.setdefault("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, path, headers, body):
        raise NotImplementedError

    def url(self, path=""):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def refuse(self, provider, status, reason, answer):
        """Records why a request was refused, and answers it with `status`."""
        with self.lock:
            self.refusals.append((provider, status, reason))
        return status, answer

    def wait_until(self, found, what, timeout=20):
        """Polls found() until it returns something true, which is returned."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            result = found()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError("%s; refusals: %r" % (what, self.refusals))
