// SigV4 authentication with the AWS SDK for JavaScript v3: postbox started without --dev
// (auth.mode = "sigv4") accepts SQS (JSON protocol) and SNS (query protocol) requests signed
// with its key, and refuses a wrong secret and an unknown key with AWS's errors.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { CreateTopicCommand, ListTopicsCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";

import { REGION, credentials, startServer, stopAndCheck, uniqueName } from "./harness.mjs";

describe("SigV4 authentication (JS SDK v3)", () => {
  let server;
  const clients = [];
  const client = (Kind, keys = credentials()) => {
    const made = new Kind({
      endpoint: server.endpoint,
      region: REGION,
      credentials: keys,
      maxAttempts: 1,
    });
    clients.push(made);
    return made;
  };

  before(async () => {
    const { accessKeyId, secretAccessKey } = credentials();
    server = await startServer(["--auth-mode", "sigv4", "--auth-access-key-id", accessKeyId], {
      dev: false,
      env: { POSTBOX_AUTH_SECRET_ACCESS_KEY: secretAccessKey },
    });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    if (server) await stopAndCheck(server);
  });

  it("answers requests signed with the configured key", async (t) => {
    if (server.external) return t.skip("needs a server started in sigv4 mode");
    const sqs = client(SQSClient);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName("auth") }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "signed" }));
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }),
    );
    assert.equal(Messages?.[0]?.Body, "signed");
    const sns = client(SNSClient);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: uniqueName("auth") }));
    const { Topics } = await sns.send(new ListTopicsCommand({}));
    assert.ok(Topics.some((topic) => topic.TopicArn === TopicArn));
  });

  it("refuses a wrong secret and an unknown key", async (t) => {
    if (server.external) return t.skip("needs a server started in sigv4 mode");
    const { accessKeyId } = credentials();
    await assert.rejects(
      client(SQSClient, { accessKeyId, secretAccessKey: "not-the-secret" }).send(
        new ListQueuesCommand({}),
      ),
      (e) => e.name === "SignatureDoesNotMatch" && e.$metadata.httpStatusCode === 403,
    );
    await assert.rejects(
      client(SNSClient, { accessKeyId: "AKIAUNKNOWNKEY000001", secretAccessKey: "x" }).send(
        new ListTopicsCommand({}),
      ),
      (e) => e.name === "InvalidClientTokenId" && e.$metadata.httpStatusCode === 403,
    );
  });
});
