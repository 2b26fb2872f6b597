"""Creates what the donut shop needs on postbox (idempotent: run it as often as you like).

  topic   donut-out-of-stock         the sales API publishes here when an item runs out
  queue   donut-factory-orders       -> the factory worker orders a batch from the factory
  queue   donut-ad-stops             -> the ad worker mails the ad manager (through SES)
  queue   donut-production-done      <- the factory reports finished batches here
  queue   donut-dead-letters         messages that failed 3 times, for the dead-letter worker
"""

import json

TOPIC = "donut-out-of-stock"
FACTORY_ORDERS = "donut-factory-orders"
AD_STOPS = "donut-ad-stops"
PRODUCTION_DONE = "donut-production-done"
DEAD_LETTERS = "donut-dead-letters"
MAX_RECEIVES = 3  # a message that fails this often goes to the dead-letter queue


def create(sqs, sns, ses, shop_sender):
    """Returns {"topic": arn, <queue name>: url, ...}."""
    urls = {}
    dlq = sqs.create_queue(QueueName=DEAD_LETTERS)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    urls[DEAD_LETTERS] = dlq
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES})
    for name in (FACTORY_ORDERS, AD_STOPS, PRODUCTION_DONE):
        urls[name] = sqs.create_queue(
            QueueName=name,
            Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "2"})["QueueUrl"]
    topic = sns.create_topic(Name=TOPIC)["TopicArn"]
    urls["topic"] = topic
    for name in (FACTORY_ORDERS, AD_STOPS):
        arn = sqs.get_queue_attributes(QueueUrl=urls[name], AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        # Raw delivery: the consumers read the event itself, not the SNS envelope.
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                      Attributes={"RawMessageDelivery": "true"})
    ses.verify_email_identity(EmailAddress=shop_sender)
    return urls
