// The one CLI entry: dispatches `fleetsync <command> [subcommand]` and turns failures into exit codes.

import { DEVICE_COMMANDS, SHARE_COMMANDS, TOKEN_COMMANDS } from "./admin-commands.ts";
import { AGENT_COMMANDS } from "./agent-commands.ts";
import { reportFailure, UsageError } from "./cli-error.ts";
import { runHubCommand } from "./hub-command.ts";

const HELP = `fleetsync — keep folders (and Pi-hole configuration) identical across machines, steered by one hub.

Usage: fleetsync <command> [options]

Hub:
  hub                     run the hub (see: fleetsync hub --help)
Admin (talk to a running hub):
  share create|list|show  manage shares
  device list|revoke      see and revoke enrolled devices
  token create|list|revoke  single-use enrolment tokens
Agent (on each machine):
  agent enroll            trade a token for a device identity
  agent run               run the daemon
  agent status            per-share state and lag

Every command has --help with an example. Exit codes: 0 ok, 1 failure, 2 usage error.

Example (hub machine, then device):
  npx fleetsync hub
  npx fleetsync share create configs
  npx fleetsync token create --share configs:replica --command`;

const GROUPS: Record<
  string,
  Record<string, { help: string; run(args: string[], env: NodeJS.ProcessEnv): Promise<number> }>
> = {
  share: SHARE_COMMANDS,
  device: DEVICE_COMMANDS,
  token: TOKEN_COMMANDS,
  agent: AGENT_COMMANDS,
};

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    console.log(HELP);
    return command ? 0 : 2;
  }
  if (command === "hub") return runHubCommand(rest, env);
  const group = GROUPS[command];
  if (!group) throw new UsageError(`unknown command "${command}"; see fleetsync --help`);
  const [sub, ...args] = rest;
  if (!sub || sub === "--help" || sub === "-h") {
    console.log(`Usage: fleetsync ${command} <${Object.keys(group).join("|")}> [options]; each has --help`);
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

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.exitCode = reportFailure(error);
  },
);
