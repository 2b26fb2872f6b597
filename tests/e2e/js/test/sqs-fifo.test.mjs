// End-to-end tests of postbox FIFO queues, deduplication, ReceiveRequestAttemptId
// and dead-letter message move tasks, with the AWS SDK for JavaScript v3
// (JSON 1.0 protocol) and sqs-consumer.
//
// Expected error names, HTTP statuses and texts are AWS's, as recorded in
// real AWS captures (see fifo_research.md in the project notes).
//
// Run: npm test (starts $POSTBOX_BIN, default <repo>/build/postbox), or with
// POSTBOX_ENDPOINT=http://127.0.0.1:<port> against a running server.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { describe, it } from "node:test";

import {
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { Consumer } from "sqs-consumer";

import {
  expectedQueueUrl,
  makeClient,
  md5Hex,
  queueArn,
  queueCounts as queueCountsOf,
  rejectsWith,
  sleep,
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

const sha256Hex = (text) => createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex");

/** Create a fresh FIFO queue; returns { url, name, arn }. */
async function newFifo(prefix, Attributes = {}) {
  const name = `${uniqueName(prefix)}.fifo`;
  const out = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: "true", ...Attributes } }),
  );
  assert.equal(out.QueueUrl, expectedQueueUrl(server.endpoint, name));
  return { url: out.QueueUrl, name, arn: queueArn(name) };
}

/** Create a fresh standard queue; returns { url, name, arn }. */
async function newStandard(prefix, Attributes = undefined) {
  const name = uniqueName(prefix);
  const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes }));
  return { url: out.QueueUrl, name, arn: queueArn(name) };
}

async function deleteQueues(...queues) {
  for (const q of queues) await sqs.send(new DeleteQueueCommand({ QueueUrl: q.url ?? q }));
}

const queueCounts = (QueueUrl) => queueCountsOf(sqs, QueueUrl);

const SEQ_RE = /^\d{1,40}$/;

/** Assert that the decimal sequence numbers strictly increase. */
function assertIncreasing(seqs, what) {
  for (const s of seqs) assert.match(s ?? "", SEQ_RE, `${what}: SequenceNumber ${s} is a decimal string`);
  for (let i = 1; i < seqs.length; i++) {
    assert.ok(BigInt(seqs[i]) > BigInt(seqs[i - 1]), `${what}: ${seqs[i]} > ${seqs[i - 1]}`);
  }
}

/** Send one FIFO message; returns the SendMessage result. */
function sendFifo(QueueUrl, MessageBody, MessageGroupId, MessageDeduplicationId = undefined, extra = {}) {
  return sqs.send(
    new SendMessageCommand({ QueueUrl, MessageBody, MessageGroupId, MessageDeduplicationId, ...extra }),
  );
}

/** Move every message of `source` (maxReceiveCount 1) to its DLQ. */
async function driveToDlq(source, dlq, n) {
  // Received once with visibility 0: the next receive exceeds maxReceiveCount
  // and moves them to the dead-letter queue.
  let received = 0;
  await waitFor(
    async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: source.url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
      );
      received += out.Messages?.length ?? 0;
      const c = await queueCounts(dlq.url);
      return c.visible === n;
    },
    { timeoutMs: 15_000, intervalMs: 50, what: `${n} messages to reach the DLQ ${dlq.name}` },
  );
  assert.ok(received >= n, `received ${received} messages before the move`);
  assert.deepEqual(await queueCounts(source.url), { visible: 0, notVisible: 0 });
}

/** A standard source queue with a standard DLQ (maxReceiveCount 1), n messages in the DLQ. */
async function standardDlqWith(n, prefix) {
  const dlq = await newStandard(`${prefix}-dlq`);
  const source = await newStandard(`${prefix}-src`, {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }),
  });
  const bodies = Array.from({ length: n }, (_, i) => `${prefix} message ${i}`);
  const originalIds = new Set();
  for (let i = 0; i < n; i += 10) {
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: source.url,
        Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: `m${i + j}`, MessageBody })),
      }),
    );
    assert.equal(out.Failed?.length ?? 0, 0, JSON.stringify(out.Failed));
    for (const e of out.Successful) originalIds.add(e.MessageId);
  }
  await driveToDlq(source, dlq, n);
  return { source, dlq, bodies, originalIds };
}

async function listTasks(SourceArn, MaxResults = undefined) {
  const out = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn, MaxResults }));
  assert.equal(out.$metadata.httpStatusCode, 200);
  return out.Results ?? [];
}

/** Receive everything in `QueueUrl` (deleting it), until `n` messages arrived. */
async function drain(QueueUrl, n, extra = {}) {
  const got = [];
  await waitFor(
    async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, ...extra }),
      );
      for (const m of out.Messages ?? []) {
        got.push(m);
        await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
      }
      return got.length >= n;
    },
    { timeoutMs: 15_000, intervalMs: 0, what: `${n} messages from ${QueueUrl}` },
  );
  assert.equal(got.length, n, "received more messages than expected");
  return got;
}

describe("FIFO queues", () => {
  it("create with FIFO attributes; GetQueueAttributes; idempotent re-create", async () => {
    const q = await newFifo("fifo-attrs", {
      ContentBasedDeduplication: "true",
      DeduplicationScope: "messageGroup",
      FifoThroughputLimit: "perMessageGroupId",
      VisibilityTimeout: "20",
    });
    const { Attributes: a } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ["All"] }),
    );
    assert.equal(a.FifoQueue, "true");
    assert.equal(a.ContentBasedDeduplication, "true");
    assert.equal(a.DeduplicationScope, "messageGroup");
    assert.equal(a.FifoThroughputLimit, "perMessageGroupId");
    assert.equal(a.VisibilityTimeout, "20");
    assert.equal(a.QueueArn, q.arn);
    assert.equal(a.DelaySeconds, "0");

    // Defaults of a plain FIFO queue (as AWS reports them).
    const plain = await newFifo("fifo-defaults");
    const { Attributes: d } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: plain.url, AttributeNames: ["All"] }),
    );
    assert.equal(d.FifoQueue, "true");
    assert.equal(d.ContentBasedDeduplication, "false");
    assert.equal(d.DeduplicationScope, "queue");
    assert.equal(d.FifoThroughputLimit, "perQueue");

    // Selected FIFO attributes only.
    const some = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: plain.url, AttributeNames: ["FifoQueue", "ContentBasedDeduplication"] }),
    );
    assert.deepEqual(some.Attributes, { FifoQueue: "true", ContentBasedDeduplication: "false" });

    // Same name and attributes again: the same URL.
    const again = await sqs.send(
      new CreateQueueCommand({
        QueueName: q.name,
        Attributes: {
          FifoQueue: "true",
          ContentBasedDeduplication: "true",
          DeduplicationScope: "messageGroup",
          FifoThroughputLimit: "perMessageGroupId",
          VisibilityTimeout: "20",
        },
      }),
    );
    assert.equal(again.QueueUrl, q.url);

    // A FIFO attribute can be changed later.
    await sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: plain.url, Attributes: { ContentBasedDeduplication: "true" } }),
    );
    const changed = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: plain.url, AttributeNames: ["ContentBasedDeduplication"] }),
    );
    assert.deepEqual(changed.Attributes, { ContentBasedDeduplication: "true" });

    // A standard queue has none of the FIFO attributes.
    const std = await newStandard("fifo-attrs-std");
    const { Attributes: s } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: std.url, AttributeNames: ["All"] }),
    );
    for (const k of ["FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"]) {
      assert.equal(s[k], undefined, `standard queue has no ${k}`);
    }
    await deleteQueues(q, plain, std);
  });

  it("create errors: FIFO name rules, FIFO-only attributes, changing the queue type", async () => {
    await rejectsWith(
      sqs.send(new CreateQueueCommand({ QueueName: `${uniqueName("nofifoattr")}.fifo` })),
      "InvalidParameterValue",
      400,
      "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
    );
    await rejectsWith(
      sqs.send(new CreateQueueCommand({ QueueName: uniqueName("nosuffix"), Attributes: { FifoQueue: "true" } })),
      "InvalidParameterValue",
      400,
      "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, " +
        "must end with .fifo suffix and be 1 to 80 in length.",
    );
    await rejectsWith(
      sqs.send(new CreateQueueCommand({ QueueName: uniqueName("stdcbd"), Attributes: { ContentBasedDeduplication: "false" } })),
      "InvalidAttributeName",
      400,
      "Unknown Attribute ContentBasedDeduplication.",
    );

    const q = await newFifo("fifo-type");
    await rejectsWith(
      sqs.send(new SetQueueAttributesCommand({ QueueUrl: q.url, Attributes: { FifoQueue: "false" } })),
      "InvalidAttributeValue",
      400,
      "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.",
    );
    // Re-creating with a different value for an attribute. The query code
    // (x-amzn-query-error) is QueueAlreadyExists; the SDK names the error
    // after the model shape that carries that code, QueueNameExists.
    await assert.rejects(
      sqs.send(
        new CreateQueueCommand({ QueueName: q.name, Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" } }),
      ),
      (err) => {
        assert.equal(err.name, "QueueNameExists", `${err.name}: ${err.message}`);
        assert.equal(err.Code, "QueueAlreadyExists");
        assert.equal(err.$metadata.httpStatusCode, 400);
        assert.equal(
          err.message,
          "A queue already exists with the same name and a different value for attribute ContentBasedDeduplication",
        );
        return true;
      },
    );
    await deleteQueues(q);
  });

  it("SendMessage and SendMessageBatch return increasing SequenceNumbers", async () => {
    const q = await newFifo("fifo-send");
    const one = await sendFifo(q.url, "first", "g1", "d-1");
    assert.equal(one.MD5OfMessageBody, md5Hex("first"));
    assert.match(one.MessageId, /^[0-9a-f-]{36}$/i);
    assert.match(one.SequenceNumber ?? "", SEQ_RE);

    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: q.url,
        Entries: [
          { Id: "a", MessageBody: "second", MessageGroupId: "g1", MessageDeduplicationId: "d-2" },
          { Id: "b", MessageBody: "third", MessageGroupId: "g2", MessageDeduplicationId: "d-3" },
          { Id: "c", MessageBody: "fourth", MessageGroupId: "g1", MessageDeduplicationId: "d-4" },
        ],
      }),
    );
    assert.equal(batch.Failed?.length ?? 0, 0, JSON.stringify(batch.Failed));
    assert.deepEqual(batch.Successful.map((s) => s.Id).sort(), ["a", "b", "c"]);
    const byId = Object.fromEntries(batch.Successful.map((s) => [s.Id, s]));
    assert.equal(byId.a.MD5OfMessageBody, md5Hex("second"));
    const two = await sendFifo(q.url, "fifth", "g2", "d-5");
    assertIncreasing(
      [one.SequenceNumber, byId.a.SequenceNumber, byId.b.SequenceNumber, byId.c.SequenceNumber, two.SequenceNumber],
      "send order",
    );

    // A standard queue hands out no SequenceNumber, even with a MessageGroupId (fair queues).
    const std = await newStandard("fifo-send-std");
    const s1 = await sqs.send(new SendMessageCommand({ QueueUrl: std.url, MessageBody: "x" }));
    assert.equal(s1.SequenceNumber, undefined);
    const s2 = await sqs.send(new SendMessageCommand({ QueueUrl: std.url, MessageBody: "y", MessageGroupId: "tenant-1" }));
    assert.equal(s2.SequenceNumber, undefined);
    const got = await drain(std.url, 2, { MessageSystemAttributeNames: ["All"] });
    const fair = got.find((m) => m.MessageId === s2.MessageId);
    assert.equal(fair.Attributes.MessageGroupId, "tenant-1");
    for (const m of got) {
      assert.equal(m.Attributes.SequenceNumber, undefined);
      assert.equal(m.Attributes.MessageDeduplicationId, undefined);
    }
    await deleteQueues(q, std);
  });

  it("strict order within each of several groups, with receive + delete", async () => {
    const q = await newFifo("fifo-order", { VisibilityTimeout: "30" });
    const groups = ["alpha", "beta", "gamma"];
    const PER_GROUP = 6;
    const expected = Object.fromEntries(groups.map((g) => [g, []]));
    // Interleaved: alpha-0, beta-0, gamma-0, alpha-1, ... half single sends,
    // half batches.
    for (let i = 0; i < PER_GROUP; i++) {
      if (i % 2 === 0) {
        for (const g of groups) {
          const body = `${g}-${i}`;
          await sendFifo(q.url, body, g, body);
          expected[g].push(body);
        }
      } else {
        const out = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: q.url,
            Entries: groups.map((g) => ({ Id: g, MessageBody: `${g}-${i}`, MessageGroupId: g, MessageDeduplicationId: `${g}-${i}` })),
          }),
        );
        assert.equal(out.Successful.length, groups.length, JSON.stringify(out.Failed));
        for (const g of groups) expected[g].push(`${g}-${i}`);
      }
    }

    const recv1 = async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: q.url, MaxNumberOfMessages: 1, MessageSystemAttributeNames: ["MessageGroupId"] }),
      );
      return out.Messages ?? [];
    };
    // One message at a time, none deleted: each group's head, then nothing,
    // because every group has a message in flight.
    const heads = [];
    for (let i = 0; i < groups.length; i++) {
      const ms = await recv1();
      assert.equal(ms.length, 1, `receive ${i} returned a group head`);
      heads.push(ms[0]);
    }
    assert.deepEqual(heads.map((m) => m.Body).sort(), groups.map((g) => `${g}-0`).sort());
    assert.deepEqual(await recv1(), [], "all groups are blocked by their in-flight messages");

    // The head of beta becomes visible again: it comes back before beta-1.
    const beta0 = heads.find((m) => m.Body === "beta-0");
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: q.url, ReceiptHandle: beta0.ReceiptHandle, VisibilityTimeout: 0 }));
    const again = await recv1();
    assert.equal(again.length, 1);
    assert.equal(again[0].Body, "beta-0");
    assert.equal(again[0].MessageId, beta0.MessageId);
    heads[heads.indexOf(beta0)] = again[0];

    // Delete the heads and receive the rest in batches; a group never
    // delivers a message while an earlier one of it is in flight.
    const seen = Object.fromEntries(groups.map((g) => [g, [`${g}-0`]]));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: q.url,
        Entries: heads.map((m, i) => ({ Id: `h${i}`, ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    let total = groups.length;
    let rounds = 0;
    while (total < groups.length * PER_GROUP) {
      assert.ok(++rounds < 50, "too many receive rounds");
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: q.url,
          MaxNumberOfMessages: 4,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ["MessageGroupId", "SequenceNumber"],
        }),
      );
      const ms = out.Messages ?? [];
      // Within one response, each group's messages are in order.
      const perGroupSeq = {};
      for (const m of ms) {
        const g = m.Attributes.MessageGroupId;
        assert.ok(groups.includes(g), `unexpected group ${g}`);
        seen[g].push(m.Body);
        (perGroupSeq[g] ??= []).push(m.Attributes.SequenceNumber);
      }
      for (const [g, seqs] of Object.entries(perGroupSeq)) assertIncreasing(seqs, `group ${g} in one response`);
      // Nothing more from those groups until these are deleted.
      if (ms.length > 0) {
        const blocked = new Set(ms.map((m) => m.Attributes.MessageGroupId));
        const peek = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: q.url, MaxNumberOfMessages: 10, VisibilityTimeout: 0, MessageSystemAttributeNames: ["MessageGroupId"] }),
        );
        for (const m of peek.Messages ?? []) {
          assert.ok(!blocked.has(m.Attributes.MessageGroupId), `${m.Body} delivered while its group is in flight`);
        }
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: q.url,
            Entries: ms.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
      total += ms.length;
    }
    assert.deepEqual(seen, expected);
    assert.deepEqual(await queueCounts(q.url), { visible: 0, notVisible: 0 });
    await deleteQueues(q);
  });

  it("deduplication: a duplicate returns the original MessageId and is not delivered", async () => {
    const q = await newFifo("fifo-dedup");
    const first = await sendFifo(q.url, "original", "g", "dedup-1");
    const dup = await sendFifo(q.url, "duplicate body", "g", "dedup-1");
    assert.equal(dup.$metadata.httpStatusCode, 200);
    assert.equal(dup.MessageId, first.MessageId, "duplicate send echoes the original MessageId");
    assert.equal(dup.SequenceNumber, first.SequenceNumber, "duplicate send echoes the original SequenceNumber");
    // A duplicate inside a batch, too.
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: q.url,
        Entries: [
          { Id: "dup", MessageBody: "again", MessageGroupId: "g", MessageDeduplicationId: "dedup-1" },
          { Id: "new", MessageBody: "second", MessageGroupId: "g", MessageDeduplicationId: "dedup-2" },
        ],
      }),
    );
    assert.equal(batch.Failed?.length ?? 0, 0, JSON.stringify(batch.Failed));
    const byId = Object.fromEntries(batch.Successful.map((s) => [s.Id, s]));
    assert.equal(byId.dup.MessageId, first.MessageId);
    assert.notEqual(byId.new.MessageId, first.MessageId);
    assertIncreasing([first.SequenceNumber, byId.new.SequenceNumber], "after a duplicate");

    assert.deepEqual(await queueCounts(q.url), { visible: 2, notVisible: 0 });
    const got = await drain(q.url, 2);
    assert.deepEqual(got.map((m) => m.Body), ["original", "second"]);
    assert.equal(got[0].MessageId, first.MessageId);

    // Deduplication outlives the delete of the original.
    const late = await sendFifo(q.url, "after delete", "g", "dedup-1");
    assert.equal(late.MessageId, first.MessageId);
    assert.deepEqual(await queueCounts(q.url), { visible: 0, notVisible: 0 });

    // Default scope is the queue: the same id in another group is a duplicate.
    const otherGroup = await sendFifo(q.url, "other group", "h", "dedup-1");
    assert.equal(otherGroup.MessageId, first.MessageId);
    assert.deepEqual(await queueCounts(q.url), { visible: 0, notVisible: 0 });

    // DeduplicationScope=messageGroup: the same id in another group is new.
    const scoped = await newFifo("fifo-dedup-group", { DeduplicationScope: "messageGroup" });
    const a = await sendFifo(scoped.url, "in a", "a", "same-id");
    const b = await sendFifo(scoped.url, "in b", "b", "same-id");
    const a2 = await sendFifo(scoped.url, "in a again", "a", "same-id");
    assert.notEqual(a.MessageId, b.MessageId);
    assert.equal(a2.MessageId, a.MessageId);
    assert.deepEqual(await queueCounts(scoped.url), { visible: 2, notVisible: 0 });
    await deleteQueues(q, scoped);
  });

  it("content-based deduplication (SHA-256 of the body)", async () => {
    const q = await newFifo("fifo-cbd", { ContentBasedDeduplication: "true" });
    const body = "same body ✓";
    const first = await sendFifo(q.url, body, "g");
    const dup = await sendFifo(q.url, body, "g");
    assert.equal(dup.MessageId, first.MessageId);
    const other = await sendFifo(q.url, "another body", "g");
    assert.notEqual(other.MessageId, first.MessageId);
    // An explicit id wins over the content hash.
    const explicit = await sendFifo(q.url, body, "g", "explicit-id");
    assert.notEqual(explicit.MessageId, first.MessageId);
    // Batch entries without an id are deduplicated by content as well.
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: q.url,
        Entries: [
          { Id: "dup", MessageBody: body, MessageGroupId: "g" },
          { Id: "new", MessageBody: "batch body", MessageGroupId: "g" },
        ],
      }),
    );
    assert.equal(batch.Failed?.length ?? 0, 0, JSON.stringify(batch.Failed));
    const byId = Object.fromEntries(batch.Successful.map((s) => [s.Id, s]));
    assert.equal(byId.dup.MessageId, first.MessageId);

    const got = await drain(q.url, 4, { MessageSystemAttributeNames: ["MessageDeduplicationId"] });
    assert.deepEqual(got.map((m) => m.Body), [body, "another body", body, "batch body"]);
    assert.equal(got[0].Attributes.MessageDeduplicationId, sha256Hex(body));
    assert.equal(got[1].Attributes.MessageDeduplicationId, sha256Hex("another body"));
    assert.equal(got[2].Attributes.MessageDeduplicationId, "explicit-id");
    assert.equal(got[3].Attributes.MessageDeduplicationId, sha256Hex("batch body"));
    await deleteQueues(q);
  });

  it("ReceiveRequestAttemptId: a retry returns the same messages and receipt handles", async () => {
    const q = await newFifo("fifo-attempt", { VisibilityTimeout: "30" });
    for (let i = 0; i < 3; i++) await sendFifo(q.url, `m${i}`, "g", `d${i}`);

    const receive = (ReceiveRequestAttemptId, MaxNumberOfMessages = 10) =>
      sqs.send(new ReceiveMessageCommand({ QueueUrl: q.url, MaxNumberOfMessages, ReceiveRequestAttemptId }));
    const first = await receive("attempt-1", 3);
    assert.equal(first.Messages?.length, 3);
    const retry = await receive("attempt-1", 3);
    assert.deepEqual(
      retry.Messages.map((m) => [m.MessageId, m.ReceiptHandle, m.Body]),
      first.Messages.map((m) => [m.MessageId, m.ReceiptHandle, m.Body]),
    );
    assert.deepEqual(first.Messages.map((m) => m.Body), ["m0", "m1", "m2"]);
    // Another attempt id is a new receive: the group is in flight, nothing to get.
    const other = await receive("attempt-2");
    assert.deepEqual(other.Messages ?? [], []);
    assert.deepEqual(await queueCounts(q.url), { visible: 0, notVisible: 3 });

    // Once a message of that receive was deleted, the attempt is not retryable.
    await sqs.send(new DeleteMessageCommand({ QueueUrl: q.url, ReceiptHandle: first.Messages[0].ReceiptHandle }));
    await rejectsWith(
      receive("attempt-1", 3),
      "InvalidParameterValue",
      400,
      "Value attempt-1 for parameter ReceiveRequestAttemptId is invalid. Reason: The receiveRequestAttemptId is not valid anymore since the receive call is not retryable.",
    );

    // On a standard queue the attempt id is ignored.
    const std = await newStandard("fifo-attempt-std");
    await sqs.send(new SendMessageCommand({ QueueUrl: std.url, MessageBody: "s" }));
    const s = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: std.url, WaitTimeSeconds: 1, ReceiveRequestAttemptId: "ignored" }),
    );
    assert.equal(s.Messages?.length, 1);
    await deleteQueues(q, std);
  });

  it("received system attributes: MessageGroupId, SequenceNumber, MessageDeduplicationId", async () => {
    const q = await newFifo("fifo-sysattrs");
    const sent = await sendFifo(q.url, "with attributes", "group-7", "dedup-7");

    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: q.url,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["MessageGroupId", "SequenceNumber", "MessageDeduplicationId"],
      }),
    );
    assert.equal(out.Messages?.length, 1);
    const m = out.Messages[0];
    assert.equal(m.MessageId, sent.MessageId);
    assert.deepEqual(m.Attributes, {
      MessageGroupId: "group-7",
      SequenceNumber: sent.SequenceNumber,
      MessageDeduplicationId: "dedup-7",
    });

    // "All" through the legacy AttributeNames field.
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: q.url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
    const all = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.url, WaitTimeSeconds: 1, AttributeNames: ["All"] }));
    assert.equal(all.Messages?.length, 1);
    const a = all.Messages[0].Attributes;
    assert.deepEqual(Object.keys(a).sort(), [
      "ApproximateFirstReceiveTimestamp",
      "ApproximateReceiveCount",
      "MessageDeduplicationId",
      "MessageGroupId",
      "SenderId",
      "SentTimestamp",
      "SequenceNumber",
    ]);
    assert.equal(a.MessageGroupId, "group-7");
    assert.equal(a.SequenceNumber, sent.SequenceNumber);
    assert.equal(a.MessageDeduplicationId, "dedup-7");
    assert.equal(a.ApproximateReceiveCount, "2");
    await deleteQueues(q);
  });

  it("send errors: missing MessageGroupId, missing deduplication id, DelaySeconds, bad ids", async () => {
    const q = await newFifo("fifo-errors");
    await rejectsWith(
      sendFifo(q.url, "x", undefined, "d1"),
      "MissingParameter",
      400,
      "The request must contain the parameter MessageGroupId.",
    );
    // Neither id: the MessageGroupId error comes first.
    await rejectsWith(sendFifo(q.url, "x", undefined, undefined), "MissingParameter", 400);
    await rejectsWith(
      sendFifo(q.url, "x", "g"),
      "InvalidParameterValue",
      400,
      "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
    );
    await rejectsWith(
      sendFifo(q.url, "x", "g", "d2", { DelaySeconds: 2 }),
      "InvalidParameterValue",
      400,
      "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.",
    );
    // DelaySeconds=0 is accepted.
    const zero = await sendFifo(q.url, "zero delay", "g", "d3", { DelaySeconds: 0 });
    assert.match(zero.SequenceNumber ?? "", SEQ_RE);
    await rejectsWith(
      sendFifo(q.url, "x", "group 123", "d4"),
      "InvalidParameterValue",
      400,
      "Value group 123 for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.",
    );
    await rejectsWith(
      sendFifo(q.url, "x", "g", "a".repeat(129)),
      "InvalidParameterValue",
      400,
      `Value ${"a".repeat(129)} for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
    );
    // 128 characters of punctuation are fine.
    const punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    await sendFifo(q.url, "long ids", punct, "b".repeat(128));

    // Batch: a missing group or dedup id fails the whole request.
    await rejectsWith(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: q.url,
          Entries: [
            { Id: "ok", MessageBody: "ok", MessageGroupId: "g", MessageDeduplicationId: "b1" },
            { Id: "nogroup", MessageBody: "x", MessageDeduplicationId: "b2" },
          ],
        }),
      ),
      "InvalidParameterValue",
      400,
      "The request must contain the parameter MessageGroupId.",
    );
    await rejectsWith(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: q.url,
          Entries: [
            { Id: "ok", MessageBody: "ok", MessageGroupId: "g", MessageDeduplicationId: "b3" },
            { Id: "nodedup", MessageBody: "x", MessageGroupId: "g" },
          ],
        }),
      ),
      "InvalidParameterValue",
      400,
      "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
    );
    // Nothing of the rejected requests was enqueued.
    assert.deepEqual(await queueCounts(q.url), { visible: 2, notVisible: 0 });
    await deleteQueues(q);
  });

  it("RedrivePolicy errors: dead-letter target does not exist, type mismatch", async () => {
    const missingArn = queueArn(`${uniqueName("no-such-dlq")}.fifo`);
    const policy = JSON.stringify({ deadLetterTargetArn: missingArn, maxReceiveCount: 3 });
    const name = `${uniqueName("fifo-redrive")}.fifo`;
    await rejectsWith(
      sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: "true", RedrivePolicy: policy } })),
      "InvalidParameterValue",
      400,
      `Value ${policy} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`,
    );

    const q = await newFifo("fifo-redrive-ok");
    await rejectsWith(
      sqs.send(new SetQueueAttributesCommand({ QueueUrl: q.url, Attributes: { RedrivePolicy: policy } })),
      "InvalidParameterValue",
      400,
      `Value ${policy} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`,
    );
    // A standard DLQ for a FIFO source.
    const std = await newStandard("fifo-redrive-std");
    const mismatch = JSON.stringify({ deadLetterTargetArn: std.arn, maxReceiveCount: 3 });
    await rejectsWith(
      sqs.send(new SetQueueAttributesCommand({ QueueUrl: q.url, Attributes: { RedrivePolicy: mismatch } })),
      "InvalidParameterValue",
      400,
      `Value ${mismatch} for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be same type of queue as the source..`,
    );
    await deleteQueues(q, std);
  });
});

describe("dead-letter message move tasks", () => {
  it("StartMessageMoveTask with the default destination moves messages back to their source", async () => {
    const N = 5;
    const { source, dlq, bodies, originalIds } = await standardDlqWith(N, "move");
    assert.deepEqual(await listTasks(dlq.arn), [], "no tasks yet");

    const started = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
    assert.equal(started.$metadata.httpStatusCode, 200);
    assert.equal(typeof started.TaskHandle, "string");
    assert.ok(started.TaskHandle.length > 0);

    const t0 = Date.now();
    const [done] = await waitFor(
      async () => {
        const tasks = await listTasks(dlq.arn);
        assert.equal(tasks.length, 1);
        assert.ok(["RUNNING", "COMPLETED"].includes(tasks[0].Status), JSON.stringify(tasks[0]));
        return tasks[0].Status === "COMPLETED" ? tasks : null;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: "the move task to complete" },
    );
    assert.equal(done.Status, "COMPLETED");
    assert.equal(done.SourceArn, dlq.arn);
    assert.equal(done.TaskHandle, undefined, "no TaskHandle once the task is not running");
    assert.equal(done.DestinationArn, undefined, "no DestinationArn when none was given");
    assert.equal(done.MaxNumberOfMessagesPerSecond, undefined, "no rate when none was given");
    assert.equal(done.FailureReason, undefined);
    assert.equal(done.ApproximateNumberOfMessagesMoved, N);
    assert.equal(done.ApproximateNumberOfMessagesToMove, N);
    assert.ok(Math.abs(done.StartedTimestamp - t0) < 60_000, `StartedTimestamp ${done.StartedTimestamp} is epoch millis near now`);

    assert.deepEqual(await queueCounts(dlq.url), { visible: 0, notVisible: 0 });
    const back = await drain(source.url, N, { MessageSystemAttributeNames: ["ApproximateReceiveCount"] });
    assert.deepEqual(back.map((m) => m.Body).sort(), [...bodies].sort());
    for (const m of back) assert.equal(m.Attributes.ApproximateReceiveCount, "1", "receive count starts again");
    // "All redriven messages are considered new messages with a new messageID".
    for (const m of back) assert.ok(!originalIds.has(m.MessageId), `${m.Body} got a new MessageId`);

    // An explicit destination.
    const dest = await newStandard("move-dest");
    await driveToDlqAgain(source, dlq, bodies);
    await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: dest.arn }));
    const [latest] = await waitFor(
      async () => {
        const tasks = await listTasks(dlq.arn, 10);
        return tasks[0]?.Status === "COMPLETED" && tasks[0].DestinationArn ? tasks : null;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: "the second move task to complete" },
    );
    assert.equal(latest.DestinationArn, dest.arn);
    assert.equal(latest.ApproximateNumberOfMessagesMoved, N);
    assert.equal((await listTasks(dlq.arn, 10)).length, 2, "both tasks are listed");
    assert.equal((await listTasks(dlq.arn)).length, 1, "MaxResults defaults to 1");
    const moved = await drain(dest.url, N);
    assert.deepEqual(moved.map((m) => m.Body).sort(), [...bodies].sort());
    await deleteQueues(source, dlq, dest);
  });

  it("CancelMessageMoveTask on a rate-limited task", async () => {
    const N = 6;
    const { source, dlq } = await standardDlqWith(N, "cancel");
    const { TaskHandle } = await sqs.send(
      new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: source.arn, MaxNumberOfMessagesPerSecond: 1 }),
    );

    const [running] = await listTasks(dlq.arn);
    assert.equal(running.Status, "RUNNING");
    assert.equal(running.TaskHandle, TaskHandle);
    assert.equal(running.SourceArn, dlq.arn);
    assert.equal(running.DestinationArn, source.arn);
    assert.equal(running.MaxNumberOfMessagesPerSecond, 1);
    assert.equal(running.ApproximateNumberOfMessagesToMove, N);
    assert.ok(running.ApproximateNumberOfMessagesMoved < N);

    // Only one active task per source queue.
    await rejectsWith(
      sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn })),
      "InvalidParameterValue",
      400,
      "There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
    );

    await sleep(1_200);
    const cancelled = await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle }));
    assert.equal(cancelled.$metadata.httpStatusCode, 200);
    assert.equal(typeof cancelled.ApproximateNumberOfMessagesMoved, "number");
    assert.ok(cancelled.ApproximateNumberOfMessagesMoved < N, `moved ${cancelled.ApproximateNumberOfMessagesMoved} of ${N} at 1/s`);

    const [final] = await waitFor(
      async () => {
        const tasks = await listTasks(dlq.arn);
        assert.ok(["CANCELLING", "CANCELLED"].includes(tasks[0].Status), JSON.stringify(tasks[0]));
        return tasks[0].Status === "CANCELLED" ? tasks : null;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: "the task to be cancelled" },
    );
    assert.equal(final.TaskHandle, undefined);
    assert.equal(final.MaxNumberOfMessagesPerSecond, 1);
    const moved = final.ApproximateNumberOfMessagesMoved;
    assert.ok(moved >= cancelled.ApproximateNumberOfMessagesMoved && moved < N, `moved ${moved}`);

    // Nothing moves any more; the rest stays in the DLQ.
    await sleep(1_500);
    const [still] = await listTasks(dlq.arn);
    assert.equal(still.ApproximateNumberOfMessagesMoved, moved);
    assert.deepEqual(await queueCounts(dlq.url), { visible: N - moved, notVisible: 0 });
    assert.deepEqual(await queueCounts(source.url), { visible: moved, notVisible: 0 });

    // A new task may start now that none is active.
    const next = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
    assert.ok(next.TaskHandle);
    await waitFor(async () => (await listTasks(dlq.arn))[0].Status === "COMPLETED", {
      timeoutMs: 15_000,
      what: "the follow-up task to complete",
    });
    assert.deepEqual(await queueCounts(source.url), { visible: N, notVisible: 0 });
    await deleteQueues(source, dlq);
  });

  it("errors: not a DLQ, unknown source or destination, bad handle, bad rate", async () => {
    const plain = await newStandard("move-notdlq");
    await rejectsWith(
      sqs.send(new StartMessageMoveTaskCommand({ SourceArn: plain.arn })),
      "InvalidParameterValue",
      400,
      "Source queue must be configured as a Dead Letter Queue.",
    );
    const missing = queueArn(uniqueName("move-missing"));
    await rejectsWith(
      sqs.send(new StartMessageMoveTaskCommand({ SourceArn: missing })),
      "ResourceNotFoundException",
      404,
      "The resource that you specified for the SourceArn parameter doesn't exist.",
    );
    await rejectsWith(
      sqs.send(new ListMessageMoveTasksCommand({ SourceArn: missing })),
      "ResourceNotFoundException",
      404,
    );

    const dlq = await newStandard("move-err-dlq");
    const source = await newStandard("move-err-src", {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
    });
    await rejectsWith(
      sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: missing })),
      "ResourceNotFoundException",
      404,
      "The resource that you specified for the DestinationArn parameter doesn't exist.",
    );
    await rejectsWith(
      sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: "not-a-task-handle" })),
      "InvalidParameterValue",
      400,
      "Value for parameter TaskHandle is invalid.",
    );
    await rejectsWith(
      sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, MaxNumberOfMessagesPerSecond: 501 })),
      "InvalidParameterValue",
      400,
      "Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must enter a number that's between 1 and 500.",
    );
    await rejectsWith(
      sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlq.arn, MaxResults: 11 })),
      "InvalidParameterValue",
      400,
      "Value for parameter MaxResults is invalid. Reason: You must enter a number that's between 1 and 10.",
    );
    // A FIFO DLQ cannot be redriven into a standard queue.
    const fdlq = await newFifo("move-err-fdlq");
    const fsrc = await newFifo("move-err-fsrc", {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: fdlq.arn, maxReceiveCount: 2 }),
    });
    await rejectsWith(
      sqs.send(new StartMessageMoveTaskCommand({ SourceArn: fdlq.arn, DestinationArn: plain.arn })),
      "InvalidParameterValue",
      400,
      "The source queue and destination queue must be of the same queue type.",
    );
    await rejectsWith(
      sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: dlq.arn })),
      "InvalidParameterValue",
      400,
      "Source queue arn and destination queue arn cannot be the same.",
    );
    await deleteQueues(plain, source, dlq, fsrc, fdlq);
  });

  it("a message sent straight to the DLQ: default destination FAILS with CouldNotDetermineMessageSource", async () => {
    const dlq = await newStandard("move-direct-dlq");
    const source = await newStandard("move-direct-src", {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq.url, MessageBody: "never was in a source queue" }));
    await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
    const [failed] = await waitFor(
      async () => {
        const tasks = await listTasks(dlq.arn);
        return tasks[0]?.Status === "FAILED" ? tasks : null;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: "the move task to fail" },
    );
    assert.equal(failed.FailureReason, "CouldNotDetermineMessageSource");
    assert.equal(failed.TaskHandle, undefined);
    assert.equal(failed.ApproximateNumberOfMessagesMoved, 0);
    assert.equal(failed.ApproximateNumberOfMessagesToMove, 1);
    assert.deepEqual(await queueCounts(dlq.url), { visible: 1, notVisible: 0 }, "the message stays in the DLQ");
    await deleteQueues(source, dlq);
  });

  it("FIFO DLQ to a FIFO destination keeps each group's order", async () => {
    const dlq = await newFifo("move-fifo-dlq");
    const source = await newFifo("move-fifo-src", {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 3 }),
    });
    const dest = await newFifo("move-fifo-dest");
    const sent = [];
    for (const [body, group] of [["a0", "A"], ["b0", "B"], ["a1", "A"], ["b1", "B"], ["a2", "A"]]) {
      const out = await sendFifo(dlq.url, body, group, `dedup-${body}`);
      sent.push({ body, group, id: out.MessageId });
    }
    await rejectsWith(
      sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: queueArn(uniqueName("move-std")) })),
      "ResourceNotFoundException",
      404,
    );
    await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: dest.arn }));
    const [done] = await waitFor(
      async () => {
        const tasks = await listTasks(dlq.arn);
        return tasks[0]?.Status === "COMPLETED" ? tasks : null;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: "the FIFO move task to complete" },
    );
    assert.equal(done.ApproximateNumberOfMessagesMoved, sent.length);
    assert.equal(done.DestinationArn, dest.arn);

    const back = await drain(dest.url, sent.length, { MessageSystemAttributeNames: ["All"] });
    const byGroup = {};
    for (const m of back) (byGroup[m.Attributes.MessageGroupId] ??= []).push(m);
    assert.deepEqual(byGroup.A.map((m) => m.Body), ["a0", "a1", "a2"]);
    assert.deepEqual(byGroup.B.map((m) => m.Body), ["b0", "b1"]);
    for (const g of Object.values(byGroup)) assertIncreasing(g.map((m) => m.Attributes.SequenceNumber), "moved group");
    for (const m of back) {
      const orig = sent.find((s) => s.body === m.Body);
      // Redriven messages are new messages; for FIFO the deduplication id
      // becomes the original message's id (SQS Developer Guide).
      assert.notEqual(m.MessageId, orig.id, "a moved message gets a new MessageId");
      assert.equal(m.Attributes.MessageDeduplicationId, orig.id);
      assert.equal(m.Attributes.ApproximateReceiveCount, "1");
    }
    assert.deepEqual(await queueCounts(dlq.url), { visible: 0, notVisible: 0 });
    await deleteQueues(source, dlq, dest);
  });

  it("FIFO messages over maxReceiveCount move to the FIFO DLQ and back, in group order", async () => {
    const dlq = await newFifo("move-fifo-dlq");
    const source = await newFifo("move-fifo-src", {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }),
    });
    const bodies = ["f0", "f1", "f2", "f3"];
    for (const b of bodies) await sendFifo(source.url, b, "only-group", b);
    await driveToDlq(source, dlq, bodies.length);
    await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
    await waitFor(async () => (await listTasks(dlq.arn))[0]?.Status === "COMPLETED", {
      timeoutMs: 15_000,
      what: "the FIFO move task to complete",
    });
    const back = await drain(source.url, bodies.length, { MessageSystemAttributeNames: ["MessageGroupId"] });
    assert.deepEqual(back.map((m) => m.Body), bodies);
    for (const m of back) assert.equal(m.Attributes.MessageGroupId, "only-group");
    await deleteQueues(source, dlq);
  });
});

/** Put `bodies` through `source` again and into `dlq`. */
async function driveToDlqAgain(source, dlq, bodies) {
  for (const MessageBody of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody }));
  await driveToDlq(source, dlq, bodies.length);
}

describe("sqs-consumer on a FIFO queue", () => {
  it("handles every group's messages in order", async () => {
    const q = await newFifo("fifo-consumer", { VisibilityTimeout: "30" });
    const groups = ["g1", "g2", "g3"];
    const PER_GROUP = 5;
    for (let i = 0; i < PER_GROUP; i++) {
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: q.url,
          Entries: groups.map((g) => ({ Id: g, MessageBody: `${g}:${i}`, MessageGroupId: g, MessageDeduplicationId: `${g}-${i}` })),
        }),
      );
      assert.equal(out.Successful.length, groups.length, JSON.stringify(out.Failed));
    }

    const handled = Object.fromEntries(groups.map((g) => [g, []]));
    let count = 0;
    const client = makeClient(server.endpoint);
    const consumer = Consumer.create({
      queueUrl: q.url,
      sqs: client,
      batchSize: 4,
      waitTimeSeconds: 1,
      pollingCompleteWaitTimeMs: 5_000,
      messageSystemAttributeNames: ["MessageGroupId"],
      suppressFifoWarning: true,
      handleMessage: async (message) => {
        handled[message.Attributes.MessageGroupId].push(message.Body);
        count += 1;
        return message;
      },
    });
    const errors = [];
    for (const ev of ["error", "processing_error", "timeout_error"]) {
      consumer.on(ev, (err) => errors.push(`${ev}: ${err?.name}: ${err?.message}`));
    }
    consumer.start();
    try {
      await waitFor(() => count >= groups.length * PER_GROUP, {
        timeoutMs: 30_000,
        what: `${groups.length * PER_GROUP} messages to be handled (got ${count})`,
      });
      await waitFor(
        async () => {
          const c = await queueCounts(q.url);
          return c.visible === 0 && c.notVisible === 0;
        },
        { timeoutMs: 10_000, intervalMs: 200, what: "the queue to be empty" },
      );
    } finally {
      if (consumer.status.isRunning) {
        const stopped = once(consumer, "stopped");
        consumer.stop();
        await withTimeout(stopped, 10_000, "the consumer to stop");
      }
      client.destroy();
    }
    for (const g of groups) {
      assert.deepEqual(handled[g], Array.from({ length: PER_GROUP }, (_, i) => `${g}:${i}`), `group ${g} in order`);
    }
    assert.equal(count, groups.length * PER_GROUP, "each message handled once");
    assert.deepEqual(errors, []);
    await deleteQueues(q);
  });
});
