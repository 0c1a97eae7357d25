// The fleet benchmark's command line, shared by `npm run bench -- --scenario fleet` and `npm run bench:fleet`.
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { runFleetBench } from "./fleet-scenario.ts";
import { profileEnv, summarizeProfiles } from "./support/cpu-profile.ts";
import { log } from "./support/stats.ts";

const QUICK_AGENTS = 100;

export const FLEET_USAGE =
  "Usage: npm run -s bench -- --scenario fleet [--agents N | --quick] [--hub node|workers] [--out FILE] [--profile DIR (node hub)]\n" +
  "       (npm run -s bench:fleet takes the same flags)\n" +
  "Targets: node hub 1,000 agents, dispatch p99 < 1 s, RSS < 300 MiB; workers hub 10,000 agents, no errors.\n";

/** True when the arguments ask `npm run bench` for the fleet scenario (`--scenario fleet` or `--scenario=fleet`). */
export function isFleetScenario(argv: string[]): boolean {
  const at = argv.indexOf("--scenario");
  return argv.includes("--scenario=fleet") || (at >= 0 && argv[at + 1] === "fleet");
}

/** Parses the fleet flags, runs the benchmark, prints its JSON on stdout and exits (1 when there were errors). */
export async function runFleetBenchCommand(argv: string[]): Promise<never> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: "string" },
      agents: { type: "string" },
      hub: { type: "string", default: "node" },
      quick: { type: "boolean", default: false },
      out: { type: "string" },
      profile: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stderr.write(FLEET_USAGE);
    process.exit(0);
  }
  if (values.scenario !== undefined && values.scenario !== "fleet") {
    process.stderr.write(
      `--scenario ${values.scenario}: this is the fleet benchmark; use --scenario fleet\n`,
    );
    process.exit(2);
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
}
