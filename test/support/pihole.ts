// Test support: real Pi-hole FTL instances (../shared/pihole/ftl-instance) on free loopback ports, and a tiny DNS probe.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { makeTempDir, REPO_ROOT } from "./fleet.ts";
import { tryMount } from "./tmpfs.ts";

/** ../shared/pihole beside the clone (the worktree layout has it two levels up as well). */
export const PIHOLE_DIR = [resolve(REPO_ROOT, "../shared/pihole"), "/work/shared/pihole"].find((d) =>
  existsSync(join(d, "ftl-instance")),
);

/** Why real-Pi-hole tests cannot run here, or undefined. In CI the absence is a failure, never a skip. */
export function piholeUnavailable(): string | undefined {
  if (PIHOLE_DIR && process.getuid?.() === 0) return undefined;
  const reason = PIHOLE_DIR
    ? "real Pi-hole tests need root (ftl-instance uses a mount namespace)"
    : `real Pi-hole tests skipped: ${resolve(REPO_ROOT, "../shared/pihole")} (Pi-hole FTL and ftl-instance) is absent`;
  if (process.env.CI === "true") throw new Error(`${reason} — in CI it must be present`);
  return reason;
}

/**
 * A port free on 127.0.0.1 below the kernel's ephemeral range (32768–60999 by default), picked at random. A port the
 * kernel handed out (listen on 0) is free only until the next outgoing connection of any test process takes it as its
 * local port, before FTL binds it; ports below the range are never handed out that way, and a random pick keeps
 * test files running in parallel off each other's.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((ok) => {
      const server = createServer();
      server.once("error", () => ok(false));
      server.listen(port, "127.0.0.1", () => server.close(() => ok(true)));
    });
    if (free) return port;
  }
  throw new Error("no free port found on 127.0.0.1 between 20000 and 32000");
}

export type FtlInstance = {
  dir: string;
  url: string;
  webPort: number;
  dnsPort: number;
  password: string | undefined;
  process: ChildProcess;
  /** Stops FTL (SIGTERM, or SIGKILL for a crash) and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts FTL again on the same directory, as after a reboot. */
  restart(): Promise<void>;
  /** Number of "FTL started" lines in its log (FTL's own restarts included). */
  startCount(): Promise<number>;
  /** One authenticated API call outside the agent (its own session, logged out after). */
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** Runs gravity and waits until FTL has reopened the new gravity.db (a write before that would be lost). */
  runGravity(): Promise<string>;
  /** PATCH /api/config with a change FTL restarts for, and wait until it has restarted and answers again. */
  patchConfigRestarting(config: unknown): Promise<void>;
  remove(): Promise<void>;
};

async function waitReady(url: string, password: string | undefined, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${url}/api/info/version`, { signal: AbortSignal.timeout(1000) });
      // 401 with a password; without one FTL answers (200, or 500 for the versions file these instances lack).
      if (!password || r.status === 401) return;
    } catch {}
    await new Promise((ok) => setTimeout(ok, 150));
  }
  throw new Error(`Pi-hole at ${url} did not become ready within ${timeoutMs} ms`);
}

/** The last lines of an instance's FTL.log, for a failure's message. */
async function ftlLogTail(dir: string, lines = 25): Promise<string> {
  const log = await readFile(join(dir, "log", "FTL.log"), "utf8").catch(
    (error: Error) => `(unreadable: ${error.message})`,
  );
  return log.split("\n").slice(-lines).join("\n");
}

export async function startFtl(
  options: {
    password?: string;
    /**
     * Keep the instance directory (gravity.db, pihole.toml, logs) on a tmpfs of its own where this process may mount
     * one (root, as CI and the Pi-hole tests run). FTL writes each row it adds in a transaction of its own, so on a
     * disk 2,000 domains take ten seconds of fsyncs and a tenth of that here; a killed FTL still leaves what it wrote,
     * as the page cache does on a disk. Not a power cut: nothing here needs one.
     */
    memoryBacked?: boolean;
  } = {},
): Promise<FtlInstance> {
  if (!PIHOLE_DIR) throw new Error("no ../shared/pihole");
  const dir = await makeTempDir("fleetsync-ftl-");
  const mounted = options.memoryBacked === true && tryMount(dir, "512m");
  // Lazily: a process may still hold a file there; the tmpfs goes once the last one lets go.
  const unmount = () => execFileSync("umount", ["--lazy", dir], { stdio: "ignore" });
  // A test process that dies before remove() leaves no mount behind.
  const unmountAtExit = () => {
    try {
      unmount();
    } catch {}
  };
  if (mounted) process.once("exit", unmountAtExit);
  const webPort = await freePort();
  const dnsPort = await freePort();
  const url = `http://127.0.0.1:${webPort}`;
  const args = [dir, "--web", String(webPort), "--dns", String(dnsPort)];
  if (options.password) args.push("--password", options.password);
  const launch = () => {
    const child = spawn(join(PIHOLE_DIR as string, "ftl-instance"), args, {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr?.resume();
    return child;
  };
  async function callOnce<T>(method: string, path: string, body?: unknown): Promise<T> {
    let sid: string | undefined;
    if (options.password) {
      const login = await fetch(`${url}/api/auth`, {
        method: "POST",
        body: JSON.stringify({ password: options.password }),
        headers: { "User-Agent": "fleetsync-test" },
      });
      sid = ((await login.json()) as { session: { sid: string } }).session.sid;
    }
    try {
      const r = await fetch(`${url}/api${path}`, {
        method,
        headers: { ...(sid ? { sid } : {}), "User-Agent": "fleetsync-test" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      if (r.status >= 400) throw new Error(`${method} ${path} → ${r.status} ${text}`);
      if (!(r.headers.get("content-type") ?? "").includes("json")) return text as T;
      return (text ? JSON.parse(text) : undefined) as T;
    } finally {
      if (sid) await fetch(`${url}/api/auth`, { method: "DELETE", headers: { sid } });
    }
  }
  const instance: FtlInstance = {
    dir,
    url,
    webPort,
    dnsPort,
    password: options.password,
    process: launch(),
    async stop(signal = "SIGTERM") {
      const child = instance.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const ended = new Promise((ok) => child.once("exit", ok));
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await ended;
      clearTimeout(timer);
    },
    async restart() {
      await instance.stop();
      instance.process = launch();
      await waitReady(url, options.password);
    },
    async startCount() {
      const log = await readFile(join(dir, "log", "FTL.log"), "utf8").catch(() => "");
      return log.split("\n").filter((line) => line.includes("########## FTL started")).length;
    },
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      // Right after a start FTL answers HTTP before its database is open, and refuses connections while it restarts.
      for (let attempt = 0; ; attempt++) {
        try {
          return await callOnce<T>(method, path, body);
        } catch (error) {
          const transient =
            /database_error|fetch failed/.test(String(error)) ||
            String((error as Error).cause).includes("ECONNREFUSED");
          if (!transient || attempt >= 50) throw error;
          await new Promise((ok) => setTimeout(ok, 200));
        }
      }
    },
    async runGravity() {
      const summary = () => instance.call<{ gravity: { last_update: number } }>("GET", "/stats/summary");
      // FTL reloads only when its once-a-second check finds a newer `info.updated` than it last read, and reports 0
      // until its first check after a start: wait for that first reading and for the next second, or a run that
      // ends before either would be taken as FTL's starting point and never reloaded.
      let before = (await summary()).gravity.last_update;
      const settled = Date.now() + 10_000;
      while (before <= 0 && Date.now() < settled) {
        await new Promise((ok) => setTimeout(ok, 100));
        before = (await summary()).gravity.last_update;
      }
      await new Promise((ok) => setTimeout(ok, Math.max(0, (before + 1) * 1000 - Date.now())));
      const transcript = await instance.call<string>("POST", "/action/gravity");
      const deadline = Date.now() + 60_000;
      while ((await summary()).gravity.last_update <= before) {
        if (Date.now() > deadline)
          throw new Error(`Pi-hole at ${url} did not reload gravity.db after gravity`);
        await new Promise((ok) => setTimeout(ok, 100));
      }
      return transcript;
    },
    async patchConfigRestarting(config: unknown) {
      const starts = await instance.startCount();
      const patchedAt = Date.now();
      await instance.call("PATCH", "/config", { config });
      // A restart takes a second or two; under a loaded CI machine FTL has been seen to take longer: wait long, and
      // say what FTL logged when it still did not (its log is gone with the instance's tmpfs otherwise).
      const deadline = Date.now() + 90_000;
      while ((await instance.startCount()) <= starts) {
        if (Date.now() > deadline)
          throw new Error(
            `Pi-hole at ${url} did not restart within 90 s after PATCH /api/config (sent ${new Date(patchedAt).toISOString()}); FTL.log ends:\n${await ftlLogTail(dir)}`,
          );
        await new Promise((ok) => setTimeout(ok, 100));
      }
      await waitReady(url, options.password).catch(async (error: Error) => {
        throw new Error(`${error.message}; FTL.log ends:\n${await ftlLogTail(dir)}`);
      });
    },
    async remove() {
      await instance.stop();
      if (mounted) {
        process.off("exit", unmountAtExit);
        unmount();
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  await waitReady(url, options.password);
  return instance;
}

/** Sends one A query for `name` to 127.0.0.1:`port`; resolves with the answer count, rejects on timeout. */
export function queryDns(port: number, name: string, timeoutMs = 1000): Promise<number> {
  const id = Math.floor(Math.random() * 65535);
  const labels = name.split(".").flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  const packet = Buffer.concat([
    Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...labels,
    Buffer.from([0, 0, 1, 0, 1]),
  ]);
  return new Promise((ok, fail) => {
    const socket = createSocket("udp4");
    const timer = setTimeout(() => {
      socket.close();
      fail(new Error(`no DNS answer for ${name} from 127.0.0.1:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("message", (msg) => {
      if (msg.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      socket.close();
      ok(msg.readUInt16BE(6));
    });
    socket.send(packet, port, "127.0.0.1");
  });
}
