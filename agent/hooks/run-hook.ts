// Runs a share's onApply command once through /bin/sh with the changed paths in a temp file; bounded in time and output, never throws.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HookSpec } from "./on-apply-setting.ts";

export const DEFAULT_OUTPUT_LIMIT_BYTES = 8 * 1024;
/** After the timeout's SIGTERM, how long the hook's process group has before SIGKILL. */
export const DEFAULT_KILL_GRACE_MS = 2000;
/** After the shell exits, how long to keep reading output a background child may still hold open. */
const DRAIN_MS = 100;

export type RunHookOptions = {
  hook: HookSpec;
  share: string;
  /** The share's root: the hook's working directory and FLEETSYNC_ROOT. */
  root: string;
  /** Share-relative paths the applied instruction changed (written, replaced or deleted). */
  changedPaths: string[];
  /** The environment the hook inherits; the agent's own by default. */
  env?: NodeJS.ProcessEnv;
  outputLimitBytes?: number;
  killGraceMs?: number;
  /** The agent stopping: the hook's process group is terminated as on a timeout. */
  signal?: AbortSignal;
};

export type HookResult = {
  /** Exit code, or null when a signal ended the hook or it could not start. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The tail of stdout and stderr together, at most outputLimitBytes. */
  output: string;
  outputTruncated: boolean;
  ms: number;
  /** Why the hook could not start (e.g. the root is missing); absent when it ran. */
  error?: string;
  ok: boolean;
};

/**
 * The hook sees FLEETSYNC_SHARE, FLEETSYNC_ROOT, FLEETSYNC_CHANGED_PATHS (a file: one path per line) and
 * FLEETSYNC_CHANGED_PATHS0 (the same, NUL-separated, for paths holding a line break: `xargs -0`).
 */
export async function runHook(options: RunHookOptions): Promise<HookResult> {
  const started = performance.now();
  const limit = options.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES;
  let dir: string | undefined;
  try {
    dir = await mkdtemp(join(tmpdir(), "fleetsync-hook-"));
    const listFile = join(dir, "changed-paths");
    const list0File = join(dir, "changed-paths0");
    await writeFile(listFile, options.changedPaths.map((p) => `${p}\n`).join(""));
    await writeFile(list0File, options.changedPaths.map((p) => `${p}\0`).join(""));
    return await spawnHook(
      options,
      {
        FLEETSYNC_SHARE: options.share,
        FLEETSYNC_ROOT: options.root,
        FLEETSYNC_CHANGED_PATHS: listFile,
        FLEETSYNC_CHANGED_PATHS0: list0File,
      },
      limit,
      started,
    );
  } catch (error) {
    return failedToStart(error, started);
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

function spawnHook(
  options: RunHookOptions,
  vars: Record<string, string>,
  limit: number,
  started: number,
): Promise<HookResult> {
  return new Promise((resolve) => {
    const tail = new OutputTail(limit);
    let timedOut = false;
    let settled = false;
    const child = spawn("/bin/sh", ["-c", options.hook.command], {
      cwd: options.root,
      env: { ...(options.env ?? process.env), ...vars },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so a timeout ends what the command started too.
      detached: true,
    });
    child.stdout.on("data", (chunk: Buffer) => tail.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => tail.push(chunk));
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // The group is already gone.
      }
    };
    let graceTimer: NodeJS.Timeout | undefined;
    const terminate = () => {
      killGroup("SIGTERM");
      graceTimer = setTimeout(() => killGroup("SIGKILL"), options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, options.hook.timeoutMs);
    const onAbort = () => terminate();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) terminate();

    const finish = (result: Omit<HookResult, "ms" | "output" | "outputTruncated" | "ok">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      options.signal?.removeEventListener("abort", onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      const ok = result.exitCode === 0 && !result.timedOut && result.error === undefined;
      resolve({
        ...result,
        output: tail.text(),
        outputTruncated: tail.truncated,
        ms: Math.round(performance.now() - started),
        ok,
      });
    };
    child.once("error", (error) => finish({ exitCode: null, signal: null, timedOut, error: error.message }));
    child.once("exit", (exitCode, signal) => {
      // A background child may hold the pipes open: read what is already there, then stop listening.
      const done = () => finish({ exitCode, signal, timedOut });
      child.once("close", done);
      setTimeout(done, DRAIN_MS).unref();
    });
  });
}

function failedToStart(error: unknown, started: number): HookResult {
  return {
    exitCode: null,
    signal: null,
    timedOut: false,
    output: "",
    outputTruncated: false,
    ms: Math.round(performance.now() - started),
    error: error instanceof Error ? error.message : String(error),
    ok: false,
  };
}

/** Keeps only the last `limit` bytes of a stream, decoded at the end (a cut character becomes U+FFFD). */
class OutputTail {
  private chunks: Buffer[] = [];
  private bytes = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes > this.limit && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const excess = this.bytes - this.limit;
      this.truncated = true;
      if (first.length <= excess) {
        this.chunks.shift();
        this.bytes -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.bytes -= excess;
      }
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}
