"""A tiny Celery app whose broker is postbox, through kombu's SQS transport.

Used by test_celery.py, both in the test process (to send tasks with .delay())
and in the worker process (``python3 -m celery -A postbox_celery_app worker``).
Everything it needs comes from the environment, set by the test:

  POSTBOX_CELERY_ENDPOINT  http://127.0.0.1:<port> of the server
  POSTBOX_CELERY_QUEUE     name of the SQS queue the tasks go through
  POSTBOX_CELERY_OUT       directory where each task writes its result file

How kombu 5.2.4 (Debian's python3-kombu) reaches postbox:
  * broker URL ``sqs://<access key>:<url-quoted secret>@127.0.0.1:<port>``:
    kombu builds the endpoint from the URL's host and port,
    ``http://127.0.0.1:<port>`` when the ``is_secure`` transport option is
    falsy, ``https://...`` when it is true (kombu/transport/SQS.py,
    Channel.endpoint_url). The secret must be URL-quoted (it holds '/' and
    '+'); kombu unquotes it.
  * ``is_secure: False`` also makes kombu pass use_ssl=False to boto3
    (without it kombu passes use_ssl=True, which botocore ignores when given
    an explicit http:// endpoint_url, so it is not strictly needed; we set it
    so that nothing depends on that).
  * ``region``: the region of the SigV4 signature; without it kombu falls
    back to boto3's configured region, then us-east-1.
  * No ``predefined_queues`` are needed: kombu lists queues
    (ListQueues with QueueNamePrefix), creates the queue (CreateQueue with
    VisibilityTimeout), sends (SendMessage), deletes (DeleteMessage) and
    reads queue URLs (GetQueueUrl) with boto3, which signs query-protocol
    POSTs to ``/``. Its worker long-polls with its own pycurl client: a
    SigV4-signed ``POST <QueueUrl>`` with a form body
    ``Action=ReceiveMessage&MaxNumberOfMessages=..&AttributeName.1=
    ApproximateReceiveCount&WaitTimeSeconds=..`` and no ``Version``
    parameter, and parses the XML answer with botocore.
"""

import json
import os
import time
import uuid

from celery import Celery
from celery.signals import worker_ready

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"

ENDPOINT = os.environ.get("POSTBOX_CELERY_ENDPOINT", "http://127.0.0.1:9324")
QUEUE = os.environ.get("POSTBOX_CELERY_QUEUE", "postbox-celery-e2e")
OUT_DIR = os.environ.get("POSTBOX_CELERY_OUT", "")

# Long-poll for this long (seconds) per ReceiveMessage. Shorter than kombu's
# default of 10 so that a worker shuts down quickly, long enough that the
# long poll has to be woken up by the server when a task is sent.
WAIT_TIME_SECONDS = 5


def broker_url(endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
    """``sqs://key:quoted-secret@host:port`` for an ``http://host:port`` endpoint."""
    from urllib.parse import quote, urlsplit

    parts = urlsplit(endpoint)
    if parts.scheme != "http" or not parts.hostname or not parts.port:
        raise ValueError(f"expected http://host:port, got {endpoint!r}")
    return "sqs://{}:{}@{}:{}".format(
        quote(access_key, safe=""), quote(secret_key, safe=""), parts.hostname, parts.port
    )


TRANSPORT_OPTIONS = {
    "region": REGION,
    "is_secure": False,
    "wait_time_seconds": WAIT_TIME_SECONDS,
    "visibility_timeout": 60,
}

app = Celery("postbox_celery_app", broker=broker_url(ENDPOINT))
app.conf.update(
    broker_transport_options=TRANSPORT_OPTIONS,
    broker_connection_retry=False,
    broker_connection_max_retries=0,
    task_default_queue=QUEUE,
    task_ignore_result=True,
    result_backend=None,
    # SQS has no fan-out: no remote control, events, gossip or mingle.
    worker_enable_remote_control=False,
    worker_send_task_events=False,
    task_send_sent_event=False,
    worker_hijack_root_logger=False,
    worker_prefetch_multiplier=1,
    accept_content=["json"],
    task_serializer="json",
)


@worker_ready.connect
def _mark_ready(**_):
    """Tell the test (by a file) that the worker is consuming."""
    out_dir = os.environ.get("POSTBOX_CELERY_OUT") or OUT_DIR
    if out_dir:
        with open(os.path.join(out_dir, "worker-ready"), "w", encoding="utf-8") as f:
            f.write(str(os.getpid()))


@app.task(name="postbox_e2e.record")
def record(index, payload):
    """Write ``<OUT_DIR>/task-<index>-<unique>.json`` to show this task ran.

    One new file per execution, so a task run twice shows up as two files.
    """
    out_dir = os.environ.get("POSTBOX_CELERY_OUT") or OUT_DIR
    result = {
        "index": index,
        "payload": payload,
        "pid": os.getpid(),
        "time": time.time(),
        "task_id": record.request.id,
    }
    final = os.path.join(out_dir, f"task-{index}-{uuid.uuid4().hex}.json")
    tmp = os.path.join(out_dir, f".tmp-{uuid.uuid4().hex}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f)
    os.replace(tmp, final)
    return index
