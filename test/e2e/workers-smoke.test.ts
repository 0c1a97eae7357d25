// Workers smoke: the hub under real workerd (`wrangler dev`, local mode, local D1) answers /healthz and enrols.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { signDeviceJwt } from "../../shared/auth/device-jwt.ts";
import { ErrorBodySchema } from "../../shared/errors/fleetsync-error.ts";
import { DeviceConfigSchema, EnrollResponseSchema } from "../../shared/protocol/messages.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WRANGLER = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const WRANGLER_CONFIG = join(REPO_ROOT, "wrangler.toml");
const START_TIMEOUT_MS = 120_000;

/** Wrangler talks to nobody but 127.0.0.1: no telemetry, no update check, no cf.json download, no account. */
function wranglerEnv(tempDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_LOG_PATH: join(tempDir, "logs"),
    XDG_CONFIG_HOME: join(tempDir, "config"),
    NO_COLOR: "1",
  };
  for (const name of [
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_API_KEY",
    "CLOUDFLARE_EMAIL",
    "CLOUDFLARE_ACCOUNT_ID",
  ]) {
    delete env[name];
  }
  return env;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || !address) throw new Error("no port from the OS");
  return address.port;
}

describe("the hub on Cloudflare Workers (wrangler dev, local D1)", () => {
  const adminToken = `fsa_${crypto.randomUUID().replaceAll("-", "")}`;
  let tempDir = "";
  let wrangler: ChildProcess | undefined;
  let output = "";
  let baseUrl = "";

  const admin = (path: string, body: unknown) =>
    fetch(`${baseUrl}/v1/admin${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    tempDir = await mkdtemp(join(tmpdir(), "fleetsync-workers-"));
    const env = wranglerEnv(tempDir);
    const persist = join(tempDir, "state");
    await promisify(execFile)(
      process.execPath,
      [
        WRANGLER,
        "d1",
        "migrations",
        "apply",
        "DB",
        "--local",
        "--persist-to",
        persist,
        "-c",
        WRANGLER_CONFIG,
      ],
      { cwd: REPO_ROOT, env, timeout: START_TIMEOUT_MS },
    );

    const [port, inspectorPort] = [await freePort(), await freePort()];
    baseUrl = `http://127.0.0.1:${port}`;
    const args = ["dev", "--local", "-c", WRANGLER_CONFIG, "--ip", "127.0.0.1", "--port", String(port)];
    args.push("--inspector-port", String(inspectorPort), "--persist-to", persist);
    args.push("--var", `ADMIN_TOKEN:${adminToken}`, "--show-interactive-dev-session=false");
    // Its own process group, so workerd and esbuild go down with it.
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      cwd: REPO_ROOT,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    wrangler = child;
    child.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      output += chunk;
    });

    const deadline = Date.now() + START_TIMEOUT_MS;
    while (true) {
      if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output}`);
      if (Date.now() > deadline)
        throw new Error(`/healthz did not answer within ${START_TIMEOUT_MS} ms:\n${output}`);
      const ok = await fetch(`${baseUrl}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, START_TIMEOUT_MS * 2);

  afterAll(async () => {
    const child = wrangler;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      const killGroup = (signal: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          // the group is already gone
        }
      };
      killGroup("SIGTERM");
      const timer = setTimeout(() => killGroup("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      killGroup("SIGKILL"); // any straggler (workerd) still in the group
    }
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }, 30_000);

  test("answers /healthz with its hub id", async () => {
    const response = await fetch(`${baseUrl}/healthz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { ok: boolean; hubId: string };
    expect(body.ok).toBe(true);
    expect(body.hubId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("refuses the admin API to any token but the configured ADMIN_TOKEN", async () => {
    const response = await fetch(`${baseUrl}/v1/admin/shares`, {
      headers: { authorization: `Bearer ${adminToken}x` },
    });
    expect(response.status).toBe(401);
    expect(ErrorBodySchema.parse(await response.json()).error.code).toBe("unauthenticated");
  });

  test("enrols a device with an admin-made token, serves it its config, and refuses the token again", async () => {
    expect((await admin("/shares", { name: "docs" })).status).toBe(201);
    const minted = await admin("/tokens", { shares: [{ name: "docs", role: "replica" }], ttl: "1h" });
    expect(minted.status).toBe(201);
    const { token } = (await minted.json()) as { token: string };

    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const { kty, crv, x } = await exportJWK(publicKey);
    const enroll = () =>
      fetch(`${baseUrl}/v1/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, publicKey: { kty, crv, x }, name: "pi-kitchen" }),
      });

    const enrolled = await enroll();
    expect(enrolled.status).toBe(201);
    const device = EnrollResponseSchema.parse(await enrolled.json());
    expect(device.deviceId).toMatch(/^dev_/);
    expect(device.jwks.keys.length).toBeGreaterThan(0);
    expect(device.shares.map((s) => [s.name, s.role])).toEqual([["docs", "replica"]]);

    const jwt = await signDeviceJwt(privateKey, {
      deviceId: device.deviceId,
      hubId: device.hubId,
      nowSeconds: Math.floor(Date.now() / 1000),
      method: "GET",
      path: "/v1/config",
    });
    const config = await fetch(`${baseUrl}/v1/config`, { headers: { authorization: `Bearer ${jwt}` } });
    expect(config.status).toBe(200);
    const configBody = DeviceConfigSchema.parse(await config.json());
    expect(configBody.deviceId).toBe(device.deviceId);
    expect(configBody.shares.map((s) => s.name)).toEqual(["docs"]);

    const again = await enroll();
    expect(again.status).toBe(409);
    expect(ErrorBodySchema.parse(await again.json()).error.code).toBe("token_used");
  });

  test("serves the dashboard: login form, a session cookie, the fleet page and its event stream", async () => {
    expect((await fetch(`${baseUrl}/`, { redirect: "manual" })).headers.get("location")).toBe("/login");
    const login = await fetch(`${baseUrl}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: baseUrl },
      body: new URLSearchParams({ token: adminToken }).toString(),
      redirect: "manual",
    });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    expect(cookie).toMatch(/^fleetsync_session=/);
    const fleet = await fetch(`${baseUrl}/`, { headers: { cookie } });
    expect(fleet.status).toBe(200);
    expect(await fleet.text()).toContain("<h1>Fleet</h1>");
    const events = await fetch(`${baseUrl}/events`, { headers: { cookie } });
    expect(events.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = events.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("event: hello");
    await reader.cancel();
  });

  test("serves /metrics to the admin token only", async () => {
    expect((await fetch(`${baseUrl}/metrics`)).status).toBe(401);
    const metrics = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("# TYPE fleetsync_share_head_sequence gauge");
  });
});
