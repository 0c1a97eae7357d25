// Agent commands: enroll this device, run the daemon, show per-share status (each loads only what it needs).
import { parseArgs } from "node:util";
import { UsageError } from "./cli-error.ts";
import { formatTable } from "./format-table.ts";

type Subcommand = { help: string; run(args: string[], env: NodeJS.ProcessEnv): Promise<number> };

export const AGENT_COMMANDS: Record<string, Subcommand> = {
  enroll: {
    help: `Usage: fleetsync agent enroll --hub URL --token TOKEN --state DIR [--name NAME] [--path SHARE=DIR ...]

Enrolls this machine: generates its Ed25519 key pair (the private key stays in DIR, mode 0600),
trades the token for a device identity, pins the hub's keys and writes DIR/agent.yaml.

Options:
  --hub URL          the hub, e.g. http://hub.lan:8787
  --token TOKEN      a single-use token from 'fleetsync token create'
  --state DIR        where this agent keeps its identity, config and state
  --name NAME        how the hub lists this device (default: the host name)
  --path SHARE=DIR   the local folder of a share (repeatable; editable later in agent.yaml)

Example:
  npx fleetsync agent enroll --hub http://192.0.2.10:8787 --token eyJ... --state /var/lib/fleetsync-agent --path configs=/etc/myapp`,
    async run(args) {
      const { values } = parseArgs({
        args,
        options: {
          hub: { type: "string" },
          token: { type: "string" },
          state: { type: "string" },
          name: { type: "string" },
          path: { type: "string", multiple: true },
          json: { type: "boolean", default: false },
          help: { type: "boolean", short: "h", default: false },
        },
      });
      if (values.help) {
        console.log(AGENT_COMMANDS.enroll!.help);
        return 0;
      }
      if (!values.hub || !values.token || !values.state)
        throw new UsageError("agent enroll needs --hub, --token and --state; see --help");
      const paths: Record<string, string> = {};
      for (const item of values.path ?? []) {
        const eq = item.indexOf("=");
        if (eq <= 0 || eq === item.length - 1) throw new UsageError(`--path ${item}: expected SHARE=DIR`);
        paths[item.slice(0, eq)] = item.slice(eq + 1);
      }
      const { enrollDevice } = await import("../agent/enroll-device.ts");
      const result = await enrollDevice({
        hub: values.hub,
        token: values.token,
        stateDir: values.state,
        name: values.name,
        paths,
      });
      if (values.json)
        console.log(JSON.stringify({ deviceId: result.deviceId, name: result.name, shares: result.shares }));
      else {
        const shares = result.shares
          .map((s) => `${s.name}:${s.role}${paths[s.name] ? `→${paths[s.name]}` : ""}`)
          .join(", ");
        console.log(
          `enrolled "${result.name}" as ${result.deviceId} at ${values.hub}; shares: ${shares}; config: ${result.stateDir}/agent.yaml`,
        );
      }
      return 0;
    },
  },
  run: {
    help: `Usage: fleetsync agent run --state DIR

Runs the agent until SIGINT/SIGTERM: watches source shares and reports changes, applies the hub's
signed instructions on replica shares. Settings live in DIR/agent.yaml.

Example:
  npx fleetsync agent run --state /var/lib/fleetsync-agent`,
    async run(args) {
      const { values } = parseArgs({
        args,
        options: { state: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
      });
      if (values.help) {
        console.log(AGENT_COMMANDS.run!.help);
        return 0;
      }
      if (!values.state) throw new UsageError("agent run needs --state DIR; see --help");
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const { runAgent } = await import("../agent/daemon.ts");
      await runAgent(values.state, controller.signal);
      return 0;
    },
  },
  status: {
    help: `Usage: fleetsync agent status --state DIR [--json]

Per share: role, root, files, bytes, last change reported or applied, cursor against the hub's
head (lag), and the last error.

Example:
  npx fleetsync agent status --state /var/lib/fleetsync-agent`,
    async run(args) {
      const { values } = parseArgs({
        args,
        options: {
          state: { type: "string" },
          json: { type: "boolean", default: false },
          help: { type: "boolean", short: "h", default: false },
        },
      });
      if (values.help) {
        console.log(AGENT_COMMANDS.status!.help);
        return 0;
      }
      if (!values.state) throw new UsageError("agent status needs --state DIR; see --help");
      const { agentStatus } = await import("../agent/status.ts");
      const status = await agentStatus(values.state);
      if (values.json) console.log(JSON.stringify(status, null, 2));
      else {
        console.log(
          `device ${status.deviceId} (${status.name}) → ${status.hub}${status.hubError ? ` [hub: ${status.hubError}]` : ""}`,
        );
        console.log(
          formatTable(
            ["SHARE", "ROLE", "ROOT", "FILES", "BYTES", "LAST CHANGE", "CURSOR", "HEAD", "LAG", "LAST ERROR"],
            status.shares.map((s) => [
              s.name,
              s.role,
              s.root,
              s.files,
              s.bytes,
              s.lastChangeAt,
              s.cursor,
              s.head,
              s.lag,
              s.lastError,
            ]),
          ),
        );
      }
      return 0;
    },
  },
};
