"""The donut shop's services, each a small loop around postbox:

- Shop: the sales API. Sells from stock (SQLite); when an item is out, publishes an
  out-of-stock event to the topic, which fans out to the factory and ad queues.
- factory_worker: orders a batch from the (slow, legacy) factory for each out-of-stock event;
  the factory reports the finished batch on the production-done queue.
- restock_worker: adds finished batches to the stock.
- ad_worker: mails the ad manager through SES to pause the item's ads.
- dead_letter_worker: handles what failed three times (here: logs it and keeps it aside).

Each worker deletes a message only after its work is done, so a crash repeats work rather than
losing it; a message that keeps failing ends in the dead-letter queue.
"""

import json
import sqlite3
import threading

import resources


class Shop:
    def __init__(self, sns, topic_arn, path=":memory:"):
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.lock = threading.Lock()
        self.db.execute("CREATE TABLE IF NOT EXISTS stock (item TEXT PRIMARY KEY, count INTEGER)")
        self.sns = sns
        self.topic_arn = topic_arn

    def stock(self, item):
        with self.lock:
            row = self.db.execute("SELECT count FROM stock WHERE item = ?", (item,)).fetchone()
            return row[0] if row else 0

    def add(self, item, count):
        with self.lock, self.db:
            self.db.execute("INSERT INTO stock VALUES (?, ?) ON CONFLICT(item) DO UPDATE SET "
                            "count = count + excluded.count", (item, count))

    def buy(self, item, count):
        """True when sold; False (and an out-of-stock event) when there is not enough."""
        with self.lock, self.db:
            row = self.db.execute("SELECT count FROM stock WHERE item = ?", (item,)).fetchone()
            if row and row[0] >= count:
                self.db.execute("UPDATE stock SET count = count - ? WHERE item = ?", (count, item))
                return True
        self.sns.publish(TopicArn=self.topic_arn, Subject="Out of stock: " + item,
                         Message=json.dumps({"event": "out-of-stock", "item": item,
                                             "wanted": count}))
        return False


def consume(sqs, queue_url, handle, stop):
    """Receives until `stop` is set; deletes each message that `handle` processed."""
    while not stop.is_set():
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            try:
                handle(json.loads(message["Body"]))
            except Exception as error:  # left in the queue: tried again, then dead-lettered
                print("worker: failed, will retry: %s" % error, flush=True)
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def factory_worker(sqs, urls, stop, batch=12):
    def order(event):
        if event.get("event") != "out-of-stock":
            raise ValueError("not an out-of-stock event: %r" % event)
        # The legacy factory API would be called here; it answers later, on its own queue.
        sqs.send_message(QueueUrl=urls[resources.PRODUCTION_DONE],
                         MessageBody=json.dumps({"item": event["item"], "made": batch}))
    consume(sqs, urls[resources.FACTORY_ORDERS], order, stop)


def restock_worker(sqs, urls, shop, stop):
    consume(sqs, urls[resources.PRODUCTION_DONE],
            lambda done: shop.add(done["item"], done["made"]), stop)


def ad_worker(sqs, ses, urls, sender, ad_manager, stop):
    def mail(event):
        ses.send_email(
            Source=sender, Destination={"ToAddresses": [ad_manager]},
            Message={"Subject": {"Data": "광고 중지 요청: %s" % event["item"]},
                     "Body": {"Text": {"Data": "%s 재고가 없습니다. 재입고될 때까지 광고를 "
                                               "멈춰 주세요.\n(%s is out of stock: please pause "
                                               "its ads until it is restocked.)"
                                               % (event["item"], event["item"])}}})
    consume(sqs, urls[resources.AD_STOPS], mail, stop)


def dead_letter_worker(sqs, urls, stop, handled):
    def keep(message):
        print("dead letter: %s" % json.dumps(message), flush=True)
        handled.append(message)
    consume(sqs, urls[resources.DEAD_LETTERS], keep, stop)
