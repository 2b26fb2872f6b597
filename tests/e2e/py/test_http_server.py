"""The HTTP/1.1 layer over a raw socket: keep-alive rules of HTTP/1.0 and 1.1, the request size
limits (413 for a body over the limit, 431 for headers over it, each answered and then closed),
pipelined requests answered in order, the I/O timeout (idle and trickling clients are
closed; a long poll that outlasts it is still answered), /healthz and /readyz, and SIGTERM
(new connections refused, the request in flight answered, exit 0)."""

import os
import socket
import json
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

LIST_QUEUES = b'{}'


def request(version="1.1", extra_headers="", body=LIST_QUEUES, content_length=None,
            operation="ListQueues"):
    length = len(body) if content_length is None else content_length
    head = ("POST / HTTP/%s\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonSQS.%s\r\n"
            "Content-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n%s\r\n"
            % (version, operation, length, extra_headers))
    return head.encode() + body


class Response:
    def __init__(self, status_line, headers, body):
        self.status_line, self.headers, self.body = status_line, headers, body

    @property
    def status(self):
        return int(self.status_line.split(" ")[1])


def read_response(f):
    status_line = f.readline().decode().rstrip("\r\n")
    headers = {}
    while True:
        line = f.readline().decode().rstrip("\r\n")
        if not line:
            break
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    body = f.read(int(headers.get("content-length", "0")))
    return Response(status_line, headers, body)


class RawSocketCase:
    """One server per test class, started with `server_args`, and raw connections to it."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server = harness.PostboxServer(extra_args=list(cls.server_args))
        cls.server.start()
        cls.port = int(cls.server.endpoint.rsplit(":", 1)[1])

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.addCleanup(sock.close)
        return sock, sock.makefile("rb")


class HttpServerTest(RawSocketCase, unittest.TestCase):

    def assert_closed(self, f):
        self.assertEqual(f.read(1), b"", "the server should have closed the connection")

    def test_http11_keeps_the_connection_and_answers_pipelined_requests_in_order(self):
        sock, f = self.connect()
        sock.sendall(request() + request(extra_headers="X-Amz-Target: AmazonSQS.Nope\r\n"))
        first, second = read_response(f), read_response(f)
        self.assertEqual(first.status_line, "HTTP/1.1 200 OK")
        self.assertNotIn("connection", first.headers)
        self.assertEqual(first.headers["content-type"], "application/x-amz-json-1.0")
        self.assertEqual(first.headers["server"], "postbox")
        self.assertTrue(first.headers["x-amzn-requestid"])
        self.assertEqual(second.status, 400)
        sock.sendall(request())
        self.assertEqual(read_response(f).status, 200)

    def test_http11_connection_close_is_honoured(self):
        sock, f = self.connect()
        sock.sendall(request(extra_headers="Connection: close\r\n"))
        response = read_response(f)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.headers["connection"], "close")
        self.assert_closed(f)

    def test_http10_closes_unless_kept_alive(self):
        sock, f = self.connect()
        sock.sendall(request("1.0", "Connection: keep-alive\r\n"))
        response = read_response(f)
        self.assertEqual(response.status_line, "HTTP/1.0 200 OK")
        self.assertEqual(response.headers["connection"], "keep-alive")
        sock.sendall(request("1.0"))
        response = read_response(f)
        self.assertEqual(response.status, 200)
        self.assertNotIn("connection", response.headers)
        self.assert_closed(f)

    def test_body_over_the_limit_is_answered_413_and_closed(self):
        sock, f = self.connect()
        sock.sendall(request(body=b"", content_length=64 << 20))
        response = read_response(f)
        self.assertEqual(response.status_line, "HTTP/1.1 413 Payload Too Large")
        self.assertEqual(response.headers["connection"], "close")
        self.assertEqual(response.body, b"request body too large\n")
        self.assert_closed(f)

    def test_headers_over_the_limit_are_answered_431_and_closed(self):
        sock, f = self.connect()
        sock.sendall(request(extra_headers="X-Padding: %s\r\n" % ("a" * (32 << 10))))
        response = read_response(f)
        self.assertEqual(response.status, 431)
        self.assertEqual(response.body, b"request headers too large\n")
        self.assert_closed(f)


class IoTimeoutTest(RawSocketCase, unittest.TestCase):
    """A server whose I/O timeout is one second."""

    server_args = ("--server-io-timeout-seconds", "1")

    def test_an_idle_keep_alive_connection_is_closed_after_the_timeout(self):
        sock, f = self.connect()
        sock.sendall(request())
        self.assertEqual(read_response(f).status, 200)
        started = time.monotonic()
        self.assertEqual(f.read(1), b"")
        self.assertGreaterEqual(time.monotonic() - started, 0.5)

    def test_a_client_trickling_its_request_is_closed_after_the_timeout(self):
        sock, f = self.connect()
        started = time.monotonic()
        closed = False
        for byte in request():  # one byte every 0.2 s would take about 30 s
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.2)
            if time.monotonic() - started > 4:
                break
        if not closed:
            try:
                self.assertEqual(f.read(1), b"")
            except ConnectionResetError:
                pass
        self.assertLess(time.monotonic() - started, 5)

    def test_a_long_poll_longer_than_the_timeout_is_answered(self):
        sock, f = self.connect()
        sock.sendall(request(operation="CreateQueue", body=b'{"QueueName":"slow-poll"}'))
        created = read_response(f)
        self.assertEqual(created.status, 200)
        url = json.loads(created.body)["QueueUrl"]
        body = json.dumps({"QueueUrl": url, "WaitTimeSeconds": 2}).encode()
        started = time.monotonic()
        sock.sendall(request(operation="ReceiveMessage", body=body))
        answer = read_response(f)
        self.assertEqual(answer.status, 200)
        self.assertGreaterEqual(time.monotonic() - started, 1.5)
        sock.sendall(request())  # the connection is still open for the next request
        self.assertEqual(read_response(f).status, 200)


class LifecycleTest(RawSocketCase, unittest.TestCase):
    """Health endpoints and the graceful stop; each test may stop the server, so each
    starts its own."""

    def setUp(self):
        if self.server.proc is None:
            self.server.start()
            self.port = self.server.port

    def get(self, path):
        sock, f = self.connect()
        sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
        return read_response(f)

    def test_healthz_and_readyz_answer_ok_once_listening(self):
        for path in ("/healthz", "/readyz"):
            answer = self.get(path)
            self.assertEqual(answer.status, 200, path)
            self.assertEqual(answer.body, b"ok\n", path)

    def test_sigterm_answers_the_request_in_flight_then_exits_0(self):
        self.server.require_local("the SIGTERM test")
        sock, f = self.connect()
        sock.sendall(request(operation="CreateQueue", body=b'{"QueueName":"drain-poll"}'))
        url = json.loads(read_response(f).body)["QueueUrl"]
        body = json.dumps({"QueueUrl": url, "WaitTimeSeconds": 2}).encode()
        sock.sendall(request(operation="ReceiveMessage", body=body))
        time.sleep(0.3)  # the long poll is waiting in the server
        exit_code = {}
        stopper = threading.Thread(target=lambda: exit_code.update(code=self.server.stop()))
        stopper.start()
        time.sleep(0.3)
        with self.assertRaises(OSError, msg="a stopping server must refuse new connections"):
            socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
        answer = read_response(f)
        self.assertEqual(answer.status, 200)
        self.assertEqual(json.loads(answer.body or b"{}").get("Messages", []), [])
        self.assertIn(answer.headers.get("connection"), ("close", None))
        stopper.join(20)
        self.assertEqual(exit_code.get("code"), 0, self.server.output()[-2000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
