// End-to-end tests of postbox's SNS (query protocol) with the AWS SDK for
// JavaScript v3: @aws-sdk/client-sns publishes, @aws-sdk/client-sqs receives
// what the SQS subscriptions were sent.
//
// Expected envelopes, error names, HTTP statuses and texts are AWS's (see
// sns_research.md in the project notes).
//
// Run: npm test (starts $POSTBOX_BIN, default <repo>/build/postbox), or with
// POSTBOX_ENDPOINT=http://127.0.0.1:<port> against a running server.

import assert from "node:assert/strict";
import { createVerify } from "node:crypto";
import { after, describe, it } from "node:test";

import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTagsForResourceCommand,
  ListTopicsCommand,
  PublishBatchCommand,
  PublishCommand,
  SetSubscriptionAttributesCommand,
  SNSClient,
  SubscribeCommand,
  TagResourceCommand,
  UnsubscribeCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";

import {
  ACCOUNT_ID,
  REGION,
  credentials,
  md5OfMessageAttributes,
  queueArn,
  rejectsWith,
  uniqueName,
  useServer,
  waitFor,
} from "./harness.mjs";

let server;
let sqs;
let sns;
useServer((s, client) => {
  server = s;
  sqs = client;
  sns = new SNSClient({
    region: REGION,
    endpoint: s.endpoint,
    credentials: credentials(),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
});
after(() => sns?.destroy());

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SEQ_RE = /^\d{20}$/;

const topicArnOf = (name) => `arn:aws:sns:${REGION}:${ACCOUNT_ID}:${name}`;

/** Create a fresh topic; returns { arn, name }. */
async function newTopic(prefix, { fifo = false, Attributes = {}, Tags = undefined } = {}) {
  const name = uniqueName(prefix) + (fifo ? ".fifo" : "");
  const out = await sns.send(
    new CreateTopicCommand({
      Name: name,
      Attributes: fifo ? { FifoTopic: "true", ...Attributes } : Attributes,
      Tags,
    }),
  );
  assert.equal(out.TopicArn, topicArnOf(name));
  return { arn: out.TopicArn, name };
}

/** Create a fresh queue; returns { url, name, arn }. */
async function newQueue(prefix, { fifo = false } = {}) {
  const name = uniqueName(prefix) + (fifo ? ".fifo" : "");
  const out = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: fifo ? { FifoQueue: "true" } : undefined }),
  );
  return { url: out.QueueUrl, name, arn: queueArn(name) };
}

/** Subscribe an SQS queue; returns the subscription ARN. */
async function subscribeQueue(topicArn, queue, Attributes = undefined) {
  const out = await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: queue.arn,
      Attributes,
      ReturnSubscriptionArn: true,
    }),
  );
  // <topic-arn>:<uuid>
  assert.ok(out.SubscriptionArn.startsWith(`${topicArn}:`), out.SubscriptionArn);
  assert.match(out.SubscriptionArn.slice(topicArn.length + 1), UUID_RE);
  return out.SubscriptionArn;
}

/**
 * Receive (and delete) until `n` messages were collected from the queue,
 * then check that there are no more (waiting `quietMs` for late ones). Messages are
 * returned in the order received.
 */
async function drain(queue, n, { quietMs = 0, extra = {} } = {}) {
  const got = [];
  const receive = async (WaitTimeSeconds) => {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
        ...extra,
      }),
    );
    const msgs = out.Messages ?? [];
    if (msgs.length) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: msgs.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    return msgs;
  };
  if (n > 0) {
    await waitFor(
      async () => {
        got.push(...(await receive(1)));
        return got.length >= n;
      },
      { timeoutMs: 15_000, intervalMs: 0, what: `${n} messages on ${queue.name} (got ${got.length})` },
    );
  }
  // Nothing more (a filtered-out or duplicate message must not show up late).
  // postbox delivers before Publish returns; quietMs gives a slower server time.
  got.push(...(await receive(0)));
  const deadline = Date.now() + quietMs;
  while (Date.now() < deadline) got.push(...(await receive(1)));
  assert.equal(got.length, n, `messages on ${queue.name}: ${JSON.stringify(got.map((m) => m.Body))}`);
  return got;
}

/** The string SNS signs for a Notification (SignatureVersion 1). */
function stringToSign(env) {
  let s = `Message\n${env.Message}\nMessageId\n${env.MessageId}\n`;
  if (env.Subject !== undefined) s += `Subject\n${env.Subject}\n`;
  s += `Timestamp\n${env.Timestamp}\nTopicArn\n${env.TopicArn}\nType\n${env.Type}\n`;
  return s;
}

const certificates = new Map();

/** Verify a Notification's signature with the PEM served at its SigningCertURL. */
async function assertSignatureValid(env) {
  assert.equal(env.SignatureVersion, "1");
  assert.match(env.Signature, /^[A-Za-z0-9+/]+=*$/, "Signature is base64");
  let pem = certificates.get(env.SigningCertURL);
  if (pem === undefined) {
    const res = await fetch(env.SigningCertURL);
    assert.equal(res.status, 200, `GET ${env.SigningCertURL}`);
    pem = await res.text();
    assert.match(pem, /^-----BEGIN CERTIFICATE-----\n/);
    certificates.set(env.SigningCertURL, pem);
  }
  const ok = createVerify("RSA-SHA1").update(stringToSign(env), "utf8").verify(pem, env.Signature, "base64");
  assert.ok(ok, `signature of ${env.MessageId} verifies against ${env.SigningCertURL}`);
  // A tampered message must not verify.
  const bad = createVerify("RSA-SHA1")
    .update(stringToSign({ ...env, Message: `${env.Message}x` }), "utf8")
    .verify(pem, env.Signature, "base64");
  assert.equal(bad, false, "a changed Message does not verify");
}

/** Parse and check the JSON envelope of a Notification on a standard topic. */
function parseEnvelope(body, { topicArn, subscriptionArn, messageId, message, subject }) {
  const env = JSON.parse(body);
  const expectedKeys = ["Type", "MessageId", "TopicArn"];
  if (subject !== undefined) expectedKeys.push("Subject");
  expectedKeys.push("Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL");
  if (env.MessageAttributes !== undefined) expectedKeys.push("MessageAttributes");
  // AWS's key order (JSON.parse keeps it).
  assert.deepEqual(Object.keys(env), expectedKeys);
  assert.equal(env.Type, "Notification");
  if (messageId !== undefined) assert.equal(env.MessageId, messageId);
  assert.match(env.MessageId, UUID_RE);
  assert.equal(env.TopicArn, topicArn);
  assert.equal(env.Message, message);
  assert.equal(env.Subject, subject);
  assert.match(env.Timestamp, TIMESTAMP_RE);
  assert.ok(Math.abs(Date.parse(env.Timestamp) - Date.now()) < 60_000, `Timestamp ${env.Timestamp} is now`);
  assert.equal(env.SignatureVersion, "1");
  assert.match(env.SigningCertURL, /\/SimpleNotificationService-[0-9a-f]+\.pem$/);
  assert.ok(env.SigningCertURL.startsWith(`${server.endpoint}/`), env.SigningCertURL);
  const unsub = new URL(env.UnsubscribeURL);
  assert.equal(unsub.searchParams.get("Action"), "Unsubscribe");
  assert.equal(unsub.searchParams.get("SubscriptionArn"), subscriptionArn);
  return env;
}

/** Every topic ARN, following ListTopics' NextToken. */
async function listTopicArns() {
  const arns = [];
  let NextToken;
  for (let pages = 0; pages < 1_000; pages++) {
    const page = await sns.send(new ListTopicsCommand({ NextToken }));
    assert.equal(page.$metadata.httpStatusCode, 200);
    assert.ok(page.Topics.length <= 100, `page of ${page.Topics.length} topics`);
    arns.push(...page.Topics.map((t) => t.TopicArn));
    NextToken = page.NextToken;
    if (!NextToken) return arns;
  }
  throw new Error("ListTopics: too many pages");
}

/** A FIFO topic and a FIFO queue subscribed to it (envelope delivery). */
async function fifoPair(prefix, topicAttributes = {}) {
  const topic = await newTopic(prefix, { fifo: true, Attributes: topicAttributes });
  const queue = await newQueue(`${prefix}-q`, { fifo: true });
  const sub = await subscribeQueue(topic.arn, queue);
  return { topic, queue, sub };
}

describe("topics", () => {
  it("CreateTopic (idempotent), GetTopicAttributes, ListTopics", async () => {
    const topic = await newTopic("pbx-sns-topic", { Attributes: { DisplayName: "Postbox topic" } });
    // The same name again (no attributes, or the same ones): the same ARN.
    for (const Attributes of [undefined, { DisplayName: "Postbox topic" }]) {
      const again = await sns.send(new CreateTopicCommand({ Name: topic.name, Attributes }));
      assert.equal(again.TopicArn, topic.arn);
    }

    const { Attributes: a } = await sns.send(new GetTopicAttributesCommand({ TopicArn: topic.arn }));
    assert.equal(a.TopicArn, topic.arn);
    assert.equal(a.Owner, ACCOUNT_ID);
    assert.equal(a.DisplayName, "Postbox topic");
    assert.equal(a.SubscriptionsConfirmed, "0");
    assert.equal(a.SubscriptionsPending, "0");
    assert.equal(a.SubscriptionsDeleted, "0");
    assert.equal(a.FifoTopic, undefined);
    const policy = JSON.parse(a.Policy);
    assert.equal(policy.Version, "2008-10-17");
    assert.equal(policy.Statement[0].Resource, topic.arn);
    assert.ok(policy.Statement[0].Action.includes("SNS:Publish"), a.Policy);
    const delivery = JSON.parse(a.EffectiveDeliveryPolicy);
    assert.equal(delivery.http.defaultHealthyRetryPolicy.numRetries, 3);

    const arns = await listTopicArns();
    assert.ok(arns.includes(topic.arn), `${topic.arn} in ${JSON.stringify(arns)}`);
    assert.equal(new Set(arns).size, arns.length, "no topic listed twice");
  });

  it("ListTopics pages hold at most 100 topics and NextToken reaches the rest", async () => {
    const created = [];
    for (let i = 0; i < 105; i += 15) {
      const batch = Array.from({ length: Math.min(15, 105 - i) }, () => newTopic("pbx-sns-page"));
      created.push(...(await Promise.all(batch)).map((t) => t.arn));
    }
    const first = await sns.send(new ListTopicsCommand({}));
    assert.equal(first.Topics.length, 100);
    assert.ok(first.NextToken, "a NextToken after a full page");
    const arns = await listTopicArns();
    for (const arn of created) assert.ok(arns.includes(arn), `${arn} listed`);
    for (const arn of created) await sns.send(new DeleteTopicCommand({ TopicArn: arn }));
  });

  it("FIFO topic: CreateTopic with FifoTopic and ContentBasedDeduplication", async () => {
    const topic = await newTopic("pbx-sns-fifo", {
      fifo: true,
      Attributes: { ContentBasedDeduplication: "true" },
    });
    assert.ok(topic.arn.endsWith(".fifo"));
    const { Attributes: a } = await sns.send(new GetTopicAttributesCommand({ TopicArn: topic.arn }));
    assert.equal(a.FifoTopic, "true");
    assert.equal(a.ContentBasedDeduplication, "true");
    assert.equal(a.TopicArn, topic.arn);
    // A FIFO name without FifoTopic=true is not a valid topic name.
    await rejectsWith(
      sns.send(new CreateTopicCommand({ Name: `${uniqueName("pbx-sns-nofifo")}.fifo` })),
      "InvalidParameterException",
      400,
      "Invalid parameter: Topic Name",
    );
  });

  it("tags: CreateTopic with Tags, TagResource, ListTagsForResource, UntagResource", async () => {
    const topic = await newTopic("pbx-sns-tags", { Tags: [{ Key: "env", Value: "test" }] });
    const tags = async () => {
      const out = await sns.send(new ListTagsForResourceCommand({ ResourceArn: topic.arn }));
      return [...out.Tags].sort((x, y) => x.Key.localeCompare(y.Key));
    };
    assert.deepEqual(await tags(), [{ Key: "env", Value: "test" }]);

    await sns.send(
      new TagResourceCommand({
        ResourceArn: topic.arn,
        Tags: [
          { Key: "team", Value: "queues" },
          { Key: "env", Value: "prod" }, // overwrites
          { Key: "empty", Value: "" },
        ],
      }),
    );
    assert.deepEqual(await tags(), [
      { Key: "empty", Value: "" },
      { Key: "env", Value: "prod" },
      { Key: "team", Value: "queues" },
    ]);

    await sns.send(new UntagResourceCommand({ ResourceArn: topic.arn, TagKeys: ["env", "empty"] }));
    assert.deepEqual(await tags(), [{ Key: "team", Value: "queues" }]);
  });
});

describe("publish to SQS subscriptions", () => {
  it("envelope and raw delivery with String/Number/Binary attributes; signature verifies", async () => {
    const topic = await newTopic("pbx-sns-pub");
    const qEnv = await newQueue("pbx-sns-env");
    const qRaw = await newQueue("pbx-sns-raw");
    const subEnv = await subscribeQueue(topic.arn, qEnv);
    const subRaw = await subscribeQueue(topic.arn, qRaw, { RawMessageDelivery: "true" });

    // Subscribing the same queue again returns the existing subscription.
    assert.equal(await subscribeQueue(topic.arn, qEnv), subEnv);

    const { Attributes: sa } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subRaw }));
    assert.equal(sa.SubscriptionArn, subRaw);
    assert.equal(sa.TopicArn, topic.arn);
    assert.equal(sa.Protocol, "sqs");
    assert.equal(sa.Endpoint, qRaw.arn);
    assert.equal(sa.Owner, ACCOUNT_ID);
    assert.equal(sa.RawMessageDelivery, "true");
    assert.equal(sa.PendingConfirmation, "false");
    assert.equal(sa.ConfirmationWasAuthenticated, "true");
    const { Attributes: se } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subEnv }));
    assert.equal(se.RawMessageDelivery, "false");

    const { Attributes: ta } = await sns.send(new GetTopicAttributesCommand({ TopicArn: topic.arn }));
    assert.equal(ta.SubscriptionsConfirmed, "2");
    assert.equal(ta.SubscriptionsPending, "0");

    const listed = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topic.arn }));
    const bySub = Object.fromEntries(listed.Subscriptions.map((s) => [s.SubscriptionArn, s]));
    assert.deepEqual(Object.keys(bySub).sort(), [subEnv, subRaw].sort());
    assert.deepEqual(bySub[subRaw], {
      SubscriptionArn: subRaw,
      Owner: ACCOUNT_ID,
      Protocol: "sqs",
      Endpoint: qRaw.arn,
      TopicArn: topic.arn,
    });
    assert.equal(bySub[subEnv].Endpoint, qEnv.arn);
    assert.equal(listed.NextToken, undefined);

    const message = "hello from SNS \u00e9\u4e2d \"quoted\" / back\\slash\nnext line";
    const subject = "Greetings";
    const binary = new Uint8Array([0, 1, 2, 0xfe, 0xff]);
    const published = await sns.send(
      new PublishCommand({
        TopicArn: topic.arn,
        Message: message,
        Subject: subject,
        MessageAttributes: {
          color: { DataType: "String", StringValue: "red" },
          price: { DataType: "Number", StringValue: "42.5" },
          blob: { DataType: "Binary", BinaryValue: binary },
        },
      }),
    );
    assert.equal(published.$metadata.httpStatusCode, 200);
    assert.match(published.MessageId, UUID_RE);
    assert.equal(published.SequenceNumber, undefined);

    // Envelope delivery: one JSON document, no SQS message attributes.
    const [envMsg] = await drain(qEnv, 1);
    assert.equal(envMsg.MessageAttributes, undefined);
    const env = parseEnvelope(envMsg.Body, {
      topicArn: topic.arn,
      subscriptionArn: subEnv,
      messageId: published.MessageId,
      message,
      subject,
    });
    assert.deepEqual(env.MessageAttributes, {
      color: { Type: "String", Value: "red" },
      price: { Type: "Number", Value: "42.5" },
      blob: { Type: "Binary", Value: Buffer.from(binary).toString("base64") },
    });
    // AWS's layout: two-space indent and " : " between key and value.
    assert.ok(envMsg.Body.startsWith('{\n  "Type" : "Notification",\n  "MessageId" : "'), envMsg.Body);
    await assertSignatureValid(env);

    // Raw delivery: the message itself, SNS attributes as SQS attributes.
    const [raw] = await drain(qRaw, 1);
    assert.equal(raw.Body, message);
    const expectedAttrs = {
      color: { DataType: "String", StringValue: "red" },
      price: { DataType: "Number", StringValue: "42.5" },
      blob: { DataType: "Binary", BinaryValue: binary },
    };
    assert.deepEqual(
      Object.keys(raw.MessageAttributes ?? {}).sort(),
      Object.keys(expectedAttrs).sort(),
      JSON.stringify(raw.MessageAttributes),
    );
    assert.equal(raw.MessageAttributes.color.DataType, "String");
    assert.equal(raw.MessageAttributes.color.StringValue, "red");
    assert.equal(raw.MessageAttributes.price.DataType, "Number");
    assert.equal(raw.MessageAttributes.price.StringValue, "42.5");
    assert.equal(raw.MessageAttributes.blob.DataType, "Binary");
    assert.deepEqual(new Uint8Array(raw.MessageAttributes.blob.BinaryValue), binary);
    assert.equal(raw.MD5OfMessageAttributes, md5OfMessageAttributes(expectedAttrs));

    // Without Subject or attributes: neither key is in the envelope, and the
    // signature covers no Subject.
    const plain = await sns.send(new PublishCommand({ TopicArn: topic.arn, Message: "plain" }));
    const [envPlain] = await drain(qEnv, 1);
    const env2 = parseEnvelope(envPlain.Body, {
      topicArn: topic.arn,
      subscriptionArn: subEnv,
      messageId: plain.MessageId,
      message: "plain",
      subject: undefined,
    });
    assert.equal(env2.MessageAttributes, undefined);
    await assertSignatureValid(env2);
    const [rawPlain] = await drain(qRaw, 1);
    assert.equal(rawPlain.Body, "plain");
    assert.equal(rawPlain.MessageAttributes, undefined);
  });

  it("PublishBatch with 3 entries reaches both subscriptions", async () => {
    const topic = await newTopic("pbx-sns-batch");
    const qEnv = await newQueue("pbx-sns-batch-env");
    const qRaw = await newQueue("pbx-sns-batch-raw");
    const subEnv = await subscribeQueue(topic.arn, qEnv);
    await subscribeQueue(topic.arn, qRaw, { RawMessageDelivery: "true" });

    const entries = [
      { Id: "e1", Message: "batch one" },
      { Id: "e2", Message: "batch two", Subject: "second" },
      {
        Id: "e3",
        Message: "batch three",
        MessageAttributes: { n: { DataType: "Number", StringValue: "3" } },
      },
    ];
    const out = await sns.send(new PublishBatchCommand({ TopicArn: topic.arn, PublishBatchRequestEntries: entries }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.Successful.length, 3, JSON.stringify(out));
    assert.deepEqual(out.Failed ?? [], []);
    assert.deepEqual(out.Successful.map((e) => e.Id).sort(), ["e1", "e2", "e3"]);
    const idOf = Object.fromEntries(out.Successful.map((e) => [e.Id, e.MessageId]));
    for (const e of out.Successful) {
      assert.match(e.MessageId, UUID_RE);
      assert.equal(e.SequenceNumber, undefined);
    }
    assert.equal(new Set(Object.values(idOf)).size, 3);

    const envs = (await drain(qEnv, 3)).map((m) => JSON.parse(m.Body));
    const envById = Object.fromEntries(envs.map((e) => [e.MessageId, e]));
    for (const entry of entries) {
      const e = envById[idOf[entry.Id]];
      assert.ok(e, `envelope of ${entry.Id}`);
      parseEnvelope(JSON.stringify(e), {
        topicArn: topic.arn,
        subscriptionArn: subEnv,
        messageId: idOf[entry.Id],
        message: entry.Message,
        subject: entry.Subject,
      });
      await assertSignatureValid(e);
    }
    assert.deepEqual(envById[idOf.e3].MessageAttributes, { n: { Type: "Number", Value: "3" } });

    const raws = await drain(qRaw, 3);
    assert.deepEqual(raws.map((m) => m.Body).sort(), ["batch one", "batch three", "batch two"]);
    const three = raws.find((m) => m.Body === "batch three");
    assert.deepEqual(three.MessageAttributes, { n: { DataType: "Number", StringValue: "3" } });
  });

  it("filter policy set with SetSubscriptionAttributes: only matching messages arrive", async () => {
    const topic = await newTopic("pbx-sns-filter");
    const qAll = await newQueue("pbx-sns-filter-all");
    const qRed = await newQueue("pbx-sns-filter-red");
    await subscribeQueue(topic.arn, qAll, { RawMessageDelivery: "true" });
    const subRed = await subscribeQueue(topic.arn, qRed, { RawMessageDelivery: "true" });

    const policy = JSON.stringify({ color: ["red"], price: [{ numeric: [">", 10] }] });
    await sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn: subRed,
        AttributeName: "FilterPolicy",
        AttributeValue: policy,
      }),
    );
    const { Attributes: sa } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subRed }));
    assert.deepEqual(JSON.parse(sa.FilterPolicy), JSON.parse(policy));
    assert.equal(sa.FilterPolicyScope, "MessageAttributes");

    const attrs = (color, price) => ({
      ...(color && { color: { DataType: "String", StringValue: color } }),
      ...(price !== undefined && { price: { DataType: "Number", StringValue: String(price) } }),
    });
    const cases = [
      ["red cheap", attrs("red", 5), false],
      ["red dear", attrs("red", 50), true],
      ["blue dear", attrs("blue", 50), false],
      ["no attributes", undefined, false],
      ["red no price", attrs("red"), false],
      ["red dear again", attrs("red", 10.5), true],
    ];
    for (const [Message, MessageAttributes] of cases) {
      await sns.send(new PublishCommand({ TopicArn: topic.arn, Message, MessageAttributes }));
    }
    const all = await drain(qAll, cases.length);
    assert.deepEqual(all.map((m) => m.Body).sort(), cases.map((c) => c[0]).sort());
    const red = await drain(qRed, cases.filter((c) => c[2]).length, { quietMs: 1_000 });
    assert.deepEqual(
      red.map((m) => m.Body).sort(),
      cases.filter((c) => c[2]).map((c) => c[0]).sort(),
    );

    // Clearing the filter policy lets everything through again.
    await sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn: subRed,
        AttributeName: "FilterPolicy",
        AttributeValue: "",
      }),
    );
    const { Attributes: cleared } = await sns.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn: subRed }),
    );
    assert.equal(cleared.FilterPolicy, undefined);
    assert.equal(cleared.FilterPolicyScope, undefined);
    await sns.send(new PublishCommand({ TopicArn: topic.arn, Message: "unfiltered" }));
    assert.deepEqual((await drain(qRed, 1)).map((m) => m.Body), ["unfiltered"]);
    await drain(qAll, 1, { quietMs: 0 });
  });

  it("FIFO topic to FIFO queue: SequenceNumber, order within each group", async () => {
    const { topic, queue, sub } = await fifoPair("pbx-sns-fifo-order");
    const n = 6;
    const seqs = [];
    const ids = [];
    for (let i = 0; i < n; i++) {
      const out = await sns.send(
        new PublishCommand({
          TopicArn: topic.arn,
          Message: `fifo ${i}`,
          MessageGroupId: i % 2 ? "g-odd" : "g-even",
          MessageDeduplicationId: `d-${i}`,
        }),
      );
      assert.match(out.MessageId, UUID_RE);
      assert.match(out.SequenceNumber ?? "", SEQ_RE, `SequenceNumber ${out.SequenceNumber}`);
      seqs.push(out.SequenceNumber);
      ids.push(out.MessageId);
    }
    for (let i = 1; i < n; i++) assert.ok(BigInt(seqs[i]) > BigInt(seqs[i - 1]), `${seqs[i]} > ${seqs[i - 1]}`);

    const got = await drain(queue, n);
    const envs = got.map((m) => JSON.parse(m.Body));
    for (const group of ["g-even", "g-odd"]) {
      const inGroup = got.filter((m) => m.Attributes.MessageGroupId === group).map((m) => JSON.parse(m.Body).Message);
      const expected = Array.from({ length: n }, (_, i) => i)
        .filter((i) => (i % 2 ? "g-odd" : "g-even") === group)
        .map((i) => `fifo ${i}`);
      assert.deepEqual(inGroup, expected, `order of ${group}`);
    }
    for (const m of got) {
      const env = JSON.parse(m.Body);
      const i = Number(env.Message.split(" ")[1]);
      assert.equal(m.Attributes.MessageDeduplicationId, `d-${i}`);
      // FIFO envelope: SequenceNumber after MessageId, and no signature fields.
      assert.deepEqual(Object.keys(env), [
        "Type",
        "MessageId",
        "SequenceNumber",
        "TopicArn",
        "Message",
        "Timestamp",
        "UnsubscribeURL",
      ]);
      assert.equal(env.Type, "Notification");
      assert.equal(env.MessageId, ids[i]);
      assert.equal(env.SequenceNumber, seqs[i]);
      assert.equal(env.TopicArn, topic.arn);
      assert.equal(new URL(env.UnsubscribeURL).searchParams.get("SubscriptionArn"), sub);
    }
    assert.equal(envs.length, n);
  });

  it("FIFO topic with content-based deduplication; PublishBatch returns SequenceNumbers", async () => {
    const { topic, queue } = await fifoPair("pbx-sns-fifo-cbd", { ContentBasedDeduplication: "true" });
    const out = await sns.send(
      new PublishBatchCommand({
        TopicArn: topic.arn,
        PublishBatchRequestEntries: [
          { Id: "a", Message: "first", MessageGroupId: "g" },
          { Id: "b", Message: "second", MessageGroupId: "g" },
          { Id: "c", Message: "third", MessageGroupId: "g" },
        ],
      }),
    );
    assert.deepEqual(out.Failed ?? [], []);
    assert.equal(out.Successful.length, 3);
    for (const e of out.Successful) assert.match(e.SequenceNumber ?? "", SEQ_RE);
    const seqs = ["a", "b", "c"].map((id) => BigInt(out.Successful.find((e) => e.Id === id).SequenceNumber));
    assert.ok(seqs[0] < seqs[1] && seqs[1] < seqs[2], `increasing: ${seqs}`);

    const got = await drain(queue, 3);
    assert.deepEqual(got.map((m) => JSON.parse(m.Body).Message), ["first", "second", "third"]);
    for (const m of got) {
      assert.equal(m.Attributes.MessageGroupId, "g");
      assert.match(m.Attributes.MessageDeduplicationId, /^[0-9a-f]{64}$/);
    }
  });

  // A repeated MessageDeduplicationId (or, with ContentBasedDeduplication,
  // body) within 5 minutes returns the original MessageId and SequenceNumber
  // and is delivered nowhere, not even to a standard queue subscribed to the
  // FIFO topic (which has no deduplication of its own).
  it("FIFO topic deduplication: a duplicate returns the original ids and is not delivered", async () => {
    const topic = await newTopic("pbx-sns-fifo-dedup", {
      fifo: true,
      Attributes: { ContentBasedDeduplication: "true" },
    });
    const fifoQueue = await newQueue("pbx-sns-fifo-dedup-q", { fifo: true });
    const stdQueue = await newQueue("pbx-sns-fifo-dedup-std");
    await subscribeQueue(topic.arn, fifoQueue, { RawMessageDelivery: "true" });
    await subscribeQueue(topic.arn, stdQueue, { RawMessageDelivery: "true" });
    const publish = (Message, MessageDeduplicationId = undefined) =>
      sns.send(new PublishCommand({ TopicArn: topic.arn, Message, MessageGroupId: "g", MessageDeduplicationId }));

    const first = await publish("once", "d-1");
    const byId = await publish("once, again", "d-1");
    const second = await publish("by content");
    const byContent = await publish("by content");

    // Collect every difference from AWS before failing.
    const failures = [];
    if (byId.MessageId !== first.MessageId || byId.SequenceNumber !== first.SequenceNumber) {
      failures.push(`same MessageDeduplicationId: ${JSON.stringify([first, byId].map(idsOf))}`);
    }
    if (byContent.MessageId !== second.MessageId || byContent.SequenceNumber !== second.SequenceNumber) {
      failures.push(`same body (content-based): ${JSON.stringify([second, byContent].map(idsOf))}`);
    }
    assert.deepEqual((await drain(fifoQueue, 2)).map((m) => m.Body), ["once", "by content"]);
    const stdBodies = [];
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline) {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: stdQueue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      stdBodies.push(...(out.Messages ?? []).map((m) => m.Body));
    }
    if (stdBodies.length !== 2) failures.push(`standard queue received ${JSON.stringify(stdBodies.sort())}`);
    assert.deepEqual(failures, [], "duplicates get the original ids and are not delivered");
  });
});

const idsOf = (r) => ({ MessageId: r.MessageId, SequenceNumber: r.SequenceNumber });

describe("errors", () => {
  it("GetTopicAttributes and Publish on a missing topic are NotFoundException (404)", async () => {
    const missing = topicArnOf(uniqueName("pbx-sns-missing"));
    await rejectsWith(
      sns.send(new GetTopicAttributesCommand({ TopicArn: missing })),
      "NotFoundException",
      404,
      "Topic does not exist",
    );
    await rejectsWith(
      sns.send(new PublishCommand({ TopicArn: missing, Message: "x" })),
      "NotFoundException",
      404,
      "Topic does not exist",
    );
    await rejectsWith(
      sns.send(new SubscribeCommand({ TopicArn: missing, Protocol: "sqs", Endpoint: queueArn("pbx-sns-any") })),
      "NotFoundException",
      404,
      "Topic does not exist",
    );
    // Tag operations name it ResourceNotFound.
    await rejectsWith(
      sns.send(new ListTagsForResourceCommand({ ResourceArn: missing })),
      "ResourceNotFoundException",
      404,
      "Resource does not exist",
    );
    await rejectsWith(
      sns.send(new GetTopicAttributesCommand({ TopicArn: "not-an-arn" })),
      "InvalidParameterException",
      400,
      "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1",
    );
  });

  it("Publish errors: empty message, empty Subject, FIFO without MessageGroupId", async () => {
    const topic = await newTopic("pbx-sns-errors");
    await rejectsWith(
      sns.send(new PublishCommand({ TopicArn: topic.arn, Message: "" })),
      "InvalidParameterException",
      400,
      "Invalid parameter: Empty message",
    );
    await rejectsWith(
      sns.send(new PublishCommand({ TopicArn: topic.arn, Message: "m", Subject: "" })),
      "InvalidParameterException",
      400,
      "Invalid parameter: Subject",
    );
    const fifo = await newTopic("pbx-sns-errors-fifo", { fifo: true });
    await rejectsWith(
      sns.send(new PublishCommand({ TopicArn: fifo.arn, Message: "m", MessageDeduplicationId: "d" })),
      "InvalidParameterException",
      400,
      "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
    );
  });
});

describe("unsubscribe and delete", () => {
  it("Unsubscribe stops delivery; DeleteTopic removes the topic (both idempotent)", async () => {
    const topic = await newTopic("pbx-sns-del");
    const qKeep = await newQueue("pbx-sns-del-keep");
    const qGone = await newQueue("pbx-sns-del-gone");
    const subKeep = await subscribeQueue(topic.arn, qKeep, { RawMessageDelivery: "true" });
    const subGone = await subscribeQueue(topic.arn, qGone, { RawMessageDelivery: "true" });

    await sns.send(new UnsubscribeCommand({ SubscriptionArn: subGone }));
    await sns.send(new UnsubscribeCommand({ SubscriptionArn: subGone })); // again: no error
    const listed = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topic.arn }));
    assert.deepEqual(listed.Subscriptions.map((s) => s.SubscriptionArn), [subKeep]);
    await rejectsWith(
      sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subGone })),
      "NotFoundException",
      404,
      "Subscription does not exist",
    );

    await sns.send(new PublishCommand({ TopicArn: topic.arn, Message: "after unsubscribe" }));
    assert.deepEqual((await drain(qKeep, 1)).map((m) => m.Body), ["after unsubscribe"]);
    await drain(qGone, 0, { quietMs: 1_000 });

    await sns.send(new DeleteTopicCommand({ TopicArn: topic.arn }));
    await sns.send(new DeleteTopicCommand({ TopicArn: topic.arn })); // again: no error
    await rejectsWith(
      sns.send(new GetTopicAttributesCommand({ TopicArn: topic.arn })),
      "NotFoundException",
      404,
      "Topic does not exist",
    );
    assert.ok(!(await listTopicArns()).includes(topic.arn), "deleted topic is not listed");

    for (const q of [qKeep, qGone]) await sqs.send(new DeleteQueueCommand({ QueueUrl: q.url }));
  });
});
