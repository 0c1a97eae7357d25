// A hub, one source and N replicas as real processes for the benchmark (agents bundled, as shipped), built on the end-to-end test support.
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AGENT_NODE_FLAGS,
  AGENT_SERVICE_ENVIRONMENT,
} from "../../agent/service/agent-service-environment.ts";
import { bundleAgent } from "../../scripts/bundle-agent.ts";
import {
  createShare,
  enrollAgent,
  REPO_ROOT,
  type RunningProcess,
  startAgent,
  startHubProcess,
  type TestHub,
  waitFor,
} from "../../test/support/fleet.ts";
import { onInterrupt } from "./cleanup.ts";

/** The product default (agent/config SHARE_DEFAULTS.debounceMs); the e2e tests use 100 ms, the bench does not. */
export const PRODUCT_DEBOUNCE_MS = 200;

let bundled: Promise<string[]> | undefined;
/**
 * The argv head the bench's agents run: node with the agent bundled from the current sources once per bench run
 * (scripts/bundle-agent.ts, what `npm run build` ships and `agent install` runs, with the unit's node flags), so no
 * TypeScript loader is measured.
 */
export function benchAgentCommand(): Promise<string[]> {
  bundled ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "fleetsync-bench-agent-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const outFile = join(dir, "fleetsync-agent.cjs");
    await bundleAgent({ repoRoot: REPO_ROOT, outFile, version: "bench" });
    return [process.execPath, ...AGENT_NODE_FLAGS, outFile];
  })();
  return bundled;
}

export type LogLine = { time: string; level: string; msg: string; [field: string]: unknown };

/** The JSON log lines a process printed (agents and the hub log one JSON object per line). */
export function logLines(running: RunningProcess): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of running.output().split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // a line cut at the end of the buffer, or not ours
    }
  }
  return lines;
}

export type BenchAgent = {
  role: "source" | "replica";
  root: string;
  stateDir: string;
  agent?: RunningProcess;
};

export type BenchFleet = {
  hub: TestHub;
  share: string;
  source: BenchAgent;
  replicas: BenchAgent[];
  /** Starts the source agent (it is enrolled but not running until then). */
  startSource: () => RunningProcess;
  stop: () => Promise<void>;
};

export type BenchFleetOptions = {
  base: string;
  sourceRoot: string;
  replicas: number;
  debounceMs: number;
  /** The share's hub block storage (`share create --storage`); the hub's default (`full`) when absent. */
  storage?: "full" | "relay";
  /** Extra environment for the hub and agent processes (e.g. NODE_OPTIONS=--cpu-prof). */
  env?: (role: "hub" | "source" | "replica", index: number) => NodeJS.ProcessEnv;
};

/** Hub + share + enrolled agents; replicas are started and ready (cursor set), the source only enrolled. */
export async function startBenchFleet(options: BenchFleetOptions): Promise<BenchFleet> {
  const env = options.env ?? (() => ({}));
  const command = await benchAgentCommand();
  const hub = await startHubProcess(undefined, env("hub", 0));
  const share = "bench";
  const agents: BenchAgent[] = [];
  let forget = () => {};
  const stop = async () => {
    forget();
    await Promise.all(agents.map((a) => a.agent?.stop()));
    await hub.stop();
    await rm(hub.dataDir, { recursive: true, force: true });
    for (const a of agents) await rm(a.stateDir, { recursive: true, force: true });
  };
  forget = onInterrupt(stop);
  try {
    await createShare(hub, share, options.storage ? { storage: options.storage } : {});
    const settings = { debounceMs: options.debounceMs, level: "info" as const };
    const src = await enrollAgent(hub, share, "source", options.sourceRoot, settings);
    const source: BenchAgent = { role: "source", root: options.sourceRoot, stateDir: src.stateDir };
    agents.push(source);
    const replicas: BenchAgent[] = [];
    for (let i = 0; i < options.replicas; i++) {
      const root = join(options.base, `replica-${i + 1}`);
      await mkdir(root, { recursive: true });
      const enrolled = await enrollAgent(hub, share, "replica", root, settings);
      const replica: BenchAgent = { role: "replica", root, stateDir: enrolled.stateDir };
      agents.push(replica);
      replicas.push(replica);
      replica.agent = startAgent(
        enrolled.stateDir,
        { ...AGENT_SERVICE_ENVIRONMENT, ...env("replica", i) },
        { command },
      );
    }
    for (const replica of replicas) {
      await waitFor(
        () => {
          if (replica.agent!.proc.exitCode !== null)
            throw new Error(`replica exited: ${replica.agent!.output()}`);
          return replica.agent!.output().includes('"replica ready"');
        },
        { timeoutMs: 30_000, what: "a replica agent to be ready" },
      );
    }
    return {
      hub,
      share,
      source,
      replicas,
      startSource() {
        source.agent = startAgent(
          source.stateDir,
          { ...AGENT_SERVICE_ENVIRONMENT, ...env("source", 0) },
          { command },
        );
        return source.agent;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
