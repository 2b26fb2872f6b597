#!/usr/bin/env python3
"""The donut shop's restocking story on postbox, end to end, in one process:

  python3 demo.py --endpoint http://127.0.0.1:9324 --ad-manager ads@example.com

Creates the topic and queues, starts the workers, sells donuts until the glazed ones run
out, waits for the factory's batch to restock them and for the ad manager's mail to be sent,
then puts one broken event on the factory queue to show it reaching the dead-letter queue.
Prints what happens; exits 0 when the whole story happened (within --timeout seconds).
"""

import argparse
import json
import sys
import threading
import time

import boto3

import resources
import services


def client(service, endpoint, region):
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="postbox", aws_secret_access_key="postbox-dev-secret")


def wait(what, condition, timeout):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            sys.exit("demo: gave up waiting for " + what)
        time.sleep(0.2)
    print("demo: " + what, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default="http://127.0.0.1:9324")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--sender", default="shop@example.com")
    parser.add_argument("--ad-manager", default="ads@example.com")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    sqs = client("sqs", args.endpoint, args.region)
    sns = client("sns", args.endpoint, args.region)
    ses = client("ses", args.endpoint, args.region)
    urls = resources.create(sqs, sns, ses, args.sender)
    shop = services.Shop(sns, urls["topic"])
    shop.add("glazed", 5)

    stop = threading.Event()
    dead = []
    workers = [
        threading.Thread(target=services.factory_worker, args=(sqs, urls, stop)),
        threading.Thread(target=services.restock_worker, args=(sqs, urls, shop, stop)),
        threading.Thread(target=services.ad_worker,
                         args=(sqs, ses, urls, args.sender, args.ad_manager, stop)),
        threading.Thread(target=services.dead_letter_worker, args=(sqs, urls, stop, dead)),
    ]
    for w in workers:
        w.start()
    try:
        sold = sum(shop.buy("glazed", 1) for _ in range(5))
        print("demo: sold %d glazed donuts" % sold, flush=True)
        if shop.buy("glazed", 2):
            sys.exit("demo: sold donuts that were not there")
        print("demo: out of stock, event published", flush=True)
        wait("the factory's batch restocked the glazed donuts (12)",
             lambda: shop.stock("glazed") == 12, args.timeout)
        quota = lambda: ses.get_send_quota()["SentLast24Hours"]  # noqa: E731
        wait("the ad manager was mailed through SES", lambda: quota() >= 1, args.timeout)
        sqs.send_message(QueueUrl=urls[resources.FACTORY_ORDERS],
                         MessageBody=json.dumps({"event": "garbled"}))
        wait("the broken order reached the dead-letter worker after %d tries"
             % resources.MAX_RECEIVES, lambda: dead, args.timeout)
    finally:
        stop.set()
        for w in workers:
            w.join()
    print("demo: done", flush=True)


if __name__ == "__main__":
    main()
