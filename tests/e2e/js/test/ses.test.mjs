// End-to-end tests of postbox's SES with the AWS SDK for JavaScript v3:
// @aws-sdk/client-ses (query protocol) and @aws-sdk/client-sesv2 (rest-json)
// send mail that a real SMTP server (Debian's aiosmtpd, started here on
// 127.0.0.1 by tests/e2e/py/smtp_server.py) receives; identities and the
// quota read back as written.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import {
  DeleteIdentityCommand,
  GetIdentityVerificationAttributesCommand,
  GetSendQuotaCommand,
  ListIdentitiesCommand,
  SendEmailCommand,
  SendRawEmailCommand,
  SESClient,
  VerifyEmailIdentityCommand,
} from "@aws-sdk/client-ses";
import {
  GetEmailIdentityCommand,
  SendEmailCommand as SendEmailV2Command,
  SESv2Client,
} from "@aws-sdk/client-sesv2";

import { REGION, REPO_ROOT, credentials, rejectsWith, stopAndCheck, startServer, waitFor } from "./harness.mjs";

// The SMTP relay: started before postbox, whose command line names it.
const mailDir = mkdtempSync(path.join(tmpdir(), "postbox-smtp-js-"));
let relay;
let server;
let ses;
let sesv2;
let seen = 0;

async function startRelay() {
  relay = spawn("/usr/bin/python3", [path.join(REPO_ROOT, "tests", "e2e", "py", "smtp_server.py"), mailDir], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  return await new Promise((resolve, reject) => {
    let out = "";
    relay.stdout.on("data", (chunk) => {
      out += chunk.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    relay.once("exit", (code) => reject(new Error(`the SMTP server exited (${code})`)));
  });
}

/** The next mail the relay accepted: { mail_from, rcpt_tos, raw }. */
async function nextMail() {
  let files = [];
  await waitFor(
    () => {
      files = readdirSync(mailDir).filter((f) => /^mail-\d+\.json$/.test(f)).sort();
      return files.length > seen;
    },
    { what: "a mail at the SMTP server" },
  );
  const record = JSON.parse(readFileSync(path.join(mailDir, files[seen++]), "utf8"));
  record.raw = Buffer.from(record.data, "base64").toString("latin1");
  return record;
}

before(async () => {
  const port = await startRelay();
  server = await startServer(["--email-smtp-url", `smtp://127.0.0.1:${port}`]);
  const options = {
    region: REGION,
    endpoint: server.endpoint,
    credentials: credentials(),
    maxAttempts: 1,
  };
  ses = new SESClient(options);
  sesv2 = new SESv2Client(options);
});

after(async () => {
  ses?.destroy();
  sesv2?.destroy();
  if (server) await stopAndCheck(server);
  relay?.stdin.end();
  rmSync(mailDir, { recursive: true, force: true });
});

describe("SES v1 (client-ses)", () => {
  it("sends a UTF-8 mail with a Bcc only in the envelope", async () => {
    const { MessageId } = await ses.send(
      new SendEmailCommand({
        Source: "shop@postbox.test",
        Destination: { ToAddresses: ["m@shop.test"], BccAddresses: ["audit@shop.test"] },
        Message: { Subject: { Data: "품절 알림" }, Body: { Text: { Data: "도넛이 없습니다" } } },
      }),
    );
    assert.ok(MessageId);
    const mail = await nextMail();
    assert.equal(mail.mail_from, "shop@postbox.test");
    assert.deepEqual(mail.rcpt_tos.sort(), ["audit@shop.test", "m@shop.test"]);
    assert.match(mail.raw, /^Subject: =\?UTF-8\?B\?/m);
    assert.doesNotMatch(mail.raw, /^Bcc:/m);
    const body = mail.raw.split("\r\n\r\n")[1].replace(/\r\n/g, "");
    assert.equal(Buffer.from(body, "base64").toString("utf8"), "도넛이 없습니다");
  });

  it("sends a raw mail", async () => {
    const raw = "From: shop@postbox.test\r\nTo: r@shop.test\r\nSubject: raw\r\n\r\nhello\r\n";
    await ses.send(new SendRawEmailCommand({ RawMessage: { Data: Buffer.from(raw) } }));
    const mail = await nextMail();
    assert.deepEqual(mail.rcpt_tos, ["r@shop.test"]);
    assert.match(mail.raw, /\r\n\r\nhello\r\n$/);
  });

  it("keeps identities and counts the quota", async () => {
    await ses.send(new VerifyEmailIdentityCommand({ EmailAddress: "js@shop.test" }));
    const { Identities } = await ses.send(new ListIdentitiesCommand({}));
    assert.deepEqual(Identities, ["js@shop.test"]);
    const { VerificationAttributes } = await ses.send(
      new GetIdentityVerificationAttributesCommand({ Identities: ["js@shop.test"] }),
    );
    assert.deepEqual(VerificationAttributes, { "js@shop.test": { VerificationStatus: "Success" } });
    await ses.send(new DeleteIdentityCommand({ Identity: "js@shop.test" }));
    const quota = await ses.send(new GetSendQuotaCommand({}));
    assert.equal(quota.SentLast24Hours, 3);
    assert.equal(quota.MaxSendRate, 14);
  });

  it("answers AWS's error for a bad address", async () => {
    await rejectsWith(
      ses.send(
        new SendEmailCommand({
          Source: "nobody",
          Destination: { ToAddresses: ["m@shop.test"] },
          Message: { Subject: { Data: "s" }, Body: { Text: { Data: "b" } } },
        }),
      ),
      "InvalidParameterValue",
      400,
      "Missing final '@domain'",
    );
  });
});

describe("SES v2 (client-sesv2)", () => {
  it("sends simple content and reports NotFoundException for an unknown identity", async () => {
    const { MessageId } = await sesv2.send(
      new SendEmailV2Command({
        FromEmailAddress: "shop@postbox.test",
        Destination: { ToAddresses: ["v2@shop.test"] },
        Content: { Simple: { Subject: { Data: "v2" }, Body: { Text: { Data: "본문" } } } },
      }),
    );
    assert.ok(MessageId);
    const mail = await nextMail();
    assert.deepEqual(mail.rcpt_tos, ["v2@shop.test"]);
    await rejectsWith(
      sesv2.send(new GetEmailIdentityCommand({ EmailIdentity: "missing@shop.test" })),
      "NotFoundException",
      404,
    );
  });
});
