// End-to-end tests of postbox with the AWS SDK for JavaScript v3
// (@aws-sdk/client-sqs, which speaks the JSON 1.0 protocol).
//
// Run: npm test (starts $POSTBOX_BIN, default <repo>/build/postbox), or with
// POSTBOX_ENDPOINT=http://127.0.0.1:<port> against a running server.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueueTagsCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  TagQueueCommand,
  UntagQueueCommand,
} from "@aws-sdk/client-sqs";

import {
  ACCOUNT_ID,
  credentials,
  REGION,
  expectedQueueUrl,
  makeClient,
  md5Hex,
  md5OfMessageAttributes,
  queueCounts as queueCountsOf,
  rejectsWith as rejectsWithStatus,
  uniqueName,
  useServer,
  waitFor,
  withTimeout,
} from "./harness.mjs";

let server;
let sqs;
useServer((s, client) => {
  server = s;
  sqs = client;
});

/** Create a fresh queue and return its URL. */
async function newQueue(prefix, Attributes = undefined) {
  const QueueName = uniqueName(prefix);
  const out = await sqs.send(new CreateQueueCommand({ QueueName, Attributes }));
  assert.equal(out.QueueUrl, expectedQueueUrl(server.endpoint, QueueName));
  return out.QueueUrl;
}

const queueCounts = (QueueUrl) => queueCountsOf(sqs, QueueUrl);

/** Receive until `n` messages were collected (bounded in time). */
async function receiveN(QueueUrl, n, extra = {}, timeoutMs = 15_000) {
  const got = [];
  await waitFor(
    async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: Math.min(10, n - got.length),
          WaitTimeSeconds: 1,
          ...extra,
        }),
      );
      got.push(...(out.Messages ?? []));
      return got.length >= n;
    },
    { timeoutMs, intervalMs: 0, what: `${n} messages on ${QueueUrl}` },
  );
  assert.equal(got.length, n, "received more messages than were sent");
  return got;
}

// HTTP status of each error, as in the SQS API model (the SDK's schemas,
// botocore's service-2.json and the API reference agree). moto 5.2 answers
// 400 for ReceiptHandleIsInvalid, so those assertions fail there.
const ERROR_STATUS = {
  QueueDoesNotExist: 400,
  EmptyBatchRequest: 400,
  TooManyEntriesInBatchRequest: 400,
  BatchEntryIdsNotDistinct: 400,
  PurgeQueueInProgress: 403,
  ReceiptHandleIsInvalid: 404,
};

/** assert.rejects with the SQS error name and its HTTP status. */
const rejectsWith = (promise, name) => rejectsWithStatus(promise, name, ERROR_STATUS[name]);

describe("queues", () => {
  it("create, get url, list, create again (idempotent), delete", async () => {
    const QueueName = uniqueName("lifecycle");
    const created = await sqs.send(new CreateQueueCommand({ QueueName }));
    assert.equal(created.$metadata.httpStatusCode, 200);
    const url = expectedQueueUrl(server.endpoint, QueueName);
    assert.equal(created.QueueUrl, url);

    const again = await sqs.send(new CreateQueueCommand({ QueueName }));
    assert.equal(again.QueueUrl, url, "CreateQueue with the same name and attributes returns the same URL");

    const got = await sqs.send(new GetQueueUrlCommand({ QueueName }));
    assert.equal(got.QueueUrl, url);

    const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: QueueName }));
    assert.deepEqual(listed.QueueUrls, [url]);

    const other = await newQueue("lifecycle-other");
    const all = await sqs.send(new ListQueuesCommand({}));
    assert.ok(all.QueueUrls.includes(url), "ListQueues without prefix includes the queue");
    assert.ok(all.QueueUrls.includes(other), "ListQueues without prefix includes the other queue");

    const del = await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    assert.equal(del.$metadata.httpStatusCode, 200);
    await rejectsWith(sqs.send(new GetQueueUrlCommand({ QueueName })), "QueueDoesNotExist");
    const after = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: QueueName }));
    assert.deepEqual(after.QueueUrls ?? [], []);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: other }));
  });

  it("queue attributes: get All, get some, set", async () => {
    const QueueName = uniqueName("attrs");
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName,
        Attributes: { VisibilityTimeout: "45", MessageRetentionPeriod: "86400", DelaySeconds: "0" },
      }),
    );

    const all = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }));
    const a = all.Attributes;
    assert.equal(a.VisibilityTimeout, "45");
    assert.equal(a.MessageRetentionPeriod, "86400");
    assert.equal(a.DelaySeconds, "0");
    assert.equal(a.QueueArn, `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${QueueName}`);
    assert.equal(a.ApproximateNumberOfMessages, "0");
    assert.equal(a.ApproximateNumberOfMessagesNotVisible, "0");
    assert.equal(a.ApproximateNumberOfMessagesDelayed, "0");
    assert.equal(a.MaximumMessageSize !== undefined, true, "MaximumMessageSize present");
    assert.equal(a.ReceiveMessageWaitTimeSeconds, "0");
    // Whole seconds, as AWS sends them (moto 5.2 sends a float here, so this
    // fails there).
    for (const k of ["CreatedTimestamp", "LastModifiedTimestamp"]) {
      assert.match(a[k] ?? "", /^\d+$/, `${k} is a number of seconds`);
      const secs = Number(a[k]);
      assert.ok(Math.abs(secs - Date.now() / 1000) < 300, `${k} is close to now`);
    }

    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl,
        Attributes: { VisibilityTimeout: "60", ReceiveMessageWaitTimeSeconds: "2", DelaySeconds: "1" },
      }),
    );
    const some = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ["VisibilityTimeout", "ReceiveMessageWaitTimeSeconds", "DelaySeconds"],
      }),
    );
    assert.deepEqual(some.Attributes, {
      VisibilityTimeout: "60",
      ReceiveMessageWaitTimeSeconds: "2",
      DelaySeconds: "1",
    });
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });

  it("tags: create with tags, tag, list, untag", async () => {
    const QueueName = uniqueName("tags");
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName, tags: { team: "postbox", env: "test" } }),
    );
    let listed = await sqs.send(new ListQueueTagsCommand({ QueueUrl }));
    assert.deepEqual(listed.Tags, { team: "postbox", env: "test" });

    await sqs.send(new TagQueueCommand({ QueueUrl, Tags: { env: "e2e", owner: "js" } }));
    listed = await sqs.send(new ListQueueTagsCommand({ QueueUrl }));
    assert.deepEqual(listed.Tags, { team: "postbox", env: "e2e", owner: "js" });

    await sqs.send(new UntagQueueCommand({ QueueUrl, TagKeys: ["team", "owner"] }));
    listed = await sqs.send(new ListQueueTagsCommand({ QueueUrl }));
    assert.deepEqual(listed.Tags, { env: "e2e" });

    await sqs.send(new UntagQueueCommand({ QueueUrl, TagKeys: ["env"] }));
    listed = await sqs.send(new ListQueueTagsCommand({ QueueUrl }));
    assert.deepEqual(listed.Tags ?? {}, {});
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });
});

describe("messages", () => {
  it("send with String/Number/Binary attributes, receive with All attributes", async () => {
    const QueueUrl = await newQueue("send");
    // Non-ASCII body: MD5 must be over the UTF-8 bytes.
    const body = "héllo wörld ✓ 🚀 <xml>&amp; \"quotes\"\n\ttab";
    const binary = Uint8Array.from([0, 1, 2, 0xfe, 0xff, 0x80, 10, 13]);
    const MessageAttributes = {
      "str-attr": { DataType: "String", StringValue: "hello, ünïcode" },
      NumAttr: { DataType: "Number", StringValue: "-12.5e3" },
      binAttr: { DataType: "Binary", BinaryValue: binary },
      "custom.attr": { DataType: "String.custom_type", StringValue: "x" },
    };
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body, MessageAttributes }));
    // The SDK already threw if MD5OfMessageBody were wrong; check it anyway.
    assert.equal(sent.MD5OfMessageBody, md5Hex(body));
    assert.equal(sent.MD5OfMessageAttributes, md5OfMessageAttributes(MessageAttributes));
    assert.match(sent.MessageId, /^[0-9a-f-]{36}$/i);

    const before = Date.now();
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 5,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    assert.equal(out.Messages?.length, 1);
    const m = out.Messages[0];
    assert.equal(m.MessageId, sent.MessageId);
    assert.equal(m.Body, body);
    assert.equal(m.MD5OfBody, md5Hex(body));
    assert.equal(typeof m.ReceiptHandle, "string");
    assert.ok(m.ReceiptHandle.length > 0);
    assert.equal(m.MD5OfMessageAttributes, sent.MD5OfMessageAttributes);

    assert.deepEqual(Object.keys(m.MessageAttributes).sort(), Object.keys(MessageAttributes).sort());
    assert.equal(m.MessageAttributes["str-attr"].DataType, "String");
    assert.equal(m.MessageAttributes["str-attr"].StringValue, "hello, ünïcode");
    assert.equal(m.MessageAttributes.NumAttr.DataType, "Number");
    assert.equal(m.MessageAttributes.NumAttr.StringValue, "-12.5e3");
    assert.equal(m.MessageAttributes.binAttr.DataType, "Binary");
    assert.deepEqual(Buffer.from(m.MessageAttributes.binAttr.BinaryValue), Buffer.from(binary));
    assert.equal(m.MessageAttributes["custom.attr"].DataType, "String.custom_type");
    assert.equal(m.MessageAttributes["custom.attr"].StringValue, "x");
    assert.equal(md5OfMessageAttributes(m.MessageAttributes), m.MD5OfMessageAttributes);

    const attrs = m.Attributes;
    assert.equal(attrs.ApproximateReceiveCount, "1");
    assert.ok(attrs.SenderId, "SenderId present");
    for (const k of ["SentTimestamp", "ApproximateFirstReceiveTimestamp"]) {
      assert.match(attrs[k] ?? "", /^\d+$/, `${k} is epoch millis`);
      assert.ok(Math.abs(Number(attrs[k]) - before) < 120_000, `${k} is close to now`);
    }

    // Selected message attributes only, and the legacy AttributeNames field.
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
    const again = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        WaitTimeSeconds: 5,
        MessageAttributeNames: ["NumAttr"],
        AttributeNames: ["ApproximateReceiveCount"],
      }),
    );
    assert.equal(again.Messages?.length, 1);
    const m2 = again.Messages[0];
    assert.deepEqual(Object.keys(m2.MessageAttributes ?? {}), ["NumAttr"]);
    assert.equal(m2.MD5OfMessageAttributes, md5OfMessageAttributes({ NumAttr: MessageAttributes.NumAttr }));
    assert.deepEqual(m2.Attributes, { ApproximateReceiveCount: "2" });

    // No attribute names asked for: no attributes returned.
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: m2.ReceiptHandle, VisibilityTimeout: 0 }));
    const plain = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5 }));
    assert.equal(plain.Messages?.length, 1);
    assert.equal(plain.Messages[0].MessageAttributes, undefined);
    assert.equal(plain.Messages[0].Attributes, undefined);
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });

  it("send batch, then receive all of it", async () => {
    const QueueUrl = await newQueue("batch");
    const Entries = [
      { Id: "a", MessageBody: "first" },
      { Id: "b", MessageBody: "second ✓", MessageAttributes: { k: { DataType: "Number", StringValue: "42" } } },
      { Id: "c-3_x", MessageBody: JSON.stringify({ n: 3, s: "third" }) },
    ];
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries }));
    assert.equal(out.Failed?.length ?? 0, 0, JSON.stringify(out.Failed));
    assert.equal(out.Successful.length, 3);
    const byId = Object.fromEntries(out.Successful.map((s) => [s.Id, s]));
    assert.deepEqual(Object.keys(byId).sort(), ["a", "b", "c-3_x"]);
    for (const e of Entries) {
      assert.equal(byId[e.Id].MD5OfMessageBody, md5Hex(e.MessageBody));
      assert.match(byId[e.Id].MessageId, /^[0-9a-f-]{36}$/i);
    }
    assert.equal(byId.b.MD5OfMessageAttributes, md5OfMessageAttributes(Entries[1].MessageAttributes));
    assert.equal(byId.a.MD5OfMessageAttributes, undefined);

    const got = await receiveN(QueueUrl, 3, { MessageAttributeNames: ["All"] });
    const bodies = Object.fromEntries(got.map((m) => [m.MessageId, m.Body]));
    for (const e of Entries) assert.equal(bodies[byId[e.Id].MessageId], e.MessageBody);
    const mb = got.find((m) => m.MessageId === byId.b.MessageId);
    assert.equal(mb.MessageAttributes.k.StringValue, "42");
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });

  it("long poll returns empty after WaitTimeSeconds and wakes up when a message arrives", async () => {
    const QueueUrl = await newQueue("longpoll");

    let t0 = Date.now();
    const empty = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    let elapsed = Date.now() - t0;
    assert.equal(empty.Messages?.length ?? 0, 0);
    assert.ok(elapsed >= 900, `empty long poll waited only ${elapsed} ms`);
    assert.ok(elapsed < 5_000, `empty long poll took ${elapsed} ms`);

    t0 = Date.now();
    const poll = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }));
    await new Promise((r) => setTimeout(r, 1_000));
    // Use a second client so the send is not queued behind the poll.
    const sender = makeClient(server.endpoint);
    try {
      await sender.send(new SendMessageCommand({ QueueUrl, MessageBody: "wake up" }));
    } finally {
      sender.destroy();
    }
    const out = await withTimeout(poll, 10_000, "long poll to wake up after a send");
    elapsed = Date.now() - t0;
    assert.equal(out.Messages?.length, 1);
    assert.equal(out.Messages[0].Body, "wake up");
    assert.ok(elapsed >= 900, `long poll returned after ${elapsed} ms, before the send`);
    assert.ok(elapsed < 8_000, `long poll took ${elapsed} ms to wake up`);
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });

  it("delete message", async () => {
    const QueueUrl = await newQueue("delete");
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "to delete" }));
    const [m] = await receiveN(QueueUrl, 1);
    assert.deepEqual(await queueCounts(QueueUrl), { visible: 0, notVisible: 1 });
    const del = await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
    assert.equal(del.$metadata.httpStatusCode, 200);
    assert.deepEqual(await queueCounts(QueueUrl), { visible: 0, notVisible: 0 });
    const none = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }));
    assert.equal(none.Messages?.length ?? 0, 0);
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });

  it("delete message batch", async () => {
    const QueueUrl = await newQueue("delbatch");
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [1, 2, 3, 4].map((i) => ({ Id: `m${i}`, MessageBody: `body ${i}` })),
      }),
    );
    const got = await receiveN(QueueUrl, 4);
    const out = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: got.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    assert.equal(out.Failed?.length ?? 0, 0, JSON.stringify(out.Failed));
    assert.deepEqual(out.Successful.map((s) => s.Id).sort(), ["d0", "d1", "d2", "d3"]);
    assert.deepEqual(await queueCounts(QueueUrl), { visible: 0, notVisible: 0 });

    // A bad entry fails on its own; the good one still succeeds.
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "one more" }));
    const [m] = await receiveN(QueueUrl, 1);
    const mixed = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: "good", ReceiptHandle: m.ReceiptHandle },
          { Id: "bad", ReceiptHandle: "not-a-receipt-handle" },
        ],
      }),
    );
    assert.deepEqual(mixed.Successful.map((s) => s.Id), ["good"]);
    assert.equal(mixed.Failed.length, 1);
    assert.equal(mixed.Failed[0].Id, "bad");
    assert.equal(mixed.Failed[0].Code, "ReceiptHandleIsInvalid");
    assert.equal(mixed.Failed[0].SenderFault, true);
    assert.deepEqual(await queueCounts(QueueUrl), { visible: 0, notVisible: 0 });
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });

  it("change message visibility (single and batch)", async () => {
    const QueueUrl = await newQueue("visibility", { VisibilityTimeout: "30" });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "vis" }));
    const [m] = await receiveN(QueueUrl, 1);
    const hidden = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }));
    assert.equal(hidden.Messages?.length ?? 0, 0, "message is invisible after receive");

    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
    const [m2] = await receiveN(QueueUrl, 1, { MessageSystemAttributeNames: ["ApproximateReceiveCount"] });
    assert.equal(m2.MessageId, m.MessageId);
    assert.equal(m2.Attributes.ApproximateReceiveCount, "2");

    // Visibility extended to 1 s: the message comes back by itself.
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: m2.ReceiptHandle, VisibilityTimeout: 1 }));
    const t0 = Date.now();
    const [m3] = await receiveN(QueueUrl, 1, { WaitTimeSeconds: 5 }, 10_000);
    assert.equal(m3.MessageId, m.MessageId);
    assert.ok(Date.now() - t0 >= 500, "message stayed invisible for about 1 s");

    const batch = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl,
        Entries: [
          { Id: "ok", ReceiptHandle: m3.ReceiptHandle, VisibilityTimeout: 0 },
          { Id: "bad", ReceiptHandle: "garbage", VisibilityTimeout: 0 },
        ],
      }),
    );
    assert.deepEqual(batch.Successful.map((s) => s.Id), ["ok"]);
    assert.equal(batch.Failed.length, 1);
    assert.equal(batch.Failed[0].Id, "bad");
    assert.equal(batch.Failed[0].Code, "ReceiptHandleIsInvalid");
    const [m4] = await receiveN(QueueUrl, 1);
    assert.equal(m4.MessageId, m.MessageId);
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });

  it("purge, and a second purge within 60 s is PurgeQueueInProgress", async () => {
    const QueueUrl = await newQueue("purge");
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [1, 2, 3].map((i) => ({ Id: `p${i}`, MessageBody: `purge me ${i}` })),
      }),
    );
    await receiveN(QueueUrl, 1); // one in flight, two visible
    const purged = await sqs.send(new PurgeQueueCommand({ QueueUrl }));
    assert.equal(purged.$metadata.httpStatusCode, 200);
    await waitFor(async () => {
      const c = await queueCounts(QueueUrl);
      return c.visible === 0 && c.notVisible === 0;
    }, { timeoutMs: 10_000, what: "purge to empty the queue" });
    const none = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }));
    assert.equal(none.Messages?.length ?? 0, 0);

    // AWS allows one PurgeQueue per queue every 60 s. (moto 5.2 does not
    // implement this: this assertion fails there.)
    await rejectsWith(sqs.send(new PurgeQueueCommand({ QueueUrl })), "PurgeQueueInProgress");

    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });
});

describe("errors", () => {
  it("nonexistent queue is QueueDoesNotExist (HTTP 400)", async () => {
    const QueueName = uniqueName("missing");
    await assert.rejects(sqs.send(new GetQueueUrlCommand({ QueueName })), (err) => {
      assert.ok(err instanceof QueueDoesNotExist, `${err.name} is a QueueDoesNotExist`);
      assert.equal(err.name, "QueueDoesNotExist");
      assert.equal(err.$metadata.httpStatusCode, 400);
      return true;
    });
    const QueueUrl = expectedQueueUrl(server.endpoint, QueueName);
    await rejectsWith(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "x" })), "QueueDoesNotExist");
    await rejectsWith(sqs.send(new ReceiveMessageCommand({ QueueUrl })), "QueueDoesNotExist");
    await rejectsWith(sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] })), "QueueDoesNotExist");
    await rejectsWith(sqs.send(new DeleteQueueCommand({ QueueUrl })), "QueueDoesNotExist");
    await rejectsWith(sqs.send(new PurgeQueueCommand({ QueueUrl })), "QueueDoesNotExist");
  });

  it("invalid receipt handle is ReceiptHandleIsInvalid", async () => {
    const QueueUrl = await newQueue("badrh");
    await rejectsWith(
      sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: "this-is-not-a-receipt-handle" })),
      "ReceiptHandleIsInvalid",
    );
    await rejectsWith(
      sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: "nope", VisibilityTimeout: 0 })),
      "ReceiptHandleIsInvalid",
    );
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });

  it("batch errors: EmptyBatchRequest, TooManyEntriesInBatchRequest, BatchEntryIdsNotDistinct", async () => {
    const QueueUrl = await newQueue("batcherr");
    await rejectsWith(sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [] })), "EmptyBatchRequest");
    await rejectsWith(sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: [] })), "EmptyBatchRequest");

    const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: `m${i}` }));
    await rejectsWith(
      sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: eleven })),
      "TooManyEntriesInBatchRequest",
    );
    await rejectsWith(
      sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          // Distinct (invalid) handles, so only the count is wrong. (moto
          // 5.2 does not limit DeleteMessageBatch to 10 entries: this
          // assertion fails there.)
          Entries: eleven.map((e) => ({ Id: e.Id, ReceiptHandle: `x${e.Id}` })),
        }),
      ),
      "TooManyEntriesInBatchRequest",
    );

    await rejectsWith(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: [
            { Id: "same", MessageBody: "1" },
            { Id: "same", MessageBody: "2" },
          ],
        }),
      ),
      "BatchEntryIdsNotDistinct",
    );
    // (moto 5.2 checks DeleteMessageBatch for repeated receipt handles, not
    // repeated Ids: this assertion fails there.)
    await rejectsWith(
      sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: [
            { Id: "dup", ReceiptHandle: "handle-1" },
            { Id: "dup", ReceiptHandle: "handle-2" },
          ],
        }),
      ),
      "BatchEntryIdsNotDistinct",
    );
    // None of the rejected batches enqueued anything.
    assert.deepEqual(await queueCounts(QueueUrl), { visible: 0, notVisible: 0 });
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });
});

describe("client without endpoint", () => {
  it("uses the origin of QueueUrl (useQueueUrlAsEndpoint)", async () => {
    const QueueUrl = await newQueue("noendpoint");
    const warnings = [];
    // No `endpoint`: the SDK would resolve https://sqs.us-east-1.amazonaws.com
    // and, because QueueUrl has another origin, send to the QueueUrl's origin
    // instead (logging a warning). Only commands that carry a QueueUrl may be
    // sent with this client, or it would try to reach AWS.
    const bare = new SQSClient({
      region: REGION,
      credentials: credentials(),
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
      logger: { trace() {}, debug() {}, info() {}, warn: (m) => warnings.push(String(m)), error() {} },
    });
    try {
      const body = "sent without an endpoint ✓";
      const sent = await bare.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
      assert.equal(sent.MD5OfMessageBody, md5Hex(body));
      assert.ok(
        warnings.some((w) => w.includes("using QueueUrl host as endpoint")),
        `SDK redirected to QueueUrl's origin (warnings: ${JSON.stringify(warnings)})`,
      );
      const out = await bare.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5 }));
      assert.equal(out.Messages?.length, 1);
      assert.equal(out.Messages[0].MessageId, sent.MessageId);
      assert.equal(out.Messages[0].Body, body);
      await bare.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: out.Messages[0].ReceiptHandle }));
    } finally {
      bare.destroy();
    }
    assert.deepEqual(await queueCounts(QueueUrl), { visible: 0, notVisible: 0 });
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });
});
