// One process per directory: an agent per state dir, a hub per data dir, held by a Unix socket the kernel frees.
import { createHash } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveRealPath } from "../agent/config/resolve-real-path.ts";
import { FleetsyncError } from "../shared/errors/fleetsync-error.ts";
import { packageVersion } from "./package-version.ts";

export type LockKind = "agent" | "hub";
export type LockHolder = { pid: number; startedAt: string; version: string };
export type ProcessLock = { holder: LockHolder; release(): Promise<void> };

const ASK_TIMEOUT_MS = 2000;

/**
 * On Linux an abstract-namespace socket named after the dir's real path: bind is atomic and the kernel frees the
 * name when the process dies, so a crash leaves no stale lock. Elsewhere a socket file in the temp dir, replaced
 * when nobody answers on it.
 */
async function socketAddress(kind: LockKind, dir: string): Promise<string> {
  const real = await resolveRealPath(dir);
  const digest = createHash("sha256").update(real).digest("hex").slice(0, 32);
  const name = `fleetsync-${kind}-${digest}`;
  return process.platform === "linux" ? `\0${name}` : join(tmpdir(), `${name}.sock`);
}

export type LockState = { running: false } | { running: true; holder?: LockHolder };

/** Whether a process holds the lock on `dir`, and who it is when it answers. */
export async function readLockState(kind: LockKind, dir: string): Promise<LockState> {
  const answer = await ask(await socketAddress(kind, dir));
  if (answer === "nobody") return { running: false };
  return answer === "silent" ? { running: true } : { running: true, holder: answer };
}

function ask(address: string): Promise<LockHolder | "nobody" | "silent"> {
  return new Promise((resolveAnswer) => {
    let text = "";
    const socket = connect({ path: address });
    const timer = setTimeout(() => finish("silent"), ASK_TIMEOUT_MS);
    function finish(answer: LockHolder | "nobody" | "silent") {
      clearTimeout(timer);
      socket.destroy();
      resolveAnswer(answer);
    }
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      text += chunk;
      if (text.includes("\n")) socket.end();
    });
    socket.on("end", () => {
      try {
        const holder = JSON.parse(text.split("\n")[0] ?? "") as LockHolder;
        finish(typeof holder.pid === "number" ? holder : "silent");
      } catch {
        finish("silent");
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) =>
      finish(error.code === "ECONNREFUSED" || error.code === "ENOENT" ? "nobody" : "silent"),
    );
  });
}

function listen(server: Server, address: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((done) => {
    const onError = (error: NodeJS.ErrnoException) => done(error);
    server.once("error", onError);
    server.listen({ path: address, exclusive: true }, () => {
      server.off("error", onError);
      done(undefined);
    });
  });
}

export type AcquireLockOptions = {
  kind: LockKind;
  dir: string;
  /** A file in `dir` that gets this process's pid, for people and scripts (removed on release). */
  pidFile?: string;
};

/** Takes the lock on `dir` for this process or throws, naming the process that holds it. */
export async function acquireProcessLock(options: AcquireLockOptions): Promise<ProcessLock> {
  const address = await socketAddress(options.kind, options.dir);
  const holder: LockHolder = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    version: packageVersion(),
  };
  const server = createServer((socket) => {
    socket.unref();
    socket.on("error", () => {});
    socket.end(`${JSON.stringify(holder)}\n`);
  });
  let failure = await listen(server, address);
  if (failure?.code === "EADDRINUSE" && !address.startsWith("\0") && (await ask(address)) === "nobody") {
    // A socket file left by a process that died: nobody answers, so it is ours to replace.
    await rm(address, { force: true });
    failure = await listen(server, address);
  }
  if (failure) {
    if (failure.code !== "EADDRINUSE") {
      throw new FleetsyncError("internal", `cannot lock ${options.dir}: ${failure.message}`, {
        cause: failure,
      });
    }
    const other = await ask(address);
    const who =
      typeof other === "object"
        ? `another ${options.kind} (pid ${other.pid}, since ${other.startedAt})`
        : `another ${options.kind}`;
    const what = options.kind === "agent" ? options.dir : `data dir ${options.dir}`;
    throw new FleetsyncError("conflict", `${who} runs on ${what}; stop it first`);
  }
  server.unref();
  const pidFile = options.pidFile ? join(options.dir, options.pidFile) : undefined;
  // A dir that does not exist yet gets no pid file (the command says what is missing).
  if (pidFile)
    await writeFile(pidFile, `${process.pid}\n`, { mode: 0o644 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
  let released: Promise<void> | undefined;
  return {
    holder,
    release() {
      released ??= (async () => {
        await new Promise<void>((done) => server.close(() => done()));
        if (pidFile) await rm(pidFile, { force: true });
      })();
      return released;
    },
  };
}
