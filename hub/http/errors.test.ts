// One error body everywhere, and the right 4xx for bodies that are too large, malformed or invalid.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { BLOCKS_CONTENT_TYPE, encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { sha256Hex } from "../../shared/blocks/hex.ts";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";
import type { LogFields } from "../ports/logger.ts";

const MAX_BODY_BYTES = 1024;
const MAX_BLOCK_BODY_BYTES = 4096;

let hub: TestHub;
let source: TestDevice;
beforeEach(async () => {
  hub = await createTestHub({
    limits: { maxBodyBytes: MAX_BODY_BYTES, maxBlockBodyBytes: MAX_BLOCK_BODY_BYTES },
  });
  await hub.createShare("docs");
  source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]));
});
afterEach(() => hub.close());

/** A body that arrives in pieces, without a Content-Length (chunked transfer). */
function streamed(text: string, chunkBytes = 100): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkBytes));
      offset += chunkBytes;
    },
  });
}

describe("unknown routes", () => {
  test("answer 404 with the error shape", async () => {
    await expectError(await hub.request("GET", "/nope"), 404, "not_found", /no route for GET \/nope/);
  });

  test("under /v1/admin answer 404 to the admin, not a device-token complaint", async () => {
    await expectError(
      await hub.admin("GET", "/v1/admin/nope"),
      404,
      "not_found",
      /no route for GET \/v1\/admin\/nope/,
    );
  });

  test("under /v1 answer 404 to an enrolled device", async () => {
    await expectError(await hub.deviceFetch(source, "GET", "/v1/nope"), 404, "not_found", /no route/);
  });
});

describe("request ids", () => {
  test("differ between requests and match the X-Request-Id header", async () => {
    const a = await expectError(await hub.request("GET", "/nope"), 404, "not_found");
    const b = await expectError(await hub.request("GET", "/nope"), 404, "not_found");
    expect(a.requestId).not.toBe(b.requestId);
  });

  test("echo a well-formed id the caller sent", async () => {
    const response = await hub.request("GET", "/nope", undefined, {
      headers: { "x-request-id": "agent-42" },
    });
    const error = await expectError(response, 404, "not_found");
    expect(error.requestId).toBe("agent-42");
  });

  test("replace an id with characters that could forge log lines", async () => {
    const response = await hub.request("GET", "/nope", undefined, {
      headers: { "x-request-id": "a b\tc" },
    });
    const error = await expectError(response, 404, "not_found");
    expect(error.requestId).not.toBe("a b\tc");
  });
});

describe("a body over the size limit", () => {
  test("is refused with 413 before anything is created", async () => {
    const before = await hub.digest();
    const response = await hub.admin("POST", "/v1/admin/shares", {
      name: "big",
      padding: "x".repeat(MAX_BODY_BYTES),
    });

    await expectError(response, 413, "payload_too_large", /larger than 1024 bytes; send less per request/);
    expect(await hub.digest()).toBe(before);
  });

  test("is refused with 413 when it arrives without a Content-Length", async () => {
    const before = await hub.digest();
    const body = JSON.stringify({ name: "big", padding: "x".repeat(MAX_BODY_BYTES) });
    const response = await hub.app.request("/v1/admin/shares", {
      method: "POST",
      headers: { authorization: `Bearer ${hub.adminToken}`, "content-type": "application/json" },
      body: streamed(body),
      duplex: "half",
    } as RequestInit);

    await expectError(response, 413, "payload_too_large", /larger than 1024 bytes/);
    expect(await hub.digest()).toBe(before);
  });

  test("is accepted when it arrives without a Content-Length but within the limit", async () => {
    const response = await hub.app.request("/v1/admin/shares", {
      method: "POST",
      headers: { authorization: `Bearer ${hub.adminToken}`, "content-type": "application/json" },
      body: streamed(JSON.stringify({ name: "small" }), 3),
      duplex: "half",
    } as RequestInit);

    expect(response.status).toBe(201);
  });

  test("is refused with 413 for a change report, committing nothing", async () => {
    const entries = Array.from({ length: 50 }, (_, i) => ({ path: `dir-${i}`, type: "dir" }));
    const before = await hub.digest();

    const response = await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", { entries });

    await expectError(response, 413, "payload_too_large");
    expect(await hub.digest()).toBe(before);
  });

  test("is refused with 413 for a block upload over the block body limit, storing nothing", async () => {
    const frames = await Promise.all(
      [1, 2].map(async (n) => {
        const bytes = new Uint8Array(3000).fill(n);
        return { hash: await sha256Hex(bytes), bytes };
      }),
    );
    const before = await hub.digest();

    const response = await hub.deviceFetch(source, "POST", "/v1/blocks", encodeBlockFrames(frames));

    await expectError(response, 413, "payload_too_large", /larger than 4096 bytes/);
    expect(await hub.digest()).toBe(before);
  });

  test("applies the block body limit, not the JSON one, to block uploads", async () => {
    const bytes = new Uint8Array(3000).fill(7);
    const frames = [{ hash: await sha256Hex(bytes), bytes }];

    const response = await hub.deviceFetch(source, "POST", "/v1/blocks", encodeBlockFrames(frames));

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ stored: 1, bytes: 3000 });
  });
});

describe("a malformed JSON body", () => {
  test.each([
    ['{"name": }', 9],
    ['{"name": "docs",}', 16],
    ["not json", 0],
    ['{"name": "do', 12],
  ])("%s is refused with 400 saying where it broke (offset %i)", async (text, offset) => {
    const response = await hub.admin("POST", "/v1/admin/shares", text);
    await expectError(
      response,
      400,
      "bad_request",
      new RegExp(`not valid JSON at line 1, column ${offset + 1} \\(offset ${offset}\\)`),
    );
  });

  test("names the line and column on a later line", async () => {
    const response = await hub.admin(
      "POST",
      "/v1/admin/shares",
      '{\n  "name": "docs"\n  "kind": "folder"\n}',
    );
    await expectError(response, 400, "bad_request", /not valid JSON at line 3, column 3/);
  });

  test("an empty body is refused with 400", async () => {
    const response = await hub.admin("POST", "/v1/admin/shares", "");
    await expectError(response, 400, "bad_request", /not valid JSON/);
  });

  test("a deeply nested body is refused with 400, not 500", async () => {
    const response = await hub.admin("POST", "/v1/admin/shares", "[".repeat(MAX_BODY_BYTES - 10));
    await expectError(response, 400, "bad_request", /not valid JSON/);
  });
});

describe("a body that does not match the schema", () => {
  test("is refused with 422 naming entries.0.path for a path that climbs out of the share", async () => {
    const before = await hub.digest();
    const response = await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", {
      entries: [{ path: "../etc/passwd", type: "dir" }],
    });

    await expectError(response, 422, "invalid", /body field "entries\.0\.path": path has a "\.\." segment/);
    expect(await hub.digest()).toBe(before);
  });

  test.each([
    ["/etc/passwd", /path is absolute/],
    ["C:/Windows", /drive letter/],
    ["a/../../b", /"\.\." segment/],
    ["a\\b", /backslash/],
    ["a\u0000b", /NUL/],
    [".fleetsync/trash/x", /reserved/],
    ["a//b", /empty segment/],
  ])("refuses the entry path %j with 422 naming its field", async (path, reason) => {
    const response = await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", {
      entries: [
        { path: "ok", type: "dir" },
        { path, type: "dir" },
      ],
    });
    const error = await expectError(response, 422, "invalid", /body field "entries\.1\.path"/);
    expect(error.message).toMatch(reason);
  });

  test("is refused with 422 naming shares.0.role for a token with an unknown role", async () => {
    const response = await hub.admin("POST", "/v1/admin/tokens", {
      shares: [{ name: "docs", role: "owner" }],
    });
    await expectError(response, 422, "invalid", /body field "shares\.0\.role"/);
  });

  test("is refused with 422 naming the field when a value has the wrong type", async () => {
    const response = await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", {
      entries: [{ path: "a.txt", type: "file", size: "12" }],
    });
    await expectError(response, 422, "invalid", /body field "entries\.0\.size"/);
  });

  test("is refused with 422 naming a bad query parameter", async () => {
    const response = await hub.deviceFetch(source, "GET", "/v1/blocks?hashes=abc");
    await expectError(response, 422, "invalid", /query field "hashes\.0": must be a lowercase hex SHA-256/);
  });

  test("is refused with 422 naming a bad path parameter", async () => {
    const response = await hub.deviceFetch(source, "PUT", "/v1/shares/Not%20A%20Share/cursor", { cursor: 0 });
    await expectError(response, 422, "invalid", /path parameter share/);
  });
});

describe("a failure inside the hub", () => {
  test("answers 500 with the error shape, hides the cause and logs it with the request id", async () => {
    const logged: { message: string; fields?: LogFields }[] = [];
    const failing = await createTestHub({
      log: { info() {}, warn() {}, error: (message, fields) => logged.push({ message, fields }) },
    });
    try {
      failing.client.close();
      const response = await failing.admin("GET", "/v1/admin/shares");

      const error = await expectError(
        response,
        500,
        "internal",
        /the hub failed to handle this request; see the hub log/,
      );
      expect(logged).toEqual([
        {
          message: "request failed",
          fields: expect.objectContaining({ requestId: error.requestId, path: "/v1/admin/shares" }),
        },
      ]);
    } finally {
      await failing.close();
    }
  });
});

describe("public endpoints", () => {
  test("/healthz answers without credentials", async () => {
    const response = await hub.request("GET", "/healthz");
    expect(await response.json()).toEqual({ ok: true, hubId: hub.hubId });
  });

  test("/.well-known/jwks.json publishes only public keys", async () => {
    const jwks = (await (await hub.request("GET", "/.well-known/jwks.json")).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(jwks.keys).toEqual([
      expect.objectContaining({ kty: "OKP", crv: "Ed25519", kid: hub.ctx.identity.kid, alg: "EdDSA" }),
    ]);
    expect(jwks.keys[0]).not.toHaveProperty("d");
  });

  test("block downloads use the block content type", async () => {
    const { blockHash } = await hub.commitFile(source, "docs", "x.txt", "x");
    const replica = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]));
    const response = await hub.deviceFetch(replica, "GET", `/v1/blocks?hashes=${blockHash}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(BLOCKS_CONTENT_TYPE);
  });
});
