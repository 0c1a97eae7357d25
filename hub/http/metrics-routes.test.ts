// GET /metrics: never open, the admin or a metrics token reads it, and promtool accepts what it says.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { MIN_BLOCK_BYTES } from "../../shared/blocks/block-size.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";
import { sha256Hex } from "../../shared/blocks/hex.ts";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestHub } from "../../test/support/test-hub-context.ts";

const PROMTOOL = "/usr/bin/promtool";

let hub: TestHub;
beforeEach(async () => {
  hub = await createTestHub();
});
afterEach(() => hub.close());

async function metricsToken(label = "prometheus") {
  return hub.adminJson<{ id: string; token: string }>("POST", "/v1/admin/metrics-tokens", { label });
}

/** Runs `promtool check metrics` on the text; resolves with its exit code and output. */
function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(PROMTOOL, ["check", "metrics"], (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(text);
  });
}

/** A share with a source that reported two files and a replica that applied one of them and failed the other. */
async function busyFleet() {
  await hub.createShare("docs");
  const source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "nas");
  const replica = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]), 'pi "kitchen"');
  const report = await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", {
    entries: [
      { path: "a", type: "dir" },
      { path: "b", type: "dir" },
    ],
  });
  expect(report.status).toBe(200);
  const poll = await hub.deviceFetch(replica, "GET", "/v1/instructions?wait=0");
  const { instructions } = (await poll.json()) as { instructions: string[] };
  const payload = JSON.parse(Buffer.from(instructions[0]!.split(".")[1]!, "base64url").toString()) as {
    jti: string;
  };
  const ack = await hub.deviceFetch(replica, "POST", `/v1/instructions/${payload.jti}/ack`, {
    reachedSeq: 2,
    results: [
      { seq: 1, path: "a", action: "mkdir", ok: true },
      { seq: 2, path: "b", action: "mkdir", ok: false, error: "permission denied (EACCES)" },
    ],
  });
  expect(ack.status).toBe(200);
  return { source, replica };
}

describe("GET /metrics", () => {
  test("is refused without a credential (401)", async () => {
    await expectError(await hub.request("GET", "/metrics"), 401, "unauthenticated", /missing Authorization/);
  });

  test("is refused with a wrong token, naming both tokens it takes", async () => {
    await expectError(
      await hub.request("GET", "/metrics", undefined, { headers: { authorization: "Bearer fsa_wrong" } }),
      401,
      "unauthenticated",
      /admin token or a metrics token \(fleetsync token create --metrics\)/,
    );
  });

  test("is refused to a device's own JWT", async () => {
    const device = await hub.enroll();
    await expectError(
      await hub.request("GET", "/metrics", undefined, {
        headers: {
          authorization: await hub.deviceAuthorization(device, { method: "GET", path: "/metrics" }),
        },
      }),
      401,
      "unauthenticated",
    );
  });

  test("answers the admin token with Prometheus text", async () => {
    const response = await hub.admin("GET", "/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await response.text()).toContain("# TYPE fleetsync_http_requests_total counter");
  });

  test("answers a metrics token, and refuses it once revoked", async () => {
    const { id, token } = await metricsToken();
    const read = () =>
      hub.request("GET", "/metrics", undefined, { headers: { authorization: `Bearer ${token}` } });
    expect((await read()).status).toBe(200);

    await hub.adminJson("POST", `/v1/admin/metrics-tokens/${id}/revoke`);

    await expectError(await read(), 401, "unauthenticated", new RegExp(`metrics token ${id} was revoked`));
  });

  test("a metrics token cannot use the admin API", async () => {
    const { token } = await metricsToken();
    await expectError(
      await hub.request("GET", "/v1/admin/shares", undefined, {
        headers: { authorization: `Bearer ${token}` },
      }),
      401,
      "unauthenticated",
    );
  });

  test("reports heads, cursors, lag, devices, applied operations by result and HTTP requests by route", async () => {
    const { source, replica } = await busyFleet();
    const text = await (await hub.admin("GET", "/metrics")).text();
    const r = replica.deviceId;

    expect(text).toContain('fleetsync_share_head_sequence{share="docs"} 2');
    expect(text).toContain(`fleetsync_member_cursor_sequence{share="docs",device="${r}",role="replica"} 2`);
    expect(text).toContain(
      `fleetsync_member_cursor_sequence{share="docs",device="${source.deviceId}",role="source"} 2`,
    );
    expect(text).toContain(`fleetsync_member_lag_operations{share="docs",device="${r}"} 0`);
    expect(text).toContain(`fleetsync_device_info{device="${r}",name="pi \\"kitchen\\"",state="active"} 1`);
    expect(text).toContain(`fleetsync_device_up{device="${r}"} 1`);
    expect(text).toContain(`fleetsync_applied_operations_total{share="docs",device="${r}",result="ok"} 1`);
    expect(text).toContain(
      `fleetsync_applied_operations_total{share="docs",device="${r}",result="failed"} 1`,
    );
    expect(text).toContain('fleetsync_sync_runs_total{share="docs",kind="apply",result="partial"} 1');
    expect(text).toContain(
      'fleetsync_http_requests_total{method="POST",route="/v1/shares/:share/reports",status="200"} 1',
    );
    expect(text).toMatch(
      /fleetsync_http_request_duration_seconds_bucket\{method="GET",route="\/v1\/instructions",le="\+Inf"\} 1/,
    );
  });

  test("counts the lag of a replica that has applied nothing in operations, files and bytes", async () => {
    await hub.createShare("docs");
    const replica = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]), "late");
    const source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "nas");
    await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", {
      entries: [
        { path: "a", type: "dir" },
        { path: "b", type: "dir" },
        { path: "c", type: "dir" },
      ],
    });
    const text = await (await hub.admin("GET", "/metrics")).text();
    expect(text).toContain(`fleetsync_member_lag_operations{share="docs",device="${replica.deviceId}"} 3`);
    expect(text).toContain(`fleetsync_member_lag_files{share="docs",device="${replica.deviceId}"} 3`);
    expect(text).toContain(`fleetsync_member_lag_bytes{share="docs",device="${replica.deviceId}"} 0`);
  });

  test("counts a file's bytes in the lag, and block bytes in and out of the hub", async () => {
    await hub.createShare("docs");
    const source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "nas");
    const replica = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]), "pi");
    const content = new TextEncoder().encode("nameserver 192.168.1.2\n");
    const hash = await sha256Hex(content);
    const upload = encodeBlockFrames([{ hash, bytes: content }]);
    expect((await hub.deviceFetch(source, "POST", "/v1/blocks", upload)).status).toBe(200);
    const report = await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", {
      entries: [
        {
          path: "resolv.conf",
          type: "file",
          size: content.length,
          mode: 0o644,
          mtimeMs: 1_700_000_000_000,
          blockSize: MIN_BLOCK_BYTES,
          blocks: [hash],
          hash: await contentHash(content.length, MIN_BLOCK_BYTES, [hash]),
        },
      ],
    });
    expect(await report.json()).toMatchObject({ status: "accepted" });
    const download = await hub.deviceFetch(replica, "GET", `/v1/blocks?hashes=${hash}`);
    const downloaded = (await download.arrayBuffer()).byteLength;

    const text = await (await hub.admin("GET", "/metrics")).text();

    expect(text).toContain(`fleetsync_member_lag_files{share="docs",device="${replica.deviceId}"} 1`);
    expect(text).toContain(
      `fleetsync_member_lag_bytes{share="docs",device="${replica.deviceId}"} ${content.length}`,
    );
    expect(text).toContain(
      `fleetsync_http_received_bytes_total{method="POST",route="/v1/blocks"} ${upload.length}`,
    );
    expect(text).toContain(`fleetsync_http_sent_bytes_total{method="GET",route="/v1/blocks"} ${downloaded}`);
    expect(downloaded).toBeGreaterThan(content.length);
  });

  test.skipIf(!existsSync(PROMTOOL) && process.env.CI !== "true")(
    "is accepted by promtool check metrics",
    async () => {
      await busyFleet();
      await hub.admin("GET", "/nope");
      const text = await (await hub.admin("GET", "/metrics")).text();
      const check = await promtoolCheck(text);
      expect(check).toEqual({ code: 0, output: "" });
    },
  );
});
