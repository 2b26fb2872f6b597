// End-to-end tests of postbox's mobile push with the AWS SDK for JavaScript v3
// (@aws-sdk/client-sns): a platform application with a Firebase service-account key, an
// endpoint, Publish to it through a fake OAuth endpoint and FCM (a Node HTTP server here on
// 127.0.0.1 that verifies the RS256 JWT with the key's public half, as Google does), and an
// UNREGISTERED answer that disables the endpoint.

import assert from "node:assert/strict";
import { createVerify, generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";

import {
  CreatePlatformApplicationCommand,
  CreatePlatformEndpointCommand,
  GetEndpointAttributesCommand,
  GetPlatformApplicationAttributesCommand,
  ListEndpointsByPlatformApplicationCommand,
  PublishCommand,
  SNSClient,
} from "@aws-sdk/client-sns";

import { REGION, credentials, rejectsWith, startServer, stopAndCheck, uniqueName, waitFor } from "./harness.mjs";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const CLIENT_EMAIL = "js@postbox-js.iam.gserviceaccount.com";
const received = [];
const tokens = new Set();
let fake;
let tokenUri;
let server;
let sns;

const b64url = (text) => Buffer.from(text, "base64url").toString("utf8");

function jwtProblem(jwt) {
  const [header, claims, signature] = jwt.split(".");
  if (!signature) return "not a JWT";
  if (JSON.parse(b64url(header)).alg !== "RS256") return "alg";
  const c = JSON.parse(b64url(claims));
  const now = Date.now() / 1000;
  if (c.iss !== CLIENT_EMAIL || c.aud !== tokenUri || !c.scope.includes("firebase.messaging")) return "claims";
  if (Math.abs(now - c.iat) > 300 || c.exp - c.iat > 3600) return "times";
  const ok = createVerify("RSA-SHA256").update(`${header}.${claims}`).verify(publicKey, Buffer.from(signature, "base64url"));
  return ok ? null : "signature";
}

function answer(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

before(async () => {
  fake = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      if (req.url === "/token") {
        const form = new URLSearchParams(body);
        const problem = jwtProblem(form.get("assertion") ?? "");
        if (problem) return answer(res, 400, { error: "invalid_grant", problem });
        const token = "ya29." + randomBytes(8).toString("hex");
        tokens.add(token);
        return answer(res, 200, { access_token: token, expires_in: 3599, token_type: "Bearer" });
      }
      if (!tokens.has((req.headers.authorization ?? "").replace(/^Bearer /, ""))) {
        return answer(res, 401, { error: { code: 401, status: "UNAUTHENTICATED" } });
      }
      const { message } = JSON.parse(body);
      if (message.token.startsWith("dead-")) {
        return answer(res, 404, {
          error: { code: 404, status: "NOT_FOUND", details: [{ errorCode: "UNREGISTERED" }] },
        });
      }
      received.push(message);
      answer(res, 200, { name: "projects/p/messages/1" });
    });
  });
  await new Promise((resolve) => fake.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${fake.address().port}`;
  tokenUri = `${base}/token`;
  server = await startServer(["--push-fcm-endpoint", base]);
  sns = new SNSClient({ region: REGION, endpoint: server.endpoint, credentials: credentials(), maxAttempts: 1 });
});

after(async () => {
  sns?.destroy();
  if (server) await stopAndCheck(server);
  fake?.close();
});

describe("mobile push (client-sns)", () => {
  it("creates an application and endpoint and delivers through FCM", async () => {
    const key = {
      type: "service_account",
      project_id: "p",
      client_email: CLIENT_EMAIL,
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
      token_uri: tokenUri,
    };
    const { PlatformApplicationArn } = await sns.send(
      new CreatePlatformApplicationCommand({
        Name: uniqueName("app"),
        Platform: "GCM",
        Attributes: { PlatformCredential: JSON.stringify(key) },
      }),
    );
    const { Attributes } = await sns.send(new GetPlatformApplicationAttributesCommand({ PlatformApplicationArn }));
    assert.equal(Attributes.PlatformCredential, undefined);
    const { EndpointArn } = await sns.send(
      new CreatePlatformEndpointCommand({ PlatformApplicationArn, Token: "js-device", CustomUserData: "u1" }),
    );
    const { Endpoints } = await sns.send(new ListEndpointsByPlatformApplicationCommand({ PlatformApplicationArn }));
    assert.deepEqual(Endpoints.map((e) => e.EndpointArn), [EndpointArn]);
    await sns.send(
      new PublishCommand({
        TargetArn: EndpointArn,
        MessageStructure: "json",
        Message: JSON.stringify({
          default: "x",
          GCM: JSON.stringify({ fcmV1Message: { message: { notification: { title: "알림", body: "끝" } } } }),
        }),
      }),
    );
    const got = await waitFor(() => received.find((m) => m.token === "js-device"), { what: "a push at FCM" });
    assert.deepEqual(got.notification, { title: "알림", body: "끝" });

    const dead = await sns.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn, Token: "dead-js" }));
    await sns.send(new PublishCommand({ TargetArn: dead.EndpointArn, Message: "hello?" }));
    await waitFor(
      async () =>
        (await sns.send(new GetEndpointAttributesCommand({ EndpointArn: dead.EndpointArn }))).Attributes.Enabled ===
        "false",
      { what: "the endpoint disabled" },
    );
    await rejectsWith(
      sns.send(new PublishCommand({ TargetArn: dead.EndpointArn, Message: "again" })),
      "EndpointDisabledException",
      400,
      "Endpoint is disabled",
    );
  });

  it("answers NotFound for a missing application", async () => {
    await rejectsWith(
      sns.send(
        new CreatePlatformEndpointCommand({
          PlatformApplicationArn: "arn:aws:sns:us-east-1:000000000000:app/GCM/missing",
          Token: "t",
        }),
      ),
      "NotFoundException",
      404,
    );
  });
});
