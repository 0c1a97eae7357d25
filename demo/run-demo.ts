// `npm run demo`: a hub, one source and two replicas as real processes on 127.0.0.1, with a change visibly replicating.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  makeTempDir,
  type RunningProcess,
  runCli,
  snapshotTree,
  spawnCli,
  startHubProcess,
  type TreeItem,
} from "../test/support/fleet.ts";

const { values } = parseArgs({
  options: {
    keep: { type: "boolean", default: false },
    once: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(`Usage: npm run demo [-- --keep] [-- --once]

Starts a hub, one source agent and two replica agents in a temp directory, writes a few files into
the source and shows them arriving on both replicas. Then drop your own files into the source folder
and watch. Ctrl-C stops everything; --keep leaves the folders; --once exits after the scripted part.`);
  process.exit(0);
}

const base = await makeTempDir("fleetsync-demo-");
const processes: RunningProcess[] = [];
const say = (line = "") => process.stdout.write(`${line}\n`);

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { code, output } = await runCli(args, { env });
  if (code !== 0) throw new Error(`fleetsync ${args.slice(0, 2).join(" ")} failed:\n${output}`);
  return output.trim();
}

async function stopAll(exitCode: number) {
  await Promise.all(processes.map((p) => p.stop()));
  if (!values.keep) await rm(base, { recursive: true, force: true });
  else say(`folders kept in ${base}`);
  process.exit(exitCode);
}

try {
  say("fleetsync demo: starting a hub, one source and two replicas on this machine…");
  const hub = await startHubProcess(join(base, "hub"));
  processes.push(hub);
  const admin = { FLEETSYNC_HUB: hub.url, FLEETSYNC_ADMIN_TOKEN: hub.adminToken };
  await cli(["share", "create", "demo"], admin);

  const folders = {
    source: join(base, "source"),
    "replica-1": join(base, "replica-1"),
    "replica-2": join(base, "replica-2"),
  };
  await mkdir(folders.source, { recursive: true });
  for (const [name, root] of Object.entries(folders)) {
    const role = name === "source" ? "source" : "replica";
    const token = await cli(["token", "create", "--share", `demo:${role}`, "--label", name], admin);
    const state = join(base, "state", name);
    await cli([
      "agent",
      "enroll",
      "--hub",
      hub.url,
      "--token",
      token,
      "--state",
      state,
      "--name",
      name,
      "--path",
      `demo=${root}`,
    ]);
    const yaml = await readFile(join(state, "agent.yaml"), "utf8");
    await writeFile(
      join(state, "agent.yaml"),
      yaml.replace("destination: stdout", `destination: ${join(base, `${name}.log`)}`),
    );
    processes.push(spawnCli(["agent", "run", "--state", state]));
  }

  say();
  say(`  hub        ${hub.url}   (admin token: ${join(base, "hub", "admin.token")})`);
  for (const [name, root] of Object.entries(folders)) say(`  ${name.padEnd(10)} ${root}`);
  say(`  logs       ${base}/*.log`);
  say();

  const replicas = Object.entries(folders).filter(([name]) => name !== "source");
  const arrival = async (path: string, content: string, since: number) => {
    const times: string[] = [];
    for (const [name, root] of replicas) {
      const deadline = Date.now() + 20_000;
      while ((await readFile(join(root, path), "utf8").catch(() => undefined)) !== content) {
        if (Date.now() > deadline)
          throw new Error(`${path} did not reach ${name} within 20 s; see ${base}/${name}.log`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      times.push(`${name} in ${Date.now() - since} ms`);
    }
    return times.join(", ");
  };

  // Let every agent finish its start-up scan before the first write.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const samples: [string, string][] = [
    ["hello.txt", "Hello from the source machine!\n"],
    ["config/app.conf", "listen = 8080\nworkers = 4\n"],
    ["notes/today.md", `# ${new Date().toISOString().slice(0, 10)}\nfleetsync replicated this.\n`],
  ];
  say("writing into the source folder:");
  for (const [path, content] of samples) {
    await mkdir(join(folders.source, path, ".."), { recursive: true });
    const since = Date.now();
    await writeFile(join(folders.source, path), content);
    say(`  ${path.padEnd(18)} → ${await arrival(path, content, since)}`);
  }
  say();

  if (values.once) {
    say("demo done: every file arrived on both replicas.");
    await stopAll(0);
  }
  say("Now drop files into the source folder and watch them arrive. Ctrl-C stops everything.");
  process.once("SIGINT", () => void stopAll(0));
  process.once("SIGTERM", () => void stopAll(0));
  const seen = new Map<string, Record<string, TreeItem>>();
  for (const [name, root] of replicas) seen.set(name, await snapshotTree(root));
  setInterval(async () => {
    for (const [name, root] of replicas) {
      const now = await snapshotTree(root).catch(() => ({}) as Record<string, TreeItem>);
      const before = seen.get(name) ?? {};
      for (const path of Object.keys(now)) {
        if (!before[path]) say(`  ${name}: + ${path}`);
        else if (JSON.stringify(before[path]) !== JSON.stringify(now[path])) say(`  ${name}: ~ ${path}`);
      }
      for (const path of Object.keys(before))
        if (!now[path]) say(`  ${name}: - ${path} (kept in .fleetsync/trash)`);
      seen.set(name, now);
    }
  }, 300);
} catch (error) {
  process.stderr.write(`demo failed: ${(error as Error).message}\n`);
  await stopAll(1);
}
