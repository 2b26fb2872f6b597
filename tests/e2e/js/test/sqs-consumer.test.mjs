// End-to-end tests of postbox with sqs-consumer (on top of @aws-sdk/client-sqs).

import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";

import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
} from "@aws-sdk/client-sqs";
import { Consumer } from "sqs-consumer";

import { makeClient, sleep, uniqueName, useServer, waitFor, withTimeout } from "./harness.mjs";

const N = 20;

let server;
let sqs;
useServer((s, client) => {
  server = s;
  sqs = client;
});

async function newQueue(prefix) {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: uniqueName(prefix), Attributes: { VisibilityTimeout: "30" } }),
  );
  return QueueUrl;
}

/** Send N messages ("msg-0" .. "msg-19") in batches of 10. */
async function sendN(QueueUrl) {
  const bodies = Array.from({ length: N }, (_, i) => `msg-${i}`);
  for (let i = 0; i < N; i += 10) {
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: `e${i + j}`, MessageBody })),
      }),
    );
    assert.equal(out.Failed?.length ?? 0, 0, JSON.stringify(out.Failed));
    assert.equal(out.Successful.length, Math.min(10, N - i));
  }
  return bodies;
}

async function waitUntilEmpty(QueueUrl) {
  await waitFor(
    async () => {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return (
        Attributes.ApproximateNumberOfMessages === "0" &&
        Attributes.ApproximateNumberOfMessagesNotVisible === "0"
      );
    },
    { timeoutMs: 15_000, intervalMs: 200, what: "the queue to be empty (all messages deleted)" },
  );
}

/** A client for a consumer, recording the name of every command it sends. */
function recordingClient() {
  const client = makeClient(server.endpoint);
  const commands = new Map();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.set(context.commandName, (commands.get(context.commandName) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "recordCommandNames" },
  );
  return { client, commands };
}

/** Start `consumer`, recording every error event; returns the error list. */
function startRecordingErrors(consumer) {
  const errors = [];
  for (const ev of ["error", "processing_error", "timeout_error"]) {
    consumer.on(ev, (err) => errors.push(`${ev}: ${err?.name}: ${err?.message}`));
  }
  consumer.start();
  return errors;
}

async function stopConsumer(consumer) {
  if (!consumer.status.isRunning) return;
  const stopped = once(consumer, "stopped");
  consumer.stop();
  await withTimeout(stopped, 10_000, "the consumer to stop");
}

describe("sqs-consumer", () => {
  it(`handleMessage: ${N} messages are handled once each and deleted`, async () => {
    const QueueUrl = await newQueue("consumer");
    const handled = new Map(); // body -> times handled
    const { client, commands } = recordingClient();
    const consumer = Consumer.create({
      queueUrl: QueueUrl,
      sqs: client,
      batchSize: 10,
      waitTimeSeconds: 1,
      pollingCompleteWaitTimeMs: 5_000,
      messageAttributeNames: ["All"],
      messageSystemAttributeNames: ["ApproximateReceiveCount"],
      handleMessage: async (message) => {
        handled.set(message.Body, (handled.get(message.Body) ?? 0) + 1);
        return message; // acknowledge: sqs-consumer deletes it
      },
    });
    const errors = startRecordingErrors(consumer);
    try {
      const bodies = await sendN(QueueUrl);
      await waitFor(() => handled.size >= N, {
        timeoutMs: 30_000,
        what: `${N} messages to be handled (got ${handled.size})`,
      });
      await waitUntilEmpty(QueueUrl);
      await sleep(1_500); // a further poll must not redeliver anything
      assert.deepEqual([...handled.keys()].sort(), [...bodies].sort());
      for (const [body, times] of handled) assert.equal(times, 1, `${body} handled ${times} times`);
      assert.deepEqual(errors, []);
      assert.ok(commands.get("ReceiveMessageCommand") >= 2, JSON.stringify([...commands]));
      assert.equal(commands.get("DeleteMessageCommand"), N, JSON.stringify([...commands]));
    } finally {
      await stopConsumer(consumer);
      client.destroy();
    }
    assert.equal(consumer.status.isRunning, false);
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });

  it(`handleMessageBatch with heartbeats: ${N} messages handled and batch-deleted`, async () => {
    const QueueUrl = await newQueue("consumer-batch");
    const handled = new Map();
    let batches = 0;
    const { client, commands } = recordingClient();
    const consumer = Consumer.create({
      queueUrl: QueueUrl,
      sqs: client,
      batchSize: 10,
      waitTimeSeconds: 1,
      pollingCompleteWaitTimeMs: 5_000,
      // Handler slower than the heartbeat: the consumer extends visibility
      // with ChangeMessageVisibilityBatch while the batch is being handled.
      visibilityTimeout: 3,
      heartbeatInterval: 1,
      handleMessageBatch: async (messages) => {
        batches += 1;
        for (const m of messages) handled.set(m.Body, (handled.get(m.Body) ?? 0) + 1);
        await sleep(1_600);
        return messages; // acknowledge all: DeleteMessageBatch
      },
    });
    const errors = startRecordingErrors(consumer);
    try {
      const bodies = await sendN(QueueUrl);
      await waitFor(() => handled.size >= N, {
        timeoutMs: 30_000,
        what: `${N} messages to be handled (got ${handled.size})`,
      });
      await waitUntilEmpty(QueueUrl);
      await sleep(1_500);
      assert.deepEqual([...handled.keys()].sort(), [...bodies].sort());
      for (const [body, times] of handled) assert.equal(times, 1, `${body} handled ${times} times`);
      assert.ok(batches >= 2, `messages came in ${batches} batch(es)`);
      assert.ok(
        commands.get("ChangeMessageVisibilityBatchCommand") >= 1,
        `visibility was extended at least once: ${JSON.stringify([...commands])}`,
      );
      assert.ok(commands.get("DeleteMessageBatchCommand") >= 2, JSON.stringify([...commands]));
      assert.equal(commands.get("DeleteMessageCommand") ?? 0, 0, JSON.stringify([...commands]));
      assert.deepEqual(errors, []);
    } finally {
      await stopConsumer(consumer);
      client.destroy();
    }
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });
});
