// `tsx bench/executable-idle-rss.ts`: idle memory of the built agent executable or bundle (one folder share, after its first sync), as JSON.
import { spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { AGENT_NODE_FLAGS, AGENT_SERVICE_ENVIRONMENT } from "../agent/service/agent-service-environment.ts";
import {
  createShare,
  enrollAgent,
  mintToken,
  REPO_ROOT,
  type RunningProcess,
  startAgent,
  startHubProcess,
  superviseProcess,
  treesEqual,
  waitFor,
  writeFiles,
} from "../test/support/fleet.ts";
import { installInterruptHandler, onInterrupt } from "./support/cleanup.ts";
import { type MemorySplit, readMemorySplit } from "./support/idle.ts";
import { log, round, summarize } from "./support/stats.ts";

const { values } = parseArgs({
  options: {
    exe: { type: "string", default: join(REPO_ROOT, "dist", "fleetsync-linux-x64") },
    bundle: { type: "string" },
    "node-arg": { type: "string", multiple: true, default: [] },
    agents: { type: "string", default: "4" },
    idle: { type: "string", default: "20" },
    samples: { type: "string", default: "3" },
    files: { type: "string", default: "50" },
    env: { type: "string", multiple: true, default: [] },
    "without-unit-settings": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stderr.write(
    "Usage: tsx bench/executable-idle-rss.ts [--exe dist/fleetsync-linux-x64 | --bundle dist/fleetsync-agent.cjs] [--agents 4] [--idle SECONDS] [--samples 3] [--files 50] [--env NAME=VALUE ...] [--without-unit-settings] [--node-arg FLAG ...]\n" +
      "Runs a hub and a source agent from the repository, then AGENTS replicas from the executable (each enrolled by\n" +
      "the executable, one folder share of FILES small files, default settings); once synced and idle for IDLE s, reads\n" +
      "(--bundle: node, this one, running the bundled agent instead of the executable, as `agent install` runs it from npm;\n" +
      "--node-arg passes a flag to that node)\n" +
      "each replica's /proc/<pid>/smaps_rollup SAMPLES times 5 s apart. The replicas run with the environment and node flags the\n" +
      "systemd unit gives the agent (--without-unit-settings: without them); --env sets a further variable for the replicas only.\n",
  );
  process.exit(0);
}

function whole(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${flag} ${value} is not a whole number ≥ 1\n`);
    process.exit(2);
  }
  return n;
}

/** Issue 10: an idle agent under 60 MB of RSS. */
const IDLE_TARGET_MB = 60;
const IDLE_TARGET_MIB = (IDLE_TARGET_MB * 1e6) / 2 ** 20;

const exe = resolve(values.bundle ?? values.exe);
/** What the replicas run: the executable, or node with the bundle. */
const unitFlags = values["without-unit-settings"] ? [] : AGENT_NODE_FLAGS;
const command = values.bundle ? [process.execPath, ...unitFlags, ...values["node-arg"], exe] : [exe];
const agents = whole("agents", values.agents);
const idleS = whole("idle", values.idle);
const samples = whole("samples", values.samples);
const files = whole("files", values.files);
const extraEnv: Record<string, string> = values["without-unit-settings"]
  ? {}
  : { ...AGENT_SERVICE_ENVIRONMENT };
for (const pair of values.env) {
  const at = pair.indexOf("=");
  if (at < 1) {
    process.stderr.write(`--env ${pair}: expected NAME=VALUE\n`);
    process.exit(2);
  }
  extraEnv[pair.slice(0, at)] = pair.slice(at + 1);
}
const exeBytes = await stat(exe).then(
  (s) => s.size,
  () => {
    process.stderr.write(
      `${exe} does not exist; build it first: npm run build -- ${values.bundle ? "--bundle-only" : "x64"}\n`,
    );
    process.exit(2);
  },
);

installInterruptHandler(log);
const base = await mkdtemp(join(tmpdir(), "fleetsync-bench-exe-rss-"));
const running: RunningProcess[] = [];
const cleanup = async () => {
  await Promise.all(running.map((p) => p.stop()));
  await rm(base, { recursive: true, force: true });
};
const forget = onInterrupt(cleanup);

try {
  const hub = await startHubProcess(join(base, "hub"));
  running.push(hub);
  await createShare(hub, "configs");
  const sourceRoot = join(base, "source");
  const tree: Record<string, string> = {};
  for (let i = 0; i < files; i++) tree[`dir${i % 5}/file-${i}.conf`] = `setting=${i}\n`.repeat(20);
  await writeFiles(sourceRoot, tree);
  const source = await enrollAgent(hub, "configs", "source", sourceRoot, { level: "info" });
  running.push(startAgent(source.stateDir));

  const replicas: { root: string; agent: RunningProcess }[] = [];
  for (let i = 0; i < agents; i++) {
    const root = join(base, `replica-${i}`);
    const stateDir = join(base, `replica-${i}-state`);
    const token = await mintToken(hub, [{ name: "configs", role: "replica" }]);
    const enroll = superviseProcess(
      spawn(
        command[0]!,
        [
          ...command.slice(1),
          "agent",
          "enroll",
          "--hub",
          hub.url,
          "--token",
          token,
          "--state",
          stateDir,
          "--name",
          `pi-${i}`,
          "--path",
          `configs=${root}`,
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      ),
    );
    if ((await enroll.exited) !== 0) throw new Error(`enroll failed: ${enroll.output()}`);
    const agent = startAgent(stateDir, extraEnv, { command });
    running.push(agent);
    replicas.push({ root, agent });
  }
  for (const { root } of replicas)
    await waitFor(() => treesEqual(sourceRoot, root), { timeoutMs: 120_000, what: "the first sync" });
  log(`${agents} replicas synced ${files} files; idle for ${idleS} s`);
  await new Promise((r) => setTimeout(r, idleS * 1000));

  const readings: (MemorySplit & { agent: number; sample: number })[] = [];
  for (let s = 0; s < samples; s++) {
    if (s > 0) await new Promise((r) => setTimeout(r, 5000));
    for (const [i, { agent }] of replicas.entries()) {
      const split = await readMemorySplit(agent.proc.pid);
      if (!split) throw new Error(`replica ${i} exited: ${agent.output().slice(-2000)}`);
      readings.push({ agent: i, sample: s, ...split });
    }
  }
  const pick = (k: keyof MemorySplit) => {
    const { min, p50, max } = summarize(readings.map((r) => r[k]));
    return { min, median: p50, max };
  };
  const rssMiB = pick("rssMiB");
  console.log(
    JSON.stringify(
      {
        exe,
        exeMiB: Math.round((exeBytes / 2 ** 20) * 10) / 10,
        env: extraEnv,
        nodeFlags: values.bundle ? [...unitFlags, ...values["node-arg"]] : [],
        agents,
        files,
        idleS,
        samplesPerAgent: samples,
        unit: "MiB (2^20 bytes)",
        target: `idle RSS < ${IDLE_TARGET_MB} MB = ${round(IDLE_TARGET_MIB, 1)} MiB (issue 10)`,
        rssMiB,
        anonMiB: pick("anonMiB"),
        fileMiB: pick("fileMiB"),
        targetMet: (rssMiB.max ?? Infinity) < IDLE_TARGET_MIB,
        overTargetMiB: rssMiB.max === null ? null : round(Math.max(0, rssMiB.max - IDLE_TARGET_MIB), 1),
        readings,
      },
      null,
      2,
    ),
  );
} finally {
  await cleanup();
  forget();
}
