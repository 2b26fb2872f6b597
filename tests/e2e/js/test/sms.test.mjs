// End-to-end tests of postbox's SMS with the AWS SDK for JavaScript v3 (@aws-sdk/client-sns):
// Publish to a phone number and an sms subscription reach a webhook SMS provider (a Node HTTP
// server here on 127.0.0.1 that checks postbox's HMAC signature as a real receiver would); a
// 410 answer opts the number out, which the opt-out operations show and OptInPhoneNumber
// reverses; SMS attributes read back as written; bad numbers get AWS's errors.

import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";

import {
  CheckIfPhoneNumberIsOptedOutCommand,
  CreateTopicCommand,
  GetSMSAttributesCommand,
  ListPhoneNumbersOptedOutCommand,
  OptInPhoneNumberCommand,
  PublishCommand,
  SetSMSAttributesCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";

import { REGION, credentials, rejectsWith, startServer, stopAndCheck, uniqueName, waitFor } from "./harness.mjs";

const SECRET = "js-webhook-secret";
const received = [];
const goneNumbers = new Set(); // numbers the fake provider answers 410 Gone (opted out)
let provider;
let server;
let sns;

function verified(req, body) {
  const timestamp = req.headers["x-postbox-timestamp"] ?? "";
  const expected = "v1=" + createHmac("sha256", SECRET).update(`${timestamp}.${body}`).digest("hex");
  const given = Buffer.from(req.headers["x-postbox-signature"] ?? "");
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300;
  return fresh && given.length === expected.length && timingSafeEqual(given, Buffer.from(expected));
}

async function startProvider() {
  provider = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      if (!verified(req, body)) {
        res.writeHead(401).end("bad signature");
        return;
      }
      const message = JSON.parse(body);
      if (goneNumbers.has(message.phoneNumber)) {
        res.writeHead(410).end("opted out");
        return;
      }
      received.push(message);
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise((resolve) => provider.listen(0, "127.0.0.1", resolve));
  return provider.address().port;
}

const arrived = (predicate) =>
  waitFor(() => received.find(predicate), { what: "an SMS at the webhook provider" });

before(async () => {
  const port = await startProvider();
  process.env.POSTBOX_SMS_WEBHOOK_SECRET = SECRET; // inherited by the server: not on its command line
  server = await startServer([
    "--sms-default-provider", "webhook",
    "--sms-webhook-url", `http://127.0.0.1:${port}/sms`,
    "--delivery-retry-min-delay-seconds", "1",
    "--delivery-retry-max-delay-seconds", "2",
    "--delivery-retries", "3",
  ]);
  delete process.env.POSTBOX_SMS_WEBHOOK_SECRET;
  sns = new SNSClient({ region: REGION, endpoint: server.endpoint, credentials: credentials(), maxAttempts: 1 });
});

after(async () => {
  sns?.destroy();
  if (server) await stopAndCheck(server);
  provider?.close();
});

describe("SMS (client-sns)", () => {
  it("publishes to a phone number and to an sms subscription", async () => {
    const { MessageId } = await sns.send(
      new PublishCommand({
        PhoneNumber: "+821012345678",
        Message: "배포 완료",
        MessageAttributes: { "AWS.SNS.SMS.SenderID": { DataType: "String", StringValue: "Deploy" } },
      }),
    );
    assert.match(MessageId, /^[0-9a-f-]{36}$/);
    const direct = await arrived((m) => m.message === "배포 완료");
    assert.equal(direct.phoneNumber, "+821012345678");
    assert.equal(direct.senderId, "Deploy");
    assert.equal(direct.messageId, MessageId);

    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: uniqueName("sms") }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: "sms", Endpoint: "+15551239999" }));
    await sns.send(new PublishCommand({ TopicArn, Message: "to the topic" }));
    const fanned = await arrived((m) => m.message === "to the topic");
    assert.equal(fanned.phoneNumber, "+15551239999");
  });

  it("refuses numbers that are not E.164", async () => {
    await rejectsWith(
      sns.send(new PublishCommand({ PhoneNumber: "010-1234-5678", Message: "x" })),
      "InvalidParameterException",
      400,
      "Invalid parameter: PhoneNumber Reason: 010-1234-5678 is not valid to publish to",
    );
    await rejectsWith(
      sns.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: "abc" })),
      "InvalidParameterException",
      400,
    );
  });

  it("opts a number out when the provider says so, and back in", async () => {
    const number = "+447700900555";
    goneNumbers.add(number);
    await sns.send(new PublishCommand({ PhoneNumber: number, Message: "are you there" }));
    await waitFor(
      async () => (await sns.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: number }))).isOptedOut,
      { what: "the number opted out" },
    );
    const { phoneNumbers } = await sns.send(new ListPhoneNumbersOptedOutCommand({}));
    assert.ok(phoneNumbers.includes(number));
    goneNumbers.delete(number);
    await sns.send(new OptInPhoneNumberCommand({ phoneNumber: number }));
    const { isOptedOut } = await sns.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: number }));
    assert.equal(isOptedOut, false);
    await sns.send(new PublishCommand({ PhoneNumber: number, Message: "welcome back" }));
    await arrived((m) => m.message === "welcome back");
  });

  it("keeps SMS attributes", async () => {
    await sns.send(
      new SetSMSAttributesCommand({ attributes: { DefaultSMSType: "Transactional", MonthlySpendLimit: "50" } }),
    );
    const { attributes } = await sns.send(new GetSMSAttributesCommand({ attributes: ["DefaultSMSType"] }));
    assert.deepEqual(attributes, { DefaultSMSType: "Transactional" });
    const all = await sns.send(new GetSMSAttributesCommand({}));
    assert.equal(all.attributes.MonthlySpendLimit, "50");
    await rejectsWith(
      sns.send(new SetSMSAttributesCommand({ attributes: { DefaultSenderID: "way-too-long-sender" } })),
      "InvalidParameterException",
      400,
    );
  });
});
