// The one CLI entry: dispatches `fleetsync <command> [subcommand]` and turns failures into exit codes.

import { tuneV8ForIdleAgent } from "../agent/tune-v8-for-idle.ts";
import { reportFailure, UsageError } from "./cli-error.ts";

const HELP = `fleetsync — keep folders (and Pi-hole configuration) identical across machines, steered by one hub.

Usage: fleetsync <command> [options]

Hub:
  hub                     run the hub (see: fleetsync hub --help)
Admin (talk to a running hub):
  share create|list|show|set|delete|confirm-delete
                          manage shares (confirm-delete lets a held mass delete through)
  device list|rename|revoke|remove|approve|deny
                          see, rename, revoke, forget, approve or deny devices
  token create|list|revoke  single-use enrolment tokens (--metrics: a /metrics token)
  alert add|list|remove   webhooks on error, offline, conflict, recovered
Agent (on each machine):
  agent enroll            trade a token for a device identity
  agent run               run the daemon
  agent status            per-share state and lag
  agent install|uninstall run the agent as a systemd service (or stop and remove it)

Every command has --help with an example. fleetsync --version (-V) prints the version.
Exit codes: 0 ok, 1 failure, 2 usage error.

Example (hub machine, then device):
  npx fleetsync hub
  npx fleetsync share create configs
  npx fleetsync token create --share configs:replica --command`;

type Subcommands = Record<
  string,
  { help: string; run(args: string[], env: NodeJS.ProcessEnv): Promise<number> }
>;

// Loaded on demand: an admin command need not load the hub, the agent daemon or their dependencies.
const GROUPS: Record<string, () => Promise<Subcommands>> = {
  share: async () => (await import("./admin-commands.ts")).SHARE_COMMANDS,
  device: async () => (await import("./admin-commands.ts")).DEVICE_COMMANDS,
  token: async () => (await import("./admin-commands.ts")).TOKEN_COMMANDS,
  alert: async () => (await import("./alert-commands.ts")).ALERT_COMMANDS,
  agent: async () => (await import("./agent-commands.ts")).AGENT_COMMANDS,
};

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    // Asked for: help on stdout, exit 0. Forgot the command: the same text on stderr, exit 2.
    if (command) console.log(HELP);
    else console.error(HELP);
    return command ? 0 : 2;
  }
  if (command === "--version" || command === "-V") {
    console.log((await import("./package-version.ts")).packageVersion());
    return 0;
  }
  if (command === "hub") return (await import("./hub-command.ts")).runHubCommand(rest, env);
  const loadGroup = GROUPS[command];
  if (!loadGroup) throw new UsageError(`unknown command "${command}"; see fleetsync --help`);
  const group = await loadGroup();
  const [sub, ...args] = rest;
  if (!sub || sub === "--help" || sub === "-h") {
    const usage = `Usage: fleetsync ${command} <${Object.keys(group).join("|")}> [options]; each has --help`;
    const example = `Example:\n  npx fleetsync ${command} ${Object.keys(group)[0]} --help`;
    if (sub) console.log(`${usage}\n\n${example}`);
    else console.error(usage);
    return sub ? 0 : 2;
  }
  const handler = group[sub];
  if (!handler)
    throw new UsageError(
      `unknown command "${command} ${sub}"; try: ${Object.keys(group)
        .map((s) => `${command} ${s}`)
        .join(", ")}`,
    );
  return handler.run(args, env);
}

const argv = process.argv.slice(2);
// The daemon's V8 settings come first, before the young generation grows while the rest of the CLI loads.
if (argv[0] === "agent" && argv[1] === "run") tuneV8ForIdleAgent();

main(argv, process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.exitCode = reportFailure(error);
  },
);
