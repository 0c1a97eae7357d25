// `npm run bench:fleet -- --agents N [--hub node|workers] [--quick]`: the fleet benchmark, one JSON document on stdout.
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { runFleetBench } from "./fleet-scenario.ts";
import { profileEnv, summarizeProfiles } from "./support/cpu-profile.ts";
import { log } from "./support/stats.ts";

const QUICK_AGENTS = 100;

const { values } = parseArgs({
  options: {
    agents: { type: "string" },
    hub: { type: "string", default: "node" },
    quick: { type: "boolean", default: false },
    out: { type: "string" },
    profile: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stderr.write(
    `Usage: npm run -s bench:fleet -- [--agents N | --quick] [--hub node|workers] [--out FILE] [--profile DIR (node hub)]\n` +
      `Targets: node hub 1,000 agents, dispatch p99 < 1 s, RSS < 300 MiB; workers hub 10,000 agents, no errors.\n`,
  );
  process.exit(0);
}
if (values.hub !== "node" && values.hub !== "workers") {
  process.stderr.write(`--hub ${values.hub}: use node or workers\n`);
  process.exit(2);
}
const agents =
  values.agents === undefined
    ? values.quick
      ? QUICK_AGENTS
      : values.hub === "node"
        ? 1000
        : 10_000
    : Number(values.agents);
if (!Number.isInteger(agents) || agents < 1) {
  process.stderr.write(`--agents ${values.agents} is not a positive whole number\n`);
  process.exit(2);
}

const profileDir = values.profile ? resolve(values.profile) : undefined;
const result = await runFleetBench({
  agents,
  hub: values.hub,
  log,
  ...(profileDir && values.hub === "node" ? { hubEnv: profileEnv(profileDir)("hub", 0) } : {}),
});
const profile = profileDir ? { hubProfile: await summarizeProfiles(join(profileDir, "hub")) } : {};
const json = JSON.stringify({ scenario: "fleet", ...result, ...profile }, null, 2);
process.stdout.write(`${json}\n`);
if (values.out) await writeFile(values.out, `${json}\n`);
for (const target of result.targets.filter((t) => !t.met)) {
  log(
    `target missed: ${target.name} ${target.actual} (target ${target.target})${target.limit ? `; limit: ${target.limit}` : ""}`,
  );
}
process.exit(result.errors === 0 ? 0 : 1);
