// Small harness for the postbox end-to-end tests.
//
// startServer() either uses the server named by POSTBOX_ENDPOINT (already
// running; we never stop it) or starts
//   $POSTBOX_BIN serve --listen 127.0.0.1:0 --data-dir <fresh tmpdir>
// (POSTBOX_BIN defaults to <repo>/build/postbox), waits for the stdout line
// "listening on http://127.0.0.1:<port>", and returns { endpoint, stop }.
// stop() sends SIGTERM to that one process (by its PID), waits for it to exit
// (SIGKILL after a grace period), removes the data dir and reports the exit
// status so the caller can assert a clean shutdown.
//
// Every wait in here is bounded so that a broken server fails a test instead
// of hanging it.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";

import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, "..", "..", "..", "..");

export const REGION = "us-east-1";
export const ACCOUNT_ID = "000000000000";
// A function, not an object: the SDK annotates the credentials object it is
// given, so every client gets its own copy.
export const credentials = () => ({
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
});

const STARTUP_TIMEOUT_MS = 20_000;
const SHUTDOWN_TIMEOUT_MS = 10_000;

/** Resolve after `ms` milliseconds. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reject with a clear message if `promise` does not settle within `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${ms} ms: ${what}`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Poll `fn` (async, returns truthy when done) every `intervalMs` until it
 * returns a truthy value, or throw after `timeoutMs`. Returns that value.
 */
export async function waitFor(fn, { timeoutMs = 15_000, intervalMs = 100, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(intervalMs);
  }
}

/** A queue name that is unique for this run (safe against a shared server). */
export function uniqueName(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

/**
 * Start postbox (or attach to POSTBOX_ENDPOINT).
 * @returns {Promise<{endpoint: string, external: boolean, stop: () => Promise<{code: number|null, signal: string|null, killed: boolean}|null>, output: () => string}>}
 */
/**
 * Starts $POSTBOX_BIN with `extraArgs` added to its command line; `dev: false` leaves out
 * --dev (for authentication tests), `env` adds to its environment.
 */
export async function startServer(extraArgs = [], { dev = true, env = {} } = {}) {
  if (process.env.POSTBOX_ENDPOINT) {
    const endpoint = process.env.POSTBOX_ENDPOINT.replace(/\/+$/, "");
    return { endpoint, external: true, stop: async () => null, output: () => "" };
  }

  const bin = process.env.POSTBOX_BIN || path.join(REPO_ROOT, "build", "postbox");
  if (!existsSync(bin)) {
    throw new Error(
      `postbox binary not found at ${bin}: build it first, or set POSTBOX_BIN, ` +
        `or set POSTBOX_ENDPOINT to a running server`,
    );
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), "postbox-e2e-js-"));
  // --dev: any credentials, and deliveries to the tests' fake servers on 127.0.0.1 allowed.
  const args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir,
                ...(dev ? ["--dev"] : []), ...extraArgs];
  const child = spawn(bin, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });

  let output = "";
  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      // Don't let a leftover grandchild holding the pipes keep node alive.
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code, signal });
    });
  });

  let endpoint;
  try {
    endpoint = await withTimeout(
      new Promise((resolve, reject) => {
        const onData = (chunk) => {
          output += chunk.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (m) resolve(m[1]);
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", (chunk) => {
          output += chunk.toString();
        });
        child.once("error", reject);
        exited.then(({ code, signal }) =>
          reject(new Error(`postbox exited before listening (code ${code}, signal ${signal}):\n${output}`)),
        );
      }),
      STARTUP_TIMEOUT_MS,
      `postbox to print "listening on"; output so far:\n${output}`,
    );
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await withTimeout(exited, SHUTDOWN_TIMEOUT_MS, "postbox to exit").catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  // Keep draining the pipes so the server never blocks on a full pipe.
  child.stdout.on("data", (chunk) => {
    output += chunk.toString();
  });

  let stopped = null;
  const stop = async () => {
    if (stopped) return stopped;
    stopped = (async () => {
      let killed = false;
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid, "SIGTERM");
      }
      let status;
      try {
        status = await withTimeout(exited, SHUTDOWN_TIMEOUT_MS, "postbox to exit after SIGTERM");
      } catch {
        killed = true;
        process.kill(child.pid, "SIGKILL");
        status = await withTimeout(exited, SHUTDOWN_TIMEOUT_MS, "postbox to exit after SIGKILL");
      }
      rmSync(dataDir, { recursive: true, force: true });
      return { ...status, killed };
    })();
    return stopped;
  };

  return { endpoint, external: false, stop, output: () => output };
}

/**
 * Assert (by throwing) that a server we started shut down cleanly on SIGTERM.
 */
export async function stopAndCheck(server) {
  const status = await server.stop();
  if (status === null) return; // external server: not ours to stop
  if (status.killed || status.code !== 0) {
    throw new Error(
      `postbox did not exit cleanly on SIGTERM: ${JSON.stringify(status)}\n${server.output()}`,
    );
  }
}

/**
 * For a test file: start postbox (see startServer) and one SQS client for it
 * in a `before` hook, destroy the client and stop the server (checking a clean
 * shutdown) in an `after` hook. onReady(server, client) receives them once
 * they exist.
 */
export function useServer(onReady, extraArgs = []) {
  let server;
  let client;
  before(async () => {
    server = await startServer(extraArgs);
    client = makeClient(server.endpoint);
    onReady(server, client);
  });
  after(async () => {
    client?.destroy();
    if (server) await stopAndCheck(server);
  });
}

/** An SQS client pointed at `endpoint`, with bounded timeouts and no retries. */
export function makeClient(endpoint, extra = {}) {
  return new SQSClient({
    region: REGION,
    endpoint,
    credentials: credentials(),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
    ...extra,
  });
}

/** The queue URL postbox is expected to hand out for `name`. */
export function expectedQueueUrl(endpoint, name) {
  return `${endpoint}/${ACCOUNT_ID}/${name}`;
}

/** The queue ARN postbox is expected to report for `name`. */
export function queueArn(name) {
  return `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${name}`;
}

/** { visible, notVisible }: the queue's approximate message counts. */
export async function queueCounts(sqs, QueueUrl) {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    notVisible: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

/**
 * assert.rejects with the SQS error name (the SDK takes it from the
 * x-amzn-query-error header), the HTTP status, a client fault and,
 * optionally, the message (a string for an exact match, or a RegExp).
 */
export async function rejectsWith(promise, name, status, message = undefined) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
    assert.equal(err.$metadata?.httpStatusCode, status, `HTTP status for ${name}`);
    assert.equal(err.$fault, "client");
    if (typeof message === "string") assert.equal(err.message, message);
    else if (message instanceof RegExp) assert.match(err.message, message);
    return true;
  });
}

/**
 * MD5OfMessageAttributes as SQS computes it: attributes sorted by name; for
 * each: len(name)|name, len(type)|type, one transport byte (1 = string,
 * 2 = binary), len(value)|value; lengths are 4-byte big-endian.
 * The JS SDK only verifies MD5OfMessageBody, so the tests check this one.
 */
export function md5OfMessageAttributes(attrs) {
  const hash = createHash("md5");
  const lenPrefixed = (buf) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(buf.length);
    hash.update(len);
    hash.update(buf);
  };
  for (const name of Object.keys(attrs).sort()) {
    const a = attrs[name];
    lenPrefixed(Buffer.from(name, "utf8"));
    lenPrefixed(Buffer.from(a.DataType, "utf8"));
    if (a.BinaryValue !== undefined) {
      hash.update(Buffer.from([2]));
      lenPrefixed(Buffer.from(a.BinaryValue));
    } else {
      hash.update(Buffer.from([1]));
      lenPrefixed(Buffer.from(a.StringValue, "utf8"));
    }
  }
  return hash.digest("hex");
}

export function md5Hex(text) {
  return createHash("md5").update(Buffer.from(text, "utf8")).digest("hex");
}
