"""End-to-end test harness for postbox.

Starts and stops the postbox server binary, and builds boto3 SQS clients that
point at it.  Python 3 standard library + boto3 only (runs under both the
pyenv python3 with boto3 1.43 and Debian's /usr/bin/python3 with boto3 1.26).

Environment variables:
  POSTBOX_BIN         path of the server binary (default: <repo>/build/postbox)
  POSTBOX_ENDPOINT    if set (e.g. http://127.0.0.1:5000), use that already
                      running server instead of starting one.  Tests that need
                      to restart or kill the server are skipped in that mode.
  POSTBOX_ACCOUNT_ID  account id expected in queue URLs and ARNs
                      (default 000000000000; moto_server uses 123456789012)
  POSTBOX_REGION      region (default us-east-1)
"""

import collections
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
DEFAULT_BIN = os.path.join(REPO, "build", "postbox")

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = os.environ.get("POSTBOX_REGION", "us-east-1")
ACCOUNT_ID = os.environ.get("POSTBOX_ACCOUNT_ID", "000000000000")

LISTEN_RE = re.compile(r"listening on (http://[0-9A-Za-z.\[\]:-]+:(\d+))")
# Printed as soon as the listener is bound, before the stored state is loaded.
LOADING_RE = re.compile(r"loading the state in .*; (http://[0-9A-Za-z.\[\]:-]+:(\d+))/healthz")


def external_endpoint():
    """The POSTBOX_ENDPOINT value without a trailing slash, or None."""
    ep = os.environ.get("POSTBOX_ENDPOINT", "").strip()
    return ep.rstrip("/") or None


class ServerError(RuntimeError):
    pass


class PostboxServer:
    """One postbox server process (or an external endpoint).

    Usage from a TestCase:

        @classmethod
        def setUpClass(cls):
            cls.server = PostboxServer()
            cls.server.start()

        @classmethod
        def tearDownClass(cls):
            cls.server.close()

    start() after stop()/kill9() reuses the same data directory, so restarts
    keep state.  close() stops the process and removes the temporary data
    directory (unless keep_data_dir=True or a data_dir was given).
    """

    def __init__(self, binary=None, data_dir=None, extra_args=(), start_timeout=20.0,
                 keep_data_dir=False, env=None, command_prefix=(), dev=True):
        self.external = external_endpoint()
        # `serve --dev`: any credentials, and deliveries to 127.0.0.1 (the tests' fake
        # subscribers) allowed. False for tests of authentication or of the outbound guard.
        self.dev = dev
        self.env = dict(env or {})  # added to the server's environment
        # Run the server through this (e.g. ["prlimit", "--nofile=1024:1024"]).
        self.command_prefix = list(command_prefix)
        self.binary = binary or os.environ.get("POSTBOX_BIN") or DEFAULT_BIN
        self._own_data_dir = data_dir is None
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.keep_data_dir = keep_data_dir
        self.proc = None
        self.endpoint = self.external
        self.port = None
        self._lines = collections.deque(maxlen=2000)
        self._lines_lock = threading.Lock()
        self._reader = None
        self.starts = 0

    # ------------------------------------------------------------------ info
    @property
    def is_external(self):
        return self.external is not None

    def require_local(self, what="this test"):
        """Skip the calling test if the server is an external endpoint."""
        if self.is_external:
            raise unittest.SkipTest("%s needs a server process started by the harness "
                                    "(POSTBOX_ENDPOINT is set)" % what)

    def output(self):
        """Everything the server printed so far (stdout and stderr, merged)."""
        with self._lines_lock:
            return "".join(self._lines)

    def output_with(self, text, timeout=10.0):
        """The server's output once it holds `text` (log lines come through a pipe and a
        reader thread, so one written just before an answer may not be here yet), or the
        output as it is after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while text not in self.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.output()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # --------------------------------------------------------------- control
    def start(self, until_ready=True):
        """Starts the server and returns its endpoint once it serves (prints 'listening on');
        with until_ready=False, as soon as it listens while still loading its state (then only
        /healthz and /readyz are answered; everything else is 503 until it is ready)."""
        if self.is_external:
            self.endpoint = self.external
            return self.endpoint
        if self.running():
            raise ServerError("server already running")
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            raise ServerError("postbox binary not found or not executable: %s "
                              "(build it, or set POSTBOX_BIN / POSTBOX_ENDPOINT)" % self.binary)
        if self.data_dir is None:
            self.data_dir = tempfile.mkdtemp(prefix="postbox-e2e-")
        cmd = self.command_prefix + [self.binary, "serve", "--listen", "127.0.0.1:0",
                                     "--data-dir", self.data_dir]
        if self.dev:
            cmd.append("--dev")
        cmd += self.extra_args
        with self._lines_lock:
            self._lines.append("---- start #%d: %s\n" % (self.starts + 1, " ".join(cmd)))
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(os.environ, **self.env),
        )
        self.starts += 1
        found = threading.Event()
        result = {}
        proc = self.proc

        def reader():
            # Keep draining the pipe for the whole life of the process so the
            # server can never block on a full stdout pipe.
            for raw in iter(proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace")
                with self._lines_lock:
                    self._lines.append(line)
                if not found.is_set():
                    m = (LISTEN_RE if until_ready else LOADING_RE).search(line)
                    if m:
                        result["endpoint"] = m.group(1)
                        result["port"] = int(m.group(2))
                        found.set()
            proc.stdout.close()

        self._reader = threading.Thread(target=reader, name="postbox-stdout", daemon=True)
        self._reader.start()

        deadline = time.monotonic() + self.start_timeout
        while not found.is_set():
            if proc.poll() is not None:
                self._reader.join(2)
                raise ServerError("postbox exited with code %s before listening.\n"
                                  "---- server output ----\n%s" % (proc.returncode, self.output()))
            if time.monotonic() > deadline:
                self._terminate_hard()
                raise ServerError("postbox did not print 'listening on http://...' within %.0f s.\n"
                                  "---- server output ----\n%s" % (self.start_timeout, self.output()))
            found.wait(0.05)
        self.port = result["port"]
        self.endpoint = "http://127.0.0.1:%d" % self.port
        return self.endpoint

    def stop(self, timeout=15.0):
        """SIGTERM and wait.  Returns the exit code (None if external/not running).

        Raises ServerError if the process does not exit within timeout (it is
        then killed with SIGKILL).
        """
        if self.is_external or self.proc is None:
            return None
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._terminate_hard()
                raise ServerError("postbox did not exit within %.0f s of SIGTERM.\n"
                                  "---- server output ----\n%s" % (timeout, self.output()))
        if self._reader is not None:
            self._reader.join(5)
        self.proc = None
        return proc.returncode

    def kill9(self):
        """SIGKILL the server and reap it; the data directory is kept."""
        if self.is_external:
            raise unittest.SkipTest("cannot kill an external server")
        if self.proc is None:
            return None
        self._terminate_hard()
        return 0

    def restart(self):
        """Stop gracefully (SIGTERM) and start again on the same data dir."""
        self.require_local("restart")
        code = self.stop()
        if code not in (None, 0):
            raise ServerError("postbox exited with code %s on SIGTERM.\n"
                              "---- server output ----\n%s" % (code, self.output()))
        return self.start()

    def close(self):
        """Stop the process (SIGTERM, then SIGKILL) and remove the temp data dir."""
        try:
            if self.proc is not None:
                try:
                    self.stop()
                except ServerError:
                    pass
        finally:
            if self._own_data_dir and not self.keep_data_dir and self.data_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)
                self.data_dir = None

    def _terminate_hard(self):
        proc = self.proc
        if proc is None:
            return
        # SIGKILL the whole process group (the server runs in its own session)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        if self._reader is not None:
            self._reader.join(5)
        self.proc = None

    # --------------------------------------------------------------- clients
    def client(self, **kwargs):
        return make_client(self.endpoint, **kwargs)

    def queue_url(self, name):
        return "%s/%s/%s" % (self.endpoint, ACCOUNT_ID, name)


def queue_arn(name):
    return "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT_ID, name)


def make_client(endpoint, validate=True, read_timeout=40, connect_timeout=5, max_attempts=1):
    """A boto3 SQS client for endpoint.

    validate=False turns off botocore's client-side parameter validation so
    that invalid requests reach the server.  max_attempts=1 disables retries:
    every error must surface exactly as the server sent it.
    """
    import boto3
    from botocore.config import Config

    cfg = Config(
        region_name=REGION,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"total_max_attempts": max_attempts},
        parameter_validation=validate,
    )
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )
    return session.client("sqs", endpoint_url=endpoint, config=cfg)


def http_get(endpoint, path, timeout=10):
    """(status, body) of a plain GET, error statuses included (/healthz, /metrics)."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(endpoint + path, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric_value(body, name, labels=()):
    """The value of one sample in a /metrics page (None when absent); labels are (key, value)
    pairs in the order the page prints them."""
    import re
    selector = ",".join('%s="%s"' % kv for kv in labels)
    if selector:
        selector = "{" + selector + "}"
    match = re.search(r"^%s%s (\d+)$" % (re.escape(name), re.escape(selector)), body, re.M)
    return int(match.group(1)) if match else None


def client_protocol(client):
    """'json' (boto3 >= 1.34.x) or 'query' (older boto3, e.g. Debian's 1.26)."""
    return client.meta.service_model.protocol


def aws_env():
    """Environment for running the AWS CLI against the server."""
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    env.update({
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_PAGER": "",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


def uid():
    """12 random hex digits: makes queue names unique within a run."""
    return uuid.uuid4().hex[:12]


class SqsTestCase(unittest.TestCase):
    """Base class for boto3 test classes that share one server per class.

    setUpClass starts a PostboxServer (or attaches to POSTBOX_ENDPOINT) and
    builds two clients: cls.sqs (with botocore's parameter validation) and
    cls.raw (without it, so that invalid requests reach the server).  Queues
    made with create() are deleted again in tearDownClass when the server is
    external (keeps a long-running external server such as moto tidy).
    """

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.server = PostboxServer()
        cls.server.start()
        cls.sqs = cls.server.client()
        # no client-side validation: invalid requests must reach the server
        cls.raw = cls.server.client(validate=False)
        cls.protocol = client_protocol(cls.sqs)
        cls._created = []

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.server.is_external:
                for url in cls._created:
                    try:
                        cls.sqs.delete_queue(QueueUrl=url)
                    except Exception:
                        pass
        finally:
            cls.sqs.close()
            cls.raw.close()
            cls.server.close()

    # ----------------------------------------------------------- queues
    def new_name(self, prefix="q", fifo=False):
        return "pbx-%s-%s%s" % (prefix, uid(), ".fifo" if fifo else "")

    def create(self, name=None, attributes=None, tags=None):
        name = name or self.new_name()
        kw = {"QueueName": name}
        if attributes:
            kw["Attributes"] = attributes
        if tags:
            kw["tags"] = tags
        url = self.sqs.create_queue(**kw)["QueueUrl"]
        type(self)._created.append(url)
        return url

    def name_of(self, url):
        return url.rsplit("/", 1)[1]

    def arn_of(self, url):
        return queue_arn(self.name_of(url))

    def attrs(self, url, names=("All",)):
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names)).get("Attributes", {})

    def counters(self, url):
        """(visible, not visible, delayed) from the Approximate* attributes."""
        a = self.attrs(url, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                             "ApproximateNumberOfMessagesDelayed"])
        return (int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"]),
                int(a["ApproximateNumberOfMessagesDelayed"]))

    # --------------------------------------------------------- messages
    def receive(self, url, client=None, **kw):
        kw.setdefault("WaitTimeSeconds", 0)
        return (client or self.sqs).receive_message(QueueUrl=url, **kw).get("Messages", [])

    def receive_one(self, url, **kw):
        kw.setdefault("WaitTimeSeconds", 1)
        msgs = self.receive(url, **kw)
        self.assertEqual(len(msgs), 1, "expected exactly one message, got %r" % (msgs,))
        return msgs[0]

    def supports_system_attribute_names(self):
        """Whether this botocore knows ReceiveMessage's MessageSystemAttributeNames."""
        op = self.sqs.meta.service_model.operation_model("ReceiveMessage")
        return "MessageSystemAttributeNames" in op.input_shape.members

    # ----------------------------------------------------------- errors
    def assertAwsError(self, code, status, fn, *args, **kwargs):
        """The call fails with (code, HTTP status); message=... checks the exact
        message, message_contains=... a fragment of it; json_type=... the error's
        shape name in the JSON protocol (the __type, which botocore reports as
        QueryErrorCode).  Returns the response."""
        from botocore.exceptions import ClientError

        json_type = kwargs.pop("json_type", None)
        message = kwargs.pop("message", None)
        fragment = kwargs.pop("message_contains", None)
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kwargs)
        resp = cm.exception.response
        got_code = resp.get("Error", {}).get("Code")
        got_status = resp.get("ResponseMetadata", {}).get("HTTPStatusCode")
        self.assertEqual((got_code, got_status), (code, status),
                         "unexpected error for %s: %r" % (getattr(fn, "__name__", fn), resp.get("Error")))
        # query: <Type> element; JSON: second field of the x-amzn-query-error header
        self.assertIn(resp["Error"].get("Type"), ("Sender", "Receiver"), resp["Error"])
        self.assertTrue(resp["ResponseMetadata"].get("RequestId"), "error response without a request id")
        if json_type is not None and self.protocol == "json":
            self.assertEqual(resp["Error"].get("QueryErrorCode"), json_type, resp["Error"])
        if message is not None:
            self.assertEqual(resp["Error"].get("Message"), message)
        if fragment is not None:
            self.assertIn(fragment, resp["Error"].get("Message", ""))
        return resp


# ------------------------------------------------------------------ checksums
def md5_hex(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.md5(data).hexdigest()


def md5_of_message_attributes(attrs):
    """MD5OfMessageAttributes as AWS computes it.

    For each attribute, sorted by name: 4-byte big-endian length + UTF-8 name,
    4-byte length + UTF-8 data type, one transport byte (1 = string value,
    2 = binary value), 4-byte length + value bytes.  MD5 over the concatenation.
    """
    buf = bytearray()
    for name in sorted(attrs):
        a = attrs[name]
        for part in (name.encode("utf-8"), a["DataType"].encode("utf-8")):
            buf += len(part).to_bytes(4, "big") + part
        if "BinaryValue" in a and a["BinaryValue"] is not None:
            value = a["BinaryValue"]
            if isinstance(value, str):
                value = value.encode("utf-8")
            buf += b"\x02"
        else:
            value = a["StringValue"].encode("utf-8")
            buf += b"\x01"
        buf += len(value).to_bytes(4, "big") + value
    return hashlib.md5(bytes(buf)).hexdigest()
