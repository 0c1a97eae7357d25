// The peers fleetsync is measured against: rsync (installed from Debian if missing and we are root) and syncthing.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";
import { log } from "./stats.ts";

export type ToolInfo =
  | { available: true; path: string; version: string; installedBy: "already present" | "apt-get" }
  | { available: false; reason: string };

function which(command: string): string | undefined {
  const found = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() || undefined : undefined;
}

function aptInstall(pkg: string): { ok: boolean; output: string } {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "--no-install-recommends", pkg], {
      encoding: "utf8",
      env,
      timeout: 300_000,
    });
  let result = install();
  if (result.status !== 0) {
    log(`apt-get install ${pkg} failed; running apt-get update and trying again`);
    spawnSync("apt-get", ["update"], { encoding: "utf8", env, timeout: 300_000 });
    result = install();
  }
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.slice(-500) };
}

/** rsync on PATH, installing Debian's package when it is missing and we are root; never throws. */
export function ensureRsync(): ToolInfo {
  let path = which("rsync");
  let installedBy: "already present" | "apt-get" = "already present";
  if (!path) {
    if (process.getuid?.() !== 0)
      return { available: false, reason: "rsync is not installed and the bench is not root" };
    log("rsync is missing; installing it with apt-get");
    const attempt = aptInstall("rsync");
    path = which("rsync");
    if (!path) return { available: false, reason: `apt-get install rsync failed: ${attempt.output}` };
    installedBy = "apt-get";
  }
  const version = spawnSync(path, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0] ?? "";
  return { available: true, path, version: version.trim(), installedBy };
}

/** Syncthing on PATH (Debian's `syncthing` package); never installs it, never throws. */
export function findSyncthing(): ToolInfo {
  const path = which("syncthing");
  if (!path)
    return {
      available: false,
      reason:
        "syncthing is not installed; it is an optional peer and the bench does not install it (Debian's package exists: apt-get install syncthing)",
    };
  const version = spawnSync(path, ["--version"], { encoding: "utf8" }).stdout.trim();
  if (!version) return { available: false, reason: `${path} --version printed nothing; is it Syncthing?` };
  return { available: true, path, version, installedBy: "already present" };
}

/** Runs a command to completion; resolves with its wall time in seconds and exit code. */
export function timeCommand(
  command: string,
  args: string[],
): Promise<{ seconds: number; code: number | null; output: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c) => {
      output += c;
    });
    child.stderr.on("data", (c) => {
      output += c;
    });
    child.on("error", (error) => {
      output += String(error);
    });
    child.on("close", (code) =>
      resolve({ seconds: (performance.now() - started) / 1000, code, output: output.slice(-2000) }),
    );
  });
}

/** `sync`: flushes dirty pages so one run's writeback does not land in the next run's timing. */
export async function syncDisks(): Promise<number> {
  return (await timeCommand("sync", [])).seconds;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export type RsyncDaemon = { url: (path: string) => string; stop: () => Promise<void> };

/** An rsync daemon on 127.0.0.1 serving `moduleRoot` read-write as module "bench": rsync over its own TCP protocol. */
export async function startRsyncDaemon(
  rsyncPath: string,
  dir: string,
  moduleRoot: string,
): Promise<RsyncDaemon> {
  const port = await freePort();
  const config = join(dir, "rsyncd.conf");
  const asRoot = process.getuid?.() === 0;
  await writeFile(
    config,
    [
      `pid file = ${join(dir, "rsyncd.pid")}`,
      "use chroot = false",
      "[bench]",
      `  path = ${moduleRoot}`,
      "  read only = false",
      ...(asRoot ? ["  uid = 0", "  gid = 0"] : []),
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(
    rsyncPath,
    [
      "--daemon",
      "--no-detach",
      "--address=127.0.0.1",
      `--port=${port}`,
      `--config=${config}`,
      `--log-file=${join(dir, "rsyncd.log")}`,
    ],
    { stdio: "ignore" },
  );
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`rsync daemon did not start (exit ${child.exitCode})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: (path) => `rsync://127.0.0.1:${port}/bench/${path}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
