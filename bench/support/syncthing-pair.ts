// Two real Syncthing instances on loopback for the bench: a send-only source and a receive-only receiver of one folder.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { onInterrupt } from "./cleanup.ts";
import { freePort } from "./peers.ts";
import { type SyncthingDevice, syncthingConfigXml } from "./syncthing-config.ts";

export const SYNCTHING_FOLDER = "bench";

type Instance = {
  name: "source" | "receiver";
  home: string;
  root: string;
  device: SyncthingDevice;
  guiPort: number;
  apiKey: string;
  proc?: ChildProcess;
};

export type SyncthingPairOptions = {
  binary: string;
  /** Homes (keys, config, database, logs) go under here. */
  base: string;
  sourceRoot: string;
  receiverRoot: string;
  watcherDelayS: number;
  /**
   * Called once per instance with the port it will listen on; the port it returns is the one its peer dials
   * instead (a counting relay in front of it). Unset: each dials the other's listen port directly.
   */
  dialPortFor?: (which: "source" | "receiver", listenPort: number) => Promise<number>;
};

export type SyncthingPair = {
  source: Instance;
  receiver: Instance;
  /**
   * Spawns one instance and waits until its REST API answers. `syncthing serve` forks its worker under a small
   * monitor process even with --no-restart: pids names both (for CPU), worker the one that does the work (RSS).
   */
  start: (which: "source" | "receiver") => Promise<{ worker: number; pids: number[] }>;
  /** GET on an instance's REST API, parsed JSON. */
  rest: <T>(which: "source" | "receiver", path: string) => Promise<T>;
  /** Waits until both instances are connected to each other and the folder is idle on both. */
  waitSettled: (timeoutMs: number) => Promise<void>;
  logTail: (which: "source" | "receiver") => Promise<string>;
  stop: () => Promise<void>;
};

/** `syncthing generate` makes the device's key pair (its id); the config is then written whole by the bench. */
function generateDevice(binary: string, home: string, name: string): string {
  const run = spawnSync(
    binary,
    ["generate", `--home=${home}`, "--no-default-folder", "--skip-port-probing"],
    {
      encoding: "utf8",
      env: syncthingEnv(home),
      timeout: 30_000,
    },
  );
  const output = `${run.stdout ?? ""}${run.stderr ?? ""}`;
  const id = /Device ID:\s*([A-Z0-9-]{63})/.exec(output)?.[1];
  if (run.status !== 0 || !id)
    throw new Error(`syncthing generate for the ${name} failed (exit ${run.status}): ${output.slice(-500)}`);
  return id;
}

function syncthingEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    STNOUPGRADE: "1",
    STNORESTART: "1",
    STNODEFAULTFOLDER: "1",
  };
}

/** A child of `pid` (any of its threads may have forked it: Go forks from whichever thread runs). */
async function firstChild(pid: number): Promise<number | undefined> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const task of tasks) {
    const children = await readFile(`/proc/${pid}/task/${task}/children`, "utf8").catch(() => "");
    const child = Number(children.trim().split(/\s+/)[0]);
    if (child) return child;
  }
  return undefined;
}

async function sleep(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
}

export async function prepareSyncthingPair(options: SyncthingPairOptions): Promise<SyncthingPair> {
  const make = async (name: "source" | "receiver", root: string): Promise<Instance> => {
    const home = join(options.base, `syncthing-${name}-home`);
    await mkdir(home, { recursive: true });
    const id = generateDevice(options.binary, home, name);
    const listenPort = await freePort();
    const dialPort = await options.dialPortFor?.(name, listenPort);
    return {
      name,
      home,
      root,
      device: { id, name, listenPort, ...(dialPort === undefined ? {} : { dialPort }) },
      guiPort: await freePort(),
      apiKey: randomBytes(16).toString("hex"),
    };
  };
  const source = await make("source", options.sourceRoot);
  const receiver = await make("receiver", options.receiverRoot);
  const instances = { source, receiver };
  for (const [self, peer, type] of [
    [source, receiver, "sendonly"],
    [receiver, source, "receiveonly"],
  ] as const) {
    // The folder marker Syncthing insists on; the caller removes it from the source tree afterwards.
    await mkdir(join(self.root, ".stfolder"), { recursive: true });
    await writeFile(
      join(self.home, "config.xml"),
      syncthingConfigXml({
        self: self.device,
        peer: peer.device,
        guiPort: self.guiPort,
        apiKey: self.apiKey,
        folder: { id: SYNCTHING_FOLDER, path: self.root, type, watcherDelayS: options.watcherDelayS },
      }),
    );
  }

  const rest = async <T>(which: "source" | "receiver", path: string): Promise<T> => {
    const instance = instances[which];
    const response = await fetch(`http://127.0.0.1:${instance.guiPort}${path}`, {
      headers: { "X-API-Key": instance.apiKey },
    });
    if (!response.ok)
      throw new Error(`syncthing ${which} GET ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };

  const logTail = async (which: "source" | "receiver") =>
    (await readFile(join(instances[which].home, "syncthing.log"), "utf8").catch(() => "")).slice(-1500);

  const stopOne = async (instance: Instance) => {
    const proc = instance.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const stop = async () => {
    await Promise.all([stopOne(source), stopOne(receiver)]);
  };
  const forget = onInterrupt(stop);

  return {
    source,
    receiver,
    rest,
    logTail,
    async start(which) {
      const instance = instances[which];
      const proc = spawn(
        options.binary,
        [
          "serve",
          `--home=${instance.home}`,
          "--no-browser",
          "--no-restart",
          "--no-upgrade",
          "--no-default-folder",
          `--gui-address=http://127.0.0.1:${instance.guiPort}`,
          `--gui-apikey=${instance.apiKey}`,
          `--logfile=${join(instance.home, "syncthing.log")}`,
        ],
        { stdio: "ignore", env: syncthingEnv(instance.home) },
      );
      instance.proc = proc;
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (proc.exitCode !== null)
          throw new Error(`syncthing ${which} exited with ${proc.exitCode}: ${await logTail(which)}`);
        try {
          await rest(which, "/rest/system/ping");
          const monitor = proc.pid ?? 0;
          const child = await firstChild(monitor);
          return { worker: child ?? monitor, pids: child ? [monitor, child] : [monitor] };
        } catch {
          if (Date.now() > deadline)
            throw new Error(`syncthing ${which} did not answer on 127.0.0.1:${instance.guiPort} within 30 s`);
          await sleep(50);
        }
      }
    },
    async waitSettled(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const [a, b, sa, sb] = await Promise.all([
          rest<{ connections: Record<string, { connected: boolean }> }>("source", "/rest/system/connections"),
          rest<{ connections: Record<string, { connected: boolean }> }>(
            "receiver",
            "/rest/system/connections",
          ),
          rest<{ state: string }>("source", `/rest/db/status?folder=${SYNCTHING_FOLDER}`),
          rest<{ state: string }>("receiver", `/rest/db/status?folder=${SYNCTHING_FOLDER}`),
        ]);
        if (
          a.connections[receiver.device.id]?.connected &&
          b.connections[source.device.id]?.connected &&
          sa.state === "idle" &&
          sb.state === "idle"
        )
          return;
        if (Date.now() > deadline)
          throw new Error(
            `syncthing pair not settled within ${timeoutMs} ms (source ${sa.state}, receiver ${sb.state}): ${await logTail("receiver")}`,
          );
        await sleep(100);
      }
    },
    async stop() {
      await stop();
      forget();
    },
  };
}
